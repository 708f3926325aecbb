"""The flow's knowledge_answer node on a real channel: the knowledge base answers, the
customer says whether it helped, and deflection is recorded; "agent" still reaches a person."""

from __future__ import annotations

from typing import Any

from omnidesk.clock import FixedClock
from omnidesk.configuration.apply import apply_center, load_center
from omnidesk.demo import DEMO_CENTER, DEMO_PASSWORD
from tests.channels.test_api_channel import message, signed
from tests.conftest import Api, eventually
from tests.selfservice.test_service import _channel, _events, _interaction, _messages, _say

SHIPPING = {"title": "Shipping costs", "slug": "shipping-costs", "category": "delivery",
            "tags": ["shipping", "delivery"], "status": "published",
            "body": "Shipping is **free** from 50 EUR, otherwise 4.90 EUR. We ship to the EU "
                    "and Switzerland."}
PAYMENT = {"title": "Payment methods", "slug": "payment-methods", "category": "billing",
           "tags": ["payment"], "status": "published",
           "body": "We accept Visa, Mastercard and PayPal."}
DRAFT = {"title": "Shipping price changes in 2027", "slug": "shipping-2027",
         "category": "delivery", "status": "draft",
         "body": "Shipping costs and shipping prices go up: shipping 5.90 EUR."}


async def _kb(api: Api, channel: dict[str, Any]) -> dict[str, str]:
    ids = {}
    for article in (SHIPPING, PAYMENT, DRAFT):
        response = await api.client.post("/api/v1/knowledge/articles",
                                         headers=channel["admin"], json=article)
        assert response.status_code == 201, response.text
        ids[article["slug"]] = response.json()["id"]
    return ids


async def _bot_said(api: Api, channel: dict[str, Any], interaction: str, text: str) -> None:
    async def said() -> bool:
        return any(text in body for kind, body in await _messages(api, channel, interaction)
                   if kind == "bot")
    await eventually(said, f"the bot to say {text!r}")


async def test_an_article_answers_and_the_contact_is_deflected(api: Api, clock: FixedClock) -> None:
    channel = await _channel(api, {"flow": "webshop_support",
                                   "public_url": "https://shop.example"})
    ids = await _kb(api, channel)
    interaction = (await _say(api, channel, clock, "how much is shipping"))["interaction_id"]
    await _bot_said(api, channel, interaction, "Did this answer your question?")
    bot = [body for kind, body in await _messages(api, channel, interaction) if kind == "bot"]
    answer = next(body for body in bot if body.startswith("Shipping costs"))
    assert "free from 50 EUR" in answer and "**" not in answer
    assert answer.endswith("https://shop.example/help/acme/shipping-costs")
    assert "2027" not in " ".join(bot)  # the draft is never offered

    await _say(api, channel, clock, "yes")

    async def closed() -> bool:
        return bool((await _interaction(api, channel, interaction))["state"] == "closed")

    await eventually(closed, "the contact to close")
    events = await _events(api, channel, interaction)
    types = [e["type"] for e in events]
    assert types.index("kb.answer_shown") < types.index("kb.feedback") < types.index(
        "interaction.self_service_ended") < types.index("interaction.deflected") < types.index(
        "interaction.closed")
    assert "interaction.queued" not in types
    ended = next(e for e in events if e["type"] == "interaction.self_service_ended")
    assert (ended["payload"]["outcome"], ended["payload"]["article_id"]) == (
        "resolved", ids["shipping-costs"])
    deflected = next(e for e in events if e["type"] == "interaction.deflected")
    assert deflected["payload"]["article_id"] == ids["shipping-costs"]
    everything = (await api.client.get("/api/v1/events", headers=channel["admin"],
                                       params={"limit": 500})).json()
    about_article = [(e["type"], e["payload"].get("interaction_id"))
                     for e in everything if e["subject"] == ids["shipping-costs"]
                     and e["type"] != "knowledge.article_created"
                     and e["type"] != "knowledge.article_published"]
    assert about_article == [("knowledge.article_suggested", interaction),
                             ("knowledge.article_used", interaction),
                             ("knowledge.article_helped", interaction)]


async def test_no_help_leads_on_and_agent_still_reaches_a_person(
        api: Api, clock: FixedClock) -> None:
    channel = await _channel(api, {"flow": "webshop_support"})
    ids = await _kb(api, channel)
    interaction = (await _say(api, channel, clock, "which payment methods do you accept"))[
        "interaction_id"]
    await _bot_said(api, channel, interaction, "We accept Visa")
    await _say(api, channel, clock, "no")
    await _bot_said(api, channel, interaction, "Can I help with anything else?")
    await _say(api, channel, clock, "agent")

    async def queued() -> bool:
        return bool((await _interaction(api, channel, interaction))["state"] == "queued")

    await eventually(queued, "the hand-off to a person")
    events = await _events(api, channel, interaction)
    feedback = next(e for e in events if e["type"] == "kb.feedback")
    assert (feedback["payload"]["article_id"], feedback["payload"]["helpful"]) == (
        ids["payment-methods"], False)
    assert "interaction.deflected" not in [e["type"] for e in events]
    everything = (await api.client.get("/api/v1/events", headers=channel["admin"],
                                       params={"limit": 500})).json()
    used = [e for e in everything if e["type"] == "knowledge.article_used"]
    assert [(e["subject"], e["payload"]["helped"]) for e in used] == [
        (ids["payment-methods"], False)]
    assert not [e for e in everything if e["type"] == "knowledge.article_helped"]


async def test_a_question_the_knowledge_base_cannot_answer(api: Api, clock: FixedClock) -> None:
    channel = await _channel(api, {"flow": "webshop_support"})
    await _kb(api, channel)
    interaction = (await _say(api, channel, clock, "menu"))["interaction_id"]
    await _bot_said(api, channel, interaction, "Please choose:")
    await _say(api, channel, clock, "2")
    await _bot_said(api, channel, interaction, "What would you like to know about returns")
    await _say(api, channel, clock, "do you sell submarines")
    await _bot_said(api, channel, interaction, "I couldn't find an answer to that.")
    events = await _events(api, channel, interaction)
    not_found = next(e for e in events if e["type"] == "kb.not_found")
    assert not_found["payload"]["query"] == "do you sell submarines"
    assert "kb.answer_shown" not in [e["type"] for e in events]


async def test_the_demo_faq_bot_answers_from_the_demo_articles(
        api: Api, clock: FixedClock) -> None:
    async with api.db.write() as session:
        await apply_center(session, load_center(DEMO_CENTER.read_text(), "demo"), actor="test")
    admin = await api.login("demo", "admin@demo.example", DEMO_PASSWORD)
    channels = (await api.client.get("/api/v1/channels", headers=admin)).json()
    faq = next(c for c in channels if c["name"] == "web-faq")
    assert faq["settings"]["flow"] == "kb_faq"
    raw, headers = signed(message("how long until my refund shows on my card?"), clock,
                          secret="demo-web-faq-secret-change-me")
    posted = await api.client.post(f"/api/v1/channels/api/{faq['id']}/messages", content=raw,
                                   headers=headers)
    assert posted.status_code == 202, posted.text
    interaction = posted.json()["interaction_id"]
    channel = {"admin": admin, "id": faq["id"]}
    await _bot_said(api, channel, interaction, "Did this answer your question?")
    bot = [body for kind, body in await _messages(api, channel, interaction) if kind == "bot"]
    assert any(body.startswith("When will I get my refund?") for body in bot)
    assert any(body.endswith("/help/demo/refunds") for body in bot)
