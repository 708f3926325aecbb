"""Restartable, idempotent historical aggregation: previous state + events → new state."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from omnidesk.analytics.config import AnalyticsConfig
from omnidesk.analytics.events import EventLike
from omnidesk.analytics.fold import ContactFold
from omnidesk.analytics.intervals import Granularity
from omnidesk.analytics.measures import Measures
from omnidesk.analytics.sinks import IntervalSink, RowKey


@dataclass(slots=True)
class AggregateState:
    """Aggregate rows plus the fold state (open contacts, agent clocks, FCR) and last seq."""

    fold: ContactFold
    sink: IntervalSink

    @property
    def rows(self) -> dict[RowKey, Measures]:
        """Rows keyed by (interval start UTC, dimension values...)."""
        return self.sink.rows

    @property
    def last_seq(self) -> int:
        """Highest event seq folded in; events at or below it are skipped on re-run."""
        return self.fold.last_seq


def new_aggregate(
    config: AnalyticsConfig, granularity: Granularity, group_by: Sequence[str] = ()
) -> AggregateState:
    """An empty aggregate for one tenant, interval size and grouping."""
    sink = IntervalSink(granularity, ZoneInfo(config.time_zone), group_by)
    return AggregateState(ContactFold(config, sink), sink)


def fold_batch(
    state: AggregateState, events: Iterable[EventLike], *, now: datetime
) -> AggregateState:
    """A new state with `events` folded in (seq ≤ state.last_seq skipped), settled to `now`."""
    fresh = copy.deepcopy(state)
    fresh.fold.apply_all(events)
    fresh.fold.settle(now)
    return fresh
