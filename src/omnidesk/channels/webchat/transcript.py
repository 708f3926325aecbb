"""Transcript by email: the conversation as plain text, sent through the tenant's email channel."""

from __future__ import annotations

import uuid

from omnidesk.channels.base import DeliveryError, OutboundMessage
from omnidesk.channels.models import Channel
from omnidesk.channels.registry import adapter_for
from omnidesk.channels.webchat import actions, service
from omnidesk.channels.webchat.config import WebchatSettings
from omnidesk.channels.webchat.models import WebchatVisitor
from omnidesk.customers.identities import email
from omnidesk.db import Database
from omnidesk.errors import InvalidInput, OmnideskError
from omnidesk.events.log import record
from omnidesk.interactions.models import Interaction, Message

AUTHORS = {"customer": "You", "agent": "Agent", "bot": "Assistant", "system": "Notice"}


class DeliveryFailed(OmnideskError):
    """The email relay refused or could not be reached."""

    status_code = 502
    code = "delivery_failed"


def render(interaction: Interaction, messages: list[Message], *, title: str) -> str:
    """The conversation as plain text, one message per paragraph."""
    lines = [f"{title} — transcript of your conversation", ""]
    for message in messages:
        when = message.created_at.strftime("%Y-%m-%d %H:%M UTC")
        who = AUTHORS.get(message.author_kind, message.author_kind)
        lines.append(f"[{when}] {who}: {message.body}")
        lines += [f"    attachment: {item.get('filename')}" for item in message.attachments]
    lines += ["", f"Reference: {interaction.id}"]
    return "\n".join(lines)


async def send_transcript(db: Database, channel: Channel, chat: WebchatSettings,
                          visitor: WebchatVisitor, address: str | None) -> str:
    """Email the visitor's conversation; returns the address it went to. Errors name the
    field: no conversation yet, no address, no email channel, or the relay refusing."""
    target = email(address or visitor.email or "", field="email") \
        if (address or visitor.email) else None
    if target is None:
        raise InvalidInput("give an email address for the transcript", field="email")
    async with db.read() as session:
        interaction = await actions.current_interaction(session, visitor)
        if interaction is None:
            raise InvalidInput("there is no conversation to send yet", field="type")
        messages = [message for message in
                    await service.messages_after(session, interaction.id, 0)
                    if message.author_kind in service.VISIBLE_AUTHORS]
        via = await actions.email_channel(session, channel.tenant_id, chat)
    adapter = adapter_for("email")
    if via is None or adapter is None:
        raise InvalidInput("this center has no email channel to send the transcript with",
                           field="email")
    body = render(interaction, messages, title=chat.title)
    try:
        provider_id = await adapter.send(OutboundMessage(
            channel=via, interaction_id=str(interaction.id), message_id=str(uuid.uuid4()),
            body=body, recipient=target, subject=f"{chat.title}: your transcript"))
    except DeliveryError as error:
        raise DeliveryFailed(f"the transcript could not be sent: {error}",
                             field="email") from error
    async with db.write() as session:
        await record(session, tenant_id=channel.tenant_id, type="webchat.transcript_sent",
                     subject=interaction.id,
                     payload={"email": target, "provider_message_id": provider_id,
                              "email_channel_id": str(via.id)},
                     actor=actions.actor_of(channel))
    return target
