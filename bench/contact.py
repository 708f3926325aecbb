"""One contact's cost, phase by phase: SQL statements and CPU, in-process on SQLite.

Runs the app in this process (its lifespan, an httpx client on ASGI, a real SQLite file),
with one agent whose desktop is open, and takes contacts one at a time through the API
channel: post (until the offer is made), accept, wrap-up, close. For each phase it counts
the SQL statements the server sent (each transaction's start and SAVEPOINTs included, COMMIT
not) and the process's CPU time (the in-process client's included, so the sum is more than a
server's own); the offer is awaited on the event bus, so waiting adds no statement. The first
contacts warm the caches and are not counted. Machine-independent figure: statements.

    python bench/contact.py            # 200 contacts
    python bench/contact.py --quick    # 30 contacts
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import event

from omnidesk.acd import service as acd_service
from omnidesk.app import create_app
from omnidesk.channels.api_channel.signature import sign
from omnidesk.clock import FixedClock
from omnidesk.config import Settings
from omnidesk.events.bus import Subscription
from omnidesk.selfservice import service as selfservice_service
from omnidesk.tenants.actions import create_tenant
from omnidesk.tenants.schemas import TenantCreate
from omnidesk.users.actions import create_user
from omnidesk.users.models import Role
from omnidesk.users.schemas import UserCreate

PASSWORD = "contact-bench-password"
CHANNEL_SECRET = "contact-bench-channel-secret"
WARM_UP = 5
TIMERS_HELD_S = 3600.0
"""The server's timers (the ACD's tick and sweep, self-service's sweep, the analytics fill) are
held off: their work comes per second, not per contact, and would make a figure per contact
depend on the machine's speed — under valgrind, whose clock runs ≈ 50 times slower, they
would be most of it. The contacts of this bench need none of them (nothing times out)."""
PHASES = ("post + offer", "accept", "wrap-up", "close")


class Center:
    """A tenant with one queue, one agent (desktop open, available) and an API channel."""

    def __init__(self, client: httpx.AsyncClient, app: Any) -> None:
        self.client, self.app = client, app
        self.admin: dict[str, str] = {}
        self.agent: dict[str, str] = {}
        self.channel_id = ""
        self.current = ""  # the contact going through the phases

    async def login(self, email: str) -> dict[str, str]:
        response = await self.client.post("/api/v1/auth/login", json={
            "tenant": "bench", "email": email, "password": PASSWORD})
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post(f"/api/v1{path}", headers=self.admin, json=body)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    async def set_up(self) -> None:
        db = self.app.state.db
        async with db.write() as session:
            tenant = await create_tenant(session, TenantCreate(slug="bench", name="Bench"),
                                         actor="bench")
            await create_user(session, UserCreate(email="admin@bench.example", name="Admin",
                                                  role=Role.ADMIN, password=PASSWORD),
                              tenant_id=tenant.id, actor="bench")
        self.admin = await self.login("admin@bench.example")
        await self.create("/queues", {"name": "support", "channel": "chat"})
        user = await self.create("/users", {"email": "agent@bench.example", "name": "Agent",
                                            "role": "agent", "password": PASSWORD})
        agent = await self.create("/agents", {"user_id": user["id"]})
        self.channel_id = (await self.create("/channels", {
            "kind": "api", "name": "crm", "default_queue": "support",
            "secret": CHANNEL_SECRET}))["id"]
        self.agent = await self.login("agent@bench.example")
        await self.app.state.acd.desktop_opened(tenant.id, uuid.UUID(agent["id"]))
        response = await self.client.put(f"/api/v1/agents/{agent['id']}/state",
                                         headers=self.agent, json={"state": "available"})
        response.raise_for_status()

    async def post_and_offer(self, number: int, events: Subscription) -> None:
        """Post a new customer's first message and wait for its offer."""
        self.current = await self.post(number)
        await self.offered(self.current, events)

    async def post(self, number: int) -> str:
        body = json.dumps({"customer": {"identity": {"kind": "chat", "value": f"v-{number}"}},
                           "text": "hello"}).encode()
        stamp = str(int(self.app.state.clock.now().timestamp()))
        response = await self.client.post(
            f"/api/v1/channels/api/{self.channel_id}/messages", content=body, headers={
                "Content-Type": "application/json", "X-Omnidesk-Timestamp": stamp,
                "X-Omnidesk-Signature": sign(CHANNEL_SECRET, stamp, body)})
        response.raise_for_status()
        return str(response.json()["interaction_id"])

    async def offered(self, interaction_id: str, events: Subscription) -> None:
        """Wait until the ACD's offer is published (watching the bus: no statement)."""
        for _ in range(5000):
            records, _ = events.drain()
            if any(r.type == "offer.created" and r.subject == interaction_id for r in records):
                return
            await asyncio.sleep(0.001)
        raise RuntimeError(f"{interaction_id} was not offered")

    async def work(self, phase: str) -> None:
        """The agent's step of the phase on the current contact."""
        path = f"/api/v1/interactions/{self.current}"
        if phase == "accept":
            response = await self.client.post(f"{path}/accept", headers=self.agent)
        else:
            state = "wrap_up" if phase == "wrap-up" else "closed"
            response = await self.client.post(f"{path}/state", headers=self.agent,
                                              json={"state": state, "resolved": True})
        response.raise_for_status()


class Meter:
    """SQL statements and CPU seconds of what runs between start() and stop()."""

    def __init__(self) -> None:
        self.counting = False
        self.statements = 0
        self.cpu_s = 0.0

    def on_statement(self, *_: object) -> None:
        if self.counting:
            self.statements += 1

    async def measure(self, work: Awaitable[None]) -> tuple[int, float]:
        await asyncio.sleep(0.01)  # let the previous phase's background work finish first
        self.statements, self.counting = 0, True
        started = time.process_time()
        await work
        self.counting = False
        return self.statements, time.process_time() - started


def hold_timers() -> None:
    """See TIMERS_HELD_S (the analytics fill's own period is set once the app runs)."""
    acd_service.TICK_SECONDS = acd_service.SWEEP_SECONDS = TIMERS_HELD_S
    selfservice_service.SWEEP_SECONDS = TIMERS_HELD_S


async def run(contacts: int) -> dict[str, dict[str, float]]:
    """Take `contacts` contacts through the phases; per phase the medians after warm-up."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), secret_key=SecretStr("b" * 40),
                            _env_file=None)
        hold_timers()
        app = create_app(settings)
        app.state.settings = settings
        app.state.clock = FixedClock(datetime.now(UTC))
        meter = Meter()
        async with app.router.lifespan_context(app):
            app.state.analytics.fill_seconds = TIMERS_HELD_S  # after the fill at start
            db = app.state.db
            for engine in {db.write_engine, db.read_engine, db.background_engine} - {None}:
                event.listen(engine.sync_engine, "before_cursor_execute", meter.on_statement)
            # A write transaction starts with a SAVEPOINT its write group issues beneath
            # SQLAlchemy's cursor events (sqlite_inline.py): counted here, as BEGIN was.
            event.listen(db.write_engine.sync_engine, "begin", meter.on_statement)
            transport = httpx.ASGITransport(app=app)
            async with (httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
                        db.bus.subscribe_all() as events):
                center = Center(client, app)
                await center.set_up()
                samples: dict[str, list[tuple[int, float]]] = {phase: [] for phase in PHASES}
                for number in range(WARM_UP + contacts):
                    measured = [await meter.measure(center.post_and_offer(number, events))]
                    for phase in PHASES[1:]:
                        measured.append(await meter.measure(center.work(phase)))
                    if number >= WARM_UP:
                        for phase, sample in zip(PHASES, measured, strict=True):
                            samples[phase].append(sample)
    return {phase: {"statements": statistics.median(s for s, _ in values),
                    "cpu_ms": 1000 * statistics.median(c for _, c in values)}
            for phase, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 contacts")
    parser.add_argument("--contacts", type=int, help="contacts measured (default 200)")
    args = parser.parse_args()
    contacts = args.contacts or (30 if args.quick else 200)
    results = asyncio.run(run(contacts))
    print(f"{contacts} contacts, one at a time, after {WARM_UP} warm-up contacts; medians")
    print(f"{'phase':<14} {'statements':>10} {'CPU ms':>8}")
    for phase, figures in results.items():
        print(f"{phase:<14} {figures['statements']:>10.0f} {figures['cpu_ms']:>8.2f}")
    total_statements = sum(f["statements"] for f in results.values())
    total_cpu = sum(f["cpu_ms"] for f in results.values())
    print(f"{'contact':<14} {total_statements:>10.0f} {total_cpu:>8.2f}")
    line: dict[str, float] = {"statements_per_contact": total_statements,
                              "cpu_ms_per_contact": round(total_cpu, 2)}
    for phase, values in results.items():
        key = phase.replace(" + ", "_").replace("-", "_")
        line[f"statements_{key}"] = values["statements"]
        line[f"cpu_ms_{key}"] = round(values["cpu_ms"], 2)
    line["contacts"] = contacts
    print(json.dumps(line))


if __name__ == "__main__":
    main()
