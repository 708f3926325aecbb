"""The event bus: the same behaviour in-process and on Redis."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from omnidesk.events.bus import (
    SUBSCRIBER_BUFFER,
    EventBus,
    EventTypes,
    InProcessBus,
    RedisBus,
    Subscription,
)
from omnidesk.events.record import EventRecord
from tests.conftest import IN_CI, REDIS_URL


def _record(tenant_id: uuid.UUID, seq: int) -> EventRecord:
    return EventRecord(tenant_id=tenant_id, seq=seq, type="test.happened", subject="s",
                       payload={"n": seq, "text": "é"}, actor="test",
                       occurred_at=datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture(params=["in_process", pytest.param("redis", marks=pytest.mark.redis)])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    """Each bus implementation."""
    if request.param == "in_process":
        yield InProcessBus()
        return
    if not REDIS_URL:
        if IN_CI:
            pytest.fail("CI must run the Redis bus tests: set OMNIDESK_TEST_REDIS_URL")
        pytest.skip("OMNIDESK_TEST_REDIS_URL not set")
    redis_bus = RedisBus(REDIS_URL)
    try:
        await redis_bus.ping()
    except OSError as error:
        pytest.fail(f"Redis at {REDIS_URL} is unreachable: {error}")
    yield redis_bus
    await redis_bus.close()


async def _collect(live: Subscription, count: int) -> list[EventRecord | None]:
    return [await asyncio.wait_for(live.receive(), 5) for _ in range(count)]


async def test_subscriber_receives_its_tenants_events_in_order(bus: EventBus) -> None:
    tenant = uuid.uuid4()
    async with bus.subscribe(tenant) as live:
        for seq in range(1, 51):
            await bus.publish(_record(tenant, seq))
        received = await _collect(live, 50)
    assert [r.seq for r in received if r] == list(range(1, 51))
    assert received[0] == _record(tenant, 1)


async def test_subscriber_never_sees_another_tenants_events(bus: EventBus) -> None:
    mine, other = uuid.uuid4(), uuid.uuid4()
    async with bus.subscribe(mine) as live:
        await bus.publish(_record(other, 1))
        await bus.publish(_record(mine, 7))
        (first,) = await _collect(live, 1)
    assert first is not None and (first.tenant_id, first.seq) == (mine, 7)


async def test_every_subscriber_of_a_tenant_gets_every_event(bus: EventBus) -> None:
    tenant = uuid.uuid4()
    async with bus.subscribe(tenant) as one, bus.subscribe(tenant) as two:
        await bus.publish(_record(tenant, 1))
        assert [r.seq for r in await _collect(one, 1) if r] == [1]
        assert [r.seq for r in await _collect(two, 1) if r] == [1]


async def test_a_slow_subscriber_gets_a_gap_marker_instead_of_unbounded_memory() -> None:
    bus = InProcessBus()
    tenant = uuid.uuid4()
    async with bus.subscribe(tenant) as live:
        for seq in range(1, SUBSCRIBER_BUFFER + 10):
            await bus.publish(_record(tenant, seq))
        received = await _collect(live, SUBSCRIBER_BUFFER + 1)
    assert [r.seq for r in received[:SUBSCRIBER_BUFFER] if r] == list(
        range(1, SUBSCRIBER_BUFFER + 1))
    assert received[SUBSCRIBER_BUFFER] is None  # tells the reader to catch up from the log


def test_records_survive_the_redis_wire_format() -> None:
    record = _record(uuid.uuid4(), 3)
    assert EventRecord.loads(record.dumps()) == record


async def test_a_receive_that_times_out_loses_nothing(bus: EventBus) -> None:
    tenant = uuid.uuid4()
    async with bus.subscribe(tenant) as live:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(live.receive(), 0.05)
        await bus.publish(_record(tenant, 1))
        assert [r.seq for r in await _collect(live, 1) if r] == [1]


def test_drain_takes_what_is_waiting_up_to_a_limit_and_tells_of_a_loss_once_empty() -> None:
    tenant_id, live = uuid.uuid4(), Subscription()
    for seq in range(1, 6):
        live.offer(_record(tenant_id, seq))
    live.mark_gap()
    taken, lost = live.drain(3)
    assert ([r.seq for r in taken], lost) == ([1, 2, 3], False)  # more waits: no loss yet
    taken, lost = live.drain(3)
    assert ([r.seq for r in taken], lost) == ([4, 5], True)
    assert live.drain() == ([], False)


async def test_a_reader_of_some_types_gets_only_those_and_still_learns_of_gaps(
        bus: EventBus) -> None:
    tenant = uuid.uuid4()
    follows = EventTypes(frozenset({"offer.accepted"}), ("channel.",))
    kinds = ["message.created", "offer.accepted", "channel.updated", "offer.created",
             "channel.created"]
    async with bus.subscribe_all(follows) as some, bus.subscribe_all() as every:
        for seq, kind in enumerate(kinds, start=1):
            await bus.publish(dataclasses.replace(_record(tenant, seq), type=kind))
        everything = await _collect(every, len(kinds))
        followed = await _collect(some, 3)
        some.mark_gap()
        gap = await asyncio.wait_for(some.receive(), 5)
    assert [r.type for r in everything if r] == kinds
    assert [r.type for r in followed if r] == ["offer.accepted", "channel.updated",
                                               "channel.created"]
    assert gap is None
