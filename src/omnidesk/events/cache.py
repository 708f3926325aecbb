"""Rows read once and kept in memory until an event on the bus says they changed.

Before each lookup a cache reads the events published since the last one and forgets what
they name (everything after a gap in the bus). On the in-process bus, a change's own events
are here before its request has answered; through Redis, every process gets them within the
bus's delay. An entry is trusted for `ttl_s` seconds at most anyway.
"""

from __future__ import annotations

import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Collection
from contextlib import AsyncExitStack
from typing import ClassVar, Generic, TypeVar

from omnidesk.db import Database
from omnidesk.events.bus import EventTypes, Subscription
from omnidesk.events.record import EventRecord

V = TypeVar("V")
EVERYTHING = None  # what `changed` returns when every entry may be stale
TTL_S = 30.0


class BusCache(ABC, Generic[V]):
    """Values by id, read once and kept until an event names them (or `ttl_s` passes); only
    events of the types in FOLLOWS (None: every event) are read."""

    FOLLOWS: ClassVar[EventTypes | None] = None

    def __init__(self, db: Database, ttl_s: float = TTL_S) -> None:
        self.db = db
        self._ttl_s = ttl_s
        self._known: dict[uuid.UUID, tuple[float, V]] = {}
        self._forgets = 0  # bumped by every forgetting: a read begun before one is not kept
        self._changes: Subscription | None = None
        self._subscribed = AsyncExitStack()

    @abstractmethod
    def changed(self, records: list[EventRecord]) -> Collection[uuid.UUID] | None:
        """The ids these events may have changed (None: any)."""

    @abstractmethod
    async def read(self, key: uuid.UUID) -> V | None:
        """The value from the database (None if there is none)."""

    async def start(self) -> None:
        """Follow the bus from now on."""
        self._changes = await self._subscribed.enter_async_context(
            self.db.bus.subscribe_all(self.FOLLOWS))

    async def stop(self) -> None:
        """Stop following the bus."""
        await self._subscribed.aclose()
        self._changes = None

    async def get(self, key: uuid.UUID) -> V | None:
        """The value (None if there is none), from memory when fresh."""
        self._forget_changed()
        now = time.monotonic()
        entry = self._known.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        forgets = self._forgets
        value = await self.read(key)
        if value is None:
            return None
        self._forget_changed()
        if forgets == self._forgets:
            self._known[key] = (now + self._ttl_s, value)
        return value

    def _forget_changed(self) -> None:
        """Forget what the events that arrived since the last look changed."""
        if self._changes is None:
            raise RuntimeError(f"{type(self).__name__}.start() was not awaited")
        records, lost = self._changes.drain()
        if not (lost or records):
            return
        changed = EVERYTHING if lost else self.changed(records)
        if changed is EVERYTHING:
            self._forgets += 1
            self._known.clear()
        elif changed:
            self._forgets += 1
            for key in changed:
                self._known.pop(key, None)
