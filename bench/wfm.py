"""Workforce-management benchmark: omnidesk's Erlang C staffing against pyworkforce.

Run alone: `.venv/bin/python bench/wfm.py [--quick] [--only SECTION ...]`. Prints a
readable table per section and, as the last line, one JSON object with the figures
(units in keys). Sections: `staffing` (Erlang C requirement vs pyworkforce),
`simulator` (the same M/M/n scenario in Ciw and in omnidesk's simulator driving the real
routing engine, customers per second, medians of repeats; beside them the same centre as
the shortest CPython event loop with no router, the ceiling of any simulator in CPython),
`validation` (1,000,000 contacts against Erlang C and Erlang A; `--quick`: 100,000).
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import random
import statistics
import time
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import ciw

from omnidesk.wfm.erlang import traffic_intensity
from omnidesk.wfm.simulate.core import Simulation
from omnidesk.wfm.simulate.distributions import Exponential
from omnidesk.wfm.simulate.model import single_queue
from omnidesk.wfm.simulate.results import simulate
from omnidesk.wfm.simulate.validation import validate
from omnidesk.wfm.staffing import ServiceLevelTarget, StaffingTargets, required_agents

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pyworkforce's dependencies may warn on import
    from pyworkforce.queuing import ErlangC

PERIOD_S = 1800  # calls are counted per 30 minutes
AHT_S = 240
# (fraction answered, within seconds): the service-level targets of the grid
SERVICE_TARGETS = ((0.7, 30.0), (0.8, 20.0), (0.9, 15.0), (0.95, 10.0))
MAX_TRAFFIC_ERLANGS = 1500.0

Figures = dict[str, float | int | bool]


@dataclass(frozen=True)
class StaffingProblem:
    """One Erlang C staffing question: calls per period and a service-level target."""

    calls: float
    fraction: float
    within_s: float


def staffing_grid(traffic_points: int) -> list[StaffingProblem]:
    """Traffic from 1 to MAX_TRAFFIC_ERLANGS Erlangs, geometric, times every target."""
    ratio = MAX_TRAFFIC_ERLANGS ** (1 / (traffic_points - 1))
    traffic = [ratio**k for k in range(traffic_points)]
    return [
        StaffingProblem(calls=a * PERIOD_S / AHT_S, fraction=fraction, within_s=within_s)
        for a in traffic
        for fraction, within_s in SERVICE_TARGETS
    ]


def solve_with_omnidesk(problems: Sequence[StaffingProblem]) -> list[int]:
    """Required agents for each problem, by omnidesk."""
    return [
        required_agents(
            traffic=traffic_intensity(problem.calls, PERIOD_S, AHT_S),
            aht_s=AHT_S,
            targets=StaffingTargets(
                service_level=ServiceLevelTarget(problem.fraction, problem.within_s)
            ),
        )
        for problem in problems
    ]


def solve_with_pyworkforce(problems: Sequence[StaffingProblem]) -> list[int]:
    """Required agents for each problem, by pyworkforce (which works in minutes)."""
    answers = []
    for problem in problems:
        model = ErlangC(
            transactions=problem.calls,
            aht=AHT_S / 60,
            asa=problem.within_s / 60,  # pyworkforce's "asa" is the service-level time
            interval=PERIOD_S / 60,
        )
        answers.append(
            int(model.required_positions(service_level=problem.fraction)["raw_positions"])
        )
    return answers


def best_time_s(
    solve: Callable[[Sequence[StaffingProblem]], list[int]],
    problems: Sequence[StaffingProblem],
    repeats: int,
) -> tuple[float, list[int]]:
    """Fastest wall time of `repeats` runs over all problems, and the answers."""
    best = math.inf
    answers: list[int] = []
    for _ in range(repeats):
        start = time.perf_counter()
        answers = solve(problems)
        best = min(best, time.perf_counter() - start)
    return best, answers


def print_staffing_table(
    problems: Sequence[StaffingProblem], ours: list[int], theirs: list[int], rows: int
) -> None:
    """A sample of the grid: traffic, target and both answers."""
    print(f"{'Erlangs':>9} {'target':>9} {'omnidesk':>9} {'pyworkforce':>12}")
    last = len(problems) - 1
    for index in sorted({round(row * last / (rows - 1)) for row in range(rows)}):
        problem = problems[index]
        traffic = traffic_intensity(problem.calls, PERIOD_S, AHT_S)
        target = f"{problem.fraction:.0%}/{problem.within_s:g}s"
        print(f"{traffic:9.1f} {target:>9} {ours[index]:9d} {theirs[index]:12d}")


def staffing_section(quick: bool) -> Figures:
    """Erlang C staffing on the grid: same answers as pyworkforce, and how much faster."""
    problems = staffing_grid(traffic_points=25 if quick else 100)
    repeats = 1 if quick else 3
    ours_s, ours = best_time_s(solve_with_omnidesk, problems, repeats)
    theirs_s, theirs = best_time_s(solve_with_pyworkforce, problems, repeats)
    print(
        f"== staffing: Erlang C, {len(problems)} problems, AHT {AHT_S} s, "
        f"1–{MAX_TRAFFIC_ERLANGS:g} Erlangs, best of {repeats}"
    )
    print_staffing_table(problems, ours, theirs, rows=12)
    mismatches = sum(a != b for a, b in zip(ours, theirs, strict=True))
    print(
        f"omnidesk {ours_s * 1e3:.1f} ms, pyworkforce {theirs_s * 1e3:.1f} ms, "
        f"{mismatches} different answers"
    )
    return {
        "staffing_problems": len(problems),
        "omnidesk_ms_per_problem": round(ours_s * 1e3 / len(problems), 4),
        "pyworkforce_ms_per_problem": round(theirs_s * 1e3 / len(problems), 4),
        "speedup_vs_pyworkforce_x": round(theirs_s / ours_s, 1),
        "answers_identical": mismatches == 0,
    }


# The simulator race: M/M/SIM_AGENTS at SIM_TRAFFIC Erlangs, exponential handle time.
SIM_AGENTS = 10
SIM_TRAFFIC = 8.0
SIM_AHT_S = 180.0


def ciw_customers_per_s(customers: int, seed: int) -> tuple[float, int]:
    """Ciw: simulate until `customers` have arrived; customers per second and records."""
    rate = SIM_TRAFFIC / SIM_AHT_S
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=rate)],
        service_distributions=[ciw.dists.Exponential(rate=1 / SIM_AHT_S)],
        number_of_servers=[SIM_AGENTS],
    )
    ciw.seed(seed)
    simulation = ciw.Simulation(network)
    start = time.perf_counter()
    simulation.simulate_until_max_customers(customers, method="Arrive")
    records = simulation.get_all_records()
    elapsed = time.perf_counter() - start
    return customers / elapsed, len(records)


def bare_loop_customers_per_s(customers: int, seed: int) -> float:
    """The floor: the same M/M/c centre as the shortest CPython event loop, no router at all.

    Arrivals and service ends on a heap, waiting customers in a deque: what any simulator
    written in CPython pays before it routes a single contact.
    """
    draw = random.Random(seed).expovariate
    arrival_rate, service_rate = SIM_TRAFFIC / SIM_AHT_S, 1 / SIM_AHT_S
    start = time.perf_counter()
    timeline: list[tuple[float, bool]] = [(draw(arrival_rate), True)]
    waiting: deque[float] = deque()
    free_agents, arrived, total_wait = SIM_AGENTS, 0, 0.0
    while timeline:
        now, is_arrival = heapq.heappop(timeline)
        if is_arrival:
            arrived += 1
            if arrived < customers:
                heapq.heappush(timeline, (now + draw(arrival_rate), True))
            if free_agents:
                free_agents -= 1
                heapq.heappush(timeline, (now + draw(service_rate), False))
            else:
                waiting.append(now)
        elif waiting:
            total_wait += now - waiting.popleft()
            heapq.heappush(timeline, (now + draw(service_rate), False))
        else:
            free_agents += 1
    assert total_wait > 0  # the centre queued: the loop did the work it claims
    return customers / (time.perf_counter() - start)


def omnidesk_customers_per_s(customers: int, seed: int, with_kpis: bool) -> float:
    """omnidesk: the same centre through the routing engine (events; KPIs if asked)."""
    scenario = single_queue(agents=SIM_AGENTS, arrivals_per_hour=SIM_TRAFFIC / SIM_AHT_S * 3600,
                            handle_time=Exponential(SIM_AHT_S), duration_s=1e15, seed=seed,
                            max_contacts=customers)
    start = time.perf_counter()
    if with_kpis:
        simulate(scenario)
    else:
        deque(Simulation(scenario).events(), maxlen=0)
    return customers / (time.perf_counter() - start)


def simulator_section(quick: bool) -> Figures:
    """Customers simulated per second: Ciw against omnidesk's simulator, same scenario."""
    customers = 20_000 if quick else 200_000
    repeats = 1 if quick else 3
    ciw_rates, floors, ours, ours_kpis = [], [], [], []
    for seed in range(1, repeats + 1):
        rate, _ = ciw_customers_per_s(customers, seed)
        ciw_rates.append(rate)
        floors.append(bare_loop_customers_per_s(customers, seed))
        ours.append(omnidesk_customers_per_s(customers, seed, with_kpis=False))
        ours_kpis.append(omnidesk_customers_per_s(customers, seed, with_kpis=True))
    ciw_rate, our_rate = statistics.median(ciw_rates), statistics.median(ours)
    kpi_rate, floor_rate = statistics.median(ours_kpis), statistics.median(floors)
    print(f"== simulator: M/M/{SIM_AGENTS}, {SIM_TRAFFIC:g} Erlangs, AHT {SIM_AHT_S:g} s, "
          f"{customers:,} customers, median of {repeats}")
    print(f"{'Ciw ' + ciw.__version__:>34} {ciw_rate:12,.0f} customers/s")
    print(f"{'omnidesk (routing engine)':>34} {our_rate:12,.0f} customers/s")
    print(f"{'omnidesk + KPIs by analytics':>34} {kpi_rate:12,.0f} customers/s")
    print(f"{'bare CPython event loop, no router':>34} {floor_rate:12,.0f} customers/s "
          f"({floor_rate / ciw_rate:.1f}x Ciw: the ceiling of any CPython simulator)")
    return {
        "simulated_customers": customers,
        "ciw_customers_per_s": round(ciw_rate),
        "omnidesk_customers_per_s": round(our_rate),
        "omnidesk_with_kpis_customers_per_s": round(kpi_rate),
        "bare_loop_customers_per_s": round(floor_rate),
        "bare_loop_vs_ciw_x": round(floor_rate / ciw_rate, 2),
        "speedup_vs_ciw_x": round(our_rate / ciw_rate, 2),
    }


# Validation settings: (label, agents, Erlangs). "busy" is the race's centre at 80 %
# occupancy, where waits are long-range correlated and ASA's standard error is ≈ 1.7 % of
# ASA at 1,000,000 contacts; "light" (one agent at 30 %) has short memory, so ASA itself is
# measured to ≈ 0.4 % and "within 1 % of ASA" can be tested.
VALIDATION_SETTINGS = (("busy", SIM_AGENTS, SIM_TRAFFIC), ("light", 1, 0.3))


def validation_section(quick: bool) -> Figures:
    """1,000,000 contacts (quick: 100,000) against Erlang C and Erlang A, per setting."""
    contacts = 100_000 if quick else 1_000_000
    figures: Figures = {"validation_contacts": contacts}
    for setting, agents, traffic in VALIDATION_SETTINGS:
        for model, patience in (("erlang_c", None), ("erlang_a", 300.0)):
            label = model if setting == "busy" else f"{setting}_{model}"
            figures.update(validation_figures(label, agents, traffic, patience, contacts))
    return figures


def validation_figures(label: str, agents: int, traffic: float, patience: float | None,
                       contacts: int) -> Figures:
    """One validation run: its comparisons printed, its figures keyed by `label`."""
    start = time.perf_counter()
    result = validate(agents=agents, traffic=traffic, aht_s=SIM_AHT_S, contacts=contacts,
                      patience_s=patience, seed=1)
    elapsed = time.perf_counter() - start
    print(f"== validation: M/M/{agents}{'+M' if patience else ''} at {traffic:g} Erlangs "
          f"against {result.model}, {contacts:,} contacts, {elapsed:.0f} s, batch means of "
          f"{result.batches}")
    figures: Figures = {}
    for c in result.comparisons:
        print(f"{c.name:>24} simulated {c.simulated:8.3f} {c.unit:1} formula "
              f"{c.analytic:8.3f} diff {c.difference:+7.3f} ± {c.standard_error:.3f} (SE) = "
              f"{100 * c.relative_difference:.2f} % of the formula")
        figures[f"{label}_{c.name}_diff"] = round(c.difference, 4)
        figures[f"{label}_{c.name}_se"] = round(c.standard_error, 4)
    figures[f"{label}_asa_diff_pct"] = round(
        100 * result.comparison("asa").relative_difference, 3)
    figures[f"{label}_seconds"] = round(elapsed, 1)
    return figures


SECTIONS: dict[str, Callable[[bool], Figures]] = {
    "staffing": staffing_section,
    "simulator": simulator_section,
    "validation": validation_section,
}


def main() -> None:
    """Run the sections and print their figures as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, one repeat")
    parser.add_argument("--only", nargs="+", choices=sorted(SECTIONS), help="run only these")
    arguments = parser.parse_args()
    figures: Figures = {}
    for name, section in SECTIONS.items():
        if arguments.only is None or name in arguments.only:
            figures.update(section(arguments.quick))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
