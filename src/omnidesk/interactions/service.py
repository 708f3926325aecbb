"""Reads of interactions and messages."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.interactions.models import Interaction, Message
from omnidesk.interactions.states import TERMINAL_STATES, InteractionState


@dataclass(frozen=True, slots=True)
class InteractionFilter:
    """What to narrow an interaction listing to."""

    state: InteractionState | None = None
    channel: str | None = None
    queue_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
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
