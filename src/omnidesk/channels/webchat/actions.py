"""Writes of the web chat: visitors, pre-chat identity, messages, left messages, hand-overs.

Every write runs inside the caller's `Database.write()`; the visitor's ack is sent only after
that commit.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.channels import service as channels
from omnidesk.channels.email.config import KIND as EMAIL_KIND
from omnidesk.channels.inbound import InboundMessage, accept_inbound
from omnidesk.channels.models import Channel, IdempotencyRecord
from omnidesk.channels.webchat.config import IDENTITY_KIND, KIND, WebchatSettings
from omnidesk.channels.webchat.models import WebchatUpload, WebchatVisitor
from omnidesk.customers import service as customers
from omnidesk.customers.actions import create_customer, merge, update_customer
from omnidesk.customers.identities import e164, email
from omnidesk.customers.models import Customer
from omnidesk.customers.schemas import CustomerCreate, CustomerUpdate, IdentityIn
from omnidesk.db import session_now
from omnidesk.errors import Conflict, InvalidInput
from omnidesk.events.log import record
from omnidesk.interactions.actions import add_message, change_state, create_interaction
from omnidesk.interactions.models import Interaction
from omnidesk.interactions.schemas import StateChange
from omnidesk.interactions.states import InteractionState
from omnidesk.queues.models import Queue

S = InteractionState
WAITING = (S.NEW, S.SELF_SERVICE, S.QUEUED, S.OFFERED)


def actor_of(channel: Channel) -> str:
    """The actor of every event the web chat records for its visitors."""
    return f"channel:{channel.id}"


def upload_url(channel_id: uuid.UUID, upload_id: uuid.UUID) -> str:
    """Where a visitor (with their token) or the tenant's staff download an upload."""
    return f"/api/v1/channels/webchat/{channel_id}/uploads/{upload_id}"


async def new_visitor(session: AsyncSession, channel: Channel) -> WebchatVisitor:
    """A visitor for a browser that has no token yet."""
    now = session_now(session)
    visitor = WebchatVisitor(tenant_id=channel.tenant_id, channel_id=channel.id, name="",
                             topic="", created_at=now, last_seen_at=now)
    session.add(visitor)
    await session.flush()
    return visitor


async def identify(session: AsyncSession, channel: Channel, visitor: WebchatVisitor, *,
                   name: str, address: str, topic: str = "") -> Customer:
    """Pre-chat: the visitor becomes the customer who owns this email address (their
    anonymous chat customer, if any, is merged into that one), or gets the address."""
    address = email(address, field="email")
    actor = actor_of(channel)
    tenant_id = channel.tenant_id
    owner = await customers.find_by_identity(session, tenant_id=tenant_id, kind="email",
                                             value=address)
    mine = await customers.find_by_identity(session, tenant_id=tenant_id, kind=IDENTITY_KIND,
                                            value=str(visitor.id))
    chat_identity = IdentityIn(kind=IDENTITY_KIND, value=str(visitor.id))
    email_identity = IdentityIn(kind="email", value=address)
    if owner is None and mine is None:
        customer = await create_customer(
            session, CustomerCreate(display_name=name, identities=[chat_identity,
                                                                   email_identity]),
            tenant_id=tenant_id, actor=actor)
    elif owner is None:
        assert mine is not None
        customer = await update_customer(session, mine, CustomerUpdate(
            display_name=None if mine.display_name else name, add_identities=[email_identity]),
            actor=actor)
    elif mine is None:
        customer = await update_customer(session, owner, CustomerUpdate(
            display_name=None if owner.display_name else name, add_identities=[chat_identity]),
            actor=actor)
    elif owner.id != mine.id:
        customer = await merge(session, owner, mine, actor=actor)
    else:
        customer = owner
    visitor.name, visitor.email, visitor.topic = name, address, topic
    visitor.customer_id = customer.id
    return customer


def _attachment(channel: Channel, upload: WebchatUpload) -> dict[str, Any]:
    return {"filename": upload.filename, "content_type": upload.content_type,
            "size": upload.size, "url": upload_url(channel.id, upload.id),
            "upload_id": str(upload.id)}


async def uploads_of(session: AsyncSession, visitor: WebchatVisitor,
                     ids: list[str]) -> list[WebchatUpload]:
    """The visitor's own uploads by id; any other id is an error naming it."""
    found: list[WebchatUpload] = []
    for index, raw in enumerate(ids):
        try:
            upload = await session.get(WebchatUpload, uuid.UUID(raw))
        except ValueError:
            upload = None
        if upload is None or upload.visitor_id != visitor.id:
            raise InvalidInput(f"unknown upload {raw!r}", field=f"attachments[{index}]")
        found.append(upload)
    return found


async def post_message(session: AsyncSession, channel: Channel, visitor: WebchatVisitor, *,
                       client_id: str, text: str, upload_ids: list[str]) -> dict[str, Any]:
    """Store the visitor's message once per client id; the answer for the ack (with
    `duplicate: true` when this client id was stored before)."""
    scope = f"webchat:{visitor.id}"
    earlier = await channels.find_idempotent(session, tenant_id=channel.tenant_id, scope=scope,
                                             key=client_id)
    if earlier is not None:
        return {**earlier.response, "duplicate": True}
    uploads = await uploads_of(session, visitor, upload_ids)
    if not text and not uploads:
        raise InvalidInput("a message needs text or an attachment", field="text")
    accepted = await accept_inbound(session, channel, InboundMessage(
        identity_kind=IDENTITY_KIND, identity_value=str(visitor.id), body=text,
        display_name=visitor.name, subject=visitor.topic, external_id=client_id,
        attachments=[_attachment(channel, upload) for upload in uploads],
        attributes={"webchat": {"visitor_id": str(visitor.id), "topic": visitor.topic}}),
        actor=actor_of(channel))
    visitor.customer_id = accepted.interaction.customer_id
    visitor.interaction_id = accepted.interaction.id
    answer = {"client_id": client_id, "message_id": str(accepted.message.id),
              "interaction_id": str(accepted.interaction.id),
              "position": accepted.message.position}
    session.add(IdempotencyRecord(tenant_id=channel.tenant_id, scope=scope, key=client_id,
                                  response=answer, created_at=session_now(session)))
    await session.flush()
    return {**answer, "duplicate": False}


async def _queue_id(session: AsyncSession, tenant_id: uuid.UUID, name: str | None,
                    fallback: uuid.UUID | None) -> uuid.UUID | None:
    if name:
        found: uuid.UUID | None = await session.scalar(
            select(Queue.id).where(Queue.tenant_id == tenant_id, Queue.name == name))
        if found is not None:
            return found
    return fallback


async def current_interaction(session: AsyncSession,
                              visitor: WebchatVisitor) -> Interaction | None:
    """The visitor's conversation (open or the last one), if they wrote already."""
    if visitor.interaction_id is None:
        return None
    return await session.get(Interaction, visitor.interaction_id)


async def leave_message(session: AsyncSession, channel: Channel, chat: WebchatSettings,
                        visitor: WebchatVisitor, *, name: str, address: str, text: str,
                        reason: str) -> Interaction:
    """A message left while nobody can chat: a new interaction (queued on `offline_queue`
    when set); a chat still waiting in line is given up for it and linked."""
    customer = await identify(session, channel, visitor, name=name, address=address,
                              topic=visitor.topic)
    actor = actor_of(channel)
    previous = await current_interaction(session, visitor)
    attributes: dict[str, Any] = {"left_message": {"reason": reason},
                                  "webchat": {"visitor_id": str(visitor.id),
                                              "topic": visitor.topic}}
    if previous is not None and previous.state not in (S.CLOSED, S.ABANDONED):
        if previous.state not in WAITING:
            raise Conflict("an agent is with you already: write in the chat",
                           field="type")
        await change_state(session, previous, StateChange(state=S.ABANDONED), actor=actor,
                           details={"reason": "left_message"})
        attributes["continued_from"] = str(previous.id)
    interaction = await create_interaction(
        session, tenant_id=channel.tenant_id, channel=KIND, channel_id=channel.id,
        customer_id=customer.id, actor=actor, subject=visitor.topic or "Message left on chat",
        attributes=attributes)
    await add_message(session, interaction, author_kind="customer", body=text, actor=actor,
                      author_id=str(customer.id))
    queue_id = await _queue_id(session, channel.tenant_id, chat.offline_queue, None)
    if queue_id is not None:
        await change_state(session, interaction, StateChange(state=S.QUEUED, queue_id=queue_id),
                           actor=actor)
    await record(session, tenant_id=channel.tenant_id, type="webchat.message_left",
                 subject=interaction.id,
                 payload={"reason": reason, "queue_id": str(queue_id) if queue_id else None,
                          "continued_from": attributes.get("continued_from")}, actor=actor)
    visitor.interaction_id = interaction.id
    return interaction


async def email_channel(session: AsyncSession, tenant_id: uuid.UUID,
                        chat: WebchatSettings) -> Channel | None:
    """The tenant's email channel for transcripts and "continue by email": the one the
    settings name, else the first enabled one by name."""
    query = select(Channel).where(Channel.tenant_id == tenant_id, Channel.kind == EMAIL_KIND,
                                  Channel.enabled.is_(True))
    if chat.email_channel:
        query = query.where(Channel.name == chat.email_channel)
    return await session.scalar(query.order_by(Channel.name).limit(1))


async def continue_elsewhere(session: AsyncSession, channel: Channel, chat: WebchatSettings,
                             visitor: WebchatVisitor, *, via: str, contact: str,
                             note: str) -> Interaction:
    """"Continue by email" or "call me back": a new interaction on that channel, linked to
    the chat (`attributes.continued_from`; the chat's `continued_to` lists it)."""
    chat_interaction = await current_interaction(session, visitor)
    if chat_interaction is None:
        raise InvalidInput("there is no chat to continue yet: write a message first",
                           field="type")
    actor = actor_of(channel)
    links = {"continued_from": str(chat_interaction.id),
             "webchat": {"visitor_id": str(visitor.id), "topic": visitor.topic}}
    if via == "email":
        target = await email_channel(session, channel.tenant_id, chat)
        if target is None:
            raise InvalidInput("this center has no email channel to continue on", field="via")
        customer = await identify(session, channel, visitor, name=visitor.name,
                                  address=contact, topic=visitor.topic)
        interaction = await create_interaction(
            session, tenant_id=channel.tenant_id, channel=EMAIL_KIND, channel_id=target.id,
            customer_id=customer.id, actor=actor, subject=visitor.topic or "Your chat with us",
            attributes=links)
        queue_id = target.default_queue_id or chat_interaction.queue_id
        request_text = f"Continue by email at {customer_email(customer)}"
    else:
        number = e164(contact, field="phone")
        customer_id = chat_interaction.customer_id
        owner = await customers.find_by_identity(session, tenant_id=channel.tenant_id,
                                                 kind="phone", value=number)
        if owner is None:
            chat_customer = await session.get(Customer, customer_id)
            assert chat_customer is not None
            await update_customer(session, chat_customer, CustomerUpdate(
                add_identities=[IdentityIn(kind="phone", value=number)]), actor=actor)
        interaction = await create_interaction(
            session, tenant_id=channel.tenant_id, channel="voice", direction="outbound",
            customer_id=customer_id, actor=actor, subject=visitor.topic or "Call back",
            attributes={**links, "callback_number": number})
        queue_id = await _queue_id(session, channel.tenant_id, chat.callback_queue,
                                   chat_interaction.queue_id or channel.default_queue_id)
        request_text = f"Call me back on {number}"
    body = f"{request_text} (from web chat {chat_interaction.id})" + (f": {note}" if note else "")
    await add_message(session, interaction, author_kind="customer", body=body, actor=actor,
                      author_id=str(interaction.customer_id))
    if queue_id is not None:
        await change_state(session, interaction, StateChange(state=S.QUEUED, queue_id=queue_id),
                           actor=actor)
        if via == "callback":
            await change_state(session, interaction, StateChange(state=S.CALLBACK_SCHEDULED),
                               actor=actor)
    chat_interaction.attributes = {
        **chat_interaction.attributes,
        "continued_to": [*chat_interaction.attributes.get("continued_to", []),
                         {"interaction_id": str(interaction.id), "via": via}]}
    await record(session, tenant_id=channel.tenant_id, type="webchat.continued",
                 subject=chat_interaction.id,
                 payload={"via": via, "interaction_id": str(interaction.id)}, actor=actor)
    return interaction


def customer_email(customer: Customer) -> str:
    """The customer's first email address ("" when none)."""
    return next((identity.value for identity in customer.identities
                 if identity.kind == "email"), "")
