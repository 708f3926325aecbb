"""Helpers of the stream tests: a contact written in, a stream opened, the next frame."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from omnidesk.channels.api_channel.signature import sign
from tests.conftest import Api

FRAME_SECONDS = 10.0
SECRET = "realtime-test-channel-secret"


async def post_contact(api: Api, admin: dict[str, str]) -> None:
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


async def open_stream(served: str, headers: dict[str, str], **auth: Any) -> ClientConnection:
    """A stream on the served app, its auth frame sent (with `auth`'s extra fields)."""
    socket = await connect(served.replace("http", "ws") + "/api/v1/stream")
    token = headers["Authorization"].removeprefix("Bearer ")
    await socket.send(json.dumps({"type": "auth", "token": token, **auth}))
    return socket


async def next_frame(socket: ClientConnection,
                     wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The next frame that matches (those before it are dropped)."""
    async with asyncio.timeout(FRAME_SECONDS):
        while True:
            frame: dict[str, Any] = json.loads(await socket.recv(decode=True))
            if wanted(frame):
                return frame
