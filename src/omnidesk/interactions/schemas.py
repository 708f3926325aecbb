"""API shapes of interactions and messages."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from omnidesk.customers.schemas import CustomerRead
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


class NoteKind(enum.StrEnum):
    """A plain internal note, or a question to a supervisor."""

    NOTE = "note"
    CONSULT = "consult"


class NoteCreate(WriteModel):
    """An internal note (staff only, never sent to the customer) or a consult request."""

    body: Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
    kind: NoteKind = NoteKind.NOTE
    to_user_id: uuid.UUID | None = None


class NoteRead(ReadModel):
    """An internal note as the API shows it."""

    id: uuid.UUID
    interaction_id: uuid.UUID
    kind: str
    author_id: str
    author_name: str
    to_user_id: uuid.UUID | None
    body: str
    created_at: datetime


class TransferRequest(WriteModel):
    """Transfer to a queue (back in line there) or to an agent (offered to them); one of the
    two, with an optional note for whoever takes it."""

    queue_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None
    note: Annotated[str, StringConstraints(max_length=20_000)] | None = None


class InteractionContext(BaseModel):
    """The screen pop: who the customer is, what else they have open or had, what the
    self-service flow collected, and the staff notes on this interaction."""

    interaction: InteractionRead
    customer: CustomerRead
    queue_name: str | None
    open_interactions: list[InteractionRead]
    past_interactions: list[InteractionRead]
    self_service: dict[str, Any]
    notes: list[NoteRead]


DispositionCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,64}$")]


class DispositionCreate(WriteModel):
    """A wrap-up reason code; `resolved` is what the desktop ticks by default with it."""

    code: DispositionCode
    label: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    resolved: bool = True


class DispositionRead(ReadModel):
    """A wrap-up reason code as the API shows it."""

    id: uuid.UUID
    code: str
    label: str
    resolved: bool
    position: int
