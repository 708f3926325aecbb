"""History for forecasting: contacts queued per interval, read from the event log.

The only I/O of the forecasting path: it counts ``interaction.queued`` events (payload
``queue_id``) of one tenant, optionally of some queues, into a regular ``CountSeries``.
A contact that re-enters a queue (transfer, overflow) counts again, as in the KPIs.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.errors import NotFound
from omnidesk.events.models import Event
from omnidesk.queues.models import Queue
from omnidesk.wfm.erlang import WfmError
from omnidesk.wfm.forecast import CountSeries, regular_series

QUEUED = "interaction.queued"


async def find_queue(session: AsyncSession, *, tenant_id: uuid.UUID, name: str) -> Queue:
    """The tenant's queue by name (or id), or NotFound."""
    query = select(Queue).where(Queue.tenant_id == tenant_id)
    try:
        by_id = uuid.UUID(name)
    except ValueError:
        query = query.where(Queue.name == name)
    else:
        query = query.where(Queue.id == by_id)
    queue = await session.scalar(query)
    if queue is None:
        raise NotFound(f"queue {name!r} not found", field="queue")
    return queue


async def queued_counts(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    interval_s: int,
    since: datetime,
    until: datetime,
    queue_ids: Collection[uuid.UUID | str] | None = None,
) -> CountSeries:
    """Contacts queued per interval in [since, until) for the tenant (and queues)."""
    wanted = None if queue_ids is None else {str(q) for q in queue_ids}
    query = (
        select(Event.occurred_at, Event.payload)
        .where(Event.tenant_id == tenant_id, Event.type == QUEUED,
               Event.occurred_at >= since, Event.occurred_at < until)
        .order_by(Event.occurred_at)
    )
    points: list[tuple[datetime, float]] = []
    for occurred_at, payload in (await session.execute(query)).all():
        if wanted is not None and str(payload.get("queue_id")) not in wanted:
            continue
        at = occurred_at if occurred_at.tzinfo else occurred_at.replace(tzinfo=UTC)
        points.append((at, 1.0))
    return regular_series(points, interval_s, start=since, end=until)


def read_history_csv(path: Path, interval_s: int) -> CountSeries:
    """A history file: a header line then ``interval_start,count`` rows (ISO times)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise WfmError(f"--history: cannot read {path}: {error.strerror}") from error
    points: list[tuple[datetime, float]] = []
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or not {"interval_start", "count"} <= set(reader.fieldnames):
        raise WfmError(f"--history: {path}:1: expected the header interval_start,count")
    for line, row in enumerate(reader, start=2):
        try:
            at = datetime.fromisoformat(row["interval_start"])
            count = float(row["count"])
        except (TypeError, ValueError):
            raise WfmError(f"--history: {path}:{line}: expected an ISO time and a number, "
                           f"got {row['interval_start']!r}, {row['count']!r}") from None
        points.append((at if at.tzinfo else at.replace(tzinfo=UTC), count))
    if not points:
        raise WfmError(f"--history: {path}: no rows")
    return regular_series(points, interval_s)
