"""Reads of the web chat: the channel and its settings, visitors, availability, messages."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from omnidesk.acd.service import AcdService
from omnidesk.channels import provider_webhook
from omnidesk.channels.models import Channel
from omnidesk.channels.provider_webhook import settings_of
from omnidesk.channels.webchat.config import KIND, WebchatSettings
from omnidesk.errors import NotFound
from omnidesk.interactions.models import Message
from omnidesk.routing import UnknownRoutingObject

CHAT, LEAVE_MESSAGE = "chat", "leave_message"
# What the visitor sees; anything else (a supervisor's whisper to the agent …) stays inside.
VISIBLE_AUTHORS = frozenset({"customer", "agent", "bot", "system"})


async def load_channel(connection: HTTPConnection, channel_id: str | uuid.UUID) -> Channel:
    """The enabled web chat channel with this id (a string from a URL too), or 404 naming
    channel_id."""
    try:
        key = channel_id if isinstance(channel_id, uuid.UUID) else uuid.UUID(channel_id)
    except ValueError:
        raise NotFound(f"web chat channel {channel_id!r} not found", field="channel_id") \
            from None
    return await provider_webhook.load_channel(connection, key, KIND, "web chat")


def settings(channel: Channel) -> WebchatSettings:
    """The channel's web chat settings (422 naming a malformed setting)."""
    return settings_of(channel, WebchatSettings)


@dataclass(frozen=True, slots=True)
class Availability:
    """Whether a person can chat now, or the visitor should leave a message."""

    mode: str  # "chat" or "leave_message"
    open: bool
    reason: str | None = None  # "closed" or "wait_too_long"
    estimated_wait_s: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The frame's availability object."""
        return asdict(self)


async def availability(acd: AcdService, channel: Channel,
                       chat: WebchatSettings) -> Availability:
    """From the default queue as the router sees it now: closed (business hours, holidays) or
    an estimated wait above `max_estimated_wait_seconds` means "leave a message"."""
    if channel.default_queue_id is None:
        return Availability(mode=CHAT, open=True)
    router = await acd.current_router(channel.tenant_id)
    try:
        status = router.engine.queue_status(str(channel.default_queue_id), acd.now())
    except UnknownRoutingObject:
        return Availability(mode=CHAT, open=True)
    estimate = ((status.waiting + 1) * status.average_handle_time_s / status.staffed_capacity
                if status.staffed_capacity else None)
    if not status.is_open:
        return Availability(mode=LEAVE_MESSAGE, open=False, reason="closed")
    limit = chat.max_estimated_wait_seconds
    if limit is not None and estimate is not None and estimate > limit:
        return Availability(mode=LEAVE_MESSAGE, open=True, reason="wait_too_long",
                            estimated_wait_s=round(estimate, 1))
    return Availability(mode=CHAT, open=True,
                        estimated_wait_s=None if estimate is None else round(estimate, 1))


async def messages_after(session: AsyncSession, interaction_id: uuid.UUID,
                         position: int) -> Sequence[Message]:
    """The interaction's messages after a position, oldest first."""
    return (await session.scalars(
        select(Message).where(Message.interaction_id == interaction_id,
                              Message.position > position)
        .order_by(Message.position))).all()


async def position_of(session: AsyncSession, interaction_id: uuid.UUID,
                      message_id: str | None) -> int:
    """Where the visitor's last seen message is in the interaction (0: show everything)."""
    if not message_id:
        return 0
    try:
        key = uuid.UUID(message_id)
    except ValueError:
        return 0
    found = await session.scalar(select(Message.position).where(
        Message.id == key, Message.interaction_id == interaction_id))
    return int(found or 0)


def message_frame(message: Message, channel_id: uuid.UUID) -> dict[str, Any]:
    """A stored message as the visitor sees it (staff ids are not shown)."""
    return {"type": "message", "id": str(message.id),
            "interaction_id": str(message.interaction_id), "position": message.position,
            "author": message.author_kind, "text": message.body,
            "client_id": message.external_id if message.author_kind == "customer" else None,
            "attachments": [_attachment(item) for item in message.attachments],
            "options": message.options or [],
            "created_at": message.created_at.isoformat()}


def _attachment(item: dict[str, Any]) -> dict[str, Any]:
    return {key: item.get(key) for key in ("filename", "content_type", "size", "url")}
