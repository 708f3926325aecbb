"""The one path every channel's inbound message takes: customer, interaction, message, queue."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.channels.models import Channel
from omnidesk.customers.actions import create_unless_twin
from omnidesk.customers.schemas import IdentityIn
from omnidesk.customers.service import find_by_identity
from omnidesk.intake import admit_new_contact
from omnidesk.interactions.actions import add_message, change_state, create_interaction
from omnidesk.interactions.models import Interaction, Message
from omnidesk.interactions.schemas import StateChange
from omnidesk.interactions.service import open_interaction_for
from omnidesk.interactions.states import InteractionState
from omnidesk.surveys.actions import take_reply as take_survey_reply


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A customer's message as any channel adapter hands it over."""

    identity_kind: str
    identity_value: str
    body: str
    display_name: str = ""
    subject: str = ""
    external_id: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    priority: int = 0


@dataclass(frozen=True, slots=True)
class Accepted:
    """Where an inbound message landed."""

    interaction: Interaction
    message: Message


async def accept_inbound(session: AsyncSession, channel: Channel, inbound: InboundMessage,
                         *, actor: str) -> Accepted:
    """Store the message on the customer's open interaction, or open a new one and queue it
    (or start self-service when the channel names a flow); a new one only while routing
    keeps up (`Overloaded` otherwise, see omnidesk.intake)."""
    identity = IdentityIn(kind=inbound.identity_kind, value=inbound.identity_value)
    customer = await find_by_identity(session, tenant_id=channel.tenant_id, kind=identity.kind,
                                      value=identity.value)
    created = False
    if customer is None:  # a new customer is a new contact: refused before anything is written
        admit_new_contact(session)
        customer, created = await create_unless_twin(
            session, tenant_id=channel.tenant_id, identity=identity, actor=actor,
            display_name=inbound.display_name)
    interaction: Interaction | None = None
    if not created:  # only a customer known before has an open interaction or a survey
        interaction = await open_interaction_for(
            session, tenant_id=channel.tenant_id, customer_id=customer.id,
            channel_id=channel.id)
        if interaction is None:  # the answer to a post-contact survey is not a new contact
            reply = await take_survey_reply(
                session, channel=channel, customer_id=customer.id, body=inbound.body,
                actor=actor, author_id=str(customer.id), external_id=inbound.external_id)
            if reply is not None:
                return Accepted(interaction=reply.interaction, message=reply.message)
    is_new = interaction is None
    if interaction is None:
        admit_new_contact(session)
        interaction = await create_interaction(
            session, tenant_id=channel.tenant_id, channel=channel.kind, channel_id=channel.id,
            customer_id=customer.id, subject=inbound.subject, attributes=inbound.attributes,
            actor=actor, deferred=True)
    message = await add_message(session, interaction, author_kind="customer", body=inbound.body,
                                actor=actor, author_id=str(customer.id),
                                attachments=inbound.attachments, external_id=inbound.external_id)
    if is_new and channel.settings.get("flow"):  # self-service first (docs/selfservice.md)
        await change_state(session, interaction, StateChange(state=InteractionState.SELF_SERVICE),
                           actor=actor, details={"flow_id": channel.settings["flow"],
                                                 "version": channel.settings.get("flow_version")})
    elif is_new and channel.default_queue_id is not None:
        await change_state(session, interaction,
                           StateChange(state=InteractionState.QUEUED,
                                       queue_id=channel.default_queue_id,
                                       priority=inbound.priority), actor=actor,
                           known_targets=True)
    await session.flush()  # the rows exist for what the caller writes next
    return Accepted(interaction=interaction, message=message)
