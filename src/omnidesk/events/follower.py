"""A background service that follows every tenant's events (the router, the stream hub …)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import ClassVar

from omnidesk.db import Database, mark_background
from omnidesk.events.bus import EventTypes
from omnidesk.events.record import EventRecord

log = logging.getLogger("omnidesk.events")
BATCH_EVENTS = 200  # at most this many waiting events are handed over together


class BusFollower:
    """Reads the bus from `start()` to `stop()`; subclasses handle each event (None: a gap),
    of the types in FOLLOWS (None: every event)."""

    FOLLOWS: ClassVar[EventTypes | None] = None

    def __init__(self, db: Database) -> None:
        self.db = db
        self._follower: asyncio.Task[None] | None = None
        # when the oldest event in hand (handed over, not yet handled) reached this process's
        # bus (time.monotonic()); the events still buffered behind it came later
        self._oldest_in_hand: float | None = None

    async def start(self) -> None:
        """Subscribe, prepare, and return once events are being followed."""
        subscribed = asyncio.Event()
        self._follower = asyncio.create_task(self._follow(subscribed))
        await subscribed.wait()

    async def stop(self) -> None:
        """Stop following (cancelling again if a library swallowed the first cancellation)."""
        if self._follower is not None:
            while not self._follower.done():
                self._follower.cancel()
                await asyncio.wait({self._follower}, timeout=1)
            with contextlib.suppress(asyncio.CancelledError):
                self._follower.result()
            self._follower = None

    def lag_seconds(self) -> float:
        """How far behind the service is: how long ago the oldest event it has not handled
        yet was published (0 while it waits for events)."""
        oldest = self._oldest_in_hand
        return 0.0 if oldest is None else time.monotonic() - oldest

    async def prepare(self) -> None:
        """Load what the service needs once subscribed (events meanwhile wait in the queue)."""

    async def on_event(self, record: EventRecord | None) -> None:
        """Handle one event, or a gap (None) after the bus lost events."""
        raise NotImplementedError

    async def on_events(self, records: list[EventRecord | None]) -> None:
        """Handle the events that were waiting together, in order (a service may batch)."""
        for record in records:
            try:
                await self.on_event(record)
            except Exception:  # one bad event must not stop the service
                log.exception("%s could not handle %s", type(self).__name__, record)

    async def _follow(self, subscribed: asyncio.Event) -> None:
        mark_background()
        async with self.db.bus.subscribe_all(self.FOLLOWS) as live:
            await self.prepare()
            subscribed.set()
            while True:
                first = await live.receive()
                more, lost = live.drain(BATCH_EVENTS - 1) if first is not None else ([], False)
                self._oldest_in_hand = (live.received_was_buffered_at if first is not None
                                        else None)
                try:
                    await self.on_events([first, *more, *([None] if lost else [])])
                except Exception:  # a failed batch must not stop the service
                    log.exception("%s could not handle a batch of events", type(self).__name__)
                finally:
                    self._oldest_in_hand = None
