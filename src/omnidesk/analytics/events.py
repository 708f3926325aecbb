"""The event-log record analytics consumes, and the event types it relies on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
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


NO_TIME = datetime.min.replace(tzinfo=UTC)


@dataclass(slots=True, init=False)
class Event:
    """One append-only event: per-tenant seq, type, subject id, UTC time, payload.

    The fold's own form of an event (others are converted on the way in): compiled, the fold
    reads its fields directly and its payload as a dict. The `__init__` is written out, as in
    records.py, so that it is compiled; treat an event as immutable.
    """

    seq: int
    type: str
    subject: str
    occurred_at: datetime
    payload: dict[str, Any]

    def __init__(self, seq: int = 0, type: str = "", subject: str = "",
                 occurred_at: datetime = NO_TIME, payload: Mapping[str, Any] | None = None,
                 ) -> None:
        self.seq = seq
        self.type = type
        self.subject = subject
        self.occurred_at = occurred_at
        self.payload = {} if payload is None else (
            payload if isinstance(payload, dict) else dict(payload))


def as_event(event: EventLike) -> Event:
    """The event itself if it is an Event, else an Event with its fields."""
    if isinstance(event, Event):
        return event
    return Event(event.seq, event.type, event.subject, event.occurred_at, event.payload)


def events_from_rows(rows: list[list[Any]], kinds: list[str]) -> list[Event]:
    """Events from [seq, type, subject, ISO time, payload] rows, as the fill reads them.

    A row names its type by position in `kinds`, counted from 1.
    """
    return [Event(row[0], kinds[row[1] - 1], row[2], datetime.fromisoformat(row[3]), row[4])
            for row in rows]
