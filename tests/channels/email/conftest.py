"""The app with its SMTP server on a free loopback port, an email channel, and a relay sink."""

from __future__ import annotations

import asyncio
import re
import smtplib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from pydantic import SecretStr

from omnidesk.config import Settings
from tests.conftest import TEST_SECRET_KEY, Api, make_tenant
from tests.server import free_port

FIXTURES = Path(__file__).parent / "fixtures"
ADDRESS = "support@acme.example"
MAX_BYTES = 64 * 1024


def fixture(name: str) -> bytes:
    """A recorded mail, as its bytes."""
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings with inbound SMTP on a free port and a small size limit."""
    return Settings(data_dir=tmp_path / "data", database_url=database_url,  # type: ignore[call-arg]
                    secret_key=SecretStr(TEST_SECRET_KEY), smtp_port=free_port(),
                    smtp_max_message_bytes=MAX_BYTES, _env_file=None)


@dataclass
class Sink:
    """A relay that keeps what it is given."""

    port: int = 0
    received: list[tuple[Envelope, EmailMessage]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        parsed = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((envelope, parsed))
        self.arrived.set()
        return "250 2.0.0 OK"

    async def next_mail(self) -> EmailMessage:
        """Wait for the next relayed mail."""
        count = len(self.received)
        async with asyncio.timeout(10):
            while len(self.received) == count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.received[-1][1]


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    """A local aiosmtpd relay on a free port."""
    keeper = Sink()
    loop = asyncio.get_running_loop()
    connections: list[SMTP] = []

    def protocol() -> SMTP:
        connections.append(SMTP(keeper, hostname="sink.test", loop=loop))
        return connections[-1]

    server = await loop.create_server(protocol, "127.0.0.1", 0)
    keeper.port = server.sockets[0].getsockname()[1]
    yield keeper
    server.close()
    for connection in connections:
        if connection.transport is not None:
            connection.transport.close()
    await server.wait_closed()


@dataclass
class Mailroom:
    """The app's SMTP port, the tenant admin's headers and the channel."""

    api: Api
    port: int
    admin: dict[str, str]
    channel_id: str

    async def send(self, raw: bytes, *, mail_from: str = "ana.lima@example.com",
                   to: str = ADDRESS) -> dict[str, Any]:
        """Send with smtplib (in a thread); the refused recipients, as sendmail returns them."""
        return await asyncio.to_thread(smtp_send, self.port, raw, mail_from, [to])

    async def interactions(self) -> list[dict[str, Any]]:
        """The tenant's interactions."""
        response = await self.api.client.get("/api/v1/interactions", headers=self.admin)
        return response.json()  # type: ignore[no-any-return]

    async def messages(self, interaction_id: str) -> list[dict[str, Any]]:
        """An interaction's messages."""
        response = await self.api.client.get(f"/api/v1/interactions/{interaction_id}/messages",
                                             headers=self.admin)
        return response.json()  # type: ignore[no-any-return]

    async def download(self, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
        """GET an attachment's url as the admin (or with other headers)."""
        return await self.api.client.get(url, headers=self.admin if headers is None else headers)


def crlf(raw: bytes) -> bytes:
    """Line ends as SMTP carries them (smtplib sends bytes as they are)."""
    return re.sub(rb"\r?\n", b"\r\n", raw)


def smtp_send(port: int, raw: bytes, mail_from: str, to: list[str]) -> dict[str, Any]:
    """One SMTP session with the standard library's client."""
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        return dict(client.sendmail(mail_from, to, crlf(raw)))


@pytest.fixture
async def mailroom(api: Api, sink: Sink) -> Mailroom:
    """Tenant acme with queue support and an email channel at support@acme.example."""
    await make_tenant(api.db, "acme", admin_email="admin@acme.example")
    admin = await api.login("acme", "admin@acme.example")
    await api.client.post("/api/v1/queues", headers=admin, json={"name": "support"})
    created = await api.client.post("/api/v1/channels", headers=admin, json={
        "kind": "email", "name": "support-mail", "default_queue": "support",
        "settings": {"address": "Support@Acme.example", "from_name": "Acme Support",
                     "smtp_host": "127.0.0.1", "smtp_port": sink.port, "starttls": False}})
    assert created.status_code == 201, created.text
    return Mailroom(api=api, port=api.app.state.email.port, admin=admin,
                    channel_id=created.json()["id"])
