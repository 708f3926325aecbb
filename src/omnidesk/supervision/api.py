"""Supervision API: whisper to an agent, move a waiting contact, a conversation's events,
listen to / whisper on / barge into a live phone call.

Supervisors and admins only, always inside the caller's tenant. Forcing an agent's state is
`PUT /api/v1/agents/{id}/state` (the event's actor records who did it).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from omnidesk.acd.service import AcdService
from omnidesk.agents.models import Agent
from omnidesk.auth.principal import STAFF, Principal
from omnidesk.channels.voice import monitor as voice_monitor
from omnidesk.channels.voice.mixer import Mode
from omnidesk.deps import DbDep, PrincipalDep
from omnidesk.events.models import Event
from omnidesk.interactions.models import Interaction, Message
from omnidesk.interactions.schemas import InteractionRead, MessageRead
from omnidesk.scoping import get_in_tenant
from omnidesk.supervision import actions, service
from omnidesk.supervision.schemas import (
    InteractionEventRead,
    MonitorRead,
    MonitorRequest,
    MoveRequest,
    WhisperCreate,
)

router = APIRouter(prefix="/interactions", tags=["supervision"])


@router.post("/{interaction_id}/whisper", response_model=MessageRead,
             status_code=status.HTTP_201_CREATED)
async def whisper(interaction_id: uuid.UUID, data: WhisperCreate, db: DbDep,
                  principal: PrincipalDep) -> Message:
    """Send the agent holding the conversation a message the customer never sees."""
    principal.require(*STAFF)
    async with db.write() as session:
        interaction = await get_in_tenant(session, Interaction, interaction_id,
                                          tenant_id=principal.tenant_id, what="interaction")
        return await actions.whisper(session, interaction, body=data.body,
                                     actor=principal.actor)


@router.post("/{interaction_id}/move", response_model=InteractionRead)
async def move(interaction_id: uuid.UUID, data: MoveRequest, request: Request, db: DbDep,
               principal: PrincipalDep) -> Interaction:
    """Move a waiting contact to another queue (it keeps its time waited), or offer it to one
    available agent now (`agent_id`; 409 when the agent cannot take it)."""
    principal.require(*STAFF)
    if data.agent_id is not None and data.queue_id is None:
        async with db.read() as session:
            interaction = await get_in_tenant(session, Interaction, interaction_id,
                                              tenant_id=principal.tenant_id, what="interaction")
            actions.check_move(interaction, data)
            await get_in_tenant(session, Agent, data.agent_id, tenant_id=principal.tenant_id,
                                what="agent")
        acd: AcdService = request.app.state.acd
        await acd.direct_offer(interaction, data.agent_id, actor=principal.actor)
    else:
        async with db.write() as session:
            interaction = await get_in_tenant(session, Interaction, interaction_id,
                                              tenant_id=principal.tenant_id, what="interaction")
            actions.check_move(interaction, data)
            assert data.queue_id is not None  # check_move: exactly one target
            await actions.move_to_queue(session, interaction, data.queue_id,
                                        actor=principal.actor)
    async with db.read() as session:
        return await get_in_tenant(session, Interaction, interaction_id,
                                   tenant_id=principal.tenant_id, what="interaction")


@router.get("/{interaction_id}/events", response_model=list[InteractionEventRead])
async def interaction_events(interaction_id: uuid.UUID, db: DbDep,
                             principal: PrincipalDep) -> list[Event]:
    """Everything that happened to one conversation, oldest first (to monitor it)."""
    principal.require(*STAFF)
    async with db.read() as session:
        await get_in_tenant(session, Interaction, interaction_id,
                            tenant_id=principal.tenant_id, what="interaction")
        return list(await service.interaction_events(session, tenant_id=principal.tenant_id,
                                                     interaction_id=interaction_id))


async def _voice_call(interaction_id: uuid.UUID, db: DbDep,
                      principal: Principal) -> Interaction:
    principal.require(*STAFF)
    async with db.read() as session:
        return await get_in_tenant(session, Interaction, interaction_id,
                                   tenant_id=principal.tenant_id, what="interaction")


def _read(found: voice_monitor.Monitor) -> MonitorRead:
    assert found.interaction_id is not None
    return MonitorRead(interaction_id=found.interaction_id, user_id=found.user_id,
                       extension=found.extension, mode=str(found.mode), state=found.state)


@router.post("/{interaction_id}/monitor", response_model=MonitorRead)
async def monitor_call(interaction_id: uuid.UUID, data: MonitorRequest, request: Request,
                       response: Response, db: DbDep, principal: PrincipalDep) -> MonitorRead:
    """Join a live phone call from your registered SIP phone (it rings; 202) in a mode, or
    change the mode when you are on it (200); `leave` hangs your phone up. 409 when the
    interaction is not a call bridged to an agent (`interaction_id`), another supervisor is
    on it, or you have no registered phone (`phone`)."""
    interaction = await _voice_call(interaction_id, db, principal)
    voice = request.app.state.voice
    if data.mode == "leave":
        found = voice_monitor.current(voice, interaction)
        await found.stop(actor=principal.actor)
        return _read(found)
    found = await voice_monitor.monitor(voice, interaction, mode=Mode(data.mode),
                                        user_id=principal.user_id, actor=principal.actor)
    if found.state == voice_monitor.RINGING:
        response.status_code = status.HTTP_202_ACCEPTED
    return _read(found)


@router.patch("/{interaction_id}/monitor", response_model=MonitorRead)
async def change_monitor(interaction_id: uuid.UUID, data: MonitorRequest, request: Request,
                         db: DbDep, principal: PrincipalDep) -> MonitorRead:
    """Change the mode of the supervisor on the call (409 when nobody is); `leave` hangs up."""
    interaction = await _voice_call(interaction_id, db, principal)
    found = voice_monitor.current(request.app.state.voice, interaction)
    if data.mode == "leave":
        await found.stop(actor=principal.actor)
    else:
        await found.change(Mode(data.mode), actor=principal.actor)
    return _read(found)


@router.delete("/{interaction_id}/monitor", status_code=status.HTTP_204_NO_CONTENT)
async def stop_monitor(interaction_id: uuid.UUID, request: Request, db: DbDep,
                       principal: PrincipalDep) -> None:
    """Hang up the supervisor's phone; the caller and the agent go on as a two-party call
    (409 when nobody is monitoring the call)."""
    interaction = await _voice_call(interaction_id, db, principal)
    found = voice_monitor.current(request.app.state.voice, interaction)
    await found.stop(actor=principal.actor)
