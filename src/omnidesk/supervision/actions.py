"""Writes of supervision, each recording its event."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.errors import Conflict, InvalidInput
from omnidesk.interactions.actions import add_message, change_state
from omnidesk.interactions.models import Interaction, Message
from omnidesk.interactions.schemas import StateChange
from omnidesk.interactions.states import InteractionState
from omnidesk.queues.models import Queue
from omnidesk.scoping import get_in_tenant
from omnidesk.supervision.schemas import MoveRequest

S = InteractionState
WHISPER = "whisper"
# States in which an agent holds the conversation (a whisper has someone to reach).
HELD = frozenset({S.OFFERED, S.CONNECTED, S.ON_HOLD, S.WRAP_UP})


async def whisper(session: AsyncSession, interaction: Interaction, *, body: str,
                  actor: str) -> Message:
    """A message with author_kind "whisper": the agent's stream carries it, no channel
    delivers it (outbound sends only agent messages)."""
    if interaction.state not in HELD or interaction.agent_id is None:
        raise Conflict(f"no agent holds this conversation (it is {interaction.state.value})",
                       field="interaction_id")
    return await add_message(session, interaction, author_kind=WHISPER, body=body,
                             actor=actor, author_id=actor)


def check_move(interaction: Interaction, data: MoveRequest) -> None:
    """A move names exactly one target and applies to a contact waiting in a queue."""
    if (data.queue_id is None) == (data.agent_id is None):
        raise InvalidInput("give either queue_id or agent_id", field="queue_id")
    if interaction.state is not S.QUEUED:
        raise Conflict(f"only a waiting contact can be moved (it is {interaction.state.value})",
                       field="state")
    if data.queue_id is not None and data.queue_id == interaction.queue_id:
        raise Conflict("the contact waits in that queue already", field="queue_id")


async def move_to_queue(session: AsyncSession, interaction: Interaction, queue_id: uuid.UUID,
                        *, actor: str) -> Interaction:
    """Queue the waiting contact in another queue; it keeps its time waited (the ACD moves it
    on the `interaction.queued` event, analytics ends the first queue's segment as moved)."""
    await get_in_tenant(session, Queue, queue_id, tenant_id=interaction.tenant_id, what="queue")
    moved_from = str(interaction.queue_id) if interaction.queue_id else None
    return await change_state(session, interaction,
                              StateChange(state=S.QUEUED, queue_id=queue_id), actor=actor,
                              details={"moved_from": moved_from, "moved_by": actor})
