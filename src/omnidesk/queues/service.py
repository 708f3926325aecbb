"""Reads of queues."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.errors import InvalidInput
from omnidesk.queues.models import Queue


async def list_queues(session: AsyncSession, *, tenant_id: uuid.UUID) -> Sequence[Queue]:
    """The tenant's queues by name."""
    return (await session.scalars(
        select(Queue).where(Queue.tenant_id == tenant_id).order_by(Queue.name))).all()


async def find_by_name(session: AsyncSession, *, tenant_id: uuid.UUID, name: str) -> Queue | None:
    """The tenant's queue with this name, if any."""
    return await session.scalar(
        select(Queue).where(Queue.tenant_id == tenant_id, Queue.name == name))


async def id_by_name(
    session: AsyncSession, *, tenant_id: uuid.UUID, name: str | None, field: str,
) -> uuid.UUID | None:
    """The id of the named queue (None for none); an unknown name is an error naming the field."""
    if name is None:
        return None
    queue = await find_by_name(session, tenant_id=tenant_id, name=name)
    if queue is None:
        raise InvalidInput(f"unknown queue {name!r}", field=field)
    return queue.id
