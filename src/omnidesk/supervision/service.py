"""Reads of supervision."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.events.models import Event

MAX_EVENTS = 2000


async def interaction_events(session: AsyncSession, *, tenant_id: uuid.UUID,
                             interaction_id: uuid.UUID) -> Sequence[Event]:
    """The events about one interaction, oldest first (at most MAX_EVENTS)."""
    return (await session.scalars(
        select(Event).where(Event.tenant_id == tenant_id, Event.subject == str(interaction_id))
        .order_by(Event.seq).limit(MAX_EVENTS))).all()
