"""Appending to and reading the event log. Every write action calls `record`.

A transaction's events are numbered and inserted together when it commits: one UPDATE of
each tenant's `event_seq` (whose row lock orders the commits of a tenant, so seqs follow
commit order) and one INSERT, after its other rows. Until then reads inside the transaction
do not see them, and the tenant's row is not locked: concurrent writers of a tenant wait for
each other only while committing.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, event, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from omnidesk.db import PENDING_EVENTS, session_now
from omnidesk.events.models import Event
from omnidesk.events.record import EventRecord
from omnidesk.tenants.models import Tenant

SYSTEM_ACTOR = "system"
_TENANTS = cast(Table, Tenant.__table__)
_EVENTS = cast(Table, Event.__table__)
_RECORDED = "omnidesk_recorded_events"  # session.info: the events recorded, not numbered yet
# Every write transaction runs it: built once (docs/development.md, "the hot path").
_MOVE_SEQ = (update(_TENANTS).where(_TENANTS.c.id == bindparam("tenant_id"))
             .values(event_seq=_TENANTS.c.event_seq + bindparam("count"))
             .returning(_TENANTS.c.event_seq))
_INSERT_EVENTS = insert(_EVENTS)


def _numbered(connection: Connection, recorded: list[EventRecord]) -> list[EventRecord]:
    """The events with their seqs: each tenant's counter moved past them in one statement."""
    counts = Counter(r.tenant_id for r in recorded)
    next_seq: dict[uuid.UUID, int] = {}
    for tenant_id, count in counts.items():
        last = connection.execute(_MOVE_SEQ, {"tenant_id": tenant_id, "count": count}).scalar_one()
        next_seq[tenant_id] = int(last) - count + 1
    numbered = []
    for r in recorded:
        numbered.append(dataclasses.replace(r, seq=next_seq[r.tenant_id]))
        next_seq[r.tenant_id] += 1
    return numbered


@event.listens_for(Session, "before_commit")
def _write_events(session: Session) -> None:
    """Number the transaction's events and insert them in one statement; they are published
    after the commit (at the outer commit: a savepoint's release leaves its events to it)."""
    if session.in_nested_transaction():
        return
    recorded: list[EventRecord] = session.info.pop(_RECORDED, [])
    if not recorded:
        return
    connection = session.connection()  # Core statements: no ORM execution around them
    numbered = _numbered(connection, recorded)
    connection.execute(_INSERT_EVENTS, [
        {"tenant_id": r.tenant_id, "seq": r.seq, "type": r.type, "subject": r.subject,
         "actor": r.actor, "payload": r.payload, "occurred_at": r.occurred_at}
        for r in numbered])
    session.info.setdefault(PENDING_EVENTS, []).extend(numbered)


@asynccontextmanager
async def savepoint(session: AsyncSession) -> AsyncIterator[None]:
    """`session.begin_nested()` that also takes back the events recorded inside it when it
    rolls back: they are neither stored nor published."""
    recorded = len(session.info.get(_RECORDED, []))
    try:
        async with session.begin_nested():
            yield
    except BaseException:
        del session.info.get(_RECORDED, [])[recorded:]
        raise


def recorded_events(session: AsyncSession) -> list[EventRecord]:
    """The events recorded in the session's transaction so far (numbered at its commit:
    their `seq` is 0 until then)."""
    return list(session.info.get(_RECORDED, []))


async def last_seq(session: AsyncSession, tenant_id: uuid.UUID) -> int:
    """The tenant's last event seq (0 before its first event)."""
    return int(await session.scalar(select(Tenant.event_seq).where(Tenant.id == tenant_id)) or 0)


async def record(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    type: str,
    subject: uuid.UUID | str,
    payload: dict[str, Any] | None = None,
    actor: str = SYSTEM_ACTOR,
) -> None:
    """Append an event in the caller's transaction: numbered and stored at its commit,
    published after."""
    session.info.setdefault(_RECORDED, []).append(EventRecord(
        tenant_id=tenant_id, seq=0, type=type, subject=str(subject), payload=payload or {},
        occurred_at=session_now(session), actor=actor))


def to_record(row: Event) -> EventRecord:
    """The travelling form of a stored event."""
    return EventRecord(tenant_id=row.tenant_id, seq=row.seq, type=row.type, subject=row.subject,
                       payload=row.payload, occurred_at=row.occurred_at, actor=row.actor)


async def events_since(
    session: AsyncSession, *, tenant_id: uuid.UUID, since: int, limit: int = 500,
    up_to: int | None = None,
) -> Sequence[EventRecord]:
    """The tenant's events with seq > since (and ≤ up_to), oldest first."""
    query = select(Event).where(Event.tenant_id == tenant_id, Event.seq > since)
    if up_to is not None:
        query = query.where(Event.seq <= up_to)
    rows = await session.scalars(query.order_by(Event.seq).limit(limit))
    return [to_record(row) for row in rows]
