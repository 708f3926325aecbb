"""Post-contact surveys: asked on the contact's channel, the reply recorded on the closed
contact (not a new one), email by a signed link, and `survey.answered` counted by the KPIs."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

from omnidesk.analytics.config import AnalyticsConfig
from omnidesk.analytics.report import period_measures
from omnidesk.clock import FixedClock
from omnidesk.events.log import events_since
from omnidesk.interactions.models import Interaction
from omnidesk.surveys.actions import survey_config
from omnidesk.surveys.tokens import sign, verify
from tests.channels.test_api_channel import SECRET, message, signed
from tests.conftest import TEST_SECRET_KEY, Api, eventually, make_tenant

PHONE = "+1 415 555 0134"


async def _center(api: Api, settings: dict[str, Any], kind: str = "api") -> dict[str, Any]:
    tenant_id = await make_tenant(api.db, "acme", admin_email="admin@acme.example")
    admin = await api.login("acme", "admin@acme.example")
    await api.client.post("/api/v1/queues", headers=admin, json={"name": "support"})
    me = (await api.client.get("/api/v1/auth/me", headers=admin)).json()
    agent = (await api.client.post("/api/v1/agents", headers=admin,
                                   json={"user_id": me["id"]})).json()
    created = await api.client.post("/api/v1/channels", headers=admin, json={
        "kind": kind, "name": "crm", "secret": SECRET, "settings": settings})
    assert created.status_code == 201, created.text
    return {"admin": admin, "agent": agent["id"], "channel": created.json()["id"],
            "tenant_id": tenant_id}


async def _write(api: Api, center: dict[str, Any], clock: FixedClock, text: str) -> Any:
    raw, headers = signed(message(text, phone=PHONE), clock)
    response = await api.client.post(f"/api/v1/channels/api/{center['channel']}/messages",
                                     content=raw, headers=headers)
    assert response.status_code == 202, response.text
    return response.json()["interaction_id"]


async def _handle_and_close(api: Api, center: dict[str, Any], interaction: str) -> None:
    for change in ({"state": "connected", "agent_id": center["agent"]}, {"state": "wrap_up"},
                   {"state": "closed", "resolved": True}):
        response = await api.client.post(f"/api/v1/interactions/{interaction}/state",
                                         headers=center["admin"], json=change)
        assert response.status_code == 200, response.text


async def _messages(api: Api, center: dict[str, Any], interaction: str) -> list[tuple[str, str]]:
    found = (await api.client.get(f"/api/v1/interactions/{interaction}/messages",
                                  headers=center["admin"])).json()
    return [(m["author_kind"], m["body"]) for m in found]


async def _events(api: Api, center: dict[str, Any], kind: str) -> list[Any]:
    events = (await api.client.get("/api/v1/events", headers=center["admin"],
                                   params={"limit": 500})).json()
    return [e for e in events if e["type"] == kind]


async def _interactions(api: Api, center: dict[str, Any]) -> list[Any]:
    found: list[Any] = (await api.client.get("/api/v1/interactions",
                                             headers=center["admin"])).json()
    return found


async def _surveyed(api: Api, center: dict[str, Any], interaction: str) -> None:
    async def asked() -> bool:
        return any(kind == "bot" and ("How satisfied" in body or "recommend" in body)
                   for kind, body in await _messages(api, center, interaction))
    await eventually(asked, "the survey question")


async def test_a_csat_reply_on_the_same_channel_is_recorded_not_a_new_contact(
        api: Api, clock: FixedClock) -> None:
    center = await _center(api, {"survey": "csat"})
    interaction = await _write(api, center, clock, "my order is late")
    await _handle_and_close(api, center, interaction)
    await _surveyed(api, center, interaction)
    stored = (await api.client.get(f"/api/v1/interactions/{interaction}/messages",
                                   headers=center["admin"])).json()
    assert stored[-1]["options"] == [{"value": str(n), "label": str(n)} for n in range(1, 6)]
    reply_to = await _write(api, center, clock, "4")
    assert reply_to == interaction  # the answer joins the surveyed contact
    assert len(await _interactions(api, center)) == 1
    transcript = await _messages(api, center, interaction)
    assert transcript[-2:] == [("customer", "4"), ("bot", "Thank you for your feedback!")]
    [answered] = await _events(api, center, "survey.answered")
    assert answered["subject"] == interaction
    assert {k: answered["payload"][k] for k in ("interaction_id", "kind", "score", "via")} == {
        "interaction_id": interaction, "kind": "csat", "score": 4, "via": "message"}
    # the customer's next message is a new contact again
    assert await _write(api, center, clock, "5") != interaction
    assert len(await _events(api, center, "survey.answered")) == 1


async def test_a_reply_that_is_not_a_score_is_a_new_contact(api: Api, clock: FixedClock) -> None:
    center = await _center(api, {"survey": {"kind": "nps", "text": "0-10: would you "
                                            "recommend us?"}})
    interaction = await _write(api, center, clock, "my order is late")
    await _handle_and_close(api, center, interaction)
    await _surveyed(api, center, interaction)
    assert await _write(api, center, clock, "I have another question about order 1234") \
        != interaction
    assert await _events(api, center, "survey.answered") == []
    assert len(await _interactions(api, center)) == 2


async def test_an_out_of_scale_reply_is_not_an_answer(api: Api, clock: FixedClock) -> None:
    center = await _center(api, {"survey": "csat"})
    interaction = await _write(api, center, clock, "hello")
    await _handle_and_close(api, center, interaction)
    await _surveyed(api, center, interaction)
    assert await _write(api, center, clock, "7") != interaction
    assert await _events(api, center, "survey.answered") == []


async def test_a_late_reply_is_not_an_answer(api: Api, clock: FixedClock) -> None:
    center = await _center(api, {"survey": {"kind": "csat", "expires_hours": 1}})
    interaction = await _write(api, center, clock, "hello")
    await _handle_and_close(api, center, interaction)
    await _surveyed(api, center, interaction)
    clock.advance(2 * 3600)
    assert await _write(api, center, clock, "5") != interaction
    center["admin"] = await api.login("acme", "admin@acme.example")  # the old token expired
    assert await _events(api, center, "survey.answered") == []


async def test_no_survey_without_the_setting_or_without_an_agent(
        api: Api, clock: FixedClock) -> None:
    center = await _center(api, {})
    interaction = await _write(api, center, clock, "hello")
    await _handle_and_close(api, center, interaction)
    unhandled = await _write(api, center, clock, "second question")
    closed = await api.client.post(f"/api/v1/interactions/{unhandled}/state",
                                   headers=center["admin"], json={"state": "closed"})
    assert closed.status_code == 200
    assert await _write(api, center, clock, "4") not in (interaction, unhandled)
    assert await _events(api, center, "survey.sent") == []


async def test_a_survey_turned_on_later_is_sent_from_the_next_close(
        api: Api, clock: FixedClock) -> None:
    center = await _center(api, {})
    first = await _write(api, center, clock, "hello")
    await _handle_and_close(api, center, first)
    async def close_seen() -> bool:  # the survey service has looked at the tenant's channels
        return center["tenant_id"] in api.app.state.surveys._surveying  # type: ignore[no-any-return]

    await eventually(close_seen, "the survey service to handle the close")
    turned_on = await api.client.patch(f"/api/v1/channels/{center['channel']}",
                                       headers=center["admin"],
                                       json={"settings": {"survey": "csat"}})
    assert turned_on.status_code == 200, turned_on.text
    second = await _write(api, center, clock, "another question")
    await _handle_and_close(api, center, second)
    await _surveyed(api, center, second)
    assert [e["subject"] for e in await _events(api, center, "survey.sent")] == [second]


async def test_the_kpis_count_the_answers(api: Api, clock: FixedClock) -> None:
    center = await _center(api, {"survey": "csat"})
    interaction = await _write(api, center, clock, "my order is late")
    await _handle_and_close(api, center, interaction)
    await _surveyed(api, center, interaction)
    await _write(api, center, clock, "5/5")
    async with api.db.read() as session:
        events = await events_since(session, tenant_id=center["tenant_id"], since=0, limit=1000)
    day = timedelta(days=1)
    rows = period_measures(events, config=AnalyticsConfig(), start=clock.now() - day,
                           end=clock.now() + day, now=clock.now() + day)
    total = rows[next(iter(rows))]
    assert (total.csat_answers, total.csat_satisfied, total.csat_score_sum) == (1, 1, 5)


def test_survey_links_are_signed() -> None:
    survey_id = uuid.uuid4()
    token = sign(survey_id, key=TEST_SECRET_KEY)
    assert verify(token, key=TEST_SECRET_KEY) == survey_id
    assert verify(token, key="another-key-another-key-another-key") is None
    head, _, mac = token.partition(".")
    forged = sign(uuid.uuid4(), key=TEST_SECRET_KEY).split(".")[0] + "." + mac
    assert verify(forged, key=TEST_SECRET_KEY) is None
    for garbage in ("", ".", "abc", "a.b", "!!!.???", head):
        assert verify(garbage, key=TEST_SECRET_KEY) is None


def test_survey_settings_are_read_leniently_and_unknown_kinds_send_nothing() -> None:
    assert survey_config({"survey": "nps"}).kind == "nps"  # type: ignore[union-attr]
    config = survey_config({"survey": {"kind": "csat", "queues": ["support"]}})
    assert config is not None and config.queues == ("support",)
    assert config.timeout_seconds == 8.0  # voice: the wait for the caller's key
    timed = survey_config({"survey": {"kind": "csat", "timeout_seconds": 5}})
    assert timed is not None and timed.timeout_seconds == 5.0
    for bad in ("stars", {"kind": "ces"}, {"kind": "csat", "expires_hours": -1}, 5, None,
                {"kind": "csat", "timeout_seconds": 0}, {"kind": "nps", "timeout_seconds": True}):
        assert survey_config({"survey": bad}) is None


async def test_email_contacts_get_a_signed_link_and_answer_on_a_page(
        api: Api, clock: FixedClock) -> None:
    center = await _center(api, {"survey": "nps", "public_url": "https://help.example"})
    interaction = await _write(api, center, clock, "my order is late")
    async with api.db.write() as session:  # an email contact: the link, not a reply
        row = await session.get(Interaction, uuid.UUID(interaction))
        assert row is not None
        row.channel = "email"
    from omnidesk.channels.models import Channel
    async with api.db.write() as session:
        channel = await session.get(Channel, uuid.UUID(center["channel"]))
        assert channel is not None
        channel.kind = "email"
    await _handle_and_close(api, center, interaction)
    await _surveyed(api, center, interaction)
    question = [body for kind, body in await _messages(api, center, interaction)
                if kind == "bot"][-1]
    link = re.search(r"https://help\.example(/survey/[\w.-]+)", question)
    assert link is not None, question
    path = link.group(1)
    page = await api.client.get(path, params={"score": "9"})
    assert page.status_code == 200
    assert '<html lang="en">' in page.text and "<legend>" in page.text
    assert 'value="9" required checked' in page.text
    assert await _events(api, center, "survey.answered") == []  # opening the link: nothing
    bad = await api.client.post(path, data={"score": "11"})
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    done = await api.client.post(path, data={"score": "9"})
    assert done.status_code == 200 and "Thank you" in done.text
    again = await api.client.post(path, data={"score": "0"})
    assert "already have your answer" in again.text
    [answered] = await _events(api, center, "survey.answered")
    assert answered["payload"] | {"survey_id": None} == {
        "interaction_id": interaction, "kind": "nps", "score": 9, "via": "link",
        "survey_id": None}
    forged = await api.client.get(path[:-3] + "AAA")
    assert forged.status_code == 404
    clock.advance(10 * 86400)
    assert (await api.client.get(path)).status_code == 200  # answered: thanks, not expired



async def test_a_queue_filter_surveys_only_that_queues_contacts(
        api: Api, clock: FixedClock) -> None:
    center = await _center(api, {"survey": {"kind": "csat", "queues": ["support"]}})
    queues = (await api.client.get("/api/v1/queues", headers=center["admin"])).json()
    billing = await api.client.post("/api/v1/queues", headers=center["admin"],
                                    json={"name": "billing"})
    by_name = {q["name"]: q["id"] for q in [*queues, billing.json()]}
    surveyed: dict[str, bool] = {}
    for name, phone in (("billing", "+1 415 555 0101"), ("support", "+1 415 555 0102")):
        raw, headers = signed(message("help", phone=phone), clock)
        interaction = (await api.client.post(
            f"/api/v1/channels/api/{center['channel']}/messages", content=raw,
            headers=headers)).json()["interaction_id"]
        async with api.db.write() as session:  # as if it had waited in that queue
            row = await session.get(Interaction, uuid.UUID(interaction))
            assert row is not None
            row.queue_id = uuid.UUID(by_name[name])
        await _handle_and_close(api, center, interaction)
        surveyed[name] = False  # the follower handles closes in order: billing's went first
        if name == "support":
            await _surveyed(api, center, interaction)
            surveyed[name] = True
    sent = await _events(api, center, "survey.sent")
    assert len(sent) == 1 and surveyed == {"billing": False, "support": True}
