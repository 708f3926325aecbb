"""The web chat adapter: agents' (and bots') messages reach visitors through their sockets."""

from __future__ import annotations

from typing import ClassVar

from omnidesk.channels import registry
from omnidesk.channels.base import OutboundMessage
from omnidesk.channels.webchat.config import IDENTITY_KIND, KIND, WebchatSettings


class WebchatAdapter:
    """Delivery is the visitor's stream: the stored message is pushed to every open socket of
    the conversation (the visitor hub follows `message.created`) and replayed to a socket
    that resumes later. So a stored message is delivered; the provider id is our own."""

    kind: ClassVar[str] = KIND
    identity_kind: ClassVar[str] = IDENTITY_KIND

    async def send(self, message: OutboundMessage) -> str:
        """Nothing to call: the message is in the visitor's stream once committed."""
        return f"webchat:{message.message_id}"


adapter = WebchatAdapter()
registry.register(adapter, WebchatSettings)
