"""SQLite writes: inline on the event loop, one writer at a time per file in a process."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from omnidesk.db import Database
from omnidesk.events.bus import InProcessBus
from omnidesk.events.log import last_seq, record
from tests.conftest import make_tenant


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
    file = Path(str(make_url(db.url).database))
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
