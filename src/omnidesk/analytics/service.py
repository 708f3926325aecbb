"""Analytics in the server: a live projection per tenant fed from the bus, and the fill job.

A tenant's RealtimeProjection is built the first time it is asked for, from the tenant's log
since shortly before local midnight (so agents' states carry into today), then follows the
bus; a gap (bus overflow, Redis reconnect, skipped seq) is filled from the log. A change of
queues or agents drops the projection so the next request rebuilds it with the new config.
The fill job runs at start and then every `fill_seconds`, one tenant at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from omnidesk.analytics.fill import FillCache, FillConflict, FillReport, fill, read_events
from omnidesk.analytics.realtime import RealtimeProjection
from omnidesk.analytics.reports import zone_of
from omnidesk.analytics.settings import load_config
from omnidesk.db import Database, mark_background
from omnidesk.events.follower import BusFollower
from omnidesk.events.models import Event
from omnidesk.events.record import EventRecord
from omnidesk.tasks import stop_tasks
from omnidesk.tenants.models import Tenant

FILL_SECONDS = 60.0
REPLAY_BEFORE_MIDNIGHT = timedelta(hours=6)
REPLAY_CHUNK = 10_000
CONFIG_EVENTS = frozenset({"queue.created", "queue.updated", "agent.created", "agent.updated",
                           "tenant.updated"})
log = logging.getLogger("omnidesk.analytics")


@dataclass(slots=True)
class LiveTenant:
    """A tenant's projection and the lock that orders its updates."""

    projection: RealtimeProjection
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class AnalyticsService(BusFollower):
    """Real-time projections and the periodic fill for every tenant of this process."""

    def __init__(self, db: Database, *, fill_seconds: float = FILL_SECONDS) -> None:
        super().__init__(db)
        self.fill_seconds = fill_seconds
        self.live: dict[uuid.UUID, LiveTenant] = {}
        self.cache = FillCache()
        self._building: dict[uuid.UUID, asyncio.Lock] = {}
        self._filling: dict[uuid.UUID, asyncio.Lock] = {}
        self._filler: asyncio.Task[None] | None = None
        self._watchers: dict[uuid.UUID, set[asyncio.Event]] = defaultdict(set)

    async def start(self) -> None:
        """Follow every tenant's events; start the fill loop (its first run is now)."""
        await super().start()
        self._filler = asyncio.create_task(self._fill_forever())

    async def stop(self) -> None:
        """Stop filling and following."""
        await stop_tasks(self._filler)
        await super().stop()

    # -- real time ----------------------------------------------------------------------

    async def snapshot(self, tenant_id: uuid.UUID) -> dict[str, Any]:
        """The tenant's wallboard now (the projection's plain-data snapshot)."""
        tenant = await self.tenant(tenant_id)
        async with tenant.lock:
            return tenant.projection.snapshot(self.db.clock.now())

    @contextlib.contextmanager
    def watch(self, tenant_id: uuid.UUID) -> Iterator[asyncio.Event]:
        """An event set whenever the tenant's projection changes (for pushing wallboards)."""
        changed = asyncio.Event()
        self._watchers[tenant_id].add(changed)
        try:
            yield changed
        finally:
            self._watchers[tenant_id].discard(changed)
            if not self._watchers[tenant_id]:
                del self._watchers[tenant_id]

    def _changed(self, tenant_id: uuid.UUID) -> None:
        for changed in self._watchers.get(tenant_id, ()):
            changed.set()

    async def tenant(self, tenant_id: uuid.UUID) -> LiveTenant:
        """The tenant's live projection, built from the log the first time."""
        live = self.live.get(tenant_id)
        if live is not None:
            return live
        async with self._building.setdefault(tenant_id, asyncio.Lock()):
            live = self.live.get(tenant_id)
            if live is None:
                live = LiveTenant(await self._build(tenant_id))
                self.live[tenant_id] = live
            return live

    async def _build(self, tenant_id: uuid.UUID) -> RealtimeProjection:
        async with self.db.read() as session:
            config, _ = await load_config(session, tenant_id)
            zone = zone_of(config.time_zone)
            midnight = datetime.combine(self.db.clock.now().astimezone(zone).date(), time(), zone)
            first = await session.scalar(select(func.min(Event.seq)).where(
                Event.tenant_id == tenant_id,
                Event.occurred_at >= midnight - REPLAY_BEFORE_MIDNIGHT))
        projection = RealtimeProjection(config)
        projection.fold.last_seq = (first or 1) - 1
        await self._catch_up(tenant_id, projection)
        return projection

    async def _catch_up(self, tenant_id: uuid.UUID, projection: RealtimeProjection,
                        up_to: int | None = None) -> None:
        """Apply the logged events after the projection's last seq (up to `up_to`)."""
        while up_to is None or projection.fold.last_seq < up_to:
            limit = REPLAY_CHUNK if up_to is None else min(REPLAY_CHUNK,
                                                           up_to - projection.fold.last_seq)
            batch = await read_events(self.db, tenant_id, projection.fold.last_seq, limit)
            for event in batch:
                projection.apply(event)
            if len(batch) < limit:
                return

    async def on_event(self, record: EventRecord | None) -> None:
        """Keep built projections current; a configuration change drops the tenant's."""
        if record is None:  # the bus lost events: every projection reads the log
            for tenant_id, each in tuple(self.live.items()):
                async with each.lock:
                    await self._catch_up(tenant_id, each.projection)
                self._changed(tenant_id)
            return
        if record.type in CONFIG_EVENTS:
            self.live.pop(record.tenant_id, None)
            self._changed(record.tenant_id)
            return
        tenant = self.live.get(record.tenant_id)
        if tenant is None:
            return
        async with tenant.lock:
            projection = tenant.projection
            if record.seq > projection.fold.last_seq + 1:
                await self._catch_up(record.tenant_id, projection, record.seq - 1)
            projection.apply(record)
        self._changed(record.tenant_id)

    # -- the fill -------------------------------------------------------------------------

    async def fill_tenant(self, tenant_id: uuid.UUID) -> FillReport | None:
        """Fill the tenant's aggregates now (None if another process was filling them)."""
        async with self._filling.setdefault(tenant_id, asyncio.Lock()):
            try:
                return await fill(self.db, tenant_id, cache=self.cache)
            except FillConflict:
                log.info("analytics fill of %s: another process filled first", tenant_id)
                return None

    async def fill_all(self) -> None:
        """Fill every tenant's aggregates."""
        async with self.db.read() as session:
            tenant_ids = (await session.scalars(select(Tenant.id))).all()
        for tenant_id in tenant_ids:
            await self.fill_tenant(tenant_id)

    async def _fill_forever(self) -> None:
        mark_background()
        while True:
            try:
                await self.fill_all()
            except Exception:
                log.exception("analytics fill failed")
            await asyncio.sleep(self.fill_seconds)
