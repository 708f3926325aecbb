"""Supervision API: whisper, move a waiting contact (queue or agent), a conversation's events,
forcing an agent's state; supervisors and admins only."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from omnidesk.clock import FixedClock
from tests.acd.test_service import (
    acd_of,
    center,  # noqa: F401 - the fixture
    go_available,
    interaction,
    offered_to,
    post_contact,
)
from tests.conftest import PASSWORD, Api, eventually


@pytest.fixture
async def supervised(api: Api, center: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    """The ACD tests' center plus a supervisor, a second queue 'billing' (skill billing, which
    only bob has) and a third agent carol with no skills at all."""
    admin = center["admin"]

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await api.client.post(f"/api/v1{path}", headers=admin, json=body)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    await post("/users", {"email": "sam@acme.example", "name": "Sam", "role": "supervisor",
                          "password": PASSWORD})
    await post("/skills", {"name": "billing"})
    billing = await post("/queues", {"name": "billing", "channel": "chat",
                                     "skills": [{"skill": "billing"}]})
    response = await api.client.patch(
        f"/api/v1/agents/{center['agents']['bob']['id']}", headers=admin,
        json={"skills": [{"skill": "billing", "proficiency": 3}]})
    assert response.status_code == 200, response.text
    user = await post("/users", {"email": "carol@acme.example", "name": "Carol", "role": "agent",
                                 "password": PASSWORD})
    carol = await post("/agents", {"user_id": user["id"]})
    center["agents"]["carol"] = {"id": carol["id"],
                                 "headers": await api.login("acme", "carol@acme.example")}
    return center | {"sam": await api.login("acme", "sam@acme.example"),
                     "billing": billing["id"]}


async def _connected(api: Api, c: dict[str, Any], clock: FixedClock) -> str:
    await go_available(api, c, "alice")
    contact = await post_contact(api, c, clock)
    await offered_to(api, c, contact, "alice")
    accepted = await api.client.post(f"/api/v1/interactions/{contact}/accept",
                                     headers=c["agents"]["alice"]["headers"])
    assert accepted.status_code == 200, accepted.text
    return contact


async def test_a_whisper_is_a_message_for_the_agent_that_no_channel_delivers(
        api: Api, supervised: dict[str, Any], clock: FixedClock) -> None:
    contact = await _connected(api, supervised, clock)
    sent = await api.client.post(f"/api/v1/interactions/{contact}/whisper",
                                 headers=supervised["sam"], json={"body": "Offer the refund"})
    assert sent.status_code == 201, sent.text
    assert sent.json()["author_kind"] == "whisper"
    messages = (await api.client.get(f"/api/v1/interactions/{contact}/messages",
                                     headers=supervised["agents"]["alice"]["headers"])).json()
    assert [(m["author_kind"], m["body"]) for m in messages][-1] == ("whisper", "Offer the refund")
    events = (await api.client.get(f"/api/v1/interactions/{contact}/events",
                                   headers=supervised["sam"])).json()
    whisper = [e for e in events if e["type"] == "message.created"][-1]
    assert whisper["payload"]["author_kind"] == "whisper"
    assert whisper["actor"].startswith("user:")
    assert not [e for e in events if e["type"] in ("message.delivered", "message.failed")]


async def test_a_whisper_needs_an_agent_a_body_and_a_supervisor(
        api: Api, supervised: dict[str, Any], clock: FixedClock) -> None:
    waiting = await post_contact(api, supervised, clock)
    url = f"/api/v1/interactions/{waiting}/whisper"
    nobody = await api.client.post(url, headers=supervised["sam"], json={"body": "hi"})
    assert nobody.status_code == 409
    assert nobody.json()["error"]["field"] == "interaction_id"
    empty = await api.client.post(url, headers=supervised["sam"], json={"body": ""})
    assert empty.status_code == 422
    assert "body" in empty.json()["error"]["field"]
    agent = await api.client.post(url, headers=supervised["agents"]["bob"]["headers"],
                                  json={"body": "hi"})
    assert agent.status_code == 403


async def test_moving_a_waiting_contact_to_another_queue_keeps_its_wait_and_routes_it_there(
        api: Api, supervised: dict[str, Any], clock: FixedClock) -> None:
    contact = await post_contact(api, supervised, clock)
    before = await interaction(api, supervised, contact)
    clock.advance(30)
    moved = await api.client.post(f"/api/v1/interactions/{contact}/move",
                                  headers=supervised["sam"],
                                  json={"queue_id": supervised["billing"]})
    assert moved.status_code == 200, moved.text
    assert moved.json()["queue_id"] == supervised["billing"]
    assert moved.json()["queued_at"] == before["queued_at"]
    router = await acd_of(api).current_router(supervised["tenant_id"])

    async def in_billing() -> bool:
        where = router.engine.wait_estimate(contact, acd_of(api).now())
        return where.queue_id == supervised["billing"] and where.waited_s == 30

    await eventually(in_billing, "the engine moving the contact to billing")
    await go_available(api, supervised, "alice")  # english only: not for billing
    await go_available(api, supervised, "bob")
    await offered_to(api, supervised, contact, "bob")
    events = (await api.client.get(f"/api/v1/interactions/{contact}/events",
                                   headers=supervised["sam"])).json()
    queued = [e for e in events if e["type"] == "interaction.queued"]
    assert [e["payload"]["queue_id"] for e in queued] == [supervised["queue"],
                                                          supervised["billing"]]
    assert queued[1]["payload"]["moved_from"] == supervised["queue"]
    assert queued[1]["actor"] == queued[1]["payload"]["moved_by"]


async def test_moving_a_waiting_contact_to_an_agent_offers_it_to_that_agent(
        api: Api, supervised: dict[str, Any], clock: FixedClock) -> None:
    contact = await post_contact(api, supervised, clock)
    carol = supervised["agents"]["carol"]
    busy = await api.client.post(f"/api/v1/interactions/{contact}/move",
                                 headers=supervised["sam"], json={"agent_id": carol["id"]})
    assert busy.status_code == 409  # carol is offline
    assert busy.json()["error"]["field"] == "agent_id"
    await go_available(api, supervised, "carol")  # no skills: the queue would never pick her
    moved = await api.client.post(f"/api/v1/interactions/{contact}/move",
                                  headers=supervised["sam"], json={"agent_id": carol["id"]})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["state"], moved.json()["agent_id"]) == ("offered", carol["id"])
    accepted = await api.client.post(f"/api/v1/interactions/{contact}/accept",
                                     headers=carol["headers"])
    assert accepted.json()["state"] == "connected"
    events = (await api.client.get(f"/api/v1/interactions/{contact}/events",
                                   headers=supervised["sam"])).json()
    types = [e["type"] for e in events]
    assert types.index("interaction.directed") < types.index("offer.created")


async def test_a_move_names_one_target_and_needs_a_waiting_contact(
        api: Api, supervised: dict[str, Any], clock: FixedClock) -> None:
    contact = await post_contact(api, supervised, clock)
    url = f"/api/v1/interactions/{contact}/move"
    sam = supervised["sam"]
    neither = await api.client.post(url, headers=sam, json={})
    assert (neither.status_code, neither.json()["error"]["field"]) == (422, "queue_id")
    both = await api.client.post(url, headers=sam, json={
        "queue_id": supervised["billing"], "agent_id": supervised["agents"]["bob"]["id"]})
    assert both.status_code == 422
    same = await api.client.post(url, headers=sam, json={"queue_id": supervised["queue"]})
    assert (same.status_code, same.json()["error"]["field"]) == (409, "queue_id")
    unknown = await api.client.post(url, headers=sam, json={"queue_id": str(uuid.uuid4())})
    assert (unknown.status_code, unknown.json()["error"]["field"]) == (404, "queue_id")
    agent = await api.client.post(url, headers=supervised["agents"]["bob"]["headers"],
                                  json={"queue_id": supervised["billing"]})
    assert agent.status_code == 403
    connected = await _connected(api, supervised, clock)
    late = await api.client.post(f"/api/v1/interactions/{connected}/move", headers=sam,
                                 json={"queue_id": supervised["billing"]})
    assert (late.status_code, late.json()["error"]["field"]) == (409, "state")


async def test_a_supervisor_forces_an_agents_state_and_the_event_names_them(
        api: Api, supervised: dict[str, Any]) -> None:
    bob = supervised["agents"]["bob"]
    forced = await api.client.put(f"/api/v1/agents/{bob['id']}/state", headers=supervised["sam"],
                                  json={"state": "break", "reason": "supervisor"})
    assert forced.status_code == 200, forced.text
    sam = (await api.client.get("/api/v1/auth/me", headers=supervised["sam"])).json()
    events = (await api.client.get("/api/v1/events", headers=supervised["sam"])).json()
    change = [e for e in events if e["type"] == "agent.state_changed"][-1]
    assert (change["subject"], change["payload"]["state"], change["actor"]) == (
        bob["id"], "break", f"user:{sam['id']}")


async def test_a_conversations_events_are_staff_only(
        api: Api, supervised: dict[str, Any], clock: FixedClock) -> None:
    contact = await post_contact(api, supervised, clock)
    url = f"/api/v1/interactions/{contact}/events"
    events = (await api.client.get(url, headers=supervised["sam"])).json()
    assert [e["type"] for e in events] == ["interaction.created", "message.created",
                                           "interaction.queued"]
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    denied = await api.client.get(url, headers=supervised["agents"]["bob"]["headers"])
    assert denied.status_code == 403


async def test_listening_in_needs_staff_a_known_mode_and_a_live_phone_call(
        api: Api, supervised: dict[str, Any], clock: FixedClock) -> None:
    contact = await _connected(api, supervised, clock)  # a chat, not a call
    url = f"/api/v1/interactions/{contact}/monitor"
    agent = await api.client.post(url, headers=supervised["agents"]["alice"]["headers"],
                                  json={"mode": "listen"})
    assert agent.status_code == 403, agent.text
    unknown = await api.client.post(url, headers=supervised["sam"], json={"mode": "spy"})
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["error"]["field"] == "mode"
    for method, body in (("POST", {"mode": "listen"}), ("PATCH", {"mode": "barge"}),
                         ("DELETE", None)):
        refused = await api.client.request(method, url, headers=supervised["sam"], json=body)
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["field"] == "interaction_id"
    missing = await api.client.post(f"/api/v1/interactions/{uuid.uuid4()}/monitor",
                                    headers=supervised["sam"], json={"mode": "listen"})
    assert missing.status_code == 404, missing.text
