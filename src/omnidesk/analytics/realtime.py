"""Real-time projection: today's KPIs and the live wallboard, updated in O(1) per event.

It runs the same ContactFold as historical reports, with itself as the sink (today's
tenant, queue and agent Measures plus a 30-minute sliding window) and observer (waiting
contacts, agent states, recent handle times). Only a day rollover touches every agent.
"""

from __future__ import annotations

from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from omnidesk.analytics import kpis
from omnidesk.analytics.config import AnalyticsConfig, ServiceLevelVariant
from omnidesk.analytics.events import EventLike
from omnidesk.analytics.fold import ContactFold
from omnidesk.analytics.intervals import interval_start, next_interval_start
from omnidesk.analytics.measures import (
    MICROS,
    AgentStatus,
    Measures,
    add_measures,
    copy_measures,
    count_agent_time,
)
from omnidesk.analytics.records import Dims, micros

WINDOW = timedelta(minutes=30)
BUCKET_S = 10
RECENT_HANDLES = 50
_BUCKET = timedelta(seconds=BUCKET_S)


class SlidingWindow:
    """Measures of the facts of the last `length`, in 10-second buckets (amortised O(1))."""

    __slots__ = ("_buckets", "_length", "_total")

    def __init__(self, length: timedelta = WINDOW) -> None:
        self._length = length
        self._buckets: deque[tuple[datetime, Measures]] = deque()
        self._total = Measures()  # every bucket but the newest, which is still being written

    def bucket(self, at: datetime) -> Measures:
        """The bucket a fact at `at` counts into."""
        buckets = self._buckets
        if buckets and buckets[-1][0] > at - _BUCKET:
            return buckets[-1][1]
        if buckets:
            add_measures(self._total, buckets[-1][1])
        bucket = Measures()
        start = at.replace(second=at.second - at.second % BUCKET_S, microsecond=0)
        buckets.append((start, bucket))
        return bucket

    def measures(self, now: datetime) -> Measures:
        """Measures of the buckets after now − length."""
        buckets, horizon = self._buckets, now - self._length
        while buckets and buckets[0][0] <= horizon:
            _, expired = buckets.popleft()
            if buckets:
                add_measures(self._total, expired, sign=-1)
        total = copy_measures(self._total) if buckets else Measures()
        if buckets:
            add_measures(total, buckets[-1][1])
        return total


@dataclass(slots=True)
class RecentHandles:
    """The last N handle times of a queue, with their running sum."""

    times_us: deque[int] = field(default_factory=lambda: deque(maxlen=RECENT_HANDLES))
    total_us: int = 0

    def add(self, handle_us: int) -> None:
        """Record one completed handling."""
        if len(self.times_us) == self.times_us.maxlen:
            self.total_us -= self.times_us[0]
        self.times_us.append(handle_us)
        self.total_us += handle_us

    def mean_s(self) -> Fraction | None:
        """Mean handle time in seconds, None before the first handling."""
        return Fraction(self.total_us, len(self.times_us) * MICROS) if self.times_us else None


@dataclass(slots=True)
class Staffing:
    """Live agent counts for a queue or the tenant."""

    by_state: Counter[str] = field(default_factory=Counter)
    busy: int = 0
    idle: int = 0
    staffed: int = 0

    def change(self, status: AgentStatus, sign: int) -> None:
        """Add (1) or remove (-1) an agent in `status`."""
        self.by_state[status.state] += sign
        self.busy += sign * status.busy
        self.idle += sign * (status.available and not status.busy)
        self.staffed += sign * (status.logged_in and not status.away)

    def occupancy_now(self) -> Fraction | None:
        """Agents with ≥1 contact / (those + idle available agents) × 100, right now."""
        return Fraction(100 * self.busy, self.busy + self.idle) if self.busy + self.idle else None


@dataclass(slots=True)
class TodayMeasures:
    """Today's Measures for the tenant, each queue and each agent."""

    tenant: Measures
    queues: dict[str, Measures]
    agents: dict[str, Measures]


def estimated_wait_s(
    position: int, idle_agents: int, staffed_agents: int, mean_handle_s: Fraction | None
) -> Fraction | None:
    """EWT for the contact at `position` (1 = next): max(0, position − idle) × AHT / staffed."""
    if staffed_agents <= 0 or mean_handle_s is None:
        return None
    return max(0, position - idle_agents) * mean_handle_s / staffed_agents


class RealtimeProjection:
    """Today's KPIs per tenant, queue and agent, plus live queue and agent state."""

    def __init__(self, config: AnalyticsConfig) -> None:
        self.config = config
        self._zone = ZoneInfo(config.time_zone)
        self._day_start: datetime | None = None
        self._day_end: datetime | None = None
        self._today = TodayMeasures(Measures(), {}, {})
        self._window = SlidingWindow()
        self._queue_windows: dict[str, SlidingWindow] = {}
        self._waiting: dict[str, OrderedDict[str, datetime]] = {}
        self._recent: dict[str, RecentHandles] = {}
        self._staffing = Staffing()
        self._queue_staffing: dict[str, Staffing] = {}
        self._agent_queues: dict[str, list[str]] = {}
        for queue_id, members in config.queue_agents.items():
            for agent_id in members:
                self._agent_queues.setdefault(agent_id, []).append(queue_id)
        self._state_since: dict[str, datetime] = {}
        self.fold = ContactFold(config, self, observer=self, track_fcr=False)

    # -- feeding ------------------------------------------------------------------------

    def apply(self, event: EventLike) -> None:
        """Fold one event (in seq order) into the projection."""
        if self._day_end is None or event.occurred_at >= self._day_end:
            self._start_day(event.occurred_at)
        self.fold.apply(event)

    def _start_day(self, at: datetime) -> None:
        if self._day_end is not None:
            self.fold.settle(self._day_end)
        self._day_start = interval_start(at, "day", self._zone)
        self._day_end = next_interval_start(self._day_start, "day", self._zone)
        self._today = TodayMeasures(Measures(), {}, {})

    # -- sink ---------------------------------------------------------------------------

    def point(self, at: datetime, dims: Dims) -> list[Measures]:
        """Today's tenant / queue / agent Measures and the 30-minute windows."""
        if self._day_start is None or at < self._day_start:
            return []
        today = self._today
        targets = [today.tenant, self._window.bucket(at)]
        if dims.queue is not None:
            targets.append(_row(today.queues, dims.queue))
            targets.append(self._queue_window(dims.queue).bucket(at))
        if dims.agent is not None:
            targets.append(_row(today.agents, dims.agent))
        return targets

    def span(self, start: datetime, end: datetime, dims: Dims) -> list[tuple[Measures, int]]:
        """Agent time today into the tenant's and the agent's Measures."""
        if self._day_start is None or end <= self._day_start:
            return []
        duration_us = micros(max(start, self._day_start), end)
        targets = [(self._today.tenant, duration_us)]
        if dims.agent is not None:
            targets.append((_row(self._today.agents, dims.agent), duration_us))
        return targets

    def _queue_window(self, queue_id: str) -> SlidingWindow:
        window = self._queue_windows.get(queue_id)
        if window is None:
            window = self._queue_windows[queue_id] = SlidingWindow()
        return window

    # -- observer -----------------------------------------------------------------------

    def queue_entered(self, interaction_id: str, queue_id: str, at: datetime) -> None:
        """A contact started waiting."""
        waiting = self._waiting.get(queue_id)
        if waiting is None:
            waiting = self._waiting[queue_id] = OrderedDict()
        waiting[interaction_id] = at

    def queue_left(self, interaction_id: str, queue_id: str) -> None:
        """A contact stopped waiting."""
        self._waiting[queue_id].pop(interaction_id, None)

    def handle_completed(self, queue_id: str | None, handle_us: int) -> None:
        """Feed the queue's recent handle times (for estimated wait)."""
        if queue_id is not None:
            recent = self._recent.get(queue_id)
            if recent is None:
                recent = self._recent[queue_id] = RecentHandles()
            recent.add(handle_us)

    def agent_changed(
        self, agent_id: str, before: AgentStatus, after: AgentStatus, at: datetime
    ) -> None:
        """Move the agent between live staffing counts."""
        known = agent_id in self._state_since
        if not known or before.state != after.state:
            self._state_since[agent_id] = at
        for staffing in self._staffings(agent_id):
            if known:
                staffing.change(before, -1)
            staffing.change(after, 1)

    def _staffings(self, agent_id: str) -> list[Staffing]:
        staffings = [self._staffing]
        for queue_id in self._agent_queues.get(agent_id, ()):
            staffing = self._queue_staffing.get(queue_id)
            if staffing is None:
                staffing = self._queue_staffing[queue_id] = Staffing()
            staffings.append(staffing)
        return staffings

    # -- reading ------------------------------------------------------------------------

    def today_measures(self, now: datetime) -> TodayMeasures:
        """Today's Measures (today = local day of the latest event), agent time up to `now`."""
        today = TodayMeasures(
            copy_measures(self._today.tenant),
            {key: copy_measures(m) for key, m in self._today.queues.items()},
            {key: copy_measures(m) for key, m in self._today.agents.items()},
        )
        if self._day_start is None or self._day_end is None:
            return today
        until = min(now, self._day_end)
        for clock in self.fold.agents.values():
            start = max(clock.since or until, self._day_start)
            if start < until:
                status, duration_us = clock.status(), micros(start, until)
                count_agent_time(today.tenant, status, duration_us)
                count_agent_time(_row(today.agents, clock.agent_id), status, duration_us)
        return today

    def longest_wait_s(self, queue_id: str, now: datetime) -> Fraction:
        """now − queued of the oldest contact waiting in the queue (0 when none)."""
        waiting = self._waiting.get(queue_id)
        if not waiting:
            return Fraction(0)
        oldest = next(iter(waiting.values()))
        return Fraction(micros(oldest, now), MICROS)

    def estimated_wait_s(self, queue_id: str, position: int) -> Fraction | None:
        """Estimated wait for the contact at `position` in the queue (see docs/analytics.md)."""
        staffing = self._queue_staffing.get(queue_id, Staffing())
        recent = self._recent.get(queue_id, RecentHandles())
        return estimated_wait_s(position, staffing.idle, staffing.staffed, recent.mean_s())

    def snapshot(self, now: datetime) -> dict[str, Any]:
        """The wallboard as plain data (floats, ints, strings, dicts) as of `now`."""
        today = self.today_measures(now)
        queue_ids = sorted(set(today.queues) | set(self._waiting) | set(self._queue_staffing))
        return {
            "at": now.isoformat(),
            "seq": self.fold.last_seq,
            "tenant": self._tenant_view(today.tenant, now),
            "queues": {
                q: self._queue_view(q, today.queues.get(q, Measures()), now) for q in queue_ids
            },
            "agents": {
                a: self._agent_view(a, today.agents.get(a, Measures()), now)
                for a in sorted(self.fold.agents)
            },
        }

    def _tenant_view(self, today: Measures, now: datetime) -> dict[str, Any]:
        waits = [self.longest_wait_s(q, now) for q in self._waiting]
        variant = self.config.default_queue.service_level_variant
        view = _contact_view(today, self._window.measures(now), variant)
        view.update(
            waiting=sum(len(w) for w in self._waiting.values()),
            longest_wait_s=float(max(waits, default=Fraction(0))),
            **_staffing_view(self._staffing),
        )
        return view

    def _queue_view(self, queue_id: str, today: Measures, now: datetime) -> dict[str, Any]:
        settings = self.config.queue(queue_id)
        waiting = len(self._waiting.get(queue_id, ()))
        window = self._queue_window(queue_id).measures(now)
        view = _contact_view(today, window, settings.service_level_variant)
        view.update(
            service_level_goal_pct=settings.service_level_goal_pct,
            service_level_threshold_s=settings.service_level_threshold_s,
            waiting=waiting,
            longest_wait_s=float(self.longest_wait_s(queue_id, now)),
            estimated_wait_s=_plain(self.estimated_wait_s(queue_id, waiting + 1)),
            **_staffing_view(self._queue_staffing.get(queue_id, Staffing())),
        )
        return view

    def _agent_view(self, agent_id: str, today: Measures, now: datetime) -> dict[str, Any]:
        clock = self.fold.agents[agent_id]
        since = self._state_since.get(agent_id, now)
        return {
            "state": clock.state,
            "time_in_state_s": micros(since, now) / MICROS,
            "contacts_now": clock.contacts,
            "handled": today.handled,
            "aht_s": _plain(kpis.average_handle_time(today)),
            "occupancy_pct": _plain(kpis.occupancy(today)),
        }


def _contact_view(
    today: Measures, window: Measures, variant: ServiceLevelVariant
) -> dict[str, Any]:
    return {
        "offered_today": today.offered,
        "handled_today": today.handled,
        "abandoned_today": today.abandoned,
        "service_level_today_pct": _plain(kpis.service_level(today, variant)),
        "service_level_30min_pct": _plain(kpis.service_level(window, variant)),
        "asa_today_s": _plain(kpis.average_speed_of_answer(today)),
        "aht_today_s": _plain(kpis.average_handle_time(today)),
        "abandonment_rate_today_pct": _plain(kpis.abandonment_rate(today)),
    }


def _staffing_view(staffing: Staffing) -> dict[str, Any]:
    return {
        "agents_by_state": {state: n for state, n in sorted(staffing.by_state.items()) if n},
        "occupancy_now_pct": _plain(staffing.occupancy_now()),
    }


def _plain(value: Fraction | None) -> float | None:
    return None if value is None else float(value)


def _row(rows: dict[str, Measures], key: str) -> Measures:
    row = rows.get(key)
    if row is None:
        row = rows[key] = Measures()
    return row
