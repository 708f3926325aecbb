"""What one write transaction costs at each layer of the stack: SQLite alone up to omnidesk's.

A contact is five or six write transactions of a few statements each (bench/contact.py). This
runs the same transaction — load one interaction by id and tenant, set its state, take the next
number of the tenant's event counter, append one event, COMMIT (WAL, `synchronous=FULL`) — on
one SQLite file through each layer in turn:

    sqlite3 alone               the statements themselves, fsync included
    SQLAlchemy, sync Session    the ORM load and Core statements, no asyncio layer
    omnidesk Database.write     the same through an AsyncSession on the inline connection
                                (sqlite_inline.py), with its write groups and event numbering

and, inside one open transaction, one statement at a time: a SELECT by key through sqlite3, the
same as a Core statement run synchronously (one greenlet for all), as a Core statement awaited
on an AsyncConnection (a greenlet each), and as an ORM load. CPU time of this process per
transaction or statement, interleaved rounds, medians. A machine-independent reading: the ratios.

    python bench/write_path.py            # 5 rounds of 2,000
    python bench/write_path.py --quick    # 3 rounds of 500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Select, Table, create_engine, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from omnidesk.customers.models import Customer
from omnidesk.db import SQLITE_PRAGMAS, Database, configure_sqlite, new_id, upgrade
from omnidesk.events.bus import InProcessBus
from omnidesk.events.log import record
from omnidesk.events.models import Event
from omnidesk.interactions.models import Interaction
from omnidesk.sqlite_inline import InlineConnection
from omnidesk.tenants.actions import create_tenant
from omnidesk.tenants.models import Tenant
from omnidesk.tenants.schemas import TenantCreate

INTERACTIONS: Table = Interaction.__table__  # type: ignore[assignment]
TENANTS: Table = Tenant.__table__  # type: ignore[assignment]
EVENTS: Table = Event.__table__  # type: ignore[assignment]
Work = Callable[[], Awaitable[None]]
RAW_SELECT = "SELECT * FROM interactions WHERE id = ? AND tenant_id = ?"


class Fixture:
    """One tenant with one interaction in a fresh SQLite file."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "write-path.db"
        self.url = f"sqlite+aiosqlite:///{self.path}"
        self.tenant_id = uuid.UUID(int=0)
        self.interaction_id = uuid.UUID(int=0)

    async def create(self, db: Database) -> None:
        now = datetime.now(UTC)
        async with db.write() as session:
            tenant = await create_tenant(session, TenantCreate(slug="bench", name="Bench"),
                                         actor="bench")
            customer = Customer(id=new_id(), tenant_id=tenant.id, display_name="c",
                                attributes={}, created_at=now)
            session.add(customer)
            await session.flush()
            interaction = Interaction(
                id=new_id(), tenant_id=tenant.id, channel="chat", direction="inbound",
                customer_id=customer.id, state="new", subject="", attributes={}, priority=0,
                message_count=0, created_at=now, updated_at=now)
            session.add(interaction)
        self.tenant_id, self.interaction_id = tenant.id, interaction.id

    @property
    def raw_key(self) -> tuple[str, str]:
        """The interaction's id and tenant as sqlite3 takes them."""
        return self.interaction_id.hex, self.tenant_id.hex

    def orm_load(self) -> Select[Interaction]:
        """The interaction loaded through the ORM."""
        return select(Interaction).where(Interaction.id == self.interaction_id,
                                         Interaction.tenant_id == self.tenant_id)

    def event_row(self, seq: int) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id, "seq": seq, "type": "bench.write",
                "subject": str(self.interaction_id), "actor": "bench", "payload": {},
                "occurred_at": datetime.now(UTC)}


def sync_engine(fixture: Fixture) -> Engine:
    """SQLAlchemy's own synchronous SQLite driver, configured as omnidesk's writers are."""
    engine = create_engine(f"sqlite+pysqlite:///{fixture.path}")
    configure_sqlite(engine, begin="BEGIN IMMEDIATE")
    return engine


def transactions(fixture: Fixture, db: Database, raw: sqlite3.Connection,
                 engine: Engine) -> dict[str, Work]:
    """The one transaction through each layer."""
    raw_key = fixture.raw_key
    load = fixture.orm_load()
    set_state = (update(INTERACTIONS).where(INTERACTIONS.c.id == fixture.interaction_id,
                                            INTERACTIONS.c.tenant_id == fixture.tenant_id)
                 .values(state="queued"))
    append = insert(EVENTS)
    take_seq = (update(TENANTS).where(TENANTS.c.id == fixture.tenant_id)
                .values(event_seq=TENANTS.c.event_seq + 1).returning(TENANTS.c.event_seq))

    async def sqlite_alone() -> None:
        raw.execute("BEGIN IMMEDIATE")
        raw.execute(RAW_SELECT, raw_key).fetchall()
        raw.execute("UPDATE interactions SET state = 'queued' WHERE id = ? AND tenant_id = ?",
                    raw_key)
        (seq,) = raw.execute("UPDATE tenants SET event_seq = event_seq + 1 WHERE id = ? "
                             "RETURNING event_seq", (fixture.tenant_id.hex,)).fetchone()
        row = fixture.event_row(seq)
        raw.execute("INSERT INTO events (tenant_id, seq, type, subject, actor, payload, "
                    "occurred_at) VALUES (?, ?, ?, ?, ?, '{}', ?)",
                    (fixture.tenant_id.hex, seq, row["type"], row["subject"], row["actor"],
                     row["occurred_at"].isoformat()))
        raw.execute("COMMIT")

    async def sync_session() -> None:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            session.execute(load).scalar_one()
            connection = session.connection()
            connection.execute(set_state)
            seq = connection.execute(take_seq).scalar_one()
            connection.execute(append, [fixture.event_row(seq)])

    async def database_write() -> None:
        async with db.write() as session:
            (await session.execute(load)).scalar_one()
            connection = await session.connection()
            await connection.execute(set_state)
            await record(session, tenant_id=fixture.tenant_id, type="bench.write",
                         subject=fixture.interaction_id)

    return {"sqlite3": sqlite_alone, "sync_session": sync_session,
            "database_write": database_write}


async def statements(fixture: Fixture, db: Database, count: int) -> dict[str, float]:
    """Microseconds of one SELECT by key inside an open write transaction, per layer."""
    by_key = select(*INTERACTIONS.c).where(INTERACTIONS.c.id == fixture.interaction_id,
                                           INTERACTIONS.c.tenant_id == fixture.tenant_id)
    load = fixture.orm_load()
    figures: dict[str, float] = {}
    async with db.write() as session:
        connection = await session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        assert isinstance(driver, InlineConnection)
        raw: sqlite3.Connection = driver._conn  # the same connection, without SQLAlchemy

        def run_sync(sync_connection: Connection) -> None:
            for _ in range(count):
                sync_connection.execute(by_key).one()

        started = time.process_time()
        for _ in range(count):
            raw.execute(RAW_SELECT, fixture.raw_key).fetchall()
        figures["sqlite3"] = time.process_time() - started
        started = time.process_time()
        await connection.run_sync(run_sync)
        figures["core_one_greenlet"] = time.process_time() - started
        started = time.process_time()
        for _ in range(count):
            (await connection.execute(by_key)).one()
        figures["core_awaited"] = time.process_time() - started
        started = time.process_time()
        for _ in range(count):
            session.expunge_all()  # a load, not a hit in the identity map
            (await session.execute(load)).scalar_one()
        figures["orm_load"] = time.process_time() - started
    return {name: 1e6 * seconds / count for name, seconds in figures.items()}


async def measure(rounds: int, count: int) -> dict[str, float]:
    """Medians over interleaved rounds, microseconds per transaction or statement."""
    with tempfile.TemporaryDirectory() as folder:
        fixture = Fixture(Path(folder))
        await asyncio.to_thread(upgrade, fixture.url)
        db = Database(fixture.url, InProcessBus())
        await fixture.create(db)
        raw = sqlite3.connect(fixture.path, isolation_level=None)
        for pragma in SQLITE_PRAGMAS:
            raw.execute(f"PRAGMA {pragma}")
        engine = sync_engine(fixture)
        works = transactions(fixture, db, raw, engine)
        samples: dict[str, list[float]] = {}
        try:
            for _ in range(rounds):
                for name, work in works.items():
                    for _ in range(count // 10):  # warm: caches, the pool, compiled statements
                        await work()
                    started = time.process_time()
                    for _ in range(count):
                        await work()
                    samples.setdefault(f"tx_{name}", []).append(
                        1e6 * (time.process_time() - started) / count)
                for name, value in (await statements(fixture, db, count)).items():
                    samples.setdefault(f"select_{name}", []).append(value)
        finally:
            raw.close()
            engine.dispose()
            await db.dispose()
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds of 500")
    args = parser.parse_args()
    rounds, count = (3, 500) if args.quick else (5, 2000)
    figures = asyncio.run(measure(rounds, count))
    print(f"medians of {rounds} interleaved rounds of {count}; CPU µs of this process")
    print("one write transaction (load by key, UPDATE, one event, COMMIT with fsync):")
    for name in ("sqlite3", "sync_session", "database_write"):
        print(f"  {name:<22} {figures[f'tx_{name}']:8.0f} µs")
    print("one SELECT by key inside an open transaction:")
    for name in ("sqlite3", "core_one_greenlet", "core_awaited", "orm_load"):
        print(f"  {name:<22} {figures[f'select_{name}']:8.1f} µs")
    line = {f"{name}_us": round(value, 1) for name, value in figures.items()}
    line["database_write_over_sync_session"] = round(
        figures["tx_database_write"] / figures["tx_sync_session"], 2)
    line["core_awaited_over_sqlite3"] = round(
        figures["select_core_awaited"] / figures["select_sqlite3"], 1)
    print(json.dumps(line))


if __name__ == "__main__":
    main()
