"""Reads of interactions and messages."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from omnidesk.auth.principal import STAFF, Principal
from omnidesk.customers.models import Customer
from omnidesk.customers.schemas import CustomerRead
from omnidesk.errors import Forbidden
from omnidesk.interactions.models import Disposition, Interaction, InteractionNote, Message
from omnidesk.interactions.schemas import InteractionContext, InteractionRead, NoteRead
from omnidesk.interactions.states import TERMINAL_STATES, InteractionState
from omnidesk.queues.models import Queue
from omnidesk.scoping import get_in_tenant

# What a self-service flow collected for the agent (omnidesk.selfservice.service.FLOW_KEY).
SELF_SERVICE_KEY = "flow"


@dataclass(frozen=True, slots=True)
class InteractionFilter:
    """What to narrow an interaction listing to."""

    state: InteractionState | None = None
    channel: str | None = None
    queue_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    open: bool | None = None
    limit: int = 100


async def list_interactions(
    session: AsyncSession, *, tenant_id: uuid.UUID, where: InteractionFilter,
) -> Sequence[Interaction]:
    """The tenant's interactions matching the filter, newest first."""
    query = select(Interaction).where(Interaction.tenant_id == tenant_id)
    for column, value in ((Interaction.state, where.state), (Interaction.channel, where.channel),
                          (Interaction.queue_id, where.queue_id),
                          (Interaction.agent_id, where.agent_id),
                          (Interaction.customer_id, where.customer_id)):
        if value is not None:
            query = query.where(column == value)
    if where.open is not None:
        terminal = Interaction.state.in_(TERMINAL_STATES)
        query = query.where(~terminal if where.open else terminal)
    query = query.order_by(Interaction.created_at.desc()).limit(where.limit)
    return (await session.scalars(query)).all()


async def list_messages(session: AsyncSession, interaction: Interaction) -> Sequence[Message]:
    """The interaction's messages, oldest first."""
    return (await session.scalars(
        select(Message).where(Message.interaction_id == interaction.id)
        .order_by(Message.position))).all()


async def open_interaction_for(
    session: AsyncSession, *, tenant_id: uuid.UUID, customer_id: uuid.UUID,
    channel_id: uuid.UUID,
) -> Interaction | None:
    """The customer's most recent interaction on this channel that is not closed yet."""
    return await session.scalar(
        select(Interaction).where(
            Interaction.tenant_id == tenant_id, Interaction.customer_id == customer_id,
            Interaction.channel_id == channel_id,
            Interaction.state.not_in(TERMINAL_STATES))
        .order_by(Interaction.created_at.desc()).limit(1))


async def list_notes(session: AsyncSession, interaction: Interaction) -> Sequence[InteractionNote]:
    """The interaction's staff notes, oldest first."""
    return (await session.scalars(
        select(InteractionNote).where(InteractionNote.interaction_id == interaction.id)
        .order_by(InteractionNote.created_at, InteractionNote.id))).all()


PAST_LIMIT = 20


async def context(session: AsyncSession, interaction: Interaction) -> InteractionContext:
    """The screen pop of an interaction (see InteractionContext)."""
    customer = await session.scalar(
        select(Customer).where(Customer.id == interaction.customer_id)
        .options(selectinload(Customer.identities)))
    assert customer is not None  # interactions.customer_id is a foreign key
    others = (await session.scalars(
        select(Interaction).where(Interaction.tenant_id == interaction.tenant_id,
                                  Interaction.customer_id == interaction.customer_id,
                                  Interaction.id != interaction.id)
        .order_by(Interaction.created_at.desc()))).all()
    queue_name = None
    if interaction.queue_id is not None:
        queue_name = await session.scalar(select(Queue.name).where(
            Queue.id == interaction.queue_id))
    return InteractionContext(
        interaction=InteractionRead.model_validate(interaction),
        customer=CustomerRead.model_validate(customer),
        queue_name=queue_name,
        open_interactions=[InteractionRead.model_validate(i) for i in others
                           if i.state not in TERMINAL_STATES],
        past_interactions=[InteractionRead.model_validate(i) for i in others
                           if i.state in TERMINAL_STATES][:PAST_LIMIT],
        self_service=dict(interaction.attributes.get(SELF_SERVICE_KEY) or {}),
        notes=[NoteRead.model_validate(n) for n in await list_notes(session, interaction)])


async def list_dispositions(session: AsyncSession, *,
                            tenant_id: uuid.UUID) -> Sequence[Disposition]:
    """The tenant's wrap-up reason codes, in their configured order."""
    return (await session.scalars(
        select(Disposition).where(Disposition.tenant_id == tenant_id)
        .order_by(Disposition.position, Disposition.code))).all()


async def held_by_caller(session: AsyncSession, principal: Principal,
                         interaction_id: uuid.UUID, *, what: str) -> Interaction:
    """The caller's tenant's interaction, if the caller is the agent handling it (or staff);
    403 naming `what` they may not do otherwise."""
    interaction = await get_in_tenant(session, Interaction, interaction_id,
                                      tenant_id=principal.tenant_id, what="interaction")
    if principal.role not in STAFF:
        _require_handler(principal, interaction, what)
    return interaction


async def workable_by_caller(session: AsyncSession, principal: Principal,
                             interaction_id: uuid.UUID, *, what: str) -> Interaction:
    """The caller's tenant's interaction, unless another agent handles it now: an agent may
    work on their own, unassigned and ended interactions; staff and integrations (API keys)
    on any."""
    interaction = await get_in_tenant(session, Interaction, interaction_id,
                                      tenant_id=principal.tenant_id, what="interaction")
    if (principal.role not in STAFF and principal.user_id is not None
            and interaction.agent_id is not None
            and interaction.state not in TERMINAL_STATES):
        _require_handler(principal, interaction, what)
    return interaction


def _require_handler(principal: Principal, interaction: Interaction, what: str) -> None:
    mine = principal.agent_id
    if mine is None or mine != interaction.agent_id:
        raise Forbidden(f"only the agent handling it (or a supervisor) may {what} it",
                        field="interaction_id")
