"""What every messaging provider's webhook does once its signature is checked.

Twilio, the WhatsApp Cloud API and Telegram differ in format and signature, not in what
follows: find the channel (404 otherwise), store each message once per provider message id
(an `IdempotencyRecord`), turn delivery statuses into `message.*` events, and answer the
provider only after the commit.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from omnidesk.channels import service
from omnidesk.channels.base import DeliveryError
from omnidesk.channels.inbound import Accepted, InboundMessage, accept_inbound
from omnidesk.channels.known import known_channels
from omnidesk.channels.models import Channel, IdempotencyRecord
from omnidesk.channels.registry import own_settings
from omnidesk.db import Database, session_now
from omnidesk.errors import InvalidInput, NotFound
from omnidesk.events.log import record
from omnidesk.interactions.models import Interaction, Message

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

DELIVERED, FAILED, READ = "message.delivered", "message.failed", "message.read"


@dataclass(frozen=True, slots=True)
class ProviderInbound:
    """A customer's message from a provider, with its id and how to answer on its thread."""

    key: str  # the provider's message id: a retry of the same webhook carries it again
    message: InboundMessage
    thread: dict[str, Any] = field(default_factory=dict)  # merged into attributes["thread"]


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    """A provider's delivery status of a message an agent sent."""

    provider_message_id: str
    status: str  # the provider's own word: delivered, undelivered, read …
    event: str | None  # message.delivered / message.failed / message.read, None to ignore
    error: str = ""


def actor_of(channel: Channel) -> str:
    """The actor of every event a channel's webhook records."""
    return f"channel:{channel.id}"


async def load_channel(connection: HTTPConnection, channel_id: uuid.UUID, kind: str,
                       what: str) -> Channel:
    """The enabled channel of this kind, or 404 (also for another kind's channel); kept in
    memory until it changes (channels/known.py)."""
    channel = await known_channels(connection).get(channel_id)
    if channel is None or channel.kind != kind or not channel.enabled:
        raise NotFound(f"{what} channel {channel_id} not found", field="channel_id")
    return channel


def settings_of(channel: Channel, model: type[M]) -> M:
    """The channel's settings as the adapter's settings model (422 naming a bad setting); the
    settings every kind may carry (flow, survey …) are not the adapter's concern."""
    try:
        return model.model_validate(own_settings(model, channel.settings or {}))
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(part) for part in first["loc"]) or "settings"
        raise InvalidInput(f"channel setting {name}: {first['msg']}",
                           field=f"settings.{name}") from error


def parse_model(model: type[M], raw: bytes) -> M:
    """A provider's JSON body as its model; 422 naming the first bad field."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(part) for part in first["loc"]) or "body"
        raise InvalidInput(f"{name}: {first['msg']}", field=name) from error


def secret_from_env(variable: str | None, *, setting: str, fallback: str | None = None) -> str:
    """A credential read from the environment variable the channel names (never stored)."""
    if variable:
        value = os.environ.get(variable, "")
        if value:
            return value
        raise DeliveryError(f"environment variable {variable} ({setting}) is not set")
    if fallback:
        return fallback
    raise DeliveryError(f"the channel has no {setting} setting")


async def accept_once(session: AsyncSession, channel: Channel,
                      inbound: ProviderInbound) -> Accepted | None:
    """Store the message unless its provider id was stored before (then None)."""
    scope = actor_of(channel)
    if await service.find_idempotent(session, tenant_id=channel.tenant_id, scope=scope,
                                     key=inbound.key):
        return None
    accepted = await accept_inbound(session, channel, inbound.message, actor=actor_of(channel))
    if inbound.thread:
        attributes = dict(accepted.interaction.attributes or {})
        attributes["thread"] = {**attributes.get("thread", {}), **inbound.thread}
        accepted.interaction.attributes = attributes
    session.add(IdempotencyRecord(
        tenant_id=channel.tenant_id, scope=scope, key=inbound.key,
        response={"interaction_id": str(accepted.interaction.id),
                  "message_id": str(accepted.message.id)},
        created_at=session_now(session)))
    await session.flush()
    return accepted


async def apply_status_once(session: AsyncSession, channel: Channel,
                            status: ProviderStatus) -> bool:
    """Record the status as an event on the agent's message (once); False if ignored."""
    if status.event is None:
        return False
    scope, key = actor_of(channel), f"status:{status.provider_message_id}:{status.status}"
    if await service.find_idempotent(session, tenant_id=channel.tenant_id, scope=scope,
                                     key=key):
        return False
    message = await session.scalar(select(Message).where(
        Message.tenant_id == channel.tenant_id,
        Message.external_id == status.provider_message_id,
        Message.author_kind != "customer").limit(1))
    if message is None:
        return False  # not sent through omnidesk, or from another installation
    interaction = await session.get(Interaction, message.interaction_id)
    assert interaction is not None
    payload: dict[str, Any] = {"message_id": str(message.id),
                               "provider_message_id": status.provider_message_id,
                               "status": status.status}
    if status.error:
        payload["error"] = status.error
    await record(session, tenant_id=channel.tenant_id, type=status.event,
                 subject=interaction.id, payload=payload, actor=actor_of(channel))
    session.add(IdempotencyRecord(tenant_id=channel.tenant_id, scope=scope, key=key,
                                  response={"event": status.event},
                                  created_at=session_now(session)))
    await session.flush()
    return True


async def write_once(db: Database, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run the work in one write; a concurrent twin that committed first makes it run again
    (and find the idempotency records)."""
    try:
        async with db.write() as session:
            return await work(session)
    except IntegrityError:
        async with db.write() as session:
            return await work(session)
