"""Interactions API: list, get, messages, state changes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from omnidesk.auth.principal import EVERYONE
from omnidesk.deps import DbDep, PrincipalDep
from omnidesk.errors import Conflict
from omnidesk.interactions import actions, service
from omnidesk.interactions.models import Interaction, Message
from omnidesk.interactions.schemas import (
    InteractionRead,
    MessageCreate,
    MessageRead,
    StateChange,
)
from omnidesk.interactions.service import InteractionFilter
from omnidesk.interactions.states import InteractionState
from omnidesk.scoping import get_in_tenant

router = APIRouter(prefix="/interactions", tags=["interactions"])


@router.get("", response_model=list[InteractionRead])
async def list_interactions(
    db: DbDep, principal: PrincipalDep,
    state: InteractionState | None = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
    queue_id: uuid.UUID | None = None,
    agent_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[Interaction]:
    """The tenant's interactions, newest first, filtered."""
    principal.require(*EVERYONE)
    where = InteractionFilter(state=state, channel=channel, queue_id=queue_id, agent_id=agent_id,
                              customer_id=customer_id, limit=limit)
    async with db.read() as session:
        return list(await service.list_interactions(session, tenant_id=principal.tenant_id,
                                                    where=where))


@router.get("/{interaction_id}", response_model=InteractionRead)
async def get_interaction(
    interaction_id: uuid.UUID, db: DbDep, principal: PrincipalDep,
) -> Interaction:
    """One interaction."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        return await get_in_tenant(session, Interaction, interaction_id,
                                   tenant_id=principal.tenant_id, what="interaction")


@router.get("/{interaction_id}/messages", response_model=list[MessageRead])
async def list_messages(
    interaction_id: uuid.UUID, db: DbDep, principal: PrincipalDep,
) -> list[Message]:
    """The interaction's messages, oldest first."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        interaction = await get_in_tenant(session, Interaction, interaction_id,
                                          tenant_id=principal.tenant_id, what="interaction")
        return list(await service.list_messages(session, interaction))


@router.post("/{interaction_id}/messages", response_model=MessageRead,
             status_code=status.HTTP_201_CREATED)
async def post_message(
    interaction_id: uuid.UUID, data: MessageCreate, db: DbDep, principal: PrincipalDep,
) -> Message:
    """Post a message as the calling agent (or integration)."""
    principal.require(*EVERYONE)
    async with db.write() as session:
        interaction = await get_in_tenant(session, Interaction, interaction_id,
                                          tenant_id=principal.tenant_id, what="interaction")
        return await actions.add_message(
            session, interaction, author_kind="agent", body=data.body, actor=principal.actor,
            author_id=principal.actor,
            attachments=[a.model_dump() for a in data.attachments])


@router.post("/{interaction_id}/state", response_model=InteractionRead)
async def change_state(
    interaction_id: uuid.UUID, change: StateChange, db: DbDep, principal: PrincipalDep,
) -> Interaction:
    """Move the interaction to another state; an invalid transition is 409. Offers belong to
    the router: they are answered with /accept and /reject, not here."""
    principal.require(*EVERYONE)
    async with db.write() as session:
        interaction = await get_in_tenant(session, Interaction, interaction_id,
                                          tenant_id=principal.tenant_id, what="interaction")
        if InteractionState.OFFERED in (change.state, interaction.state):
            raise Conflict("offers are made by the router and answered with "
                           "/accept or /reject", field="state")
        return await actions.change_state(session, interaction, change, actor=principal.actor)
