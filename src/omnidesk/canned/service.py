"""Reads of canned responses."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.canned.models import CannedResponse


async def list_canned(session: AsyncSession, *, tenant_id: uuid.UUID) -> Sequence[CannedResponse]:
    """The tenant's canned responses by shortcut."""
    return (await session.scalars(
        select(CannedResponse).where(CannedResponse.tenant_id == tenant_id)
        .order_by(CannedResponse.shortcut))).all()


async def find_by_shortcut(session: AsyncSession, *, tenant_id: uuid.UUID,
                           shortcut: str) -> CannedResponse | None:
    """The tenant's canned response with this shortcut, if any."""
    return await session.scalar(select(CannedResponse).where(
        CannedResponse.tenant_id == tenant_id, CannedResponse.shortcut == shortcut))
