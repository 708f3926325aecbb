"""Agents accept or reject the offers the ACD makes them."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from omnidesk.acd.service import AcdService
from omnidesk.agents.service import agent_for_user
from omnidesk.auth.principal import EVERYONE, Principal
from omnidesk.db import Database
from omnidesk.deps import DbDep, PrincipalDep
from omnidesk.errors import Conflict, Forbidden, NotFound
from omnidesk.interactions.models import Interaction
from omnidesk.interactions.schemas import InteractionRead
from omnidesk.interactions.states import InteractionState
from omnidesk.queues.models import Queue
from omnidesk.routing import QueueStatus, UnknownRoutingObject, WaitEstimate
from omnidesk.scoping import get_in_tenant

router = APIRouter(tags=["routing"])


async def _my_offer(db: Database, principal: Principal,
                    interaction_id: uuid.UUID) -> tuple[Interaction, uuid.UUID]:
    """The interaction and the caller's agent id, if the caller holds its live offer."""
    principal.require(*EVERYONE)
    if principal.user_id is None:
        raise Forbidden("only an agent can answer an offer")
    async with db.read() as session:
        interaction = await get_in_tenant(session, Interaction, interaction_id,
                                          tenant_id=principal.tenant_id, what="interaction")
        agent = await agent_for_user(session, tenant_id=principal.tenant_id,
                                     user_id=principal.user_id)
    if agent is None:
        raise Forbidden("only an agent can answer an offer")
    if interaction.state is not InteractionState.OFFERED or interaction.agent_id != agent.id:
        raise Conflict("there is no live offer of this interaction to you", field="state")
    return interaction, agent.id


async def _read(db: Database, interaction_id: uuid.UUID) -> Interaction:
    async with db.read() as session:
        row = await session.get(Interaction, interaction_id)
    if row is None:
        raise NotFound(f"interaction {interaction_id} not found", field="interaction_id")
    return row


@router.post("/interactions/{interaction_id}/accept", response_model=InteractionRead)
async def accept_offer(interaction_id: uuid.UUID, request: Request, db: DbDep,
                       principal: PrincipalDep) -> Interaction:
    """Take the interaction offered to you; 409 when the offer is gone (timed out)."""
    interaction, agent_id = await _my_offer(db, principal, interaction_id)
    acd: AcdService = request.app.state.acd
    await acd.accept(interaction, agent_id, actor=principal.actor)
    return await _read(db, interaction_id)


@router.post("/interactions/{interaction_id}/reject", response_model=InteractionRead)
async def reject_offer(interaction_id: uuid.UUID, request: Request, db: DbDep,
                       principal: PrincipalDep) -> Interaction:
    """Decline the interaction offered to you; it goes to the next agent."""
    interaction, agent_id = await _my_offer(db, principal, interaction_id)
    acd: AcdService = request.app.state.acd
    await acd.reject(interaction, agent_id, actor=principal.actor)
    return await _read(db, interaction_id)


@router.get("/interactions/{interaction_id}/position", response_model=WaitEstimate)
async def queue_position(interaction_id: uuid.UUID, request: Request, db: DbDep,
                         principal: PrincipalDep) -> WaitEstimate:
    """Position in queue and estimated wait of a waiting contact (404 when not waiting)."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        await get_in_tenant(session, Interaction, interaction_id, tenant_id=principal.tenant_id,
                            what="interaction")
    acd: AcdService = request.app.state.acd
    router_ = await acd.router(principal.tenant_id)
    try:
        return router_.engine.wait_estimate(str(interaction_id), acd.now())
    except UnknownRoutingObject as error:
        raise NotFound(error.message, field="interaction_id") from error


@router.get("/queues/{queue_id}/live", response_model=QueueStatus)
async def live_queue(queue_id: uuid.UUID, request: Request, db: DbDep,
                     principal: PrincipalDep) -> QueueStatus:
    """The queue now: contacts waiting, longest wait, staffing, handle time, open or closed."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        await get_in_tenant(session, Queue, queue_id, tenant_id=principal.tenant_id,
                            what="queue")
    acd: AcdService = request.app.state.acd
    router_ = await acd.router(principal.tenant_id)
    return router_.engine.queue_status(str(queue_id), acd.now())
