"""What the ACD writes: each engine decision becomes rows and events (actor "acd")."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.agents.actions import change_state as change_agent_state
from omnidesk.agents.models import Agent, AgentState
from omnidesk.agents.schemas import AgentStateChange
from omnidesk.events.log import record
from omnidesk.interactions.actions import add_message, change_state
from omnidesk.interactions.models import Interaction
from omnidesk.interactions.schemas import StateChange
from omnidesk.interactions.states import InteractionState
from omnidesk.routing import (
    AgentStateForced,
    Decision,
    InteractionEscalated,
    OfferCreated,
    OfferExpired,
    OfferWithdrawn,
    OutcomeKind,
    QueueOutcome,
)
from omnidesk.scoping import find_in_tenant

ACD_ACTOR = "acd"
S = InteractionState
log = logging.getLogger("omnidesk.acd")


async def _interaction(session: AsyncSession, tenant_id: uuid.UUID, interaction_id: str,
                       *expected: InteractionState) -> Interaction | None:
    """The tenant's interaction if it is still in one of the expected states (else the event
    path already moved it on, and the engine hears of that separately)."""
    row = await find_in_tenant(session, Interaction, uuid.UUID(interaction_id),
                               tenant_id=tenant_id)
    if row is None or row.state not in expected:
        log.info("skipping a decision on %s: it is %s now", interaction_id,
                 row.state if row else "gone")
        return None
    return row


async def _offer(session: AsyncSession, tenant_id: uuid.UUID, decision: OfferCreated) -> None:
    row = await _interaction(session, tenant_id, decision.interaction_id, S.QUEUED,
                             S.CALLBACK_SCHEDULED)
    if row is not None:
        await change_state(session, row, StateChange(state=S.OFFERED,
                                                     agent_id=uuid.UUID(decision.agent_id)),
                           actor=ACD_ACTOR, known_targets=True,
                           details={"expires_at": decision.expires_at,
                                    "channel": decision.channel})


async def _back_to_queue(session: AsyncSession, tenant_id: uuid.UUID, interaction_id: str,
                         agent_id: str, event_type: str, reason: str) -> None:
    row = await _interaction(session, tenant_id, interaction_id, S.OFFERED)
    if row is not None:
        await change_state(session, row, StateChange(state=S.QUEUED), actor=ACD_ACTOR,
                           event_type=event_type, details={"agent_id": agent_id,
                                                           "reason": reason})


async def _escalate(session: AsyncSession, tenant_id: uuid.UUID,
                    decision: InteractionEscalated) -> None:
    row = await _interaction(session, tenant_id, decision.interaction_id, S.QUEUED, S.OFFERED)
    if row is None:
        return
    await record(session, tenant_id=row.tenant_id, type="interaction.escalated", subject=row.id,
                 payload={"queue_id": decision.queue_id, "step": decision.step,
                          "overflow_to": decision.overflow_to}, actor=ACD_ACTOR)
    if decision.overflow_to and row.state is S.QUEUED:
        await change_state(session, row, StateChange(state=S.QUEUED,
                                                     queue_id=uuid.UUID(decision.overflow_to)),
                           actor=ACD_ACTOR, details={"overflow_from": decision.queue_id})


async def _outcome(session: AsyncSession, tenant_id: uuid.UUID, decision: QueueOutcome) -> None:
    row = await _interaction(session, tenant_id, decision.interaction_id, S.QUEUED,
                             S.CALLBACK_SCHEDULED)
    if row is None:
        return
    if decision.outcome.message:
        await add_message(session, row, author_kind="system", body=decision.outcome.message,
                          actor=ACD_ACTOR)
    if decision.outcome.kind is OutcomeKind.CALLBACK_OFFER and row.state is S.QUEUED:
        await change_state(session, row, StateChange(state=S.CALLBACK_SCHEDULED),
                           actor=ACD_ACTOR, details={"cause": decision.cause})
        return
    await change_state(session, row, StateChange(state=S.CLOSED, resolved=False,
                                                 disposition=f"queue_{decision.cause}"),
                       actor=ACD_ACTOR, details={"cause": decision.cause})


async def _force_state(session: AsyncSession, tenant_id: uuid.UUID,
                       decision: AgentStateForced) -> None:
    agent = await find_in_tenant(session, Agent, uuid.UUID(decision.agent_id),
                                 tenant_id=tenant_id)
    if agent is not None:
        await change_agent_state(session, agent, AgentStateChange(
            state=AgentState(decision.state.value), reason=decision.reason), actor=ACD_ACTOR)


async def apply_decision(session: AsyncSession, tenant_id: uuid.UUID,
                         decision: Decision) -> None:
    """Write one decision of the tenant's engine (rows of another tenant are never touched)."""
    match decision:
        case OfferCreated():
            await _offer(session, tenant_id, decision)
        case OfferExpired():
            await _back_to_queue(session, tenant_id, decision.interaction_id, decision.agent_id,
                                 "offer.timed_out", "timeout")
        case OfferWithdrawn():
            await _back_to_queue(session, tenant_id, decision.interaction_id, decision.agent_id,
                                 "offer.withdrawn", decision.reason)
        case InteractionEscalated():
            await _escalate(session, tenant_id, decision)
        case QueueOutcome():
            await _outcome(session, tenant_id, decision)
        case AgentStateForced():
            await _force_state(session, tenant_id, decision)
