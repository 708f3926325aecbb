"""The simulator against the formulas: M/M/n (Erlang C) and M/M/n+M (Erlang A).

One long seeded run of the textbook centre (one queue, Poisson arrivals, exponential
handle times, exponential or no patience), KPIs through the analytics code, compared
with ``omnidesk.wfm.erlang``. The run's measured window (after a warm-up) is cut into
batches of consecutive 15-minute rows; the spread of the batch means gives a standard
error for each figure (batch means: long batches are nearly independent).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from omnidesk.wfm import erlang
from omnidesk.wfm.simulate.core import Progress
from omnidesk.wfm.simulate.distributions import NEVER, Distribution, Exponential
from omnidesk.wfm.simulate.model import single_queue
from omnidesk.wfm.simulate.results import IntervalRow, SimulationResult, simulate


@dataclass(frozen=True, slots=True)
class Comparison:
    """One figure: simulated, formula, difference, and the batch-means standard error."""

    name: str
    unit: str
    simulated: float
    analytic: float
    standard_error: float

    @property
    def difference(self) -> float:
        """Simulated minus formula."""
        return self.simulated - self.analytic

    @property
    def relative_difference(self) -> float:
        """|difference| / formula."""
        return abs(self.difference) / self.analytic if self.analytic else math.inf


@dataclass(frozen=True, slots=True)
class Validation:
    """A validation run: its setting, the comparisons and the run's result."""

    model: str
    agents: int
    traffic: float
    aht_s: float
    patience_s: float | None
    batches: int
    comparisons: tuple[Comparison, ...]
    result: SimulationResult

    def comparison(self, name: str) -> Comparison:
        """The comparison of one figure by name."""
        return next(c for c in self.comparisons if c.name == name)


def _weighted(rows: Sequence[IntervalRow], value: Callable[[IntervalRow], float | None],
              weight: Callable[[IntervalRow], int]) -> float:
    total = sum(weight(row) for row in rows)
    return sum((value(row) or 0.0) * weight(row) for row in rows) / total if total else 0.0


_FIGURES: dict[str, tuple[str, Callable[[IntervalRow], float | None],
                          Callable[[IntervalRow], int]]] = {
    "service_level": ("%", lambda r: r.kpis.service_level_pct,
                      lambda r: r.kpis.handled + r.kpis.abandoned),
    "asa": ("s", lambda r: r.kpis.asa_s, lambda r: r.kpis.handled),
    "probability_of_waiting": ("%", lambda r: r.kpis.probability_of_waiting_pct,
                               lambda r: r.kpis.offered),
    "abandonment": ("%", lambda r: r.kpis.abandonment_rate_pct, lambda r: r.kpis.offered),
}


def batch_means(result: SimulationResult, batches: int) -> dict[str, list[float]]:
    """Each figure over ``batches`` consecutive groups of the window's interval rows."""
    rows = [row for row in result.intervals
            if result.window_start <= row.start < result.window_end]
    size = len(rows) // batches
    if size == 0:
        raise erlang.WfmError(f"batches: {len(rows)} interval rows cannot make {batches} batches")
    groups = [rows[k * size:(k + 1) * size] for k in range(batches)]
    return {name: [_weighted(group, value, weight) for group in groups]
            for name, (_, value, weight) in _FIGURES.items()}


def _simulated(result: SimulationResult, name: str) -> float:
    total = result.total
    values = {
        "service_level": total.service_level_pct,
        "asa": total.asa_s,
        "probability_of_waiting": total.probability_of_waiting_pct,
        "abandonment": total.abandonment_rate_pct,
    }
    return values[name] or 0.0


def validate(
    *,
    agents: int,
    traffic: float,
    aht_s: float,
    contacts: int,
    patience_s: float | None = None,
    service_level_s: int = 20,
    seed: int = 1,
    warmup_contacts: int = 2000,
    batches: int = 20,
    progress: Progress | None = None,
) -> Validation:
    """Simulate ``contacts`` arrivals of M/M/n (or M/M/n+M) and compare with Erlang C (A)."""
    per_hour = traffic / aht_s * 3600
    patience: Distribution = NEVER if patience_s is None else Exponential(patience_s)
    scenario = single_queue(
        agents=agents, arrivals_per_hour=per_hour, handle_time=Exponential(aht_s),
        patience=patience, duration_s=1e15, warmup_s=warmup_contacts / per_hour * 3600,
        seed=seed, max_contacts=contacts, service_level_s=service_level_s,
    )
    result = simulate(scenario, progress=progress)
    if patience_s is None:
        pw = erlang.erlang_c(agents, traffic)
        analytic = {
            "service_level": 100 * erlang.service_level(agents, traffic, aht_s, service_level_s),
            "asa": erlang.asa(agents, traffic, aht_s),
            "probability_of_waiting": 100 * pw,
        }
        model = "erlang_c"
    else:
        metrics = erlang.erlang_a(agents, traffic, aht_s, patience_s, service_level_s)
        analytic = {
            "service_level": 100 * metrics.service_level,
            "asa": metrics.asa,
            "probability_of_waiting": 100 * metrics.probability_of_waiting,
            "abandonment": 100 * metrics.probability_of_abandonment,
        }
        model = "erlang_a"
    means = batch_means(result, batches)
    comparisons = tuple(
        Comparison(name, _FIGURES[name][0], _simulated(result, name), value,
                   statistics.stdev(means[name]) / math.sqrt(batches))
        for name, value in analytic.items()
    )
    return Validation(model, agents, traffic, aht_s, patience_s, batches, comparisons, result)
