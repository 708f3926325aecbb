"""Customers API: search by any identity, merge, timeline."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from omnidesk.auth.principal import EVERYONE
from omnidesk.customers import actions, service
from omnidesk.customers.models import Customer
from omnidesk.customers.schemas import (
    CustomerCreate,
    CustomerRead,
    CustomerUpdate,
    MergeRequest,
    TimelineEntry,
)
from omnidesk.deps import DbDep, PrincipalDep
from omnidesk.errors import InvalidInput
from omnidesk.scoping import get_in_tenant

router = APIRouter(prefix="/customers", tags=["customers"])


@router.get("", response_model=list[CustomerRead])
async def list_customers(
    db: DbDep, principal: PrincipalDep,
    identity: Annotated[str | None, Query(
        description="kind:value, e.g. phone:+33612345678 or email:ana@example.com")] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[Customer]:
    """Find customers by one identity (any channel) or by text in name and identities."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        if identity is None:
            return list(await service.search(session, tenant_id=principal.tenant_id, text=q,
                                              limit=limit))
        kind, colon, value = identity.partition(":")
        if not colon:
            raise InvalidInput("identity must be kind:value", field="identity")
        found = await service.find_by_identity(session, tenant_id=principal.tenant_id,
                                               kind=kind, value=value)
        return [found] if found else []


@router.post("", response_model=CustomerRead, status_code=status.HTTP_201_CREATED)
async def create_customer(data: CustomerCreate, db: DbDep, principal: PrincipalDep) -> Customer:
    """Create a customer."""
    principal.require(*EVERYONE)
    async with db.write() as session:
        return await actions.create_customer(session, data, tenant_id=principal.tenant_id,
                                             actor=principal.actor)


@router.get("/{customer_id}", response_model=CustomerRead)
async def get_customer(customer_id: uuid.UUID, db: DbDep, principal: PrincipalDep) -> Customer:
    """One customer."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        return await get_in_tenant(session, Customer, customer_id,
                                   tenant_id=principal.tenant_id, what="customer")


@router.patch("/{customer_id}", response_model=CustomerRead)
async def update_customer(
    customer_id: uuid.UUID, data: CustomerUpdate, db: DbDep, principal: PrincipalDep,
) -> Customer:
    """Rename, set attributes, add identities."""
    principal.require(*EVERYONE)
    async with db.write() as session:
        customer = await get_in_tenant(session, Customer, customer_id,
                                       tenant_id=principal.tenant_id, what="customer")
        return await actions.update_customer(session, customer, data, actor=principal.actor)


@router.post("/{customer_id}/merge", response_model=CustomerRead)
async def merge_customers(
    customer_id: uuid.UUID, data: MergeRequest, db: DbDep, principal: PrincipalDep,
) -> Customer:
    """Merge another customer into this one, keeping all history."""
    principal.require(*EVERYONE)
    async with db.write() as session:
        survivor = await get_in_tenant(session, Customer, customer_id,
                                       tenant_id=principal.tenant_id, what="customer")
        other = await get_in_tenant(session, Customer, data.other_customer_id,
                                    tenant_id=principal.tenant_id, what="other_customer")
        return await actions.merge(session, survivor, other, actor=principal.actor)


@router.get("/{customer_id}/timeline", response_model=list[TimelineEntry])
async def customer_timeline(
    customer_id: uuid.UUID, db: DbDep, principal: PrincipalDep,
) -> list[TimelineEntry]:
    """Every interaction and message of the customer, on every channel, oldest first."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        customer = await get_in_tenant(session, Customer, customer_id,
                                       tenant_id=principal.tenant_id, what="customer")
        return await service.timeline(session, customer)
