"""KPIs of a simulated run, computed by omnidesk's analytics from the run's events.

The simulator's events are turned into the analytics ``Event`` records and folded by
``omnidesk.analytics.report.interval_measures`` into 15-minute rows per queue — the very
definitions the server's reports use (KPIS.md). Only the probability of waiting, which
is not a KPI of the analytics package, is counted here from the same events (a contact
waited if it was not connected at the instant it was queued).
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from omnidesk.analytics import events as ev
from omnidesk.analytics import kpis
from omnidesk.analytics.config import AnalyticsConfig, QueueSettings
from omnidesk.analytics.events import Event
from omnidesk.analytics.measures import Measures, add_measures
from omnidesk.analytics.report import interval_measures
from omnidesk.wfm.simulate.core import Progress, RawEvent, Simulation
from omnidesk.wfm.simulate.model import Scenario

ROW_S = 900
"""Width of the rows the KPIs are folded into: 15 minutes."""
_TOTAL = "all"


@dataclass(frozen=True, slots=True)
class KpiRow:
    """KPIs of one queue (or ``all``) over a window; rates in percent, times in seconds."""

    queue_id: str
    offered: int
    handled: int
    abandoned: int
    service_level_pct: float | None
    asa_s: float | None
    average_time_in_queue_s: float | None
    aht_s: float | None
    abandonment_rate_pct: float | None
    probability_of_waiting_pct: float | None
    occupancy_pct: float | None = None
    utilisation_pct: float | None = None


@dataclass(frozen=True, slots=True)
class IntervalRow:
    """KPIs of one queue in one reporting interval (start in UTC)."""

    start: datetime
    kpis: KpiRow


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """A run's figures: totals and per queue over the measured window, and per interval."""

    scenario: str
    seed: int
    contacts: int
    engine_calls: int
    wall_s: float
    window_start: datetime
    window_end: datetime
    total: KpiRow
    queues: tuple[KpiRow, ...]
    intervals: tuple[IntervalRow, ...]

    @property
    def contacts_per_s(self) -> float:
        """Simulated contacts per wall-clock second (events and KPIs included)."""
        return self.contacts / self.wall_s if self.wall_s > 0 else float("inf")


@dataclass(slots=True)
class _Waits:
    """Offered and waited counts per (row start, queue), from the events."""

    offered: dict[tuple[datetime, str], int]
    waited: dict[tuple[datetime, str], int]


def analytics_config(scenario: Scenario) -> AnalyticsConfig:
    """The analytics settings of the scenario's queues (service-level and short-abandon)."""
    return AnalyticsConfig(queues={
        q.queue_id: QueueSettings(service_level_threshold_s=q.service_level_s,
                                  short_abandon_threshold_s=q.short_abandon_s)
        for q in scenario.queues
    })


def to_analytics_events(raw: Iterable[RawEvent], start: datetime,
                        waits: _Waits | None = None) -> Iterator[Event]:
    """The run's events as analytics ``Event`` records (seq from 1, UTC times)."""
    queued: dict[str, tuple[float, str]] = {}
    for seq, (t, kind, subject, payload) in enumerate(raw, start=1):
        if waits is not None:
            _count_wait(waits, queued, start, t, kind, subject, payload)
        yield Event(seq, kind, subject, start + timedelta(seconds=t), payload)


def _row_start(start: datetime, t: float) -> datetime:
    return start + timedelta(seconds=(t // ROW_S) * ROW_S)


def _count_wait(waits: _Waits, queued: dict[str, tuple[float, str]], start: datetime,
                t: float, kind: str, subject: str, payload: Mapping[str, Any]) -> None:
    """Probability of waiting: a contact waited unless connected when first queued."""
    if kind == ev.QUEUED:
        if subject not in queued:
            queued[subject] = (t, payload["queue_id"])
            key = (_row_start(start, t), payload["queue_id"])
            waits.offered[key] = waits.offered.get(key, 0) + 1
        return
    if kind not in (ev.CONNECTED, ev.ABANDONED, ev.CLOSED):
        return
    entry = queued.pop(subject, None)
    if entry is None:
        return
    if kind != ev.CONNECTED or t > entry[0]:
        key = (_row_start(start, entry[0]), entry[1])
        waits.waited[key] = waits.waited.get(key, 0) + 1


def _value(ratio: Fraction | None) -> float | None:
    return None if ratio is None else float(ratio)


def kpi_row(queue_id: str, m: Measures, offered: int, waited: int) -> KpiRow:
    """KPIs of summed measures (analytics definitions) plus the counted P(wait)."""
    agent_time = m.logged_in_us > 0
    return KpiRow(
        queue_id=queue_id,
        offered=kpis.contacts_offered(m),
        handled=kpis.contacts_handled(m),
        abandoned=kpis.contacts_abandoned(m),
        service_level_pct=_value(kpis.service_level(m)),
        asa_s=_value(kpis.average_speed_of_answer(m)),
        average_time_in_queue_s=_value(kpis.average_time_in_queue(m)),
        aht_s=_value(kpis.average_handle_time(m)),
        abandonment_rate_pct=_value(kpis.abandonment_rate(m)),
        probability_of_waiting_pct=100 * waited / offered if offered else None,
        occupancy_pct=_value(kpis.occupancy(m)) if agent_time else None,
        utilisation_pct=_value(kpis.utilisation(m)) if agent_time else None,
    )


def summarise(
    rows: Mapping[tuple[datetime, str | None], Measures],
    waits: _Waits,
    *,
    window_start: datetime,
    window_end: datetime,
) -> tuple[KpiRow, tuple[KpiRow, ...], tuple[IntervalRow, ...]]:
    """Totals, per-queue rows over [window_start, window_end) and per-interval rows."""
    per_queue: dict[str, Measures] = {}
    total = Measures()
    intervals: list[IntervalRow] = []
    offered_total = waited_total = 0
    queue_offered: dict[str, int] = {}
    queue_waited: dict[str, int] = {}
    for (start, queue_id), m in sorted(rows.items(), key=lambda item: (item[0][0],
                                                                        str(item[0][1]))):
        if queue_id is not None:
            key = (start, queue_id)
            offered, waited = waits.offered.get(key, 0), waits.waited.get(key, 0)
            intervals.append(IntervalRow(start, kpi_row(queue_id, m, offered, waited)))
        if not window_start <= start < window_end:
            continue
        add_measures(total, m)
        if queue_id is None:
            continue
        add_measures(per_queue.setdefault(queue_id, Measures()), m)
        key = (start, queue_id)
        offered, waited = waits.offered.get(key, 0), waits.waited.get(key, 0)
        queue_offered[queue_id] = queue_offered.get(queue_id, 0) + offered
        queue_waited[queue_id] = queue_waited.get(queue_id, 0) + waited
        offered_total += offered
        waited_total += waited
    queue_rows = tuple(kpi_row(q, m, queue_offered.get(q, 0), queue_waited.get(q, 0))
                       for q, m in sorted(per_queue.items()))
    return kpi_row(_TOTAL, total, offered_total, waited_total), queue_rows, tuple(intervals)


def _queue_of(key: tuple[object, ...]) -> str | None:
    queue = key[1]
    return queue if isinstance(queue, str) else None


def _floor_row(t: float) -> float:
    return (t // ROW_S) * ROW_S


def simulate(scenario: Scenario, *, progress: Progress | None = None) -> SimulationResult:
    """Run the scenario and compute its KPIs with the analytics code (one streaming pass)."""
    started = time.perf_counter()
    simulation = Simulation(scenario, progress=progress)
    waits = _Waits({}, {})
    events = to_analytics_events(simulation.events(), scenario.start, waits)
    config = analytics_config(scenario)
    # Every agent logs off when the run ends, so agent time is settled by the last event.
    rows = interval_measures(events, config=config, granularity="15min",
                             now=scenario.start, group_by=("queue",))
    counters = simulation.counters
    capped = scenario.max_contacts is not None and counters.contacts >= scenario.max_contacts
    arrivals_end = counters.last_arrival_s if capped else scenario.duration_s
    window_start = scenario.start + timedelta(seconds=_floor_row(scenario.warmup_s + ROW_S - 1e-9))
    window_end = scenario.start + timedelta(seconds=_floor_row(arrivals_end))
    typed_rows: dict[tuple[datetime, str | None], Measures] = {
        (key[0], _queue_of(key)): m for key, m in rows.items()}
    total, queues, intervals = summarise(typed_rows, waits, window_start=window_start,
                                         window_end=window_end)
    return SimulationResult(
        scenario=scenario.name, seed=scenario.seed, contacts=counters.contacts,
        engine_calls=counters.engine_calls, wall_s=time.perf_counter() - started,
        window_start=window_start, window_end=window_end, total=total, queues=queues,
        intervals=intervals,
    )


KPI_COLUMNS = tuple(KpiRow.__dataclass_fields__)


def kpi_records(result: SimulationResult) -> list[dict[str, Any]]:
    """Per-queue and total rows as plain dicts (CSV / JSON)."""
    return [asdict(row) for row in (*result.queues, result.total)]


def interval_records(result: SimulationResult) -> list[dict[str, Any]]:
    """Per-interval rows as plain dicts with the interval start first."""
    return [{"interval_start": row.start.isoformat(), **asdict(row.kpis)}
            for row in result.intervals]


def to_csv(records: Sequence[Mapping[str, Any]]) -> str:
    """Records as CSV text with a header; floats with 6 significant digits, None empty."""
    if not records:
        return ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: ("" if v is None else format(v, ".6g") if isinstance(v, float)
                             else v) for k, v in record.items()})
    return buffer.getvalue()
