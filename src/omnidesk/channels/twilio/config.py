"""The settings of a Twilio channel (the auth token itself is never stored in them)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]*$")]


class TwilioSettings(BaseModel):
    """`Channel.settings` of kind twilio; `Channel.secret` is the account's auth token."""

    model_config = ConfigDict(extra="forbid")

    account_sid: str = ""  # AC…; needed to send
    auth_token_env: EnvName | None = None  # env variable with the token for the REST API
    api_key_sid: str | None = None  # SK…: an API key to send with instead of the account
    from_number: str | None = None  # +1415…, or whatsapp:+1415… for a WhatsApp sender
    messaging_service_sid: str | None = None  # MG…: send through a Messaging Service
    public_url: str | None = None  # the messages URL exactly as pasted into Twilio
    status_callback_url: str | None = None  # default: public_url with /messages → /status
    api_base_url: str = "https://api.twilio.com"

    def status_url(self) -> str | None:
        """The public URL of the status webhook, if it can be known."""
        if self.status_callback_url:
            return self.status_callback_url
        if self.public_url and self.public_url.rstrip("/").endswith("/messages"):
            return self.public_url.rstrip("/").removesuffix("/messages") + "/status"
        return None
