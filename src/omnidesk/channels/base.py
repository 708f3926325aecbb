"""The one small contract every channel adapter meets.

Inbound, an adapter turns the provider's request (an SMTP message, a Twilio webhook, a
WhatsApp webhook …) into an `InboundMessage` and calls `channels.inbound.accept_inbound`
inside a `Database.write()`; it acknowledges the provider only after that commit. Provider
retries are made harmless with an `IdempotencyRecord` on the provider's message id.

Outbound, an adapter delivers what an agent wrote: `OutboundService` calls `send` after the
agent's message is committed, and records `message.delivered` or `message.failed`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from omnidesk.channels.models import Channel


@dataclass(frozen=True, slots=True)
class OutboundFile:
    """A stored file the agent attached, with its bytes (for channels that send files)."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """An agent's message, with what the adapter needs to address and thread it."""

    channel: Channel
    interaction_id: str
    message_id: str
    body: str
    recipient: str  # the customer's identity value on this channel (E.164, email, chat id …)
    subject: str = ""
    attachments: list[dict[str, Any]] = field(default_factory=list)
    thread: dict[str, Any] = field(default_factory=dict)  # e.g. email Message-IDs so far
    template: dict[str, Any] | None = None  # a provider template to send instead of the body
    files: list[OutboundFile] = field(default_factory=list)  # the stored attachments' bytes


class DeliveryError(Exception):
    """The provider refused or could not be reached; the message is marked failed."""


class ChannelAdapter(Protocol):
    """What the platform needs of a channel kind."""

    kind: ClassVar[str]
    identity_kind: ClassVar[str]  # which customer identity it addresses (phone, email …)

    async def send(self, message: OutboundMessage) -> str:
        """Deliver the message; return the provider's id for it, or raise DeliveryError."""
        ...
