"""API shapes of supervision."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import StringConstraints

from omnidesk.schemas import ReadModel, WriteModel


class WhisperCreate(WriteModel):
    """A message to the agent who holds the conversation; the customer never sees it."""

    body: Annotated[str, StringConstraints(min_length=1, max_length=10_000)]


class MoveRequest(WriteModel):
    """Where a waiting contact goes: another queue, or an offer to one agent (one of them)."""

    queue_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None


class InteractionEventRead(ReadModel):
    """One event of an interaction, as the live stream shows it."""

    seq: int
    type: str
    subject: str
    actor: str
    payload: dict[str, Any]
    occurred_at: datetime


class MonitorRequest(WriteModel):
    """How the signed-in supervisor is on a live call: `listen` (hears both, nobody hears
    them), `whisper` (only the agent hears them), `barge` (three-way), or `leave`."""

    mode: Literal["listen", "whisper", "barge", "leave"]


class MonitorRead(ReadModel):
    """A supervisor's leg on a call: their phone is `ringing`, `joined`, or `ended`."""

    interaction_id: uuid.UUID
    user_id: uuid.UUID
    extension: str
    mode: str
    state: str
