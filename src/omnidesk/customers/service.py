"""Reads of customers: lookup by any identity, search, the cross-channel timeline."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import String, bindparam, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.customers.identities import normalise
from omnidesk.customers.models import Customer, Identity
from omnidesk.customers.schemas import TimelineEntry, TimelineMessage
from omnidesk.interactions.models import Interaction, Message

# Every inbound message runs it: built once (docs/development.md, "the hot path").
_IDENTITY = select(Identity).where(Identity.tenant_id == bindparam("tenant_id"),
                                   Identity.kind == bindparam("kind"),
                                   Identity.value == bindparam("value"))


async def find_by_identity(
    session: AsyncSession, *, tenant_id: uuid.UUID, kind: str, value: str,
) -> Customer | None:
    """The customer who owns this identity (after normalising it), if any."""
    kind, value = normalise(kind, value)
    identity = await session.scalar(
        _IDENTITY, {"tenant_id": tenant_id, "kind": kind, "value": value})
    return None if identity is None else await session.get(Customer, identity.customer_id)


async def search(
    session: AsyncSession, *, tenant_id: uuid.UUID, text: str | None, limit: int,
) -> Sequence[Customer]:
    """Customers (not merged away) whose name or any identity contains the text."""
    query = select(Customer).where(Customer.tenant_id == tenant_id,
                                   Customer.merged_into_id.is_(None))
    if text:
        pattern = f"%{text.lower()}%"
        matching_ids = select(Identity.customer_id).where(
            Identity.tenant_id == tenant_id, Identity.value.ilike(pattern))
        query = query.where(or_(Customer.display_name.ilike(pattern),
                                Customer.id.in_(matching_ids),
                                cast(Customer.id, String).ilike(pattern)))
    return (await session.scalars(query.order_by(Customer.created_at).limit(limit))).all()


async def timeline(session: AsyncSession, customer: Customer) -> list[TimelineEntry]:
    """Every interaction of the customer on every channel, oldest first, with messages."""
    interactions = (await session.scalars(
        select(Interaction).where(Interaction.tenant_id == customer.tenant_id,
                                  Interaction.customer_id == customer.id)
        .order_by(Interaction.created_at))).all()
    messages = (await session.scalars(
        select(Message).where(Message.interaction_id.in_([i.id for i in interactions]))
        .order_by(Message.created_at, Message.position))).all()
    by_interaction: dict[uuid.UUID, list[TimelineMessage]] = {}
    for message in messages:
        by_interaction.setdefault(message.interaction_id, []).append(
            TimelineMessage.model_validate(message))
    return [TimelineEntry(interaction_id=i.id, channel=i.channel, state=i.state.value,
                          subject=i.subject, created_at=i.created_at,
                          messages=by_interaction.get(i.id, [])) for i in interactions]
