"""Agents accept or reject the offers the ACD makes them."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status

from omnidesk.acd.service import AcdService
from omnidesk.agents.models import Agent
from omnidesk.auth.principal import EVERYONE, Principal
from omnidesk.channels.voice import consult as voice_consult
from omnidesk.db import Database
from omnidesk.deps import DbDep, PrincipalDep
from omnidesk.errors import Conflict, Forbidden, InvalidInput, NotFound
from omnidesk.interactions.actions import add_note
from omnidesk.interactions.models import Interaction
from omnidesk.interactions.schemas import (
    ConsultRead,
    ConsultRequest,
    InteractionRead,
    TransferRequest,
)
from omnidesk.interactions.service import held_by_caller
from omnidesk.interactions.states import InteractionState
from omnidesk.queues.models import Queue
from omnidesk.routing import QueueStatus, UnknownRoutingObject, WaitEstimate
from omnidesk.scoping import get_in_tenant
from omnidesk.users.models import User

router = APIRouter(tags=["routing"])


def _answering_agent(principal: Principal) -> uuid.UUID:
    """The caller's agent id: only an agent answers an offer."""
    principal.require(*EVERYONE)
    if principal.agent_id is None:  # an API key, or a user without an agent record
        raise Forbidden("only an agent can answer an offer")
    return principal.agent_id


async def _my_offer(db: Database, principal: Principal,
                    interaction_id: uuid.UUID) -> tuple[Interaction, uuid.UUID]:
    """The interaction and the caller's agent id, if the caller holds its live offer."""
    agent_id = _answering_agent(principal)
    async with db.read() as session:
        interaction = await get_in_tenant(session, Interaction, interaction_id,
                                          tenant_id=principal.tenant_id, what="interaction")
    if interaction.state is not InteractionState.OFFERED or interaction.agent_id != agent_id:
        raise Conflict("there is no live offer of this interaction to you", field="state")
    return interaction, agent_id


async def _read(db: Database, interaction_id: uuid.UUID) -> Interaction:
    async with db.read() as session:
        row = await session.get(Interaction, interaction_id)
    if row is None:
        raise NotFound(f"interaction {interaction_id} not found", field="interaction_id")
    return row


@router.post("/interactions/{interaction_id}/accept", response_model=InteractionRead)
async def accept_offer(interaction_id: uuid.UUID, request: Request, db: DbDep,
                       principal: PrincipalDep) -> Interaction:
    """Take the interaction offered to you; 409 when the offer is gone (timed out).

    The tenant's engine knows the live offers: it answers without a read first (the hot
    path of every contact); only a refusal reads, to say 404 for an unknown interaction."""
    agent_id = _answering_agent(principal)
    acd: AcdService = request.app.state.acd
    try:
        return await acd.accept(principal.tenant_id, interaction_id, agent_id,
                                actor=principal.actor)
    except Conflict:
        await _my_offer(db, principal, interaction_id)  # 404, or 409 naming the state
        raise


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
    router_ = await acd.current_router(principal.tenant_id)
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
    router_ = await acd.current_router(principal.tenant_id)
    return router_.engine.queue_status(str(queue_id), acd.now())


TRANSFERABLE = (InteractionState.CONNECTED, InteractionState.ON_HOLD)


async def _held(db: Database, principal: Principal, interaction_id: uuid.UUID, *,
                what: str = "transfer") -> Interaction:
    """The interaction, if the caller is the agent holding it (or staff)."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        return await held_by_caller(session, principal, interaction_id, what=what)


async def _check_transfer(db: Database, principal: Principal, interaction_id: uuid.UUID,
                          data: TransferRequest) -> Interaction:
    """The interaction, if the caller holds it (or is staff) and the target is valid."""
    principal.require(*EVERYONE)
    targets = [data.queue_id, data.agent_id, data.number]
    if sum(target is not None for target in targets) != 1:
        raise InvalidInput("give one of queue_id, agent_id or number",
                           field="queue_id" if data.queue_id is None else "agent_id")
    interaction = await _held(db, principal, interaction_id)
    async with db.read() as session:
        if data.queue_id is not None:
            await get_in_tenant(session, Queue, data.queue_id, tenant_id=principal.tenant_id,
                                what="queue")
        if data.agent_id is not None:
            await get_in_tenant(session, Agent, data.agent_id, tenant_id=principal.tenant_id,
                                what="agent")
            if data.agent_id == interaction.agent_id:
                raise InvalidInput("the interaction is already with that agent",
                                   field="agent_id")
    if interaction.state not in TRANSFERABLE:
        raise Conflict(f"only a connected or held interaction can be transferred; it is "
                       f"{interaction.state.value}", field="state")
    return interaction


@router.post("/interactions/{interaction_id}/transfer", response_model=InteractionRead)
async def transfer(interaction_id: uuid.UUID, data: TransferRequest, request: Request,
                   db: DbDep, principal: PrincipalDep) -> Interaction:
    """Transfer to a queue (it waits there), to an agent (it rings at that agent, who
    accepts or rejects; rejected or unanswered, it waits in its queue) or, a phone call, to
    a number (dialled through the channel's trunk; see docs/voice.md). `note` is left as an
    internal note for whoever takes it."""
    interaction = await _check_transfer(db, principal, interaction_id, data)
    acd: AcdService = request.app.state.acd
    if data.queue_id is not None:
        await acd.transfer_to_queue(interaction, data.queue_id, actor=principal.actor)
    elif data.number is not None:  # a live phone call, through its channel's trunk
        voice = getattr(request.app.state, "voice", None)
        if voice is None:
            raise Conflict("transfers to numbers need the voice service", field="number")
        await voice.transfer_to_number(interaction, data.number, actor=principal.actor)
    elif data.agent_id is not None:
        await acd.transfer_to_agent(interaction, data.agent_id, actor=principal.actor)
    if data.note:
        async with db.write() as session:
            row = await get_in_tenant(session, Interaction, interaction_id,
                                      tenant_id=principal.tenant_id, what="interaction")
            author = await session.get(User, principal.user_id) if principal.user_id else None
            await add_note(session, row, body=data.note, kind="note", actor=principal.actor,
                           author_name=author.name if author else principal.actor)
    return await _read(db, interaction_id)


# ---- consults: attended transfer and three-way calls (voice; docs/voice.md) ----------------


def _consult_read(interaction_id: uuid.UUID, found: voice_consult.Consult) -> ConsultRead:
    return ConsultRead(interaction_id=interaction_id, state=found.state,
                       agent_id=found.agent_id, number=found.number, extension=found.extension)


@router.post("/interactions/{interaction_id}/consult", response_model=ConsultRead,
             status_code=status.HTTP_202_ACCEPTED)
async def consult(interaction_id: uuid.UUID, data: ConsultRequest, request: Request,
                  db: DbDep, principal: PrincipalDep) -> ConsultRead:
    """On a live phone call: put the caller on hold and ring another agent's registered
    phone (`agent_id`) or a number through the channel's trunk (`number`); answered, they
    talk with you. Then complete, conference or cancel (below). 409 when the call is not
    bridged to your SIP phone (`interaction_id`), a consult or transfer is under way
    (`state`), the agent is not available or has no phone (`agent_id`), no trunk
    (`number`)."""
    if (data.agent_id is None) == (data.number is None):
        raise InvalidInput("give one of agent_id or number",
                           field="agent_id" if data.agent_id is None else "number")
    interaction = await _held(db, principal, interaction_id, what="consult on")
    if data.agent_id is not None:
        async with db.read() as session:
            await get_in_tenant(session, Agent, data.agent_id, tenant_id=principal.tenant_id,
                                what="agent")
    found = await voice_consult.start(request.app.state.voice, interaction,
                                      agent_id=data.agent_id, number=data.number,
                                      actor=principal.actor)
    return _consult_read(interaction_id, found)


@router.get("/interactions/{interaction_id}/consult", response_model=ConsultRead)
async def consult_status(interaction_id: uuid.UUID, request: Request, db: DbDep,
                         principal: PrincipalDep) -> ConsultRead:
    """The consult under way on the call (409 `state` when there is none)."""
    interaction = await _held(db, principal, interaction_id, what="consult on")
    return _consult_read(interaction_id,
                         voice_consult.current(request.app.state.voice, interaction))


@router.post("/interactions/{interaction_id}/consult/complete",
             response_model=InteractionRead)
async def complete_consult(interaction_id: uuid.UUID, request: Request, db: DbDep,
                           principal: PrincipalDep) -> Interaction:
    """Attended transfer: the caller is bridged to the consulted party and your phone is
    hung up (from a conference: you leave, the two others stay). To an agent it is the
    ACD's transfer (`interaction.transferred`, the offer taken by their phone at once); to a
    number, as a blind transfer to a number (wrap-up). 409 `state` while it still rings."""
    interaction = await _held(db, principal, interaction_id, what="transfer")
    found = voice_consult.current(request.app.state.voice, interaction)
    await found.complete(actor=principal.actor)
    return await _read(db, interaction_id)


@router.post("/interactions/{interaction_id}/consult/conference",
             response_model=ConsultRead)
async def conference_consult(interaction_id: uuid.UUID, request: Request, db: DbDep,
                             principal: PrincipalDep) -> ConsultRead:
    """Three-way: the caller, you and the consulted party all hear each other (409 `state`
    unless the consulted party answered)."""
    interaction = await _held(db, principal, interaction_id, what="consult on")
    found = voice_consult.current(request.app.state.voice, interaction)
    await found.conference(actor=principal.actor)
    return _consult_read(interaction_id, found)


@router.delete("/interactions/{interaction_id}/consult",
               status_code=status.HTTP_204_NO_CONTENT)
async def cancel_consult(interaction_id: uuid.UUID, request: Request, db: DbDep,
                         principal: PrincipalDep) -> None:
    """Hang up the consulted party (ringing, talking or in conference); the caller is back
    with you (409 `state` when no consult is under way)."""
    interaction = await _held(db, principal, interaction_id, what="consult on")
    found = voice_consult.current(request.app.state.voice, interaction)
    await found.cancel(actor=principal.actor)
