"""Staffing: the smallest number of agents meeting service targets, and shrinkage."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from omnidesk.wfm.erlang import (
    ErlangAMetrics,
    WfmError,
    asa_from_waiting,
    erlang_a,
    erlang_b,
    erlang_b_upward,
    service_level_from_waiting,
    waiting_from_blocking,
)

Model = Literal["erlang_c", "erlang_a"]

# Galloping search for Erlang A stops here: no contact centre needs more agents.
_MAX_AGENTS = 10_000_000


@dataclass(frozen=True)
class ServiceLevelTarget:
    """At least `fraction` of contacts answered within `within_s` seconds (0.8, 20)."""

    fraction: float
    within_s: float

    def __post_init__(self) -> None:
        if not 0 < self.fraction < 1:
            raise WfmError(f"service level fraction must be in (0, 1), got {self.fraction!r}")
        if not math.isfinite(self.within_s) or self.within_s < 0:
            raise WfmError(f"service level time must be ≥ 0 seconds, got {self.within_s!r}")


@dataclass(frozen=True)
class StaffingTargets:
    """Targets that must all hold; fractions are 0–1, times are seconds."""

    service_level: ServiceLevelTarget | None = None
    max_asa_s: float | None = None
    max_abandonment: float | None = None
    max_occupancy: float | None = None

    def __post_init__(self) -> None:
        chosen = (self.service_level, self.max_asa_s, self.max_abandonment, self.max_occupancy)
        if all(target is None for target in chosen):
            raise WfmError("targets: give at least one staffing target")
        if self.max_asa_s is not None and not 0 < self.max_asa_s < math.inf:
            raise WfmError(f"max_asa_s must be a finite number > 0, got {self.max_asa_s!r}")
        if self.max_abandonment is not None and not 0 < self.max_abandonment < 1:
            raise WfmError(f"max_abandonment must be in (0, 1), got {self.max_abandonment!r}")
        if self.max_occupancy is not None and not 0 < self.max_occupancy <= 1:
            raise WfmError(f"max_occupancy must be in (0, 1], got {self.max_occupancy!r}")

    @property
    def service_time_s(self) -> float:
        """Seconds at which service level is measured: the target's, else 0."""
        return 0.0 if self.service_level is None else self.service_level.within_s


@dataclass(frozen=True)
class StaffingFigures:
    """Queue figures for one number of agents; Erlang C always, Erlang A with patience."""

    agents: int
    traffic: float
    probability_of_waiting: float
    service_level: float
    """Erlang C share answered within the service-level target time (0 s without one)."""
    asa: float
    occupancy: float
    erlang_a: ErlangAMetrics | None
    """Erlang A figures at the same target time, when a patience was given."""


@dataclass(frozen=True)
class StaffingPlan:
    """The requirement and what to schedule once shrinkage is allowed for."""

    model: Model
    required: StaffingFigures
    shrinkage: float
    agents_to_schedule: int


def _check_queue(traffic: float, aht_s: float, patience_s: float | None) -> None:
    """Raise WfmError on a non-positive traffic, handle time or patience."""
    for name, value in (("traffic", traffic), ("aht_s", aht_s), ("patience_s", patience_s)):
        if value is not None and not 0 < value < math.inf:
            raise WfmError(f"{name} must be a finite number > 0, got {value!r}")


def staffing_figures(
    agents: int,
    *,
    traffic: float,
    aht_s: float,
    targets: StaffingTargets,
    patience_s: float | None = None,
) -> StaffingFigures:
    """Erlang C (and, with a patience, Erlang A) figures for `agents` agents."""
    _check_queue(traffic, aht_s, patience_s)
    t = targets.service_time_s
    pw = waiting_from_blocking(agents, traffic, erlang_b(agents, traffic))
    return StaffingFigures(
        agents=agents,
        traffic=traffic,
        probability_of_waiting=pw,
        service_level=service_level_from_waiting(agents, traffic, pw, aht_s, t),
        asa=asa_from_waiting(agents, traffic, pw, aht_s),
        occupancy=traffic / agents,
        erlang_a=None if patience_s is None else erlang_a(agents, traffic, aht_s, patience_s, t),
    )


def _meets(targets: StaffingTargets, *, service_level: float, asa: float, occupancy: float) -> bool:
    """Whether the service-level, ASA and occupancy targets that are set all hold."""
    return (
        (targets.service_level is None or service_level >= targets.service_level.fraction)
        and (targets.max_asa_s is None or asa <= targets.max_asa_s)
        and (targets.max_occupancy is None or occupancy <= targets.max_occupancy)
    )


def _erlang_c_requirement(traffic: float, aht_s: float, targets: StaffingTargets) -> int:
    """Smallest stable n meeting the targets under Erlang C, in one upward pass."""
    first = math.floor(traffic) + 1
    if targets.max_occupancy is not None:
        first = max(first, math.ceil(traffic / targets.max_occupancy) - 1)
    t = targets.service_time_s
    for n, b in erlang_b_upward(first, traffic):
        pw = waiting_from_blocking(n, traffic, b)
        if _meets(
            targets,
            service_level=service_level_from_waiting(n, traffic, pw, aht_s, t),
            asa=asa_from_waiting(n, traffic, pw, aht_s),
            occupancy=traffic / n,
        ):
            return n
    raise AssertionError("unreachable: erlang_b_upward never ends")


def _meets_erlang_a(
    n: int, traffic: float, aht_s: float, patience_s: float, targets: StaffingTargets
) -> bool:
    """Whether n agents meet every target under Erlang A."""
    metrics = erlang_a(n, traffic, aht_s, patience_s, targets.service_time_s)
    return _meets(
        targets, service_level=metrics.service_level, asa=metrics.asa, occupancy=metrics.occupancy
    ) and (
        targets.max_abandonment is None
        or metrics.probability_of_abandonment <= targets.max_abandonment
    )


def _erlang_a_requirement(
    traffic: float, aht_s: float, patience_s: float, targets: StaffingTargets
) -> int:
    """Smallest n meeting the targets under Erlang A: gallop up, then bisect."""
    low, high = 0, 1  # invariant: low fails (or is 0), high is the candidate
    while not _meets_erlang_a(high, traffic, aht_s, patience_s, targets):
        if high >= _MAX_AGENTS:
            raise WfmError(f"targets: not reachable with {_MAX_AGENTS} agents")
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        if _meets_erlang_a(middle, traffic, aht_s, patience_s, targets):
            high = middle
        else:
            low = middle
    return high


def required_agents(
    *,
    traffic: float,
    aht_s: float,
    targets: StaffingTargets,
    patience_s: float | None = None,
) -> int:
    """Smallest number of agents meeting all targets: Erlang C, or Erlang A with patience."""
    _check_queue(traffic, aht_s, patience_s)
    if patience_s is not None:
        return _erlang_a_requirement(traffic, aht_s, patience_s, targets)
    if targets.max_abandonment is not None:
        raise WfmError("max_abandonment needs patience_s: abandonment is an Erlang A figure")
    return _erlang_c_requirement(traffic, aht_s, targets)


def _check_shrinkage(shrinkage: float) -> None:
    """Raise WfmError unless 0 ≤ shrinkage < 1."""
    if not 0 <= shrinkage < 1:
        raise WfmError(f"shrinkage must be in [0, 1), got {shrinkage!r}")


def agents_to_schedule(required: int, shrinkage: float) -> int:
    """Agents to put on the schedule so `required` remain after shrinkage (0 ≤ s < 1)."""
    _check_shrinkage(shrinkage)
    # Read shrinkage as the decimal it was written as: 21 / (1 − 0.3) is 30, not 30.000…04.
    return math.ceil(required / (1 - Fraction(repr(shrinkage))))


def plan_staffing(
    *,
    traffic: float,
    aht_s: float,
    targets: StaffingTargets,
    patience_s: float | None = None,
    shrinkage: float = 0.0,
) -> StaffingPlan:
    """Required agents with their figures, and the number to schedule after shrinkage."""
    _check_shrinkage(shrinkage)
    required = required_agents(traffic=traffic, aht_s=aht_s, targets=targets, patience_s=patience_s)
    return StaffingPlan(
        model="erlang_c" if patience_s is None else "erlang_a",
        required=staffing_figures(
            required, traffic=traffic, aht_s=aht_s, targets=targets, patience_s=patience_s
        ),
        shrinkage=shrinkage,
        agents_to_schedule=agents_to_schedule(required, shrinkage),
    )
