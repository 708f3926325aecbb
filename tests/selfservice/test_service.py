"""The self-service host: a channel with a flow runs it before anybody is queued."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from omnidesk.clock import FixedClock
from omnidesk.flows import Option, OptionsOutput, TextOutput
from omnidesk.selfservice import BotMessage, bot_messages
from tests.acd.test_service import go_available
from tests.channels.loopback import Recorder, serve
from tests.channels.test_api_channel import SECRET, message, signed
from tests.conftest import PASSWORD, Api, eventually, make_tenant


@pytest.fixture
async def order_api() -> AsyncIterator[tuple[str, Recorder]]:
    """A fake order service on a loopback port: order 1234 is shipped."""
    recorder = Recorder()

    async def order(request: Request) -> JSONResponse:
        await recorder.note(request)
        if request.path_params["order_id"] != "1234":
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse({"status": "shipped", "eta": "2026-11-27"})

    async with serve(Starlette(routes=[Route("/orders/{order_id}", order)])) as base_url:
        yield base_url, recorder


async def _channel(api: Api, settings: dict[str, Any]) -> dict[str, Any]:
    tenant_id = await make_tenant(api.db, "acme", admin_email="admin@acme.example")
    admin = await api.login("acme", "admin@acme.example")
    for name in ("support", "general"):
        await api.client.post("/api/v1/queues", headers=admin, json={"name": name})
    created = await api.client.post("/api/v1/channels", headers=admin, json={
        "kind": "api", "name": "web chat", "default_queue": "general", "secret": SECRET,
        "settings": settings})
    assert created.status_code == 201, created.text
    queues = (await api.client.get("/api/v1/queues", headers=admin)).json()
    return {"id": created.json()["id"], "admin": admin, "tenant_id": tenant_id,
            "queues": {queue["name"]: queue["id"] for queue in queues}}


async def _say(api: Api, channel: dict[str, Any], clock: FixedClock, text: str) -> Any:
    raw, headers = signed(message(text), clock)
    response = await api.client.post(f"/api/v1/channels/api/{channel['id']}/messages",
                                     content=raw, headers=headers)
    assert response.status_code == 202, response.text
    return response.json()


async def _messages(api: Api, channel: dict[str, Any], interaction: str) -> list[tuple[str, str]]:
    found = (await api.client.get(f"/api/v1/interactions/{interaction}/messages",
                                  headers=channel["admin"])).json()
    return [(m["author_kind"], m["body"]) for m in found]


async def _interaction(api: Api, channel: dict[str, Any], interaction: str) -> Any:
    return (await api.client.get(f"/api/v1/interactions/{interaction}",
                                 headers=channel["admin"])).json()


async def _events(api: Api, channel: dict[str, Any], interaction: str) -> list[Any]:
    events = (await api.client.get("/api/v1/events", headers=channel["admin"])).json()
    return [e for e in events if e["subject"] == interaction]


async def test_the_bot_looks_up_the_order_then_queues_to_support_with_what_it_collected(
        api: Api, clock: FixedClock, order_api: tuple[str, Recorder]) -> None:
    base_url, orders = order_api
    channel = await _channel(api, {"flow": "webshop_support", "order_api": base_url})
    accepted = await _say(api, channel, clock, "where is my order 1234")
    assert accepted["interaction_state"] == "self_service"
    interaction = accepted["interaction_id"]

    async def answered() -> bool:
        return any("Order 1234 is shipped" in body
                   for _, body in await _messages(api, channel, interaction))

    await eventually(answered, "the order status")
    assert [(r.method, r.path) for r in orders.requests] == [("GET", "/orders/1234")]
    assert orders.requests[0].headers["accept"] == "application/json"
    transcript = await _messages(api, channel, interaction)
    assert transcript[0] == ("customer", "where is my order 1234")
    assert ("bot", "Order 1234 is shipped. Expected delivery: 2026-11-27.") in transcript
    assert transcript[-1][0] == "bot" and transcript[-1][1].startswith(
        "Can I help with anything else?\n1 – Something else")
    assert (await _interaction(api, channel, interaction))["state"] == "self_service"

    await _say(api, channel, clock, "agent")

    async def queued() -> bool:
        return bool((await _interaction(api, channel, interaction))["state"] == "queued")

    await eventually(queued, "the hand-off")
    handed = await _interaction(api, channel, interaction)
    assert handed["queue_id"] == channel["queues"]["support"]
    assert handed["priority"] == 1
    collected = handed["attributes"]["flow"]
    assert (collected["order_id"], collected["intent"]) == ("1234", "order_status")
    assert collected["order_status"] == "shipped"
    assert collected["skills"] == ["orders", "english"]
    assert handed["attributes"]["flow_state"]["finished"] is True
    transcript = await _messages(api, channel, interaction)
    assert ("customer", "agent") in transcript
    assert transcript[-1] == ("bot", "I'm connecting you with our support team.")
    types = [e["type"] for e in await _events(api, channel, interaction)]
    assert types.index("interaction.self_service_started") < types.index(
        "interaction.self_service_ended") < types.index("interaction.queued")
    ended = next(e for e in await _events(api, channel, interaction)
                 if e["type"] == "interaction.self_service_ended")
    assert ended["payload"]["outcome"] == "queued"
    assert (ended["payload"]["flow_id"], ended["payload"]["version"]) == ("webshop_support", 1)
    started = next(e for e in await _events(api, channel, interaction)
                   if e["type"] == "interaction.self_service_started")
    assert started["payload"]["flow_id"] == "webshop_support"


async def test_an_unreachable_order_service_leads_to_a_person(
        api: Api, clock: FixedClock) -> None:
    channel = await _channel(api, {"flow": "webshop_support",
                                   "order_api": "http://127.0.0.1:9"})
    interaction = (await _say(api, channel, clock, "where is my order 1234"))["interaction_id"]

    async def queued() -> bool:
        return bool((await _interaction(api, channel, interaction))["state"] == "queued")

    await eventually(queued, "the hand-off after the failed lookup")
    handed = await _interaction(api, channel, interaction)
    assert handed["queue_id"] == channel["queues"]["support"]
    assert handed["attributes"]["flow"]["topic"] == "order_lookup_failed"
    assert ("bot", "Sorry, I couldn't look up that order right now. Let me find you a person.") \
        in await _messages(api, channel, interaction)


async def test_a_flow_that_ends_resolved_closes_the_interaction(
        api: Api, clock: FixedClock) -> None:
    channel = await _channel(api, {"flow": "helped_bot"})
    interaction = (await _say(api, channel, clock, "hello"))["interaction_id"]

    async def asked() -> bool:
        return ("bot", "Did the FAQ answer your question?\n1 – Yes\n2 – No") in \
            await _messages(api, channel, interaction)

    await eventually(asked, "the question")
    # "hello" matched no option: the flow says so and asks again, still in self-service
    assert (await _interaction(api, channel, interaction))["state"] == "self_service"
    await _say(api, channel, clock, "yes")

    async def closed() -> bool:
        return bool((await _interaction(api, channel, interaction))["state"] == "closed")

    await eventually(closed, "the resolved end")
    events = await _events(api, channel, interaction)
    ended = next(e for e in events if e["type"] == "interaction.self_service_ended")
    assert ended["payload"]["outcome"] == "resolved"
    closing = next(e for e in events if e["type"] == "interaction.closed")
    assert closing["payload"]["resolved"] is True
    assert (await _messages(api, channel, interaction))[-1] == ("bot", "Glad I could help!")


@pytest.mark.parametrize(("hours", "answer"), [
    ({"wed": [["08:00", "20:00"]]}, "We are open."),  # 2026-11-25 is a Wednesday, 10:00 Paris
    ({"wed": [["11:00", "20:00"]]}, "We are closed; we open at 9."),
    ({}, "We are open."),  # no hours: always open
])
async def test_a_flow_sees_whether_a_queue_is_open_in_the_queues_own_time_zone(
        api: Api, clock: FixedClock, hours: dict[str, Any], answer: str) -> None:
    channel = await _channel(api, {"flow": "hours_bot"})
    changed = await api.client.patch(
        f"/api/v1/queues/{channel['queues']['support']}", headers=channel["admin"],
        json={"timezone": "Europe/Paris", "business_hours": hours})
    assert changed.status_code == 200, changed.text
    interaction = (await _say(api, channel, clock, "hello"))["interaction_id"]

    async def answered() -> bool:
        return ("bot", answer) in await _messages(api, channel, interaction)

    await eventually(answered, answer)


async def test_the_skills_a_flow_asks_for_decide_who_is_offered_the_contact(
        api: Api, clock: FixedClock, caplog: pytest.LogCaptureFixture) -> None:
    channel = await _channel(api, {"flow": "skills_bot"})
    admin = channel["admin"]
    agents = {}
    for skill in ("english", "french"):
        created = await api.client.post("/api/v1/skills", headers=admin, json={"name": skill})
        assert created.status_code == 201, created.text
    for name, skill in (("alice", "english"), ("bob", "french")):
        user = await api.client.post("/api/v1/users", headers=admin, json={
            "email": f"{name}@acme.example", "name": name.title(), "role": "agent",
            "password": PASSWORD})
        agent = await api.client.post("/api/v1/agents", headers=admin, json={
            "user_id": user.json()["id"], "skills": [{"skill": skill, "proficiency": 4}]})
        assert agent.status_code == 201, agent.text
        agents[name] = {"id": agent.json()["id"],
                        "headers": await api.login("acme", f"{name}@acme.example")}
    center = {"tenant_id": channel["tenant_id"], "agents": agents}
    for name in ("alice", "bob"):  # alice is idle longest: she would be first without skills
        await go_available(api, center, name)
        clock.advance(1)
    interaction = (await _say(api, channel, clock, "bonjour"))["interaction_id"]

    async def offered_to_bob() -> bool:
        row = await _interaction(api, channel, interaction)
        return bool(row["state"] == "offered" and row["agent_id"] == agents["bob"]["id"])

    await eventually(offered_to_bob, "an offer to the French speaker")
    queued = next(e for e in await _events(api, channel, interaction)
                  if e["type"] == "interaction.queued")
    assert queued["payload"]["skills"] == ["french", "klingon"]
    assert "ignoring unknown contact skills klingon" in caplog.text


async def test_a_channel_without_a_flow_still_queues_directly(
        api: Api, clock: FixedClock) -> None:
    channel = await _channel(api, {})
    accepted = await _say(api, channel, clock, "hi")
    assert accepted["interaction_state"] == "queued"


async def test_an_unknown_flow_queues_to_the_channel_default_queue(
        api: Api, clock: FixedClock) -> None:
    channel = await _channel(api, {"flow": "no_such_flow"})
    interaction = (await _say(api, channel, clock, "hi"))["interaction_id"]

    async def queued() -> bool:
        return bool((await _interaction(api, channel, interaction))["state"] == "queued")

    await eventually(queued, "the fallback hand-off")
    handed = await _interaction(api, channel, interaction)
    assert handed["queue_id"] == channel["queues"]["general"]


def test_options_are_listed_under_the_text_before_them_and_kept_for_buttons() -> None:
    options = (Option("1", "Orders"), Option("2", "Returns"))
    (message,) = bot_messages((TextOutput("Please choose:"), OptionsOutput(options)))
    assert message == BotMessage("Please choose:\n1 – Orders\n2 – Returns", options)
    assert message.options_json() == [{"value": "1", "label": "Orders"},
                                      {"value": "2", "label": "Returns"}]
