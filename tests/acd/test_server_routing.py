"""The ACD in the real server process: agents on WebSockets, reject, time-out, crash, order."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from omnidesk.channels.api_channel.signature import sign
from tests.server import ServerProcess, omnidesk

pytestmark = pytest.mark.server
SECRET = "acd-server-test-channel-secret"
CENTER = f"""
tenants:
  - slug: acme
    name: Acme
    skills: [english]
    queues:
      - name: support
        channel: chat
        offer_timeout_seconds: 2
        skills: [{{skill: english, min_proficiency: 2}}]
    users:
      - {{email: alice@acme.example, name: Alice, role: agent, password: alice-password}}
      - {{email: bob@acme.example, name: Bob, role: agent, password: bob-password}}
      - {{email: admin@acme.example, name: Admin, role: admin, password: admin-password}}
    agents:
      - {{user: alice@acme.example, skills: {{english: 4}}, capacity: {{chat: 1}}}}
      - {{user: bob@acme.example, skills: {{english: 4}}, capacity: {{chat: 1}}}}
    channels:
      - {{name: crm, kind: api, default_queue: support, secret: {SECRET}}}
"""


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[ServerProcess]:
    """The server with tenant acme applied from a center file."""
    env = {**os.environ, "OMNIDESK_DATA_DIR": str(tmp_path / "data"),
           "OMNIDESK_DATABASE_URL": database_url}
    env.pop("OMNIDESK_REDIS_URL", None)
    center = tmp_path / "center.yaml"
    center.write_text(CENTER)
    omnidesk("apply", str(center), env=env)
    process = ServerProcess(env=env, log_path=tmp_path / "server.log")
    process.start()
    yield process
    process.stop()


class Desktop:
    """An agent's session: HTTP headers, agent id and the live event stream."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str], agent_id: str,
                 socket: ClientConnection) -> None:
        self.client, self.headers, self.agent_id, self.socket = client, headers, agent_id, socket

    async def next_event(self, wanted: Callable[[dict[str, Any]], bool],
                         seconds: float = 10) -> dict[str, Any]:
        """The next event on this desktop's stream that matches."""
        async with asyncio.timeout(seconds):
            while True:
                frame = json.loads(await self.socket.recv(decode=True))
                if frame["type"] == "event" and wanted(frame["event"]):
                    return frame["event"]  # type: ignore[no-any-return]

    async def offer(self, seconds: float = 10) -> str:
        """Wait for an offer to this agent; the interaction id."""
        event = await self.next_event(lambda e: e["type"] == "offer.created"
                                      and e["payload"]["agent_id"] == self.agent_id, seconds)
        return str(event["subject"])

    async def answer(self, interaction_id: str, verb: str) -> httpx.Response:
        return await self.client.post(f"/api/v1/interactions/{interaction_id}/{verb}",
                                      headers=self.headers)


async def login(client: httpx.AsyncClient, name: str) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", json={
        "tenant": "acme", "email": f"{name}@acme.example", "password": f"{name}-password"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
async def client(server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        yield http


async def open_desktop(server: ServerProcess, client: httpx.AsyncClient, name: str) -> Desktop:
    """Log in, open the stream (the desktop is connected), go available."""
    headers = await login(client, name)
    me = (await client.get("/api/v1/auth/me", headers=headers)).json()
    agents = (await client.get("/api/v1/agents", headers=headers)).json()
    agent_id = next(a["id"] for a in agents if a["user_id"] == me["id"])
    socket = await connect(server.url.replace("http", "ws") + "/api/v1/stream")
    tenant_seq = await _authenticate(socket, headers)
    await socket.send(json.dumps({"type": "ping"}))
    assert tenant_seq >= 0
    state = await client.put(f"/api/v1/agents/{agent_id}/state", headers=headers,
                             json={"state": "available"})
    assert state.status_code == 200, state.text
    return Desktop(client, headers, agent_id, socket)


async def _authenticate(socket: ClientConnection, headers: dict[str, str]) -> int:
    token = headers["Authorization"].removeprefix("Bearer ")
    await socket.send(json.dumps({"type": "auth", "token": token}))  # live events only
    ready = json.loads(await socket.recv(decode=True))
    assert ready["type"] == "ready", ready
    return int(ready["tenant_seq"])


async def post_contact(client: httpx.AsyncClient, channel_id: str, phone: str) -> str:
    raw = json.dumps({"customer": {"identity": {"kind": "phone", "value": phone}},
                      "text": "hello"}).encode()
    timestamp = str(int(time.time()))
    response = await client.post(f"/api/v1/channels/api/{channel_id}/messages", content=raw,
                                 headers={"Content-Type": "application/json",
                                          "X-Omnidesk-Timestamp": timestamp,
                                          "X-Omnidesk-Signature": sign(SECRET, timestamp, raw)})
    assert response.status_code == 202, response.text
    return str(response.json()["interaction_id"])


async def open_both(server: ServerProcess,
                    client: httpx.AsyncClient) -> tuple[dict[str, str], str, Desktop, Desktop]:
    """The admin's headers, the API channel's id, and both desktops (Alice idle longest)."""
    admin = await login(client, "admin")
    (channel,) = (await client.get("/api/v1/channels", headers=admin)).json()
    alice = await open_desktop(server, client, "alice")
    await asyncio.sleep(0.05)
    return admin, channel["id"], alice, await open_desktop(server, client, "bob")


async def test_offers_reach_agents_live_and_survive_reject_timeout_and_a_crash(
        server: ServerProcess, client: httpx.AsyncClient) -> None:
    admin, channel_id, alice, bob = await open_both(server, client)

    first = await post_contact(client, channel_id, "+14155550001")
    assert await alice.offer() == first  # longest idle
    assert (await alice.answer(first, "reject")).status_code == 200
    assert await bob.offer() == first  # the next agent
    assert await alice.offer(seconds=15) == first  # bob let it time out after 2 s
    bob_now = (await client.get(f"/api/v1/agents/{bob.agent_id}", headers=admin)).json()
    assert bob_now["state"] == "missed"
    assert (await alice.answer(first, "accept")).json()["state"] == "connected"

    waiting = [await post_contact(client, channel_id, f"+1415555010{i}") for i in range(3)]
    queued = {i["id"]: i["queued_at"] for i in (await client.get(
        "/api/v1/interactions", headers=admin, params={"state": "queued"})).json()}
    assert set(queued) == set(waiting)
    await alice.socket.close()
    await bob.socket.close()

    server.kill()
    server.start()

    after = {i["id"]: i["queued_at"] for i in (await client.get(
        "/api/v1/interactions", headers=admin, params={"state": "queued"})).json()}
    assert after == queued  # every waiting contact, with its original queued time
    bob = await open_desktop(server, client, "bob")
    served = []
    for _ in waiting:
        contact = await bob.offer()
        served.append(contact)
        assert (await bob.answer(contact, "accept")).status_code == 200
        for state in ("wrap_up", "closed"):
            response = await client.post(f"/api/v1/interactions/{contact}/state",
                                         headers=bob.headers, json={"state": state})
            assert response.status_code == 200, response.text
    assert served == waiting  # in the original order
    await bob.socket.close()


async def _stream_events(socket: ClientConnection, until: Callable[[dict[str, Any]], bool],
                         seconds: float = 10) -> list[dict[str, Any]]:
    """The events a stream sends, up to and including the first that matches `until`."""
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(seconds):
        while not events or not until(events[-1]):
            frame = json.loads(await socket.recv(decode=True))
            if frame["type"] == "event":
                events.append(frame["event"])
    return events


async def test_an_agents_replay_holds_what_their_live_stream_held_and_nobody_elses(
        server: ServerProcess, client: httpx.AsyncClient) -> None:
    _, channel_id, alice, bob = await open_both(server, client)
    contact = await post_contact(client, channel_id, "+14155550200")
    live = await _stream_events(alice.socket, lambda e: e["type"] == "offer.created")
    assert live[-1]["subject"] == contact
    assert (await alice.answer(contact, "accept")).status_code == 200
    live += await _stream_events(alice.socket, lambda e: e["type"] == "interaction.connected")
    since = live[-1]["seq"]  # from here on, what is hers on the contact names her no more
    assert await post_contact(client, channel_id, "+14155550200") == contact
    later = await _stream_events(alice.socket, lambda e: e["subject"] == contact)
    assert all(e["payload"].get("agent_id") != alice.agent_id for e in later)
    await alice.socket.close()

    async def replay(desktop: Desktop) -> list[dict[str, Any]]:
        """The desktop's stream reopened with `since`, up to the last live event's seq."""
        socket = await connect(server.url.replace("http", "ws") + "/api/v1/stream")
        token = desktop.headers["Authorization"].removeprefix("Bearer ")
        await socket.send(json.dumps({"type": "auth", "token": token, "since": since}))
        try:
            return await _stream_events(socket, lambda e: e["seq"] >= later[-1]["seq"])
        finally:
            await socket.close()

    replayed = await replay(alice)  # who holds the contact is known, not replayed
    assert {e["seq"] for e in replayed} >= {e["seq"] for e in later}  # nothing of hers lost
    assert {e["subject"] for e in replayed} <= {alice.agent_id, contact}  # only hers
    replaying = asyncio.create_task(replay(bob))
    await post_contact(client, channel_id, "+14155550201")  # offered to bob: ends his replay
    assert all(e["subject"] != contact for e in await replaying)
    await bob.socket.close()
