"""The event-log record analytics consumes, and the event types it relies on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

INTERACTION_CREATED = "interaction.created"
SELF_SERVICE_STARTED = "interaction.self_service_started"
SELF_SERVICE_ENDED = "interaction.self_service_ended"
QUEUED = "interaction.queued"
OFFER_CREATED = "offer.created"
OFFER_ACCEPTED = "offer.accepted"
OFFER_REJECTED = "offer.rejected"
OFFER_TIMED_OUT = "offer.timed_out"
CONNECTED = "interaction.connected"
HELD = "interaction.held"
RESUMED = "interaction.resumed"
TRANSFERRED = "interaction.transferred"
WRAP_UP_STARTED = "interaction.wrap_up_started"
CLOSED = "interaction.closed"
ABANDONED = "interaction.abandoned"
CALLBACK_SCHEDULED = "interaction.callback_scheduled"
ANSWERED = "interaction.answered"
AGENT_STATE_CHANGED = "agent.state_changed"
AGENT_LOGGED_IN = "agent.logged_in"
AGENT_LOGGED_OUT = "agent.logged_out"
SURVEY_ANSWERED = "survey.answered"


class EventLike(Protocol):
    """Any event-log record with these read-only attributes can be analysed."""

    @property
    def seq(self) -> int: ...

    @property
    def type(self) -> str: ...

    @property
    def subject(self) -> str: ...

    @property
    def occurred_at(self) -> datetime: ...

    @property
    def payload(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Event:
    """One append-only event: per-tenant seq, type, subject id, UTC time, payload."""

    seq: int
    type: str
    subject: str
    occurred_at: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)
