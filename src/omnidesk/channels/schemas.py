"""API shapes of channel instances."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import StringConstraints

from omnidesk.schemas import Name, ReadModel, WriteModel

Secret = Annotated[str, StringConstraints(min_length=16, max_length=200)]


class ChannelCreate(WriteModel):
    """A new channel instance; the secret is generated when not given."""

    kind: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,31}$")]
    name: Name
    default_queue: Name | None = None
    secret: Secret | None = None
    settings: dict[str, Any] = {}


class ChannelUpdate(WriteModel):
    """Changes to a channel instance; what is left out stays as it is (a null
    default_queue removes the default queue)."""

    default_queue: Name | None = None
    secret: Secret | None = None
    settings: dict[str, Any] | None = None


class ChannelRead(ReadModel):
    """A channel instance (never its secret)."""

    id: uuid.UUID
    kind: str
    name: str
    default_queue_id: uuid.UUID | None
    settings: dict[str, Any]
    enabled: bool


class ChannelCreated(ChannelRead):
    """The one response that shows the channel's secret."""

    secret: str
