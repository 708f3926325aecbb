"""An email channel's settings (Channel.settings of kind "email"); secrets stay in the env."""

from __future__ import annotations

import os
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from omnidesk.channels.models import Channel
from omnidesk.customers.identities import email
from omnidesk.errors import InvalidInput

KIND = "email"
Host = Annotated[str, StringConstraints(min_length=1, max_length=255)]


class ImapSettings(BaseModel):
    """An existing mailbox omnidesk reads by IMAP (as well as, or instead of, inbound SMTP)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: Host
    port: int = Field(default=993, ge=1, le=65535)
    security: Literal["ssl", "none"] = "ssl"
    username: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    password_env: str  # the NAME of the env var holding the mailbox password
    mailbox: Annotated[str, StringConstraints(min_length=1, max_length=255)] = "INBOX"
    poll_seconds: float = Field(default=60, ge=1, le=3600)
    timeout_seconds: float = Field(default=30, gt=0, le=300)

    def password(self) -> str | None:
        """The mailbox password, read from the environment variable named by password_env."""
        return os.environ.get(self.password_env)


class EmailSettings(BaseModel):
    """Where mail arrives (address, optionally an IMAP mailbox) and how replies leave."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    address: str
    from_name: Annotated[str, StringConstraints(max_length=200)] = ""
    smtp_host: Host = "127.0.0.1"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    username: str | None = None
    password_env: str | None = None  # the NAME of the env var holding the relay password
    timeout_seconds: float = Field(default=30, gt=0, le=300)
    imap: ImapSettings | None = None

    @field_validator("address")
    @classmethod
    def _lower_case(cls, value: str) -> str:
        try:
            return email(value, field="settings.address")
        except InvalidInput as error:
            raise ValueError(error.message) from error

    @property
    def domain(self) -> str:
        """The domain of the channel's address (used in our Message-IDs)."""
        return self.address.rpartition("@")[2]

    def relay_password(self) -> str | None:
        """The relay password, read from the environment variable named by password_env."""
        return os.environ.get(self.password_env) if self.password_env else None


def settings_of(channel: Channel) -> EmailSettings:
    """The channel's email settings (raises pydantic's ValidationError when malformed)."""
    return EmailSettings.model_validate(channel.settings)


def address_of(channel: Channel) -> str | None:
    """The channel's lower-cased inbound address, or None when it has none."""
    value = channel.settings.get("address")
    return value.strip().lower() if isinstance(value, str) and value.strip() else None
