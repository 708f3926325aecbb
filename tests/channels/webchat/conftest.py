"""Web chat tests: the app in-process behind a real loopback HTTP + WebSocket port."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import Api

FRAME_SECONDS = 10.0  # a safety net against hanging, not a timing assertion


@pytest.fixture
async def chat(api: Api, admin: dict[str, str]) -> dict[str, Any]:
    """A web chat channel of tenant acme queueing to support."""
    response = await api.client.post("/api/v1/channels", headers=admin, json={
        "kind": "webchat", "name": "website", "default_queue": "support",
        "settings": {"max_upload_bytes": 1024, "topics": ["Orders", "Billing"]}})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _matches(frame: dict[str, Any], kind: str, match: dict[str, Any]) -> bool:
    """The frame is of this type and has these field values."""
    return frame["type"] == kind and all(frame.get(k) == v for k, v in match.items())


class Visitor:
    """A browser speaking the web chat protocol over a real WebSocket."""

    def __init__(self, base_url: str, channel_id: str) -> None:
        self.url = base_url.replace("http", "ws") + f"/api/v1/channels/webchat/{channel_id}/ws"
        self.socket: ClientConnection | None = None
        self.token: str | None = None
        self.frames: list[dict[str, Any]] = []  # every frame received, in order

    async def connect(self, *, last_seen_id: str | None = None,
                      token: str | None = None) -> dict[str, Any]:
        """Open the socket, say hello (with the kept token), return the welcome frame."""
        self.socket = await connect(self.url)
        await self.send({"type": "hello", "visitor_token": token or self.token,
                         "last_seen_id": last_seen_id})
        welcome = await self.next("welcome")
        self.token = welcome["visitor_token"]
        return welcome

    async def send(self, frame: dict[str, Any]) -> None:
        assert self.socket is not None
        await self.socket.send(json.dumps(frame))

    async def receive(self) -> dict[str, Any]:
        """The next frame."""
        assert self.socket is not None
        async with asyncio.timeout(FRAME_SECONDS):
            frame: dict[str, Any] = json.loads(await self.socket.recv(decode=True))
        self.frames.append(frame)
        return frame

    async def next(self, kind: str, **match: Any) -> dict[str, Any]:
        """The next frame of this type (and matching fields); others are kept in `frames`."""
        while True:
            frame = await self.receive()
            if frame["type"] == "error" and kind != "error":
                raise AssertionError(f"error frame while waiting for {kind}: {frame}")
            if _matches(frame, kind, match):
                return frame

    async def seen(self, kind: str, **match: Any) -> dict[str, Any]:
        """A frame of this type (and matching fields) received already or next: for frames
        that travel different paths (a pushed state, a message read on wake) in no set order."""
        for frame in self.frames:
            if _matches(frame, kind, match):
                return frame
        return await self.next(kind, **match)

    async def start(self, name: str = "Ana Lima", email: str = "ana@example.com",
                    topic: str = "Orders") -> dict[str, Any]:
        """Connect and fill the pre-chat form."""
        welcome = await self.connect()
        await self.send({"type": "prechat", "name": name, "email": email, "topic": topic})
        await self.next("prechat_ok")
        return welcome

    async def say(self, text: str, client_id: str, **extra: Any) -> dict[str, Any]:
        """Send a message; its ack."""
        await self.send({"type": "message", "client_id": client_id, "text": text, **extra})
        return await self.next("ack", client_id=client_id)

    def messages(self) -> list[dict[str, Any]]:
        """Every message frame received so far."""
        return [frame for frame in self.frames if frame["type"] == "message"]

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
            self.socket = None


@pytest.fixture
async def visitor(served: str, chat: dict[str, Any]) -> AsyncIterator[Visitor]:
    browser = Visitor(served, chat["id"])
    yield browser
    await browser.close()
