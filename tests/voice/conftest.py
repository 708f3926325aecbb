"""The app with its voice service on free loopback ports, a tenant with voice channels, and
SIPp as the caller (Debian's sip-tester; scripts/install-test-peers installs it)."""

from __future__ import annotations

import asyncio
import random
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from omnidesk.channels.voice.service import VoiceService
from omnidesk.config import Settings
from omnidesk.events.models import Event
from omnidesk.interactions.models import Interaction
from tests.conftest import TEST_SECRET_KEY, Api, make_tenant

SCENARIOS = Path(__file__).parent / "scenarios"
FIXTURES = Path(__file__).parent / "fixtures"
SIPP_TIMEOUT_SECONDS = 60
EXTENSION_PASSWORD = "s3cret-phone"


def free_port() -> int:
    """A port free for both UDP and TCP on loopback right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket() as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port")


def sipp_binary() -> str:
    """The sipp program; the test fails (never skips) when it is missing."""
    program = shutil.which("sipp")
    if program is None:
        pytest.fail("sipp is not installed: run scripts/install-test-peers (Debian sip-tester)")
    return program


@dataclass
class SippResult:
    """How a SIPp run ended."""

    returncode: int
    output: str


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings with SIP on a free port and a random RTP port window; the IVR flow loaded."""
    data = tmp_path / "data"
    (data / "flows").mkdir(parents=True)
    shutil.copy(FIXTURES / "phone_ivr.yaml", data / "flows" / "phone_ivr.yaml")
    (data / "voice").mkdir()
    (data / "voice" / "extensions.yaml").write_text(
        "extensions:\n"
        f"  - {{extension: '201', password: {EXTENSION_PASSWORD}, tenant: acme,"
        " agent: ana@acme.example}\n"
        f"  - {{extension: '202', password: {EXTENSION_PASSWORD}, tenant: acme,"
        " agent: bea@acme.example}\n")
    base = random.randrange(30000, 60000, 2)
    return Settings(data_dir=data, database_url=database_url,  # type: ignore[call-arg]
                    secret_key=SecretStr(TEST_SECRET_KEY), sip_port=free_port(),
                    smtp_port=free_port(), sip_rtp_port_min=base,
                    sip_rtp_port_max=base + 400, _env_file=None)


@dataclass
class Phone:
    """The tenant's admin, its voice channels and a SIPp runner against the app."""

    api: Api
    admin: dict[str, str]
    workdir: Path

    @property
    def voice(self) -> VoiceService:
        service = self.api.app.state.voice
        assert isinstance(service, VoiceService)
        return service

    async def sipp(self, scenario: str, *args: str, transport: str = "u1",
                   calls: int = 1) -> SippResult:
        """Run SIPp calls (at once) of a scenario against the voice service."""
        command = [sipp_binary(), "-sf", str(SCENARIOS / scenario), "-m", str(calls),
                   "-l", str(calls), "-r", str(max(10, calls)),
                   "-timeout", "30s", "-timeout_error", "-t", transport,
                   "-i", "127.0.0.1", "-p", str(free_port()), "-mi", "127.0.0.1",
                   "-mp", str(free_port()), "-trace_err", "-trace_msg",
                   "-message_file", str(self.workdir / f"{scenario}.messages.log"),
                   "-error_file", str(self.workdir / f"{scenario}.errors.log"),
                   *args, f"127.0.0.1:{self.voice.port}"]
        process = await asyncio.create_subprocess_exec(
            *command, cwd=self.workdir, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        async with asyncio.timeout(SIPP_TIMEOUT_SECONDS):
            output, _ = await process.communicate()
        assert process.returncode is not None
        return SippResult(process.returncode, output.decode("utf-8", "replace"))

    def explain(self, scenario: str) -> str:
        """The SIPp message and error logs, for assertion messages."""
        texts = []
        for suffix in ("errors", "messages"):
            path = self.workdir / f"{scenario}.{suffix}.log"
            if path.exists():
                texts.append(path.read_text(errors="replace")[-6000:])
        return "\n".join(texts)

    async def interactions(self) -> list[Interaction]:
        """Every interaction, oldest first."""
        async with self.api.db.read() as session:
            return list(await session.scalars(select(Interaction)
                                              .order_by(Interaction.created_at)))

    async def events(self, subject: str | None = None) -> list[Event]:
        """The event log (of one subject), in order."""
        async with self.api.db.read() as session:
            query = select(Event).order_by(Event.tenant_id, Event.seq)
            if subject is not None:
                query = query.where(Event.subject == subject)
            return list(await session.scalars(query))

    async def wait_for_event(self, type_: str, seconds: float = 10, *, count: int = 1) -> Event:
        """Wait until `count` events of this type are in the log (the call's end is recorded
        after SIPp has its 200 for the BYE); the first of them."""
        async with asyncio.timeout(seconds):
            while True:
                found = [event for event in await self.events() if event.type == type_]
                if len(found) >= count:
                    return found[0]
                await asyncio.sleep(0.05)


async def create_channel(phone: Phone, **body: Any) -> dict[str, Any]:
    """Create a channel through the API."""
    response = await phone.api.client.post("/api/v1/channels", headers=phone.admin, json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.fixture
async def phone(api: Api, tmp_path: Path) -> AsyncIterator[Phone]:
    """Tenant acme with queues sales and support and voice channels: 100 runs the IVR,
    200 rings for ten seconds before answering."""
    await make_tenant(api.db, "acme", admin_email="admin@acme.example")
    admin = await api.login("acme", "admin@acme.example")
    for name in ("sales", "support"):
        response = await api.client.post("/api/v1/queues", headers=admin, json={"name": name})
        assert response.status_code == 201, response.text
    workdir = tmp_path / "sipp"
    workdir.mkdir()
    phone = Phone(api=api, admin=admin, workdir=workdir)
    await create_channel(phone, kind="voice", name="a-main-line", default_queue="support",
                         settings={"numbers": ["+49 30 100", "100"], "flow": "phone_ivr",
                                   "trunks": ["127.0.0.1"], "record": True,
                                   "announce_seconds": 1})
    await create_channel(phone, kind="voice", name="b-slow-line", default_queue="support",
                         settings={"numbers": ["200"], "ring_seconds": 10})
    yield phone
