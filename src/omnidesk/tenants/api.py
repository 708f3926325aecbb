"""Tenants API: platform administrators only."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from omnidesk.deps import DbDep, PrincipalDep
from omnidesk.tenants import actions, service
from omnidesk.tenants.models import Tenant
from omnidesk.tenants.schemas import TenantCreate, TenantRead, TenantUpdate

router = APIRouter(prefix="/tenants", tags=["tenants"])


@router.get("", response_model=list[TenantRead])
async def list_tenants(db: DbDep, principal: PrincipalDep) -> list[Tenant]:
    """Every tenant of the installation."""
    principal.require_platform_admin()
    async with db.read() as session:
        return list(await service.list_all(session))


@router.post("", response_model=TenantRead, status_code=status.HTTP_201_CREATED)
async def create_tenant(data: TenantCreate, db: DbDep, principal: PrincipalDep) -> Tenant:
    """Create a tenant."""
    principal.require_platform_admin()
    async with db.write() as session:
        return await actions.create_tenant(session, data, actor=principal.actor)


@router.get("/{tenant_id}", response_model=TenantRead)
async def get_tenant(tenant_id: uuid.UUID, db: DbDep, principal: PrincipalDep) -> Tenant:
    """One tenant."""
    principal.require_platform_admin()
    async with db.read() as session:
        return await service.get(session, tenant_id)


@router.patch("/{tenant_id}", response_model=TenantRead)
async def update_tenant(
    tenant_id: uuid.UUID, data: TenantUpdate, db: DbDep, principal: PrincipalDep,
) -> Tenant:
    """Rename a tenant or change its time zone."""
    principal.require_platform_admin()
    async with db.write() as session:
        tenant = await service.get(session, tenant_id)
        return await actions.update_tenant(session, tenant, data, actor=principal.actor)

