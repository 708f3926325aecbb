"""The voice channel kind in the channel registry: calls carry audio, not text messages."""

from __future__ import annotations

from typing import ClassVar

from omnidesk.channels.base import DeliveryError, OutboundMessage
from omnidesk.channels.voice.config import KIND


class VoiceAdapter:
    """Registered so the platform knows the kind; an agent's text on a call is refused."""

    kind: ClassVar[str] = KIND
    identity_kind: ClassVar[str] = "phone"

    async def send(self, message: OutboundMessage) -> str:
        """Always DeliveryError: there is no text path to a caller (the message is failed)."""
        raise DeliveryError("a phone call carries no text messages")
