"""The wallboard's figures pushed over the stream: at once, after each change, staff only."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import PASSWORD, Api
from tests.realtime.streams import next_frame, open_stream, post_contact


def _realtime(frame: dict[str, Any]) -> bool:
    return frame["type"] == "realtime"


async def test_a_supervisor_stream_gets_the_wallboard_at_once_and_after_each_change(
        api: Api, admin: dict[str, str], queue_id: str, served: str) -> None:
    socket = await open_stream(served, admin, realtime=True)
    try:
        first = (await next_frame(socket, _realtime))["snapshot"]
        assert first == (await api.client.get("/api/v1/realtime", headers=admin)).json()
        assert first["tenant"]["waiting"] == 0

        await post_contact(api, admin)
        pushed = await next_frame(socket, lambda f: _realtime(f)
                                  and f["snapshot"]["queues"][queue_id]["waiting"] == 1)
        assert pushed["snapshot"]["seq"] > first["seq"]
        assert pushed["snapshot"] == (await api.client.get("/api/v1/realtime",
                                                           headers=admin)).json()
    finally:
        await socket.close()


async def test_an_agent_may_not_ask_for_the_wallboard_and_nobody_gets_it_unasked(
        api: Api, admin: dict[str, str], queue_id: str, served: str) -> None:
    user = await api.client.post("/api/v1/users", headers=admin, json={
        "email": "alice@acme.example", "name": "Alice", "role": "agent", "password": PASSWORD})
    assert user.status_code == 201, user.text
    alice = await api.login("acme", "alice@acme.example")
    refused = await open_stream(served, alice, realtime=True)
    error = json.loads(await refused.recv(decode=True))
    assert error["type"] == "error" and "supervisor" in error["error"]
    with pytest.raises(ConnectionClosed) as closed:
        await refused.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403

    plain = await open_stream(served, admin)
    try:
        assert json.loads(await plain.recv(decode=True))["type"] == "ready"
        await post_contact(api, admin)
        event = await next_frame(plain, lambda f: f["type"] != "ready")
        assert event["type"] == "event"
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.6):
                await next_frame(plain, _realtime)
    finally:
        await plain.close()
