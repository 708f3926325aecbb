"""API shapes of interactions and messages."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints, model_validator

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
    """A file with the message: `id` of a file uploaded to the interaction (email sends it),
    or the metadata of a file kept elsewhere (`filename`, `content_type`, `size`, `url`)."""

    id: uuid.UUID | None = None
    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None
    content_type: Annotated[str, StringConstraints(min_length=3, max_length=100)] | None = None
    size: Annotated[int, Field(ge=0)] | None = None
    url: Annotated[str, StringConstraints(max_length=2000)] | None = None

    @model_validator(mode="after")
    def _id_or_metadata(self) -> Attachment:
        if self.id is None and None in (self.filename, self.content_type, self.size):
            raise ValueError("give the id of an uploaded file, or filename, content_type "
                             "and size")
        return self

    def metadata(self) -> dict[str, Any]:
        """The entry as a message keeps it (without an id)."""
        return self.model_dump(exclude={"id"})


TemplateParameter = Annotated[str, StringConstraints(min_length=1, max_length=1024,
                                                     pattern=r"^[^\n\t]*$")]


class TemplateMessage(WriteModel):
    """A template the provider approved (WhatsApp), with its body's {{1}}, {{2}} … values."""

    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,512}$")]
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")]
    parameters: list[TemplateParameter] = []

    def summary(self) -> str:
        """What the transcript shows: [template order_update: 1234, Friday]."""
        values = f": {', '.join(self.parameters)}" if self.parameters else ""
        return f"[template {self.name}{values}]"


class MessageCreate(WriteModel):
    """A message an agent or integration posts into an interaction: a body, or a template
    (then a body, if given, is only what the transcript shows)."""

    body: Annotated[str, StringConstraints(min_length=1, max_length=100_000)] | None = None
    attachments: list[Attachment] = []
    template: TemplateMessage | None = None

    @model_validator(mode="after")
    def _body_or_template(self) -> MessageCreate:
        if self.body is None and self.template is None:
            raise ValueError("give a body (or a template)")
        return self

    def stored_body(self) -> str:
        """The body as the message keeps it: the text, else the template's summary."""
        return self.body or (self.template.summary() if self.template else "")


class MessageRead(ReadModel):
    """A message as the API shows it."""

    id: uuid.UUID
    interaction_id: uuid.UUID
    position: int
    author_kind: str
    author_id: str | None
    body: str
    attachments: list[dict[str, Any]]
    options: list[dict[str, str]] | None
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
    """Transfer to a queue (back in line there), to an agent (offered to them) or, for a
    phone call, to a number (dialled through the voice channel's trunk); one of the three,
    with an optional note for whoever takes it."""

    queue_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None
    number: Annotated[str, StringConstraints(min_length=3, max_length=40)] | None = None
    note: Annotated[str, StringConstraints(max_length=20_000)] | None = None


class ConsultRequest(WriteModel):
    """Consult, on a live phone call, another agent (their registered phone) or a number
    (through the voice channel's trunk): one of the two."""

    agent_id: uuid.UUID | None = None
    number: Annotated[str, StringConstraints(min_length=3, max_length=40)] | None = None


class ConsultRead(BaseModel):
    """A consult on a call: `ringing`, `talking` (the agent with the consulted party, the
    caller on hold), `conference` (all three), `completed` or `cancelled`."""

    interaction_id: uuid.UUID
    state: str
    agent_id: uuid.UUID | None = None
    number: str | None = None
    extension: str | None = None


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
