"""Hand-written event logs for the analytics tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from omnidesk.analytics.config import AnalyticsConfig
from omnidesk.analytics.events import Event
from omnidesk.analytics.measures import Measures
from omnidesk.analytics.report import period_measures

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


class Log:
    """Builds an ordered event log; times are seconds after T0."""

    def __init__(self, start: datetime = T0) -> None:
        self.start = start
        self.events: list[Event] = []

    def at(self, seconds: float) -> datetime:
        """The instant `seconds` after the log's start."""
        return self.start + timedelta(seconds=seconds)

    def add(self, seconds: float, type_: str, subject: str, **payload: Any) -> Log:
        """Append one event (seq increases by one)."""
        event = Event(len(self.events) + 1, type_, subject, self.at(seconds), payload)
        self.events.append(event)
        return self

    def sorted(self) -> list[Event]:
        """The events ordered by time, renumbered (so fixtures can be written per contact)."""
        ordered = sorted(self.events, key=lambda e: (e.occurred_at, e.seq))
        return [
            Event(i, e.type, e.subject, e.occurred_at, e.payload)
            for i, e in enumerate(ordered, start=1)
        ]

    def totals(
        self,
        config: AnalyticsConfig | None = None,
        group_by: tuple[str, ...] = (),
        now_s: float = 86_400,
    ) -> dict[tuple[str | None, ...], Measures]:
        """Measures over T0 − 1 day … T0 + 30 days of the log as of `now_s`, settled then."""
        now = self.at(now_s)
        return period_measures(
            [e for e in self.sorted() if e.occurred_at <= now],
            config=config or AnalyticsConfig(),
            start=self.start - timedelta(days=1),
            end=self.start + timedelta(days=30),
            now=now,
            group_by=group_by,
        )

    def total(self, config: AnalyticsConfig | None = None, now_s: float = 86_400) -> Measures:
        """Tenant-wide Measures."""
        return self.totals(config, now_s=now_s).get((), Measures())


@pytest.fixture
def log() -> Log:
    """An empty event log starting at T0."""
    return Log()


@pytest.fixture
def log_at() -> type[Log]:
    """The Log class, for logs starting at another instant: log_at(start)."""
    return Log
