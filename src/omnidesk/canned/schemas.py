"""API shapes of canned responses."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import StringConstraints

from omnidesk.schemas import ReadModel, WriteModel

Shortcut = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,50}$")]
Title = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Body = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]


class CannedResponseCreate(WriteModel):
    """A new canned response: `shortcut` is what the agent types after a slash."""

    shortcut: Shortcut
    title: Title
    body: Body


class CannedResponseUpdate(WriteModel):
    """Change some fields of a canned response."""

    shortcut: Shortcut | None = None
    title: Title | None = None
    body: Body | None = None


class CannedResponseRead(ReadModel):
    """A canned response as the API shows it."""

    id: uuid.UUID
    shortcut: str
    title: str
    body: str
    created_at: datetime
    updated_at: datetime
