"""The real server process: from a clean data directory to a queued contact, across a crash."""

from __future__ import annotations

import http.client
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from omnidesk.channels.api_channel.signature import sign
from omnidesk.demo import DEMO_CENTER, DEMO_PASSWORD
from tests.server import ServerProcess, omnidesk

pytestmark = pytest.mark.server
ROOT_PASSWORD = "root-password-for-tests"
DEMO_SECRET = "demo-api-channel-secret-change-me"


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[ServerProcess]:
    """A server on a fresh data directory and database, with a platform admin."""
    env = {**os.environ, "OMNIDESK_DATA_DIR": str(tmp_path / "data"),
           "OMNIDESK_DATABASE_URL": database_url, "OMNIDESK_NEW_USER_PASSWORD": ROOT_PASSWORD}
    env.pop("OMNIDESK_REDIS_URL", None)
    omnidesk("tenants", "create", "ops", "--name", "Operations", env=env)
    omnidesk("users", "create", "--tenant", "ops", "--email", "root@ops.example", "--name",
             "Root", "--role", "admin", "--platform-admin", env=env)
    process = ServerProcess(env=env, log_path=tmp_path / "server.log")
    process.start()
    yield process
    process.stop()


async def _login(client: httpx.AsyncClient, tenant: str, email: str,
                 password: str) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", json={
        "tenant": tenant, "email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _post_signed(client: httpx.AsyncClient, channel_id: str, body: dict[str, Any]) -> Any:
    raw = json.dumps(body).encode()
    timestamp = str(int(time.time()))
    return await client.post(f"/api/v1/channels/api/{channel_id}/messages", content=raw, headers={
        "Content-Type": "application/json", "X-Omnidesk-Timestamp": timestamp,
        "X-Omnidesk-Signature": sign(DEMO_SECRET, timestamp, raw)})


async def _open_stream(server: ServerProcess, token: str, since: int) -> ClientConnection:
    socket = await connect(server.url.replace("http", "ws") + "/api/v1/stream")
    await socket.send(json.dumps({"type": "auth", "token": token, "since": since}))
    ready = json.loads(await socket.recv(decode=True))
    assert ready["type"] == "ready", ready
    return socket


async def _events(socket: ClientConnection, count: int) -> list[dict[str, Any]]:
    received = []
    for _ in range(count):
        message = json.loads(await socket.recv(decode=True))
        assert message["type"] == "event", message
        received.append(message["event"])
    return received


async def test_a_contact_posted_to_the_api_channel_is_queued_streamed_and_survives_a_crash(
        server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        await _walk_through_a_crash(server, client)


async def _walk_through_a_crash(server: ServerProcess, client: httpx.AsyncClient) -> None:
    root = await _login(client, "ops", "root@ops.example", ROOT_PASSWORD)
    applied = await client.post("/api/v1/config/apply", headers=root,
                          content=DEMO_CENTER.read_bytes())
    assert applied.status_code == 200, applied.text
    assert "created channel demo/shop-backend" in applied.json()["changes"]

    admin = await _login(client, "demo", "admin@demo.example", DEMO_PASSWORD)
    token = admin["Authorization"].removeprefix("Bearer ")
    channel = next(c for c in (await client.get("/api/v1/channels", headers=admin)).json()
                   if c["name"] == "shop-backend")
    seq_before = (await client.get("/api/v1/events", headers=admin)).json()[-1]["seq"]

    socket = await _open_stream(server, token, since=seq_before)
    accepted = await _post_signed(client, channel["id"], {
        "customer": {"identity": {"kind": "email", "value": "Ana@Example.com"}, "name": "Ana"},
        "text": "My parcel never arrived", "external_id": "shop-1"})
    assert accepted.status_code == 202, accepted.text
    interaction_id = accepted.json()["interaction_id"]
    live = await _events(socket, 4)
    await socket.close()
    assert [e["type"] for e in live] == ["customer.created", "interaction.created",
                                         "message.created", "interaction.queued"]
    assert [e["seq"] for e in live] == list(range(seq_before + 1, seq_before + 5))
    assert live[3]["subject"] == interaction_id

    url = f"/api/v1/interactions/{interaction_id}"
    queued_at = (await client.get(url, headers=admin)).json()["queued_at"]
    server.kill()
    server.start()

    interaction = (await client.get(url, headers=admin)).json()
    assert (interaction["state"], interaction["queued_at"]) == ("queued", queued_at)
    messages = await client.get(f"{url}/messages", headers=admin)
    assert [m["body"] for m in messages.json()] == ["My parcel never arrived"]
    retried = await _post_signed(client, channel["id"], {
        "customer": {"identity": {"kind": "email", "value": "ana@example.com"}},
        "text": "My parcel never arrived", "external_id": "shop-1"})
    assert retried.json() == accepted.json()

    resumed = await _open_stream(server, token, since=seq_before + 2)
    replay = await _events(resumed, 2)
    await resumed.close()
    assert [(e["seq"], e["type"]) for e in replay] == [
        (seq_before + 3, "message.created"), (seq_before + 4, "interaction.queued")]


async def test_the_stream_refuses_a_client_without_valid_credentials(
        server: ServerProcess) -> None:
    socket = await connect(server.url.replace("http", "ws") + "/api/v1/stream")
    await socket.send(json.dumps({"type": "auth", "token": "forged", "since": 0}))
    answer = json.loads(await socket.recv(decode=True))
    assert answer == {"type": "error", "error": "invalid token"}
    await socket.wait_closed()
    assert socket.close_code == 4401


def test_serve_demo_on_a_fresh_directory_prints_the_url_and_the_logins(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("OMNIDESK_")}
    server = ServerProcess(env=env, args=("--demo",), cwd=tmp_path,
                           log_path=tmp_path / "demo.log")
    server.start()
    server.stop()
    printed = (tmp_path / "demo.log").read_text()
    assert f"http://127.0.0.1:{server.port}" in printed
    assert "admin@demo.example" in printed and DEMO_PASSWORD in printed
    assert (tmp_path / "omnidesk-data" / "omnidesk.db").exists()
    assert (tmp_path / "omnidesk-data" / "secret_key").exists()


def test_an_idle_connection_outlives_a_clients_five_second_keep_alive(
        server: ServerProcess) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("GET", "/healthz")
        assert connection.getresponse().read() and connection.sock is not None
        first = connection.sock
        time.sleep(6)  # longer than httpx's keep-alive expiry (and uvicorn's default)
        connection.request("GET", "/healthz")  # on the same socket: closed, it would fail
        response = connection.getresponse()
        assert response.status == 200 and response.read()
        assert connection.sock is first
    finally:
        connection.close()


@pytest.mark.parametrize(("setting", "logged"), [(None, False), ("true", True)])
def test_a_request_is_logged_only_when_the_access_log_is_on(
        tmp_path: Path, setting: str | None, logged: bool) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OMNIDESK_")}
    env["OMNIDESK_DATA_DIR"] = str(tmp_path / "data")
    if setting is not None:
        env["OMNIDESK_ACCESS_LOG"] = setting
    omnidesk("db", "upgrade", env=env)
    server = ServerProcess(env=env, log_path=tmp_path / "server.log")
    server.start()
    try:
        assert httpx.get(f"{server.url}/healthz?probe=access-log").status_code == 200
    finally:
        server.stop()
    assert ("GET /healthz?probe=access-log" in (tmp_path / "server.log").read_text()) is logged
