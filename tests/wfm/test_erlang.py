"""Erlang B/C formulas and Erlang C staffing against exact and independent references."""

from __future__ import annotations

import csv
import itertools
import math
import warnings
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import pytest

from omnidesk.wfm.erlang import (
    WfmError,
    asa,
    erlang_b,
    erlang_b_upward,
    erlang_c,
    occupancy,
    probability_of_waiting,
    service_level,
    traffic_intensity,
)
from omnidesk.wfm.staffing import (
    ServiceLevelTarget,
    StaffingTargets,
    agents_to_schedule,
    plan_staffing,
    required_agents,
)

REFERENCE_CSV = Path(__file__).resolve().parents[2].parent / "shared/reference/erlang_c.csv"


def _reference_rows() -> list[dict[str, str]]:
    """Rows of the shared exact-arithmetic Erlang C reference."""
    with REFERENCE_CSV.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _row_id(row: dict[str, str]) -> str:
    """A readable test id for a reference row."""
    return f"{row['calls']}calls-{row['aht_s']}s-n{row['agents']}"


def _sl_80_in(seconds: float) -> StaffingTargets:
    """An 80 % in `seconds` service-level target."""
    return StaffingTargets(service_level=ServiceLevelTarget(fraction=0.8, within_s=seconds))


def _exact_erlang_b(n: int, a: int) -> Fraction:
    """Erlang B in exact rationals for whole a: 1/B(n) = S(n)/a^n, S(n) = a^n + n·S(n−1)."""
    s, a_power = 1, 1
    for k in range(1, n + 1):
        a_power *= a
        s = a_power + k * s
    return Fraction(a_power, s)


def _exact_erlang_c(n: int, a: int) -> Fraction:
    """Erlang C in exact rationals, n > a."""
    b = _exact_erlang_b(n, a)
    return n * b / (n - a * (1 - b))


def _plain_erlang_b(n: int, a: float) -> float:
    """Erlang B by the textbook recursion from B(0) = 1, every step."""
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return b


@pytest.mark.parametrize("row", _reference_rows(), ids=_row_id)
def test_reproduces_every_reference_row(row: dict[str, str]) -> None:
    n, aht, t = int(row["agents"]), float(row["aht_s"]), float(row["target_s"])
    a = traffic_intensity(float(row["calls"]), float(row["period_s"]), aht)
    assert a == pytest.approx(float(row["traffic_erlangs"]), abs=1e-6)
    assert erlang_c(n, a) == pytest.approx(float(row["prob_wait"]), rel=1e-9, abs=0)
    assert service_level(n, a, aht, t) == pytest.approx(float(row["service_level"]), abs=1e-9)
    assert asa(n, a, aht) == pytest.approx(float(row["asa_s"]), rel=1e-9, abs=0)
    assert occupancy(n, a) == pytest.approx(float(row["occupancy"]), abs=1e-12)


def test_reference_rows_bracket_our_staffing_answers() -> None:
    rows = _reference_rows()
    checked = 0
    for below, at in itertools.pairwise(rows):
        same_case = all(below[k] == at[k] for k in ("calls", "period_s", "aht_s", "target_s"))
        if not same_case or int(at["agents"]) != int(below["agents"]) + 1:
            continue
        for fraction in (0.5, 0.8, 0.9, 0.95):
            if float(below["service_level"]) < fraction <= float(at["service_level"]):
                aht = float(at["aht_s"])
                a = traffic_intensity(float(at["calls"]), float(at["period_s"]), aht)
                target = ServiceLevelTarget(fraction=fraction, within_s=float(at["target_s"]))
                needed = required_agents(
                    traffic=a, aht_s=aht, targets=StaffingTargets(service_level=target)
                )
                assert needed == int(at["agents"])
                checked += 1
    assert checked >= 8


def test_worked_example_needs_14_agents_and_20_to_schedule() -> None:
    a = traffic_intensity(calls=100, period_s=1800, aht_s=180)
    plan = plan_staffing(traffic=a, aht_s=180, targets=_sl_80_in(20), shrinkage=0.3)
    assert a == 10.0
    assert plan.required.agents == 14
    assert plan.agents_to_schedule == 20
    assert plan.required.service_level == pytest.approx(0.888350019179467, abs=1e-12)
    assert plan.model == "erlang_c"


def test_second_textbook_example_needs_55_agents() -> None:
    a = traffic_intensity(calls=360, period_s=1800, aht_s=240)
    assert required_agents(traffic=a, aht_s=240, targets=_sl_80_in(15)) == 55


def test_probability_of_waiting_is_erlang_c() -> None:
    assert probability_of_waiting is erlang_c


def test_late_started_recursion_equals_the_full_recursion() -> None:
    for a in (0.3, 7.5, 99.9, 150.0, 733.3, 1499.5, 4000.25):
        for n in sorted({1, max(1, int(a / 2)), max(1, int(a)), int(a) + 1, int(a * 1.1) + 3}):
            assert erlang_b(n, a) == pytest.approx(_plain_erlang_b(n, a), rel=1e-13, abs=0)


def test_erlang_b_matches_exact_rationals() -> None:
    for n, a in ((1, 1), (14, 10), (60, 48), (120, 100), (1040, 1000)):
        assert erlang_b(n, float(a)) == pytest.approx(float(_exact_erlang_b(n, a)), rel=1e-13)


def test_5000_agents_at_4900_erlangs_matches_exact_rationals() -> None:
    exact = _exact_erlang_c(5000, 4900)
    assert erlang_c(5000, 4900.0) == pytest.approx(float(exact), rel=1e-12, abs=0)
    exact_asa = float(exact) * 300 / 100
    assert asa(5000, 4900.0, 300) == pytest.approx(exact_asa, rel=1e-12, abs=0)


def test_5000_agents_far_above_traffic_gives_zero_not_nan() -> None:
    assert erlang_b(5000, 10.0) == 0.0
    assert erlang_c(5000, 10.0) == 0.0
    assert service_level(5000, 10.0, 180, 20) == 1.0
    assert asa(5000, 10.0, 180) == 0.0


def test_thousands_of_erlangs_stay_finite_and_follow_the_square_root_law() -> None:
    # Halfin–Whitt: at n = a + β√a, Pw → (1 + β·Φ(β)/φ(β))⁻¹ as a grows.
    beta, a = 1.0, 1_000_000.0
    phi = math.exp(-beta * beta / 2) / math.sqrt(2 * math.pi)
    big_phi = 0.5 * (1 + math.erf(beta / math.sqrt(2)))
    limit = 1 / (1 + beta * big_phi / phi)
    assert erlang_c(int(a + beta * math.sqrt(a)), a) == pytest.approx(limit, rel=2e-3)


def test_unstable_queue_waits_always_and_never_meets_service_level() -> None:
    for n, a in ((10, 10.0), (9, 10.0), (1, 3.5)):
        assert erlang_c(n, a) == 1.0
        assert service_level(n, a, 180, 20) == 0.0
        assert asa(n, a, 180) == math.inf
    assert erlang_c(11, 10.0) < 1.0


def test_erlang_b_upward_yields_the_same_values_as_erlang_b() -> None:
    steps = itertools.islice(erlang_b_upward(990, 1000.0), 40)
    for n, b in steps:
        assert b == pytest.approx(erlang_b(n, 1000.0), rel=1e-13)


@pytest.fixture
def pyworkforce_erlang_c() -> type:
    """pyworkforce's ErlangC class, imported with its warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pyworkforce.queuing import ErlangC
    return ErlangC  # type: ignore[no-any-return]


def test_agrees_with_pyworkforce_up_to_2000_agents(pyworkforce_erlang_c: type) -> None:
    for agents in (1, 2, 5, 13, 40, 111, 260, 500, 777, 1000, 1350, 1700, 2000):
        for load in (0.5, 0.8, 0.95, 0.99):
            a = agents * load
            # pyworkforce works in minutes: intensity = transactions / interval · aht
            model = pyworkforce_erlang_c(transactions=a * 10, aht=3.0, asa=20 / 60, interval=30)
            expected_pw = model.waiting_probability(agents)
            expected_sl = model.service_level(agents)
            assert erlang_c(agents, model.intensity) == pytest.approx(expected_pw, rel=1e-9)
            assert service_level(agents, model.intensity, 180, 20) == pytest.approx(
                expected_sl, rel=1e-9
            )


def test_staffing_agrees_with_pyworkforce(pyworkforce_erlang_c: type) -> None:
    for calls, fraction in itertools.product((7, 100, 555, 2400, 9000), (0.7, 0.8, 0.9)):
        model = pyworkforce_erlang_c(transactions=calls, aht=4.0, asa=20 / 60, interval=30)
        expected = model.required_positions(service_level=fraction)["raw_positions"]
        target = ServiceLevelTarget(fraction=fraction, within_s=20)
        ours = required_agents(
            traffic=model.intensity, aht_s=240, targets=StaffingTargets(service_level=target)
        )
        assert ours == expected


def test_required_agents_meet_the_target_and_one_fewer_does_not() -> None:
    for a, seconds in itertools.product((0.2, 4.4, 48.0, 333.3, 2500.0), (0.0, 20.0, 60.0)):
        n = required_agents(traffic=a, aht_s=300, targets=_sl_80_in(seconds))
        assert service_level(n, a, 300, seconds) >= 0.8
        if n > 1:
            assert service_level(n - 1, a, 300, seconds) < 0.8


def test_asa_target_gives_smallest_n_under_the_limit() -> None:
    n = required_agents(traffic=10.0, aht_s=180, targets=StaffingTargets(max_asa_s=20))
    assert asa(n, 10.0, 180) <= 20 < asa(n - 1, 10.0, 180)
    assert n == 13


def test_occupancy_target_alone_and_combined_with_service_level() -> None:
    occupancy_only = StaffingTargets(max_occupancy=0.7)
    both = StaffingTargets(
        service_level=ServiceLevelTarget(fraction=0.8, within_s=20), max_occupancy=0.7
    )
    assert required_agents(traffic=10.0, aht_s=180, targets=occupancy_only) == 15
    assert required_agents(traffic=10.0, aht_s=180, targets=both) == 15
    assert required_agents(traffic=7.0, aht_s=180, targets=StaffingTargets(max_occupancy=0.7)) == 10


def test_all_targets_must_hold() -> None:
    a, aht = 48.0, 240.0
    sl_only = required_agents(traffic=a, aht_s=aht, targets=_sl_80_in(15))
    asa_only = required_agents(traffic=a, aht_s=aht, targets=StaffingTargets(max_asa_s=5))
    both = StaffingTargets(service_level=ServiceLevelTarget(0.8, 15), max_asa_s=5)
    assert required_agents(traffic=a, aht_s=aht, targets=both) == max(sl_only, asa_only)


def test_staffing_grows_with_traffic_and_with_stricter_targets() -> None:
    traffic = [0.5 * 1.3**k for k in range(28)]
    by_traffic = [required_agents(traffic=a, aht_s=180, targets=_sl_80_in(20)) for a in traffic]
    assert by_traffic == sorted(by_traffic)
    by_fraction = [
        required_agents(
            traffic=100.0, aht_s=180, targets=StaffingTargets(ServiceLevelTarget(f / 100, 20))
        )
        for f in range(5, 100, 5)
    ]
    assert by_fraction == sorted(by_fraction)
    by_time = [
        required_agents(traffic=100.0, aht_s=180, targets=_sl_80_in(t)) for t in range(0, 300, 10)
    ]
    assert by_time == sorted(by_time, reverse=True)


def test_shrinkage_is_applied_in_exact_decimal() -> None:
    assert agents_to_schedule(21, 0.3) == 30  # 21 / 0.7 is 30.000000000000004 in floats
    assert agents_to_schedule(14, 0.3) == 20
    assert agents_to_schedule(14, 0.0) == 14
    assert agents_to_schedule(10, 0.35) == 16


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: erlang_b(0, 1.0), "n must"),
        (lambda: erlang_b(True, 1.0), "n must"),
        (lambda: erlang_b(3, -1.0), "a must"),
        (lambda: erlang_c(3, math.nan), "a must"),
        (lambda: service_level(3, 1.0, 0.0, 20), "aht must"),
        (lambda: service_level(3, 1.0, 180, -1), "t must"),
        (lambda: occupancy(3, math.inf), "a must"),
        (lambda: traffic_intensity(0, 1800, 180), "calls must"),
        (lambda: traffic_intensity(10, 0, 180), "period_s must"),
        (lambda: ServiceLevelTarget(fraction=1.0, within_s=20), "fraction must"),
        (lambda: ServiceLevelTarget(fraction=0.8, within_s=-5), "time must"),
        (lambda: StaffingTargets(), "at least one"),
        (lambda: StaffingTargets(max_asa_s=0), "max_asa_s must"),
        (lambda: StaffingTargets(max_occupancy=1.5), "max_occupancy must"),
        (lambda: agents_to_schedule(10, 1.0), "shrinkage must"),
        (
            lambda: required_agents(traffic=-2.0, aht_s=180, targets=_sl_80_in(20)),
            "traffic must",
        ),
        (
            lambda: required_agents(
                traffic=2.0, aht_s=180, targets=StaffingTargets(max_abandonment=0.05)
            ),
            "needs patience_s",
        ),
    ],
)
def test_bad_input_raises_a_value_error_naming_the_argument(
    call: Callable[[], object], argument: str
) -> None:
    with pytest.raises(ValueError, match=argument):
        call()
    with pytest.raises(WfmError):
        call()
