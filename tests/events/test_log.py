"""The append-only event log: per-tenant sequence, one transaction with the change."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from omnidesk.db import Database
from omnidesk.events.log import events_since, last_seq, record, savepoint
from tests.conftest import make_tenant


async def test_each_tenant_has_its_own_gapless_sequence(db: Database) -> None:
    first = await make_tenant(db, "one")
    second = await make_tenant(db, "two")
    for tenant_id in (first, second, first):
        async with db.write() as session:
            await record(session, tenant_id=tenant_id, type="test.a", subject="x")
            await record(session, tenant_id=tenant_id, type="test.b", subject="x")
    async with db.read() as session:
        one = await events_since(session, tenant_id=first, since=0)
        two = await events_since(session, tenant_id=second, since=0)
    assert [e.seq for e in one] == [1, 2, 3, 4, 5]  # tenant.created, then two writes of two
    assert [e.seq for e in two] == [1, 2, 3]
    assert [e.type for e in one] == ["tenant.created", "test.a", "test.b", "test.a", "test.b"]


async def test_events_are_published_only_after_the_commit(db: Database) -> None:
    tenant_id = await make_tenant(db, "acme")
    async with db.bus.subscribe(tenant_id) as live:
        async with db.write() as session:
            await record(session, tenant_id=tenant_id, type="test.a", subject="x")
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(live.receive(), 0.1)
        published = await asyncio.wait_for(live.receive(), 1)
    assert published is not None and published.type == "test.a"


async def test_a_rolled_back_write_leaves_no_event_and_publishes_nothing(db: Database) -> None:
    tenant_id = await make_tenant(db, "acme")
    async with db.bus.subscribe(tenant_id) as live:
        with pytest.raises(RuntimeError):
            async with db.write() as session:
                await record(session, tenant_id=tenant_id, type="test.lost", subject="x")
                raise RuntimeError("boom")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(live.receive(), 0.1)
    async with db.read() as session:
        stored = await events_since(session, tenant_id=tenant_id, since=0)
    assert [e.type for e in stored] == ["tenant.created"]


async def test_concurrent_writers_get_distinct_consecutive_numbers(db: Database) -> None:
    tenant_id = await make_tenant(db, "busy")

    async def write(index: int) -> None:
        async with db.write() as session:
            await record(session, tenant_id=tenant_id, type="test.c", subject=str(index))

    await asyncio.gather(*(write(i) for i in range(20)))
    async with db.read() as session:
        stored = await events_since(session, tenant_id=tenant_id, since=0)
    assert [e.seq for e in stored] == list(range(1, 22))


async def test_events_since_pages_and_bounds(db: Database) -> None:
    tenant_id = await make_tenant(db, "acme")
    async with db.write() as session:
        for index in range(10):
            await record(session, tenant_id=tenant_id, type="test.p", subject=str(index))
    async with db.read() as session:
        page = await events_since(session, tenant_id=tenant_id, since=3, limit=4)
        bounded = await events_since(session, tenant_id=tenant_id, since=3, up_to=5)
        unknown = await events_since(session, tenant_id=uuid.uuid4(), since=0)
    assert [e.seq for e in page] == [4, 5, 6, 7]
    assert [e.seq for e in bounded] == [4, 5]
    assert unknown == []


async def test_one_transaction_numbers_the_events_of_several_tenants_each_in_turn(
        db: Database) -> None:
    first, second = await make_tenant(db, "one"), await make_tenant(db, "two")
    async with db.write() as session:
        for tenant_id in (first, second, first, first, second):
            await record(session, tenant_id=tenant_id, type="test.m", subject="x")
    async with db.read() as session:
        assert [e.seq for e in await events_since(session, tenant_id=first, since=1)] == [2, 3, 4]
        assert [e.seq for e in await events_since(session, tenant_id=second, since=1)] == [2, 3]
        assert await last_seq(session, first) == 4 and await last_seq(session, second) == 3


async def test_a_rolled_back_savepoint_takes_back_the_events_recorded_inside_it(
        db: Database) -> None:
    tenant_id = await make_tenant(db, "acme")
    async with db.bus.subscribe(tenant_id) as live:
        async with db.write() as session:
            await record(session, tenant_id=tenant_id, type="test.before", subject="x")
            with pytest.raises(RuntimeError):
                async with savepoint(session):
                    await record(session, tenant_id=tenant_id, type="test.undone", subject="x")
                    raise RuntimeError("a twin was faster")
            await record(session, tenant_id=tenant_id, type="test.after", subject="x")
        published = [await asyncio.wait_for(live.receive(), 1) for _ in range(2)]
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(live.receive(), 0.1)
    async with db.read() as session:
        stored = await events_since(session, tenant_id=tenant_id, since=1)
    assert [(e.seq, e.type) for e in stored] == [(2, "test.before"), (3, "test.after")]
    assert [(e.seq, e.type) for e in published if e] == [(2, "test.before"), (3, "test.after")]


async def test_a_savepoint_that_takes_the_first_number_gives_it_back(db: Database) -> None:
    tenant_id = await make_tenant(db, "acme")
    async with db.write() as session:
        with pytest.raises(RuntimeError):
            async with savepoint(session):
                await record(session, tenant_id=tenant_id, type="test.undone", subject="x")
                raise RuntimeError("rolled back")
        await record(session, tenant_id=tenant_id, type="test.kept", subject="x")
    async with db.read() as session:
        stored = await events_since(session, tenant_id=tenant_id, since=1)
        assert await last_seq(session, tenant_id) == 2
    assert [(e.seq, e.type) for e in stored] == [(2, "test.kept")]
