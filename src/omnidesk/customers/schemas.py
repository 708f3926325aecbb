"""API shapes of customers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from omnidesk.schemas import ReadModel, WriteModel


class IdentityIn(WriteModel):
    """A way to reach the customer, e.g. {"kind": "phone", "value": "+33 6 12 34 56 78"}."""

    kind: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    value: Annotated[str, StringConstraints(min_length=1, max_length=320)]


class IdentityRead(ReadModel):
    """A normalised identity."""

    kind: str
    value: str


class CustomerCreate(WriteModel):
    """A new customer."""

    display_name: Annotated[str, StringConstraints(max_length=200)] = ""
    identities: list[IdentityIn] = []
    attributes: dict[str, Any] = {}


class CustomerUpdate(WriteModel):
    """Changes to a customer; attributes are merged key by key, identities added."""

    display_name: Annotated[str, StringConstraints(max_length=200)] | None = None
    attributes: dict[str, Any] | None = None
    add_identities: list[IdentityIn] = []


class CustomerRead(ReadModel):
    """A customer as the API shows it."""

    id: uuid.UUID
    display_name: str
    attributes: dict[str, Any]
    identities: list[IdentityRead]
    merged_into_id: uuid.UUID | None
    created_at: datetime


class MergeRequest(WriteModel):
    """Merge another customer into this one; all history moves over."""

    other_customer_id: uuid.UUID


class TimelineMessage(ReadModel):
    """A message on the customer's timeline."""

    id: uuid.UUID
    author_kind: str
    body: str
    created_at: datetime


class TimelineEntry(ReadModel):
    """An interaction with its messages."""

    interaction_id: uuid.UUID
    channel: str
    state: str
    subject: str
    created_at: datetime
    messages: list[TimelineMessage] = Field(default_factory=list)
