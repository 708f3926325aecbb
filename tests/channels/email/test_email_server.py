"""The real server process: a mail acknowledged with 250 survives a kill -9 right after."""

from __future__ import annotations

import asyncio
import os
import smtplib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.channels.email.conftest import ADDRESS, crlf, fixture
from tests.server import ServerProcess, free_port, omnidesk

pytestmark = pytest.mark.server
ROOT_PASSWORD = "root-password-for-tests"


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[ServerProcess]:
    """A server with inbound SMTP on a free port, tenant ops and its admin."""
    env = {**os.environ, "OMNIDESK_DATA_DIR": str(tmp_path / "data"),
           "OMNIDESK_DATABASE_URL": database_url, "OMNIDESK_NEW_USER_PASSWORD": ROOT_PASSWORD,
           "OMNIDESK_SMTP_PORT": str(free_port())}
    env.pop("OMNIDESK_REDIS_URL", None)
    omnidesk("tenants", "create", "ops", "--name", "Operations", env=env)
    omnidesk("users", "create", "--tenant", "ops", "--email", "root@ops.example", "--name",
             "Root", "--role", "admin", env=env)
    process = ServerProcess(env=env, log_path=tmp_path / "server.log")
    process.start()
    yield process
    process.stop()


def _send_and_kill(server: ServerProcess) -> None:
    """Send with smtplib; the moment the 250 is read, SIGKILL the server."""
    client = smtplib.SMTP("127.0.0.1", int(server.env["OMNIDESK_SMTP_PORT"]), timeout=10)
    try:
        refused = client.sendmail("ana.lima@example.com", [ADDRESS],
                                  crlf(fixture("multipart_attachment.eml")))
        server.kill()
    finally:
        client.close()
    assert refused == {}


async def test_a_mail_acknowledged_with_250_is_there_after_a_kill_and_restart(
        server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        login = await client.post("/api/v1/auth/login", json={
            "tenant": "ops", "email": "root@ops.example", "password": ROOT_PASSWORD})
        admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
        await client.post("/api/v1/queues", headers=admin, json={"name": "support"})
        created = await client.post("/api/v1/channels", headers=admin, json={
            "kind": "email", "name": "support-mail", "default_queue": "support",
            "settings": {"address": ADDRESS}})
        assert created.status_code == 201, created.text

        await asyncio.to_thread(_send_and_kill, server)
        server.start()

        (interaction,) = (await client.get("/api/v1/interactions", headers=admin)).json()
        assert (interaction["channel"], interaction["state"]) == ("email", "queued")
        messages = (await client.get(f"/api/v1/interactions/{interaction['id']}/messages",
                                     headers=admin)).json()
        assert [m["external_id"] for m in messages] == [
            "<b3c1f9e2-7d1a-4c55-9a0e-2f1d3c4b5a6e@example.com>"]
        assert [a["size"] for a in messages[0]["attachments"]] == [125, 67]
        for attachment in messages[0]["attachments"]:  # the files were stored before the 250
            stored = await client.get(attachment["url"], headers=admin)
            assert stored.status_code == 200 and len(stored.content) == attachment["size"]
