"""Erlang A (M/M/n+M) against its Erlang C limit and an independent birth–death solution."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pytest

from omnidesk.wfm.erlang import WfmError, asa, erlang_a, erlang_c, service_level
from omnidesk.wfm.staffing import (
    ServiceLevelTarget,
    StaffingTargets,
    plan_staffing,
    required_agents,
)

# (agents, Erlangs, AHT s, mean patience s): in and out of overload, short and long patience.
CASES = [
    (14, 10, 180, 120),
    (8, 10, 180, 60),
    (30, 40, 300, 30),
    (5, 10, 180, 600),
    (100, 95, 240, 300),
    (1, 2, 200, 50),
]
# Queue places kept in the truncated chain; every case's tail beyond it is < 1e-30.
QUEUE_PLACES = 400


@dataclass(frozen=True)
class ChainFigures:
    """Erlang A figures solved directly on the truncated M/M/n+M chain."""

    probability_of_waiting: float
    probability_of_abandonment: float
    service_level: float
    asa: float
    average_time_in_queue: float
    occupancy: float


def _stationary(n: int, a: int, aht: int, patience: int) -> list[Fraction]:
    """Exact stationary probabilities of the birth–death chain, cut at n + QUEUE_PLACES."""
    arrival, service, abandon = Fraction(a, aht), Fraction(1, aht), Fraction(1, patience)
    weights = [Fraction(1)]
    for k in range(1, n + QUEUE_PLACES + 1):
        departure = min(k, n) * service + max(k - n, 0) * abandon
        weights.append(weights[-1] * arrival / departure)  # cut equation λπ(k−1) = μ(k)π(k)
    total = sum(weights)
    return [w / total for w in weights]


def _answered_within(n: int, aht: int, patience: int, t: int) -> np.ndarray:
    """P(answered within t | j ahead in line) for each j, by uniformizing the tagged contact."""
    forward = (n + np.arange(QUEUE_PLACES) * aht / patience) / aht  # next in line moves on
    leave = 1 / patience
    uniform_rate = forward[-1] + leave
    move, stay = forward / uniform_rate, 1 - (forward + leave) / uniform_rate
    mean_jumps = uniform_rate * t
    answered_by_jump = np.zeros(QUEUE_PLACES)
    result = np.zeros(QUEUE_PLACES)
    jumps = 0
    while True:
        weight = math.exp(jumps * math.log(mean_jumps) - mean_jumps - math.lgamma(jumps + 1))
        result += weight * answered_by_jump
        if jumps > mean_jumps and weight < 1e-20:
            return result
        ahead_answered = np.concatenate(([1.0], answered_by_jump[:-1]))
        answered_by_jump = move * ahead_answered + stay * answered_by_jump
        jumps += 1


def _answered_wait(n: int, aht: int, patience: int) -> tuple[list[float], list[float]]:
    """P(answered | j ahead) and E[wait · 1{answered} | j ahead], by first-step analysis."""
    chances, waits = [], []
    chance, wait = 1.0, 0.0
    for j in range(QUEUE_PLACES):
        leave_rate = (n + (j + 1) * aht / patience) / aht  # move on or abandon
        move = (n + j * aht / patience) / aht / leave_rate
        chance, wait = move * chance, chance * move / leave_rate + move * wait
        chances.append(chance)
        waits.append(wait)
    return chances, waits


def _chain_figures(n: int, a: int, aht: int, patience: int, t: int) -> ChainFigures:
    """All Erlang A figures from the truncated chain, independent of omnidesk's series."""
    pi = _stationary(n, a, aht, patience)
    queued = [float(p) for p in pi[n:-1]]  # arrivals finding j = 0, 1, … ahead
    no_wait = float(sum(pi[:n]))
    mean_queue = float(sum((k - n) * p for k, p in enumerate(pi) if k > n))
    busy = float(sum(min(k, n) * p for k, p in enumerate(pi)))
    chances, waits = _answered_wait(n, aht, patience)
    answered = no_wait + sum(q * c for q, c in zip(queued, chances, strict=True))
    within = _answered_within(n, aht, patience, t)
    return ChainFigures(
        probability_of_waiting=float(sum(pi[n:])),
        probability_of_abandonment=mean_queue / patience / (a / aht),  # θ⁻¹·E[Q]/λ
        service_level=no_wait + float(np.dot(queued, within)),
        asa=sum(q * w for q, w in zip(queued, waits, strict=True)) / answered,
        average_time_in_queue=mean_queue / (a / aht),  # Little's law
        occupancy=busy / n,
    )


@pytest.mark.parametrize(("n", "a", "aht", "patience"), CASES)
def test_matches_the_birth_death_chain(n: int, a: int, aht: int, patience: int) -> None:
    ours = erlang_a(n, float(a), aht, patience, t=20)
    chain = _chain_figures(n, a, aht, patience, t=20)
    assert ours.probability_of_waiting == pytest.approx(chain.probability_of_waiting, rel=1e-9)
    assert ours.probability_of_abandonment == pytest.approx(
        chain.probability_of_abandonment, rel=1e-9
    )
    assert ours.service_level == pytest.approx(chain.service_level, abs=1e-9)
    assert ours.asa == pytest.approx(chain.asa, rel=1e-9)
    assert ours.average_time_in_queue == pytest.approx(chain.average_time_in_queue, rel=1e-9)
    assert ours.occupancy == pytest.approx(chain.occupancy, rel=1e-9)


@pytest.mark.parametrize(("n", "a"), [(14, 10.0), (55, 48.0), (1100, 1000.0)])
def test_infinite_patience_limit_is_erlang_c(n: int, a: float) -> None:
    ours = erlang_a(n, a, 180, patience=1e10, t=20)
    assert ours.probability_of_waiting == pytest.approx(erlang_c(n, a), rel=1e-6)
    assert ours.service_level == pytest.approx(service_level(n, a, 180, 20), abs=1e-6)
    assert ours.asa == pytest.approx(asa(n, a, 180), rel=1e-6)
    assert ours.probability_of_abandonment < 1e-6


def test_service_level_at_zero_seconds_is_answered_without_waiting() -> None:
    ours = erlang_a(12, 10.0, 180, 90, t=0)
    assert ours.service_level == pytest.approx(1 - ours.probability_of_waiting, abs=1e-12)


def test_heavy_overload_with_thousands_of_agents_stays_finite() -> None:
    # Queue-length terms reach e^800 here; the fluid limit says abandonment → 1 − n/a.
    ours = erlang_a(2500, 5000.0, 300, 300, t=20)
    assert all(math.isfinite(v) for v in vars(ours).values())
    assert ours.probability_of_abandonment == pytest.approx(0.5, abs=2e-3)
    assert ours.occupancy == pytest.approx(1.0, abs=1e-3)


def test_figures_improve_with_every_added_agent() -> None:
    for a, patience in itertools.product((3.0, 47.5, 200.0), (10, 180, 1000)):
        figures = [erlang_a(n, a, 180, patience, 20) for n in range(1, int(a * 1.5) + 5)]
        for fewer, more in itertools.pairwise(figures):
            assert more.probability_of_abandonment < fewer.probability_of_abandonment
            assert more.service_level >= fewer.service_level - 1e-12
            assert more.asa < fewer.asa
            assert more.occupancy <= fewer.occupancy + 1e-12


def test_abandonment_target_gives_smallest_n() -> None:
    targets = StaffingTargets(max_abandonment=0.05)
    n = required_agents(traffic=10.0, aht_s=180, targets=targets, patience_s=120)
    assert n == 13
    assert erlang_a(n, 10.0, 180, 120, 0).probability_of_abandonment <= 0.05
    assert erlang_a(n - 1, 10.0, 180, 120, 0).probability_of_abandonment > 0.05


def test_patience_switches_staffing_to_erlang_a() -> None:
    targets = StaffingTargets(service_level=ServiceLevelTarget(0.8, 20), max_abandonment=0.03)
    plan = plan_staffing(traffic=10.0, aht_s=180, targets=targets, patience_s=120, shrinkage=0.3)
    assert plan.model == "erlang_a"
    assert plan.required.erlang_a is not None
    assert plan.required.erlang_a.probability_of_abandonment <= 0.03
    assert plan.required.erlang_a.service_level >= 0.8
    assert plan.required.agents == 14
    assert plan.agents_to_schedule == 20


def test_erlang_a_staffing_below_the_traffic_is_allowed() -> None:
    targets = StaffingTargets(max_abandonment=0.5)
    assert required_agents(traffic=100.0, aht_s=300, targets=targets, patience_s=60) < 100


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"patience": 0.0}, "patience must"),
        ({"patience": math.inf}, "patience must"),
        ({"t": -1.0}, "t must"),
        ({"aht": -3.0}, "aht must"),
        ({"n": 0}, "n must"),
    ],
)
def test_bad_input_raises_a_value_error_naming_the_argument(
    kwargs: dict[str, float], argument: str
) -> None:
    arguments: dict[str, float] = {"n": 10, "a": 8.0, "aht": 180.0, "patience": 60.0, "t": 20.0}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=argument):
        erlang_a(
            int(arguments["n"]),
            arguments["a"],
            arguments["aht"],
            arguments["patience"],
            arguments["t"],
        )


def test_too_long_a_patience_for_an_overloaded_queue_is_refused() -> None:
    with pytest.raises(WfmError, match="patience"):
        erlang_a(10, 1000.0, 180, 1e9, 20)
