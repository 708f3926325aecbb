"""API shapes of interactions and messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from omnidesk.interactions.states import InteractionState
from omnidesk.schemas import ReadModel, WriteModel


class InteractionRead(ReadModel):
    """An interaction as the API shows it."""

    id: uuid.UUID
    channel: str
    channel_id: uuid.UUID | None
    direction: str
    customer_id: uuid.UUID
    queue_id: uuid.UUID | None
    agent_id: uuid.UUID | None
    priority: int
    state: InteractionState
    subject: str
    attributes: dict[str, Any]
    created_at: datetime
    queued_at: datetime | None
    connected_at: datetime | None
    ended_at: datetime | None


class Attachment(WriteModel):
    """Metadata of an attached file (the file itself lives in storage)."""

    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    content_type: Annotated[str, StringConstraints(min_length=3, max_length=100)]
    size: Annotated[int, Field(ge=0)]
    url: Annotated[str, StringConstraints(max_length=2000)] | None = None


class MessageCreate(WriteModel):
    """A message an agent or integration posts into an interaction."""

    body: Annotated[str, StringConstraints(min_length=1, max_length=100_000)]
    attachments: list[Attachment] = []


class MessageRead(ReadModel):
    """A message as the API shows it."""

    id: uuid.UUID
    interaction_id: uuid.UUID
    position: int
    author_kind: str
    author_id: str | None
    body: str
    attachments: list[dict[str, Any]]
    external_id: str | None
    created_at: datetime


class StateChange(WriteModel):
    """Move an interaction to another state (checked by the state machine)."""

    state: InteractionState
    queue_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None
    priority: Annotated[int, Field(ge=0, le=100)] | None = None
    disposition: Annotated[str, StringConstraints(max_length=100)] | None = None
    resolved: bool | None = None
