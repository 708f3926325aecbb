"""SQLite writes: inline on the event loop, one writer at a time per file in a process, their
transactions made durable together by one COMMIT."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import PendingRollbackError

from omnidesk.db import Database
from omnidesk.events.bus import InProcessBus
from omnidesk.events.log import last_seq, record
from omnidesk.sqlite_inline import GROUP_MAX_WRITES, InlineConnection, write_groups
from omnidesk.tenants.actions import create_tenant
from omnidesk.tenants.models import Tenant
from omnidesk.tenants.schemas import TenantCreate
from tests.conftest import make_tenant


def file_of(db: Database) -> Path:
    """The database's SQLite file."""
    return Path(str(make_url(db.url).database))


def _sqlite_only(db: Database) -> None:
    if not db.url.startswith("sqlite"):
        pytest.skip("inline writes are SQLite's")


async def test_a_write_transaction_does_not_give_the_loop_away_between_statements(
        db: Database) -> None:
    _sqlite_only(db)
    tenant_id = await make_tenant(db, "acme")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    running = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    try:
        async with db.write() as session:
            before = ticks
            for number in range(20):  # 40 statements: an UPDATE and an INSERT each
                await record(session, tenant_id=tenant_id, type="test.wrote",
                             subject=str(number), actor="test")
                await session.flush()
            during = ticks - before
    finally:
        running.cancel()
    assert during == 0  # on aiosqlite's threads the ticker ran at every statement


async def test_two_databases_of_one_file_write_in_turn(db: Database) -> None:
    _sqlite_only(db)
    tenant_id = await make_tenant(db, "acme")
    file = file_of(db)
    # The same file, spelled another way: the writers' lock is the file's, not the URL's.
    other = Database(f"sqlite+aiosqlite:///{file.parent}/./{file.name}", InProcessBus(),
                     db.clock)
    try:
        async def write(database: Database, count: int) -> None:
            for number in range(count):
                async with database.write() as session:
                    await record(session, tenant_id=tenant_id, type="test.wrote",
                                 subject=str(number), actor="test")
                    await asyncio.sleep(0)  # a transaction that waits on the loop mid-way

        async with db.read() as session:
            start = await last_seq(session, tenant_id)
        await asyncio.wait_for(asyncio.gather(write(db, 25), write(other, 25)), 20)
        async with db.read() as session:
            assert await last_seq(session, tenant_id) == start + 50
    finally:
        await other.dispose()


@pytest.fixture
def commits(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL statements the write groups run themselves (BEGIN, COMMIT, ROLLBACK)."""
    statements: list[str] = []
    run = InlineConnection.execute_now

    def counted(connection: InlineConnection, sql: str) -> None:
        statements.append(sql)
        run(connection, sql)

    monkeypatch.setattr(InlineConnection, "execute_now", counted)
    return statements


async def _seq_committed(db: Database, tenant_id: uuid.UUID) -> int:
    """The tenant's last event seq as another connection sees it: what is committed."""
    async with db.read() as session:
        return await last_seq(session, tenant_id)


async def test_writers_waiting_their_turn_commit_together_and_answer_only_once_committed(
        db: Database, commits: list[str]) -> None:
    _sqlite_only(db)
    tenant_id = await make_tenant(db, "acme")
    start = await _seq_committed(db, tenant_id)
    commits.clear()
    writers = 2 * GROUP_MAX_WRITES + 3

    async def write(number: int) -> None:
        async with db.write() as session:
            await record(session, tenant_id=tenant_id, type="test.wrote",
                         subject=str(number), actor="test")
            await session.flush()
            mine = await last_seq(session, tenant_id)
        assert await _seq_committed(db, tenant_id) >= mine  # answered after its COMMIT

    await asyncio.wait_for(asyncio.gather(*(write(n) for n in range(writers))), 20)
    assert await _seq_committed(db, tenant_id) == start + writers
    assert commits.count("COMMIT") == 3  # 16 + 16 + 3, not one per writer
    assert commits.count("BEGIN IMMEDIATE") == 3


async def test_a_writer_that_fails_undoes_only_its_own_part_of_the_group(db: Database) -> None:
    _sqlite_only(db)
    tenant_id = await make_tenant(db, "acme")
    start = await _seq_committed(db, tenant_id)

    async def write(number: int) -> None:
        async with db.write() as session:
            await record(session, tenant_id=tenant_id, type="test.wrote",
                         subject=str(number), actor="test")
            await session.flush()
            if number == 2:
                raise ValueError("this writer fails")

    results = await asyncio.gather(*(write(n) for n in range(5)), return_exceptions=True)
    assert [type(result) for result in results] == [
        type(None), type(None), ValueError, type(None), type(None)]
    assert await _seq_committed(db, tenant_id) == start + 4


async def test_a_failed_commit_fails_every_writer_of_the_group_and_publishes_nothing(
        db: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    _sqlite_only(db)
    tenant_id = await make_tenant(db, "acme")
    start = await _seq_committed(db, tenant_id)
    run = InlineConnection.execute_now

    def disk_full(connection: InlineConnection, sql: str) -> None:
        if sql == "COMMIT":
            raise sqlite3.OperationalError("database or disk is full")
        run(connection, sql)

    monkeypatch.setattr(InlineConnection, "execute_now", disk_full)

    async def write(number: int) -> None:
        async with db.write() as session:
            await record(session, tenant_id=tenant_id, type="test.wrote",
                         subject=str(number), actor="test")

    async with db.bus.subscribe(tenant_id) as events:
        results = await asyncio.gather(*(write(n) for n in range(4)), return_exceptions=True)
        assert all(isinstance(result, sqlite3.OperationalError) for result in results)
        assert events.drain() == ([], False)
    assert [r.getMessage() for r in caplog.records if r.name == "omnidesk.db"] == [
        "a SQLite transaction of 4 writes was not committed: database or disk is full"]
    monkeypatch.setattr(InlineConnection, "execute_now", run)
    assert await _seq_committed(db, tenant_id) == start
    async with db.write() as session:  # the file is writable again once the disk is
        await record(session, tenant_id=tenant_id, type="test.wrote", subject="after",
                     actor="test")
    assert await _seq_committed(db, tenant_id) == start + 1


async def test_a_group_publishes_its_events_in_commit_order(db: Database) -> None:
    _sqlite_only(db)
    tenant_id = await make_tenant(db, "acme")

    async def write(number: int) -> None:
        async with db.write() as session:
            for part in range(2):
                await record(session, tenant_id=tenant_id, type="test.wrote",
                             subject=f"{number}.{part}", actor="test")

    async with db.bus.subscribe(tenant_id) as events:
        await asyncio.gather(*(write(n) for n in range(GROUP_MAX_WRITES + 5)))
        published, lost = events.drain()
    seqs = [event.seq for event in published]
    assert not lost
    assert len(seqs) == 2 * (GROUP_MAX_WRITES + 5)
    assert seqs == sorted(seqs)


async def test_the_group_commits_when_the_writer_it_waited_for_gives_up(db: Database) -> None:
    _sqlite_only(db)
    tenant_id = await make_tenant(db, "acme")
    start = await _seq_committed(db, tenant_id)
    first_may_end = asyncio.Event()

    async def first() -> None:
        async with db.write() as session:
            await record(session, tenant_id=tenant_id, type="test.wrote", subject="first",
                         actor="test")
            await first_may_end.wait()

    async def second() -> None:
        async with db.write() as session:
            await record(session, tenant_id=tenant_id, type="test.wrote", subject="second",
                         actor="test")

    writing = asyncio.create_task(first())
    await asyncio.sleep(0.01)  # the first writer holds the turn
    waiting = asyncio.create_task(second())
    await asyncio.sleep(0.01)  # the second waits for it
    groups = write_groups(str(file_of(db).resolve()))
    first_may_end.set()
    # The first ends its turn without a COMMIT (the second is next) and waits for one ...
    for _ in range(1000):
        if groups._open is not None and not groups._lock.locked():
            break
        await asyncio.sleep(0)
    waiting.cancel()  # ... and the second gives up before its turn starts
    await asyncio.wait_for(writing, 5)
    assert waiting.cancelled()
    assert await _seq_committed(db, tenant_id) == start + 1


async def test_a_lookup_runs_on_the_loop_and_sees_only_what_is_committed(db: Database) -> None:
    _sqlite_only(db)
    named_other = select(Tenant.id).where(Tenant.slug == "other")
    async with db.write() as session:
        await create_tenant(session, TenantCreate(slug="other", name="Other"), actor="test")
        await session.flush()  # written in the group's open transaction, not committed
        async with db.lookup() as looking:
            raw = await (await looking.connection()).get_raw_connection()
            assert isinstance(raw.driver_connection, InlineConnection)
            assert await looking.scalar(named_other) is None
    async with db.lookup() as looking:
        assert await looking.scalar(named_other) is not None


async def test_writers_share_one_connection_and_open_another_once_it_is_invalidated(
        db: Database) -> None:
    _sqlite_only(db)
    tenant_id = await make_tenant(db, "acme")
    start = await _seq_committed(db, tenant_id)
    checkouts: list[object] = []
    event.listen(db.write_engine.sync_engine, "checkout", lambda *_: checkouts.append(1))

    async def write(number: int, *, then_invalidate: bool = False) -> object:
        async with db.write() as session:
            await record(session, tenant_id=tenant_id, type="test.wrote", subject=str(number),
                         actor="test")
            connection = await session.connection()
            driver = (await connection.get_raw_connection()).driver_connection
            if then_invalidate:  # as SQLAlchemy does when the driver reports a disconnect
                await connection.invalidate()
            return driver

    drivers = {await write(number) for number in range(5)}
    assert len(drivers) == 1 and checkouts == []  # held since make_tenant's write opened it
    with pytest.raises(PendingRollbackError):  # the write in progress fails, not the next
        await write(5, then_invalidate=True)
    reopened = await write(6)
    assert reopened not in drivers and len(checkouts) == 1
    assert await write(7) is reopened and len(checkouts) == 1
    assert await _seq_committed(db, tenant_id) == start + 7
