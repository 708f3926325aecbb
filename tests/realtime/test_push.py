"""The wallboard's figures pushed over the stream: at once, after each change, staff only."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from omnidesk.channels.api_channel.signature import sign
from tests.channels.loopback import serve
from tests.conftest import PASSWORD, Api, make_tenant

FRAME_SECONDS = 10.0
SECRET = "realtime-push-test-channel-secret"


@pytest.fixture
async def served(api: Api) -> AsyncIterator[str]:
    async with serve(api.app, websockets=True) as base_url:
        yield base_url


@pytest.fixture
async def admin(api: Api) -> dict[str, str]:
    await make_tenant(api.db, "acme", admin_email="admin@acme.example")
    return await api.login("acme", "admin@acme.example")


@pytest.fixture
async def queue_id(api: Api, admin: dict[str, str]) -> str:
    created = await api.client.post("/api/v1/queues", headers=admin, json={"name": "support"})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def _post_contact(api: Api, admin: dict[str, str]) -> None:
    """A customer writes in through the signed API channel; the contact queues in support."""
    channels = (await api.client.get("/api/v1/channels", headers=admin)).json()
    if not channels:
        created = await api.client.post("/api/v1/channels", headers=admin, json={
            "kind": "api", "name": "app", "default_queue": "support", "secret": SECRET})
        assert created.status_code == 201, created.text
        channels = [created.json()]
    raw = json.dumps({"customer": {"identity": {"kind": "phone", "value": "+15550100"}},
                      "text": "hello"}).encode()
    timestamp = str(int(api.db.clock.now().timestamp()))
    posted = await api.client.post(
        f"/api/v1/channels/api/{channels[0]['id']}/messages", content=raw,
        headers={"Content-Type": "application/json", "X-Omnidesk-Timestamp": timestamp,
                 "X-Omnidesk-Signature": sign(SECRET, timestamp, raw)})
    assert posted.status_code == 202, posted.text


async def _stream(served: str, headers: dict[str, str], **auth: Any) -> ClientConnection:
    socket = await connect(served.replace("http", "ws") + "/api/v1/stream")
    token = headers["Authorization"].removeprefix("Bearer ")
    await socket.send(json.dumps({"type": "auth", "token": token, **auth}))
    return socket


async def _next(socket: ClientConnection,
                wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    async with asyncio.timeout(FRAME_SECONDS):
        while True:
            frame: dict[str, Any] = json.loads(await socket.recv(decode=True))
            if wanted(frame):
                return frame


def _realtime(frame: dict[str, Any]) -> bool:
    return frame["type"] == "realtime"


async def test_a_supervisor_stream_gets_the_wallboard_at_once_and_after_each_change(
        api: Api, admin: dict[str, str], queue_id: str, served: str) -> None:
    socket = await _stream(served, admin, realtime=True)
    try:
        first = (await _next(socket, _realtime))["snapshot"]
        assert first == (await api.client.get("/api/v1/realtime", headers=admin)).json()
        assert first["tenant"]["waiting"] == 0

        await _post_contact(api, admin)
        pushed = await _next(socket, lambda f: _realtime(f)
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
    refused = await _stream(served, alice, realtime=True)
    error = json.loads(await refused.recv(decode=True))
    assert error["type"] == "error" and "supervisor" in error["error"]
    with pytest.raises(ConnectionClosed) as closed:
        await refused.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403

    plain = await _stream(served, admin)
    try:
        assert json.loads(await plain.recv(decode=True))["type"] == "ready"
        await _post_contact(api, admin)
        event = await _next(plain, lambda f: f["type"] != "ready")
        assert event["type"] == "event"
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.6):
                await _next(plain, _realtime)
    finally:
        await plain.close()
