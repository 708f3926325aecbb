"""Workforce-management benchmark: omnidesk's Erlang C staffing against pyworkforce.

Run alone: `.venv/bin/python bench/wfm.py [--quick]`. Prints a readable table per
section and, as the last line, one JSON object with the figures (units in keys).
Sections: `staffing` (Erlang C requirement vs pyworkforce). The simulator-vs-Ciw
section joins SECTIONS once the routing engine exists.
"""

from __future__ import annotations

import argparse
import json
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from omnidesk.wfm.erlang import traffic_intensity
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


SECTIONS: dict[str, Callable[[bool], Figures]] = {"staffing": staffing_section}


def main() -> None:
    """Run every section and print their figures as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller grid, one repeat")
    quick = parser.parse_args().quick
    figures: Figures = {}
    for section in SECTIONS.values():
        figures.update(section(quick))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
