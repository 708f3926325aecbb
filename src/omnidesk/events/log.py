"""Appending to and reading the event log. Every write action calls `record`.

A transaction's events are inserted together when it commits (one statement), after its
other rows; reads inside the transaction do not see them yet."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, cast

from sqlalchemy import Table, event, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from omnidesk.db import PENDING_EVENTS, session_now
from omnidesk.events.models import Event
from omnidesk.events.record import EventRecord
from omnidesk.tenants.models import Tenant

SYSTEM_ACTOR = "system"
_TENANTS = cast(Table, Tenant.__table__)
_EVENTS = cast(Table, Event.__table__)
# session.info keys: the events recorded but not yet inserted, and per tenant the seq stored
# in its row and the last seq handed out by this transaction
_UNWRITTEN = "omnidesk_unwritten_events"
_SEQS = "omnidesk_event_seqs"


async def _next_seq(session: AsyncSession, tenant_id: uuid.UUID) -> int:
    """The tenant's next sequence number. The transaction's first event of a tenant takes
    it from the tenant's row, whose lock then orders commits per tenant; later ones count on
    in memory, and the row is moved past them once, at commit (`_write_events`)."""
    seqs: dict[uuid.UUID, list[int]] = session.info.setdefault(_SEQS, {})
    taken = seqs.get(tenant_id)
    if taken is not None:
        taken[1] += 1
        return taken[1]
    result = await session.execute(
        update(_TENANTS).where(_TENANTS.c.id == tenant_id)
        .values(event_seq=_TENANTS.c.event_seq + 1).returning(_TENANTS.c.event_seq)
    )
    seq = int(result.scalar_one())
    seqs[tenant_id] = [seq, seq]
    return seq


@event.listens_for(Session, "before_commit")
def _write_events(session: Session) -> None:
    """Insert the transaction's events in one statement and store each tenant's last seq
    (at the outer commit: a savepoint's release leaves its events to it)."""
    if session.in_nested_transaction():
        return
    for tenant_id, (stored, last) in session.info.pop(_SEQS, {}).items():
        if last > stored:
            session.execute(update(_TENANTS).where(_TENANTS.c.id == tenant_id)
                            .values(event_seq=last))
    unwritten: list[EventRecord] = session.info.pop(_UNWRITTEN, [])
    if unwritten:
        session.execute(insert(_EVENTS), [
            {"tenant_id": r.tenant_id, "seq": r.seq, "type": r.type, "subject": r.subject,
             "actor": r.actor, "payload": r.payload, "occurred_at": r.occurred_at}
            for r in unwritten])


@asynccontextmanager
async def savepoint(session: AsyncSession) -> AsyncIterator[None]:
    """`session.begin_nested()` that also takes back the events recorded inside it when it
    rolls back: they are neither stored nor published, and their seqs are handed out again."""
    info = session.info
    published, unwritten = len(info.get(PENDING_EVENTS, [])), len(info.get(_UNWRITTEN, []))
    seqs = {tenant: list(taken) for tenant, taken in info.get(_SEQS, {}).items()}
    try:
        async with session.begin_nested():
            yield
    except BaseException:
        del info.get(PENDING_EVENTS, [])[published:]
        del info.get(_UNWRITTEN, [])[unwritten:]
        info[_SEQS] = seqs
        raise


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
) -> EventRecord:
    """Append an event in the caller's transaction: stored at its commit, published after."""
    event_record = EventRecord(tenant_id=tenant_id, seq=await _next_seq(session, tenant_id),
                               type=type, subject=str(subject), payload=payload or {},
                               occurred_at=session_now(session), actor=actor)
    session.info.setdefault(_UNWRITTEN, []).append(event_record)
    session.info.setdefault(PENDING_EVENTS, []).append(event_record)
    return event_record


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
