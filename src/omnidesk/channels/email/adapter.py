"""The email channel's outbound side: agents' messages as threaded replies."""

from __future__ import annotations

from typing import ClassVar

from pydantic import ValidationError

from omnidesk.channels.base import DeliveryError, OutboundMessage
from omnidesk.channels.email.client import relay
from omnidesk.channels.email.config import KIND, settings_of
from omnidesk.channels.email.mapping import compose


class EmailAdapter:
    """Sends an agent's message to the customer's address; the Message-ID is the provider id."""

    kind: ClassVar[str] = KIND
    identity_kind: ClassVar[str] = "email"

    async def send(self, message: OutboundMessage) -> str:
        """Compose and relay the reply; return its Message-ID, or raise DeliveryError."""
        try:
            settings = settings_of(message.channel)
        except ValidationError as error:
            raise DeliveryError(f"email channel {message.channel.name!r} is misconfigured: "
                                f"{error.errors()[0]['loc']}") from error
        mail = compose(message, settings)
        await relay(mail, settings)
        return str(mail["Message-ID"])
