"""Writes of customers: create, add identities, find-or-create, merge."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.customers import service
from omnidesk.customers.identities import normalise
from omnidesk.customers.models import Customer, Identity
from omnidesk.customers.schemas import CustomerCreate, CustomerUpdate, IdentityIn
from omnidesk.db import session_now
from omnidesk.errors import Conflict, InvalidInput
from omnidesk.events.log import record, savepoint
from omnidesk.interactions.models import Interaction


async def _add_identity(session: AsyncSession, customer: Customer, identity: IdentityIn,
                        *, field: str, known_free: bool = False) -> None:
    kind, value = normalise(identity.kind, identity.value, field=field)
    owner = None if known_free else await service.find_by_identity(
        session, tenant_id=customer.tenant_id, kind=kind, value=value)
    if owner is not None and owner.id != customer.id:
        raise Conflict(f"{kind} {value} belongs to customer {owner.id}", field=field)
    if owner is None:
        customer.identities.append(
            Identity(tenant_id=customer.tenant_id, customer_id=customer.id, kind=kind,
                     value=value))


async def create_customer(session: AsyncSession, data: CustomerCreate, *, tenant_id: uuid.UUID,
                          actor: str, identities_known_free: bool = False) -> Customer:
    """Create a customer with identities (each must be free in the tenant; with
    `identities_known_free` the caller has just looked, and the unique index catches a
    concurrent twin)."""
    customer = Customer(tenant_id=tenant_id, display_name=data.display_name,
                        attributes=data.attributes, created_at=session_now(session),
                        identities=[])
    session.add(customer)
    for index, identity in enumerate(data.identities):
        await _add_identity(session, customer, identity, field=f"identities[{index}]",
                            known_free=identities_known_free)
    await session.flush()
    await record(session, tenant_id=tenant_id, type="customer.created", subject=customer.id,
                 payload={"identities": [[i.kind, i.value] for i in customer.identities]},
                 actor=actor)
    return customer


async def update_customer(session: AsyncSession, customer: Customer, data: CustomerUpdate, *,
                          actor: str) -> Customer:
    """Rename, merge attributes key by key, add identities."""
    if customer.merged_into_id is not None:
        raise Conflict(f"customer was merged into {customer.merged_into_id}", field="customer_id")
    if data.display_name is not None:
        customer.display_name = data.display_name
    if data.attributes:
        customer.attributes = {**customer.attributes, **data.attributes}
    for index, identity in enumerate(data.add_identities):
        await _add_identity(session, customer, identity, field=f"add_identities[{index}]")
    await session.flush()
    await record(session, tenant_id=customer.tenant_id, type="customer.updated",
                 subject=customer.id, payload=data.model_dump(exclude_none=True), actor=actor)
    return customer


async def find_or_create(
    session: AsyncSession, *, tenant_id: uuid.UUID, identity: IdentityIn, display_name: str,
    actor: str,
) -> Customer:
    """The customer with this identity, created if new (safe against a concurrent twin)."""
    found = await service.find_by_identity(session, tenant_id=tenant_id, kind=identity.kind,
                                           value=identity.value)
    if found is not None:
        return found
    customer, _ = await create_unless_twin(session, tenant_id=tenant_id, identity=identity,
                                           display_name=display_name, actor=actor)
    return customer


async def create_unless_twin(
    session: AsyncSession, *, tenant_id: uuid.UUID, identity: IdentityIn, display_name: str,
    actor: str,
) -> tuple[Customer, bool]:
    """A new customer with this identity, which the caller has just found unowned, or the
    concurrent twin's if that committed first; and whether it is new."""
    try:
        async with savepoint(session):
            return await create_customer(
                session, CustomerCreate(display_name=display_name, identities=[identity]),
                tenant_id=tenant_id, actor=actor, identities_known_free=True), True
    except IntegrityError:
        found = await service.find_by_identity(session, tenant_id=tenant_id, kind=identity.kind,
                                               value=identity.value)
        if found is None:
            raise
        return found, False


async def merge(session: AsyncSession, survivor: Customer, other: Customer, *,
                actor: str) -> Customer:
    """Move the other customer's identities and interactions to the survivor; keep all history."""
    if survivor.id == other.id:
        raise InvalidInput("cannot merge a customer into itself", field="other_customer_id")
    if other.merged_into_id is not None or survivor.merged_into_id is not None:
        raise Conflict("one of these customers was merged already", field="other_customer_id")
    moved_identities = [[i.kind, i.value] for i in other.identities]
    await session.execute(update(Identity).where(Identity.customer_id == other.id)
                          .values(customer_id=survivor.id))
    moved = await session.execute(update(Interaction).where(Interaction.customer_id == other.id)
                                  .values(customer_id=survivor.id))
    attributes: dict[str, Any] = {**other.attributes, **survivor.attributes}
    survivor.attributes = attributes
    if not survivor.display_name:
        survivor.display_name = other.display_name
    other.merged_into_id = survivor.id
    await session.flush()
    await session.refresh(survivor, ["identities"])
    await session.refresh(other, ["identities"])
    await record(session, tenant_id=survivor.tenant_id, type="customer.merged",
                 subject=survivor.id,
                 payload={"merged_customer_id": str(other.id), "identities": moved_identities,
                          "interactions_moved": getattr(moved, "rowcount", 0)}, actor=actor)
    return survivor
