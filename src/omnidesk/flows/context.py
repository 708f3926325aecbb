"""What the host tells the interpreter about the world: time, channel, customer, queues, hours."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Protocol
from zoneinfo import ZoneInfo

VOICE_CHANNELS = frozenset({"voice"})
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class OpeningHours(Protocol):
    """Anything that says whether a calendar is open at an instant."""

    def is_open(self, now: datetime) -> bool: ...


@dataclass(frozen=True)
class WeeklyHours:
    """Opening windows per weekday in a time zone, with closed dates (holidays)."""

    timezone: str
    windows: Mapping[str, tuple[tuple[time, time], ...]]
    closed_dates: frozenset[date] = frozenset()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WeeklyHours:
        """Build from {"timezone": "Europe/Berlin", "mon": ["09:00-17:00"], "closed": [...]}."""
        windows = {
            day: tuple(_parse_window(text) for text in data.get(day, [])) for day in _WEEKDAYS
        }
        closed = frozenset(date.fromisoformat(str(day)) for day in data.get("closed", []))
        return cls(str(data.get("timezone", "UTC")), windows, closed)

    def is_open(self, now: datetime) -> bool:
        """True when `now` falls in one of the day's windows and is not a closed date."""
        local = now.astimezone(ZoneInfo(self.timezone))
        if local.date() in self.closed_dates:
            return False
        moment = local.time().replace(tzinfo=None)
        day = _WEEKDAYS[local.weekday()]
        return any(start <= moment < end for start, end in self.windows.get(day, ()))


def _parse_window(text: str) -> tuple[time, time]:
    start, _, end = text.partition("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


@dataclass(frozen=True)
class QueueSnapshot:
    """A queue's live status as the host saw it when the step began."""

    waiting: int = 0
    agents_available: int = 0
    agents_logged_in: int = 0
    longest_wait_seconds: float = 0.0
    estimated_wait_seconds: float | None = None


@dataclass(frozen=True)
class FlowContext:
    """Everything outside the flow state that a step may look at; time is always passed in."""

    now: datetime
    channel: str = "chat"
    caller_id: str | None = None
    customer: Mapping[str, Any] | None = None
    queues: Mapping[str, QueueSnapshot] = field(default_factory=dict)
    business_hours: Mapping[str, bool | OpeningHours] = field(default_factory=dict)
    hours_default: bool | None = None

    def __post_init__(self) -> None:
        if self.now.tzinfo is None or self.now.utcoffset() is None:
            raise ValueError("FlowContext.now must be a timezone-aware datetime")

    @property
    def is_voice(self) -> bool:
        """True on a voice channel, where prompts are spoken and input is DTMF or speech."""
        return self.channel in VOICE_CHANNELS

    def is_open(self, calendar: str) -> bool | None:
        """Whether the named business-hours calendar is open now; None when unknown."""
        hours = self.business_hours.get(calendar)
        if hours is None:
            return self.hours_default
        if isinstance(hours, bool):
            return hours
        return hours.is_open(self.now)
