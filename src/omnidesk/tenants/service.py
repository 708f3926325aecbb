"""Reads of tenants."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.errors import NotFound
from omnidesk.tenants.models import Tenant


async def get_by_slug(session: AsyncSession, slug: str) -> Tenant:
    """The tenant with this slug, or NotFound."""
    tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise NotFound(f"tenant {slug!r} not found", field="tenant")
    return tenant


async def find_by_slug(session: AsyncSession, slug: str) -> Tenant | None:
    """The tenant with this slug, if any."""
    return await session.scalar(select(Tenant).where(Tenant.slug == slug))


async def list_all(session: AsyncSession) -> Sequence[Tenant]:
    """Every tenant, by slug."""
    return (await session.scalars(select(Tenant).order_by(Tenant.slug))).all()


async def get(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant:
    """The tenant with this id, or NotFound."""
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f"tenant {tenant_id} not found", field="tenant_id")
    return tenant
