"""Reads of channel instances."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.channels.models import Channel, IdempotencyRecord


async def list_channels(session: AsyncSession, *, tenant_id: uuid.UUID) -> Sequence[Channel]:
    """The tenant's channels by name."""
    return (await session.scalars(
        select(Channel).where(Channel.tenant_id == tenant_id).order_by(Channel.name))).all()


async def find_by_name(session: AsyncSession, *, tenant_id: uuid.UUID,
                       name: str) -> Channel | None:
    """The tenant's channel with this name, if any."""
    return await session.scalar(
        select(Channel).where(Channel.tenant_id == tenant_id, Channel.name == name))


async def find_idempotent(session: AsyncSession, *, tenant_id: uuid.UUID, scope: str,
                          key: str) -> IdempotencyRecord | None:
    """The stored result of an earlier request with this idempotency key, if any."""
    return await session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.tenant_id == tenant_id, IdempotencyRecord.scope == scope,
        IdempotencyRecord.key == key))
