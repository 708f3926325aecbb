"""The settings of a Twilio voice channel (the auth token itself is never stored in them)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

KIND = "twilio_voice"
VOICE_PATH, GATHER_PATH, WAIT_PATH, STATUS_PATH = "voice", "gather", "wait", "status"
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]*$")]
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def check_endpoint(value: str) -> str:
    """An agent's phone as Twilio's <Dial> takes it: +E.164, or a sip:/sips: URI."""
    text = value.strip()
    if _E164.match(text) or (text.lower().startswith(("sip:", "sips:")) and "@" in text):
        return text
    raise ValueError(f"{value!r} is neither a +E.164 number nor a sip: address")


class TwilioVoiceSettings(BaseModel):
    """`Channel.settings` of kind twilio_voice; `Channel.secret` is the account's auth token
    (Twilio signs every webhook with it). Other keys are left alone: a channel may override
    its flow's `settings` beside these (docs/selfservice.md)."""

    model_config = ConfigDict(extra="ignore")

    account_sid: str = ""  # AC…; needed to redirect calls to agents
    auth_token_env: EnvName | None = None  # env variable with the token for the REST API
    api_key_sid: str | None = None  # SK…: an API key to call the REST API with instead
    public_url: str | None = None  # the voice URL exactly as pasted into Twilio
    status_callback_url: str | None = None  # default: public_url with /voice → /status
    api_base_url: str = "https://api.twilio.com"
    language: str | None = None  # <Say language=…> and <Gather language=…>, e.g. en-US
    say_voice: str | None = None  # <Say voice=…>: man, woman, Polly.Joanna …
    audio_base_url: str | None = None  # where a flow's `audio` files are published for <Play>
    hold_music_url: str | None = None  # <Play>ed while queued; without it: silence
    announce_seconds: int = Field(default=30, ge=0, le=600)  # position every …; 0: never
    speech: bool = True  # <Gather input="dtmf speech">; false: keys only
    agent_endpoints: dict[str, str] = {}  # agent login email → +E.164 or sip:… to <Dial>
    dial_timeout_seconds: int = Field(default=30, ge=5, le=600)  # ring the agent this long

    @field_validator("agent_endpoints")
    @classmethod
    def _endpoints(cls, value: dict[str, str]) -> dict[str, str]:
        return {email.strip().lower(): check_endpoint(target) for email, target in value.items()}

    def base_url(self) -> str | None:
        """The channel's webhook folder as Twilio sees it (public_url without `/voice`)."""
        if self.public_url:
            return self.public_url.rstrip("/").removesuffix(f"/{VOICE_PATH}")
        return None

    def status_url(self) -> str | None:
        """The public URL of the status callback, if it can be known."""
        if self.status_callback_url:
            return self.status_callback_url
        base = self.base_url()
        return f"{base}/{STATUS_PATH}" if base else None

    def endpoint_of(self, email: str) -> str | None:
        """Where to <Dial> the agent with this login, if the channel says."""
        return self.agent_endpoints.get(email.strip().lower())
