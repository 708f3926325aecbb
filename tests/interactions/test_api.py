"""Interactions over the API: messages, state changes through the state machine, filters."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from omnidesk.customers.models import Customer
from omnidesk.interactions.actions import create_interaction
from tests.acd.test_service import acd_of
from tests.conftest import Api, eventually, make_tenant


@pytest.fixture
async def setup(api: Api) -> dict[str, Any]:
    """Tenant acme with a queue, an agent and one new chat interaction."""
    tenant_id = await make_tenant(api.db, "acme", admin_email="admin@acme.example")
    admin = await api.login("acme", "admin@acme.example")
    queue = (await api.client.post("/api/v1/queues", headers=admin,
                                   json={"name": "support"})).json()
    me = (await api.client.get("/api/v1/auth/me", headers=admin)).json()
    agent = (await api.client.post("/api/v1/agents", headers=admin,
                                   json={"user_id": me["id"]})).json()
    async with api.db.write() as session:
        customer = Customer(tenant_id=tenant_id, display_name="Ana", attributes={},
                            created_at=api.db.clock.now(), identities=[])
        session.add(customer)
        await session.flush()
        interaction = await create_interaction(session, tenant_id=tenant_id, channel="chat",
                                               customer_id=customer.id, actor="test")
    return {"admin": admin, "queue": queue["id"], "agent": agent["id"],
            "interaction": str(interaction.id), "tenant_id": str(tenant_id)}


async def _move(api: Api, setup: dict[str, Any], **change: Any) -> Any:
    return await api.client.post(f"/api/v1/interactions/{setup['interaction']}/state",
                                 headers=setup["admin"], json=change)


async def test_an_interaction_walks_its_whole_life_with_one_event_per_step(
        api: Api, setup: dict[str, Any]) -> None:
    await acd_of(api).desktop_opened(uuid.UUID(setup["tenant_id"]), uuid.UUID(setup["agent"]))
    await api.client.put(f"/api/v1/agents/{setup['agent']}/state", headers=setup["admin"],
                         json={"state": "available"})
    assert (await _move(api, setup, state="queued", queue_id=setup["queue"])).status_code == 200
    await eventually(lambda: _state_is(api, setup, "offered"), "the router's offer")
    accepted = await api.client.post(f"/api/v1/interactions/{setup['interaction']}/accept",
                                     headers=setup["admin"])
    assert accepted.status_code == 200, accepted.text
    for step in ({"state": "on_hold"}, {"state": "connected"}, {"state": "wrap_up"},
                 {"state": "closed", "disposition": "order-status", "resolved": True}):
        response = await _move(api, setup, **step)
        assert response.status_code == 200, response.text
    final = response.json()
    assert final["state"] == "closed" and final["ended_at"] is not None
    events = (await api.client.get("/api/v1/events", headers=setup["admin"])).json()
    mine = [e for e in events if e["subject"] == setup["interaction"]]
    assert [e["type"] for e in mine] == [
        "interaction.created", "interaction.queued", "offer.created", "offer.accepted",
        "interaction.connected", "interaction.held", "interaction.resumed",
        "interaction.wrap_up_started", "interaction.closed"]
    assert mine[-1]["payload"]["disposition"] == "order-status"
    assert mine[-1]["payload"]["resolved"] is True


async def _state_is(api: Api, setup: dict[str, Any], state: str) -> bool:
    response = await api.client.get(f"/api/v1/interactions/{setup['interaction']}",
                                    headers=setup["admin"])
    return bool(response.json()["state"] == state)


async def test_an_invalid_transition_is_409_and_changes_nothing(
        api: Api, setup: dict[str, Any]) -> None:
    response = await _move(api, setup, state="wrap_up")
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "invalid_transition", "field": "state",
        "message": "cannot go from new to wrap_up; allowed: abandoned, closed, connected, "
                   "queued, self_service"}
    current = await api.client.get(f"/api/v1/interactions/{setup['interaction']}",
                                   headers=setup["admin"])
    assert current.json()["state"] == "new"


async def test_queueing_needs_a_queue_of_the_same_tenant(api: Api,
                                                         setup: dict[str, Any]) -> None:
    missing = await _move(api, setup, state="queued")
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "queue_id"
    foreign = await _move(api, setup, state="queued", queue_id=str(uuid.uuid4()))
    assert foreign.status_code == 404 and foreign.json()["error"]["field"] == "queue_id"


async def test_an_unknown_state_name_is_422(api: Api, setup: dict[str, Any]) -> None:
    response = await _move(api, setup, state="teleported")
    assert response.status_code == 422 and response.json()["error"]["field"] == "state"


async def test_agents_post_messages_and_read_them_in_order(api: Api,
                                                           setup: dict[str, Any]) -> None:
    url = f"/api/v1/interactions/{setup['interaction']}/messages"
    for body in ("Hello Ana", "Your order ships today"):
        posted = await api.client.post(url, headers=setup["admin"], json={"body": body})
        assert posted.status_code == 201
    empty = await api.client.post(url, headers=setup["admin"], json={"body": ""})
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "body"
    listed = (await api.client.get(url, headers=setup["admin"])).json()
    assert [(m["author_kind"], m["body"]) for m in listed] == [
        ("agent", "Hello Ana"), ("agent", "Your order ships today")]


async def test_list_filters_by_state_and_channel(api: Api, setup: dict[str, Any]) -> None:
    await _move(api, setup, state="queued", queue_id=setup["queue"])

    async def ids(**params: str) -> list[str]:
        response = await api.client.get("/api/v1/interactions", headers=setup["admin"],
                                         params=params)
        return [i["id"] for i in response.json()]

    assert await ids(state="queued") == [setup["interaction"]]
    assert await ids(state="closed") == []
    assert await ids(channel="chat", queue_id=setup["queue"]) == [setup["interaction"]]
    bad = await api.client.get("/api/v1/interactions", headers=setup["admin"],
                               params={"limit": "0"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "limit"
