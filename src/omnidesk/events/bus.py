"""The event bus: one interface, in-process (default) or Redis pub/sub.

A subscriber reads its tenant's events with `await subscription.receive()`, which is safe to
cancel (time-outs). `None` means the bus lost events for this reader (a slow reader overflowed
its buffer, or the Redis connection dropped): the reader must catch up from the event log.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from omnidesk.events.record import EventRecord
from omnidesk.tasks import stop_tasks

SUBSCRIBER_BUFFER = 10_000
CHANNEL_PREFIX = "omnidesk:events:"
RECONNECT_SECONDS = 0.5

log = logging.getLogger("omnidesk.bus")


@dataclass(frozen=True, slots=True)
class EventTypes:
    """The event types a reader follows: these, and those starting with one of `prefixes`."""

    exact: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()

    def __contains__(self, event_type: str) -> bool:
        return event_type in self.exact or event_type.startswith(self.prefixes)


class Subscription:
    """One reader's buffered view of a tenant's events (of the types it follows; None: all).
    A reader that follows few types is not woken by the others (a dozen services read every
    tenant's events)."""

    def __init__(self, follows: EventTypes | None = None) -> None:
        # each event with when it was buffered (time.monotonic())
        self._queue: asyncio.Queue[tuple[float, EventRecord]] = asyncio.Queue(SUBSCRIBER_BUFFER)
        self._lost_events = False
        self.received_was_buffered_at = 0.0  # of the event `receive` returned last
        self.follows = follows

    def offer(self, record: EventRecord) -> None:
        """Buffer an event; past the buffer's size, remember that events were lost."""
        try:
            self._queue.put_nowait((time.monotonic(), record))
        except asyncio.QueueFull:
            self._lost_events = True

    def mark_gap(self) -> None:
        """Events may have been lost upstream."""
        self._lost_events = True

    def drain(self, limit: int | None = None) -> tuple[list[EventRecord], bool]:
        """The buffered events (at most `limit`), without waiting, and whether events were
        lost after them (told once the buffer is empty)."""
        records: list[EventRecord] = []
        while not self._queue.empty() and (limit is None or len(records) < limit):
            records.append(self._queue.get_nowait()[1])
        if not self._queue.empty():
            return records, False
        lost, self._lost_events = self._lost_events, False
        return records, lost

    async def receive(self) -> EventRecord | None:
        """The next event, or None once the buffered ones are read if any were lost."""
        if self._lost_events and self._queue.empty():
            self._lost_events = False
            return None
        self.received_was_buffered_at, record = await self._queue.get()
        return record


class EventBus(Protocol):
    """Publish committed events; subscribe to a tenant's events."""

    async def publish(self, record: EventRecord) -> None: ...

    def subscribe(self, tenant_id: uuid.UUID) -> AbstractAsyncContextManager[Subscription]: ...

    def subscribe_all(
        self, follows: EventTypes | None = None,
    ) -> AbstractAsyncContextManager[Subscription]: ...

    async def close(self) -> None: ...


ALL_TENANTS = None


class FanOut:
    """The subscriptions of this process, by tenant (ALL_TENANTS: every tenant's events)."""

    def __init__(self) -> None:
        self._subscriptions: dict[uuid.UUID | None, set[Subscription]] = defaultdict(set)

    def deliver(self, record: EventRecord) -> None:
        """Hand an event to every subscription of its tenant and to the all-tenant ones that
        follow its type."""
        for key in (record.tenant_id, ALL_TENANTS):
            for subscription in tuple(self._subscriptions.get(key, ())):
                if subscription.follows is None or record.type in subscription.follows:
                    subscription.offer(record)

    def mark_gap_everywhere(self) -> None:
        """Tell every subscription that events may have been lost."""
        for subscriptions in self._subscriptions.values():
            for subscription in subscriptions:
                subscription.mark_gap()

    @asynccontextmanager
    async def subscribe(self, tenant_id: uuid.UUID | None,
                        follows: EventTypes | None = None) -> AsyncIterator[Subscription]:
        """A subscription for the duration of the block."""
        subscription = Subscription(follows)
        self._subscriptions[tenant_id].add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions[tenant_id].discard(subscription)
            if not self._subscriptions[tenant_id]:
                del self._subscriptions[tenant_id]


class InProcessBus:
    """The default bus: subscribers in this process only."""

    def __init__(self) -> None:
        self._fan_out = FanOut()

    async def publish(self, record: EventRecord) -> None:
        self._fan_out.deliver(record)

    def subscribe(self, tenant_id: uuid.UUID) -> AbstractAsyncContextManager[Subscription]:
        return self._fan_out.subscribe(tenant_id)

    def subscribe_all(
        self, follows: EventTypes | None = None,
    ) -> AbstractAsyncContextManager[Subscription]:
        return self._fan_out.subscribe(ALL_TENANTS, follows)

    async def close(self) -> None:
        return None


class RedisBus:
    """Redis pub/sub: every process publishes there and reads all tenants on one connection."""

    def __init__(self, url: str) -> None:
        self._redis: Redis = Redis.from_url(url)
        self._fan_out = FanOut()
        self._reader: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    async def publish(self, record: EventRecord) -> None:
        await self._redis.publish(CHANNEL_PREFIX + str(record.tenant_id), record.dumps())

    def subscribe(self, tenant_id: uuid.UUID) -> AbstractAsyncContextManager[Subscription]:
        return self._subscribe(tenant_id)

    def subscribe_all(
        self, follows: EventTypes | None = None,
    ) -> AbstractAsyncContextManager[Subscription]:
        return self._subscribe(ALL_TENANTS, follows)

    @asynccontextmanager
    async def _subscribe(self, tenant_id: uuid.UUID | None,
                         follows: EventTypes | None = None) -> AsyncIterator[Subscription]:
        if self._reader is None:
            self._reader = asyncio.create_task(self._read_forever())
        await self._listening.wait()
        async with self._fan_out.subscribe(tenant_id, follows) as subscription:
            yield subscription

    async def _read_forever(self) -> None:
        while True:
            try:
                await self._read_until_disconnected()
            except (RedisConnectionError, OSError) as error:
                log.warning("event bus lost Redis (%s); reconnecting", type(error).__name__)
            self._listening.clear()
            self._fan_out.mark_gap_everywhere()
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _read_until_disconnected(self) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.psubscribe(CHANNEL_PREFIX + "*")
            self._listening.set()
            async for message in pubsub.listen():
                if message.get("type") == "pmessage":
                    self._fan_out.deliver(EventRecord.loads(message["data"]))
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped

    async def ping(self) -> bool:
        """True when Redis answers."""
        return bool(await self._redis.ping())

    async def close(self) -> None:
        await stop_tasks(self._reader)
        await self._redis.aclose()


def create_bus(redis_url: str | None) -> EventBus:
    """The Redis bus when a URL is configured, else the in-process bus."""
    return RedisBus(redis_url) if redis_url else InProcessBus()
