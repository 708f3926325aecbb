"""Writes of tenants, each recording its event."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.db import session_now
from omnidesk.errors import Conflict
from omnidesk.events.log import record
from omnidesk.tenants import service
from omnidesk.tenants.models import Tenant
from omnidesk.tenants.schemas import TenantCreate, TenantUpdate


async def create_tenant(session: AsyncSession, data: TenantCreate, *, actor: str) -> Tenant:
    """Create a tenant; its first event is tenant.created."""
    if await service.find_by_slug(session, data.slug):
        raise Conflict(f"tenant {data.slug!r} exists already", field="slug")
    tenant = Tenant(slug=data.slug, name=data.name, timezone=data.timezone, event_seq=0,
                    created_at=session_now(session))
    session.add(tenant)
    await session.flush()
    await record(session, tenant_id=tenant.id, type="tenant.created", subject=tenant.id,
                 payload=data.model_dump(), actor=actor)
    return tenant


async def update_tenant(
    session: AsyncSession, tenant: Tenant, data: TenantUpdate, *, actor: str,
) -> Tenant:
    """Change a tenant's name or time zone."""
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    for field, value in changes.items():
        setattr(tenant, field, value)
    await record(session, tenant_id=tenant.id, type="tenant.updated", subject=tenant.id,
                 payload=changes, actor=actor)
    return tenant
