"""Writes of interactions: create, post messages, move through the state machine."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from omnidesk.agents.models import Agent
from omnidesk.db import new_id, session_now
from omnidesk.errors import Conflict, InvalidInput
from omnidesk.events.log import record
from omnidesk.interactions.models import Disposition, Interaction, InteractionNote, Message
from omnidesk.interactions.schemas import DispositionCreate, StateChange
from omnidesk.interactions.states import InteractionState, check_transition
from omnidesk.queues.models import Queue
from omnidesk.scoping import require_in_tenant, update_in_tenant

S = InteractionState

# The event each transition records (analytics relies on these names: docs/events.md).
EVENT_OF_STATE = {
    S.SELF_SERVICE: "interaction.self_service_started",
    S.QUEUED: "interaction.queued",
    S.OFFERED: "offer.created",
    S.CONNECTED: "interaction.connected",
    S.ON_HOLD: "interaction.held",
    S.WRAP_UP: "interaction.wrap_up_started",
    S.TRANSFERRED: "interaction.transferred",
    S.CALLBACK_SCHEDULED: "interaction.callback_scheduled",
    S.CLOSED: "interaction.closed",
    S.ABANDONED: "interaction.abandoned",
}


async def create_interaction(
    session: AsyncSession, *, tenant_id: uuid.UUID, channel: str, customer_id: uuid.UUID,
    actor: str, channel_id: uuid.UUID | None = None, direction: str = "inbound",
    subject: str = "", attributes: dict[str, Any] | None = None, deferred: bool = False,
) -> Interaction:
    """A new interaction in state `new`; `deferred`: inserted at the session's next flush,
    so that its first message and state go into the INSERT rather than UPDATEs after it
    (the caller flushes before writing rows that refer to it)."""
    now = session_now(session)
    interaction = Interaction(
        id=new_id(), tenant_id=tenant_id, channel=channel, channel_id=channel_id,
        direction=direction, customer_id=customer_id, state=S.NEW, subject=subject,
        attributes=attributes or {}, priority=0, message_count=0, created_at=now,
        updated_at=now)
    session.add(interaction)
    if not deferred:
        await session.flush()
    await record(session, tenant_id=tenant_id, type="interaction.created", subject=interaction.id,
                 payload={"channel": channel, "direction": direction,
                          "customer_id": str(customer_id),
                          "channel_id": str(channel_id) if channel_id else None}, actor=actor)
    return interaction


# Every message of a conversation runs it: built once (docs/development.md, "the hot path").
_TAKE_POSITION = (update(Interaction).where(Interaction.id == bindparam("interaction_id"))
                  .values(message_count=Interaction.message_count + 1)
                  .returning(Interaction.message_count)
                  .execution_options(synchronize_session=False))


async def _take_position(session: AsyncSession, interaction: Interaction) -> None:
    """Count the new message in the database: the row lock orders concurrent writers (a
    customer's message and a bot's timeout reply) so that each gets its own position. An
    interaction not inserted yet is this transaction's alone: counted in memory."""
    if interaction in session.new:
        interaction.message_count += 1
        return
    await session.flush()
    taken = await session.scalar(_TAKE_POSITION, {"interaction_id": interaction.id})
    set_committed_value(interaction, "message_count", int(taken or 0))


async def add_message(
    session: AsyncSession, interaction: Interaction, *, author_kind: str, body: str,
    actor: str, author_id: str | None = None, attachments: list[dict[str, Any]] | None = None,
    external_id: str | None = None, template: dict[str, Any] | None = None,
    options: list[dict[str, str]] | None = None,
) -> Message:
    """Append a message to an interaction (`template`: the provider template to send instead
    of the body, carried by the event to the channel's adapter; `options`: a bot message's
    choices, which the body lists too)."""
    await _take_position(session, interaction)
    message = Message(id=new_id(), tenant_id=interaction.tenant_id,
                      interaction_id=interaction.id, position=interaction.message_count,
                      author_kind=author_kind, author_id=author_id, body=body,
                      attachments=attachments or [], external_id=external_id,
                      options=options or None, created_at=session_now(session))
    session.add(message)  # inserted at the next flush (a twin's IntegrityError then)
    interaction.updated_at = message.created_at
    payload: dict[str, Any] = {"message_id": str(message.id), "position": message.position,
                               "author_kind": author_kind, "author_id": author_id,
                               "body": body, "attachments": len(message.attachments)}
    if template is not None:
        payload["template"] = template
    await record(session, tenant_id=interaction.tenant_id, type="message.created",
                 subject=interaction.id, payload=payload, actor=actor)
    return message


async def _check_targets(session: AsyncSession, interaction: Interaction,
                         change: StateChange, *, look_up: bool) -> None:
    tenant_id = interaction.tenant_id
    if look_up and change.queue_id is not None:
        await require_in_tenant(session, Queue, change.queue_id, tenant_id=tenant_id,
                                what="queue")
    if look_up and change.agent_id is not None:
        await require_in_tenant(session, Agent, change.agent_id, tenant_id=tenant_id,
                                what="agent")
    if change.state is S.QUEUED and (change.queue_id or interaction.queue_id) is None:
        raise InvalidInput("queueing needs a queue_id", field="queue_id")
    if change.state is S.CONNECTED and (change.agent_id or interaction.agent_id) is None:
        raise InvalidInput("connecting needs an agent_id", field="agent_id")


def _event_type(previous: InteractionState, target: InteractionState) -> str:
    if previous is S.ON_HOLD and target is S.CONNECTED:
        return "interaction.resumed"
    if previous is S.OFFERED and target is S.QUEUED:
        return "interaction.requeued"  # back in line, not a new queue entry
    return EVENT_OF_STATE[target]


def _stamped(interaction: Interaction, target: InteractionState, change: StateChange,
             now: datetime) -> dict[str, Any]:
    """The columns a move to `target` sets, besides the state and the update time."""
    values: dict[str, Any] = {}
    if change.queue_id is not None:
        values["queue_id"] = change.queue_id
    if change.agent_id is not None:
        values["agent_id"] = change.agent_id
    if change.priority is not None:
        values["priority"] = change.priority
    if target is S.QUEUED:
        values["agent_id"] = None  # a waiting contact has no agent
        if interaction.state not in (S.OFFERED, S.QUEUED):
            values["queued_at"] = now  # a requeue or an overflow keeps its place
    if target is S.CONNECTED and interaction.connected_at is None:
        values["connected_at"] = now
    if target in (S.CLOSED, S.ABANDONED):
        values["ended_at"] = now
    return values


async def change_state(session: AsyncSession, interaction: Interaction, change: StateChange, *,
                       actor: str, event_type: str | None = None,
                       details: dict[str, Any] | None = None,
                       known_targets: bool = False) -> Interaction:
    """Move the interaction to a new state, if the state machine allows it, and record it
    (as `event_type` when the caller knows better, e.g. offer.timed_out, with `details`).
    `known_targets`: the change's queue and agent come from the tenant's own configuration
    (the router's engine, a channel's default queue), so they are not looked up again."""
    previous = interaction.state
    target = check_transition(previous, change.state)
    await _check_targets(session, interaction, change, look_up=not known_targets)
    now = session_now(session)
    await update_in_tenant(session, interaction, _stamped(interaction, target, change, now)
                           | {"state": target, "updated_at": now})
    payload: dict[str, Any] = {
        "from": previous.value,
        "queue_id": str(interaction.queue_id) if interaction.queue_id else None,
        "agent_id": str(interaction.agent_id) if interaction.agent_id else None,
        "priority": interaction.priority,
    }
    if target is S.QUEUED and interaction.required_skills:
        payload["skills"] = interaction.required_skills
    if target is S.CLOSED:
        handled = interaction.connected_at
        payload |= {"resolved": bool(change.resolved), "disposition": change.disposition,
                    "handle_seconds": (now - handled).total_seconds() if handled else None}
    await record(session, tenant_id=interaction.tenant_id,
                 type=event_type or _event_type(previous, target), subject=interaction.id,
                 payload=payload | (details or {}), actor=actor)
    return interaction


async def add_note(session: AsyncSession, interaction: Interaction, *, body: str, kind: str,
                   actor: str, author_name: str,
                   to_user_id: uuid.UUID | None = None) -> InteractionNote:
    """A staff-only note on the interaction (`note.created`); outbound delivery never sees it
    (it is not a message)."""
    note = InteractionNote(tenant_id=interaction.tenant_id, interaction_id=interaction.id,
                           kind=kind, author_id=actor, author_name=author_name,
                           to_user_id=to_user_id, body=body, created_at=session_now(session))
    session.add(note)
    await session.flush()
    await record(session, tenant_id=interaction.tenant_id, type="note.created",
                 subject=interaction.id,
                 payload={"note_id": str(note.id), "kind": kind, "body": body,
                          "author_id": actor, "author_name": author_name,
                          "to_user_id": str(to_user_id) if to_user_id else None,
                          "agent_id": str(interaction.agent_id) if interaction.agent_id
                          else None}, actor=actor)
    return note


async def create_disposition(session: AsyncSession, data: DispositionCreate, *,
                             tenant_id: uuid.UUID, actor: str) -> Disposition:
    """A new wrap-up reason code, last in order (its code unique in the tenant: 409)."""
    existing = await session.scalar(select(Disposition).where(
        Disposition.tenant_id == tenant_id, Disposition.code == data.code))
    if existing is not None:
        raise Conflict(f"disposition {data.code!r} exists already", field="code")
    last = await session.scalar(select(func.max(Disposition.position)).where(
        Disposition.tenant_id == tenant_id))
    disposition = Disposition(tenant_id=tenant_id, code=data.code, label=data.label,
                              resolved=data.resolved, position=(last or 0) + 1)
    session.add(disposition)
    await session.flush()
    await record(session, tenant_id=tenant_id, type="disposition.created",
                 subject=disposition.id, payload=data.model_dump(), actor=actor)
    return disposition


async def update_disposition(session: AsyncSession, disposition: Disposition,
                             data: DispositionCreate, *, actor: str) -> Disposition:
    """Change a disposition's label or default (the code is its identity)."""
    if (disposition.label, disposition.resolved) != (data.label, data.resolved):
        disposition.label, disposition.resolved = data.label, data.resolved
        await record(session, tenant_id=disposition.tenant_id, type="disposition.updated",
                     subject=disposition.id, payload=data.model_dump(), actor=actor)
    return disposition


async def delete_disposition(session: AsyncSession, disposition: Disposition, *,
                             actor: str) -> None:
    """Remove a disposition (interactions closed with it keep their code)."""
    await record(session, tenant_id=disposition.tenant_id, type="disposition.deleted",
                 subject=disposition.id, payload={"code": disposition.code}, actor=actor)
    await session.delete(disposition)
    await session.flush()


async def check_disposition(session: AsyncSession, interaction: Interaction,
                            change: StateChange) -> None:
    """When the tenant has dispositions, closing must use one of them (422 naming
    `disposition`); a tenant without any accepts free text."""
    if change.state is not S.CLOSED or change.disposition is None:
        return
    codes = set((await session.scalars(select(Disposition.code).where(
        Disposition.tenant_id == interaction.tenant_id))).all())
    if codes and change.disposition not in codes:
        raise InvalidInput(f"unknown disposition {change.disposition!r}; known: "
                           + ", ".join(sorted(codes)), field="disposition")
