"""Typing indicators both ways: ephemeral signals, never in the event log."""

from __future__ import annotations

import json

from websockets.asyncio.client import ClientConnection

from tests.channels.webchat.conftest import Visitor
from tests.conftest import Api
from tests.realtime.streams import next_frame, open_stream


async def _agent(api: Api, admin: dict[str, str]) -> tuple[str, dict[str, str]]:
    _, agent = await api.add_agent(admin, "alice@acme.example", "Alice")
    return str(agent["id"]), await api.login("acme", "alice@acme.example")


async def _desktop(served: str, headers: dict[str, str]) -> ClientConnection:
    socket = await open_stream(served, headers)
    assert json.loads(await socket.recv(decode=True))["type"] == "ready"
    return socket


async def test_typing_goes_both_ways_and_is_not_logged(
        api: Api, admin: dict[str, str], served: str, visitor: Visitor) -> None:
    agent_id, alice = await _agent(api, admin)
    desktop = await _desktop(served, alice)
    try:
        went = await api.client.put(f"/api/v1/agents/{agent_id}/state", headers=alice,
                                    json={"state": "available"})
        assert went.status_code == 200, went.text
        await visitor.start()
        ack = await visitor.say("hello?", "c-1")
        interaction_id = ack["interaction_id"]
        await next_frame(desktop, lambda f: f["type"] == "event"
                         and f["event"]["type"] == "offer.created")
        accepted = await api.client.post(f"/api/v1/interactions/{interaction_id}/accept",
                                          headers=alice)
        assert accepted.status_code == 200, accepted.text
        await visitor.next("state", state="connected")

        await visitor.send({"type": "typing", "typing": True})
        signal = await next_frame(desktop, lambda f: f["type"] == "signal")
        assert signal == {"type": "signal", "signal": "typing",
                          "interaction_id": interaction_id, "who": "customer",
                          "typing": True}

        typed = await api.client.post(f"/api/v1/interactions/{interaction_id}/typing",
                                      headers=alice, json={"typing": True})
        assert typed.status_code == 202, typed.text
        seen = await visitor.next("signal")
        assert seen["who"] == "agent" and seen["typing"] is True
    finally:
        await desktop.close()
    logged = (await api.client.get("/api/v1/events", headers=admin)).json()
    assert not [e for e in logged if "typing" in e["type"]]


async def test_only_the_agent_holding_the_chat_may_type_in_it(
        api: Api, admin: dict[str, str], visitor: Visitor) -> None:
    _, alice = await _agent(api, admin)
    await visitor.start()
    ack = await visitor.say("hello?", "c-1")
    refused = await api.client.post(f"/api/v1/interactions/{ack['interaction_id']}/typing",
                                    headers=alice, json={"typing": True})
    assert refused.status_code == 403
    assert refused.json()["error"]["field"] == "interaction_id"
    bad = await api.client.post(f"/api/v1/interactions/{ack['interaction_id']}/typing",
                                headers=admin, json={"typing": "maybe"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "typing"
