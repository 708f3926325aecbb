"""Storing an inbound mail: once per Message-ID, on its thread's interaction, in the caller's
transaction (the SMTP 250 and the IMAP "seen" flag come only after its commit)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.channels import service
from omnidesk.channels.email.mapping import (
    BOUNCE,
    ParsedMail,
    interaction_of_message_id,
    thread_after,
)
from omnidesk.channels.inbound import InboundMessage, accept_inbound
from omnidesk.channels.models import Channel, IdempotencyRecord
from omnidesk.customers.actions import find_or_create
from omnidesk.customers.schemas import IdentityIn
from omnidesk.db import session_now
from omnidesk.events.log import record
from omnidesk.files import FileBatch
from omnidesk.interactions import attachments
from omnidesk.interactions.actions import add_message
from omnidesk.interactions.models import Interaction, Message
from omnidesk.interactions.states import TERMINAL_STATES

AUTOMATED_EVENT = "email.automated_received"
EMAIL_IDENTITY = "email"


def scope_of(channel: Channel) -> str:
    """The idempotency scope of a channel's Message-IDs."""
    return f"email:{channel.id}"


def actor_of(channel: Channel) -> str:
    """Who the event log names for what the channel stores."""
    return f"channel:{channel.id}"


async def store_mail(session: AsyncSession, channel: Channel, mail: ParsedMail, *,
                     data_dir: Path, files: FileBatch) -> dict[str, Any]:
    """Store the mail once (a resent Message-ID returns the first answer, storing no file
    again); its attachments' files go under `data_dir`, into `files`. Returns where."""
    earlier = await service.find_idempotent(session, tenant_id=channel.tenant_id,
                                            scope=scope_of(channel), key=mail.message_id)
    if earlier is not None:
        return {**earlier.response, "replayed": True}
    if mail.automated:
        answer, stored = await _store_automated(session, channel, mail)
    else:
        answer, stored = await _store_from_customer(session, channel, mail)
    if stored is not None and mail.contents:
        await attachments.store_for_message(session, *stored, mail.contents,
                                            data_dir=data_dir, batch=files)
    session.add(IdempotencyRecord(tenant_id=channel.tenant_id, scope=scope_of(channel),
                                  key=mail.message_id, response=answer,
                                  created_at=session_now(session)))
    return answer


Stored = tuple[Interaction, Message] | None
"""The message a mail became, with its interaction (None: only an event was recorded)."""


async def _store_from_customer(session: AsyncSession, channel: Channel,
                               mail: ParsedMail) -> tuple[dict[str, Any], Stored]:
    """On the thread's open interaction; else as any new contact (following a closed one)."""
    customer = await find_or_create(
        session, tenant_id=channel.tenant_id, display_name=mail.sender_name,
        identity=IdentityIn(kind=EMAIL_IDENTITY, value=mail.sender), actor=actor_of(channel))
    thread = await find_thread(session, channel, mail, customer_id=customer.id)
    if thread is not None and thread.state not in TERMINAL_STATES:
        interaction = thread
        message = await add_message(session, thread, author_kind="customer", body=mail.body,
                                    actor=actor_of(channel), author_id=str(customer.id),
                                    attachments=mail.attachments, external_id=mail.message_id)
    else:
        accepted = await accept_inbound(session, channel, InboundMessage(
            identity_kind=EMAIL_IDENTITY, identity_value=mail.sender, body=mail.body,
            display_name=mail.sender_name, subject=mail.topic, external_id=mail.message_id,
            attachments=mail.attachments,
            attributes={"follows": str(thread.id)} if thread is not None else {}),
            actor=actor_of(channel))
        interaction, message = accepted.interaction, accepted.message
    remember_thread(interaction, mail)
    return {"interaction_id": str(interaction.id), "message_id": str(message.id)}, \
        (interaction, message)


async def _store_automated(session: AsyncSession, channel: Channel,
                           mail: ParsedMail) -> tuple[dict[str, Any], Stored]:
    """A bounce or auto-reply: a system note on its open thread, else only an event."""
    thread = await find_thread(session, channel, mail, customer_id=None)
    label = "Delivery failure report" if mail.automated == BOUNCE else "Automatic reply"
    if thread is not None and thread.state not in TERMINAL_STATES:
        message = await add_message(
            session, thread, author_kind="system", actor=actor_of(channel),
            body=f"{label} from {mail.sender or 'the mail system'}: {mail.subject}\n\n{mail.body}",
            attachments=mail.attachments, external_id=mail.message_id)
        return {"interaction_id": str(thread.id), "message_id": str(message.id),
                "automated": mail.automated}, (thread, message)
    await record(session, tenant_id=channel.tenant_id, type=AUTOMATED_EVENT,
                 subject=thread.id if thread is not None else channel.id,
                 payload={"kind": mail.automated, "from": mail.sender, "subject": mail.subject,
                          "message_id": mail.message_id, "body": mail.body[:2000],
                          "interaction_id": str(thread.id) if thread is not None else None},
                 actor=actor_of(channel))
    return {"interaction_id": str(thread.id) if thread else None, "message_id": None,
            "automated": mail.automated}, None


def remember_thread(interaction: Interaction, mail: ParsedMail) -> None:
    """Keep the thread's Message-IDs in interaction.attributes["thread"] for our replies."""
    thread = thread_after(interaction.attributes.get("thread") or {}, mail)
    interaction.attributes = {**interaction.attributes, "thread": thread}


async def find_thread(session: AsyncSession, channel: Channel, mail: ParsedMail, *,
                      customer_id: uuid.UUID | None) -> Interaction | None:
    """The interaction a mail answers: by our Message-IDs it cites, by the customer's own
    Message-IDs, or by the subject token on one of the customer's interactions."""
    cited = [*mail.references, *mail.reported]
    for message_id in reversed(cited):
        interaction_id = interaction_of_message_id(message_id)
        found = await session.get(Interaction, interaction_id) if interaction_id else None
        if found is not None and found.tenant_id == channel.tenant_id and \
                found.channel_id == channel.id:
            return found
    if customer_id is None:
        return None
    return await _by_cited_ids(session, channel, cited, customer_id) or \
        await _by_token(session, channel, mail.token, customer_id)


def _customer_threads(channel: Channel, customer_id: uuid.UUID) -> Any:
    """The conditions for the customer's interactions on this channel."""
    return (Interaction.tenant_id == channel.tenant_id, Interaction.channel_id == channel.id,
            Interaction.customer_id == customer_id)


async def _by_cited_ids(session: AsyncSession, channel: Channel, cited: list[str],
                        customer_id: uuid.UUID) -> Interaction | None:
    """The customer's interaction holding a message with one of the cited Message-IDs."""
    if not cited:
        return None
    return await session.scalar(
        select(Interaction).join(Message, Message.interaction_id == Interaction.id)
        .where(*_customer_threads(channel, customer_id), Message.external_id.in_(cited))
        .order_by(Message.created_at.desc()).limit(1))


async def _by_token(session: AsyncSession, channel: Channel, token: str | None,
                    customer_id: uuid.UUID) -> Interaction | None:
    """The customer's interaction whose id starts with the subject's token."""
    if token is None:
        return None
    interactions = await session.scalars(
        select(Interaction).where(*_customer_threads(channel, customer_id))
        .order_by(Interaction.created_at.desc()))
    return next((found for found in interactions if found.id.hex.startswith(token)), None)
