"""The event bus: one interface, in-process (default) or Redis pub/sub."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from omnidesk.events.record import EventRecord

SUBSCRIBER_BUFFER = 10_000
CHANNEL_PREFIX = "omnidesk:events:"


class EventBus(Protocol):
    """Publish committed events; subscribe to a tenant's events (None in the stream = a gap)."""

    async def publish(self, record: EventRecord) -> None: ...

    def subscribe(self, tenant_id: uuid.UUID) -> contextlib.AbstractAsyncContextManager[
        AsyncIterator[EventRecord | None]]: ...

    async def close(self) -> None: ...


class _QueueSubscription:
    """A bounded queue; when a slow reader overflows it, a gap marker (None) tells it to resync."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[EventRecord | None] = asyncio.Queue(SUBSCRIBER_BUFFER)
        self.overflowed = False

    def offer(self, record: EventRecord) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(record)
        except asyncio.QueueFull:
            self.overflowed = True

    async def __aiter__(self) -> AsyncIterator[EventRecord | None]:
        while True:
            if self.overflowed and self.queue.empty():
                self.overflowed = False
                yield None
                continue
            yield await self.queue.get()


class InProcessBus:
    """The default bus: subscribers in this process only."""

    def __init__(self) -> None:
        self._subscribers: dict[uuid.UUID, set[_QueueSubscription]] = defaultdict(set)

    async def publish(self, record: EventRecord) -> None:
        for subscriber in tuple(self._subscribers.get(record.tenant_id, ())):
            subscriber.offer(record)

    @asynccontextmanager
    async def subscribe(self, tenant_id: uuid.UUID) -> AsyncIterator[
            AsyncIterator[EventRecord | None]]:
        subscription = _QueueSubscription()
        self._subscribers[tenant_id].add(subscription)
        try:
            yield subscription.__aiter__()
        finally:
            self._subscribers[tenant_id].discard(subscription)
            if not self._subscribers[tenant_id]:
                del self._subscribers[tenant_id]

    async def close(self) -> None:
        self._subscribers.clear()


class RedisBus:
    """Redis pub/sub, one channel per tenant, so every server process sees every event."""

    def __init__(self, url: str) -> None:
        self._redis: Redis = Redis.from_url(url)

    async def publish(self, record: EventRecord) -> None:
        await self._redis.publish(CHANNEL_PREFIX + str(record.tenant_id), record.dumps())

    @asynccontextmanager
    async def subscribe(self, tenant_id: uuid.UUID) -> AsyncIterator[
            AsyncIterator[EventRecord | None]]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(CHANNEL_PREFIX + str(tenant_id))
        try:
            yield self._records(pubsub)
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped

    @staticmethod
    async def _records(pubsub: PubSub) -> AsyncIterator[EventRecord | None]:
        async for message in pubsub.listen():
            if message.get("type") == "message":
                yield EventRecord.loads(message["data"])

    async def ping(self) -> bool:
        """True when Redis answers."""
        return bool(await self._redis.ping())

    async def close(self) -> None:
        await self._redis.aclose()


def create_bus(redis_url: str | None) -> EventBus:
    """The Redis bus when a URL is configured, else the in-process bus."""
    return RedisBus(redis_url) if redis_url else InProcessBus()
