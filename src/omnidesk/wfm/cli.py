"""`omnidesk erlang`: staffing table and requirement from the command line."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from enum import StrEnum

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from omnidesk.wfm.erlang import WfmError, traffic_intensity
from omnidesk.wfm.staffing import (
    ServiceLevelTarget,
    StaffingFigures,
    StaffingPlan,
    StaffingTargets,
    plan_staffing,
    staffing_figures,
)

app = typer.Typer(add_completion=False)

# Rows shown on each side of the requirement.
_ROWS_AROUND = 3
_SECONDS_PER_UNIT = {"s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h)\s*$")
_TARGET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%?\s*/\s*(\d+(?:\.\d+)?)\s*s?\s*$")

Record = dict[str, int | float | bool | None]


class OutputFormat(StrEnum):
    """How the staffing table is printed."""

    table = "table"
    csv = "csv"
    json = "json"


class _BadOption(Exception):
    """A command-line value that cannot be used; the message names the option."""


def _parse_period(text: str) -> float:
    """Seconds in a period written as 30m, 1h, 900s or 1.5h."""
    match = _DURATION.match(text)
    if match is None or float(match[1]) <= 0:
        raise _BadOption(f"--per: expected a duration such as 30m, 1h or 900s, got {text!r}")
    return float(match[1]) * _SECONDS_PER_UNIT[match[2]]


def _parse_target(text: str) -> ServiceLevelTarget:
    """Service-level target written as percent/seconds, e.g. 80/20."""
    match = _TARGET.match(text)
    if match is None or not 0 < float(match[1]) < 100:
        raise _BadOption(
            f"--target: expected percent/seconds with 0 < percent < 100, e.g. 80/20, got {text!r}"
        )
    return ServiceLevelTarget(fraction=float(match[1]) / 100, within_s=float(match[2]))


def _require(condition: bool, message: str) -> None:
    """Raise _BadOption with message unless condition holds."""
    if not condition:
        raise _BadOption(message)


def _check_options(
    target: str | None,
    calls: float,
    aht: float,
    shrinkage: float,
    patience: float | None,
    asa: float | None,
    max_abandon: float | None,
    max_occupancy: float | None,
) -> None:
    """Raise _BadOption naming the first option out of range."""
    _require(
        (target, asa, max_abandon, max_occupancy) != (None, None, None, None),
        "--target: give a target (--target, --asa, --max-abandon or --max-occupancy)",
    )
    _require(0 < calls < math.inf, f"--calls: expected a number > 0, got {calls}")
    _require(0 < aht < math.inf, f"--aht: expected seconds > 0, got {aht}")
    _require(0 <= shrinkage < 1, f"--shrinkage: expected a fraction in [0, 1), got {shrinkage}")
    _require(
        patience is None or 0 < patience < math.inf,
        f"--patience: expected seconds > 0, got {patience}",
    )
    _require(asa is None or 0 < asa < math.inf, f"--asa: expected seconds > 0, got {asa}")
    _require(
        max_abandon is None or 0 < max_abandon < 100,
        f"--max-abandon: expected a percent in (0, 100), got {max_abandon}",
    )
    _require(
        max_abandon is None or patience is not None,
        "--max-abandon: needs --patience (abandonment comes from Erlang A)",
    )
    _require(
        max_occupancy is None or 0 < max_occupancy <= 100,
        f"--max-occupancy: expected a percent in (0, 100], got {max_occupancy}",
    )


def _percent_to_fraction(percent: float | None) -> float | None:
    """0–100 percent as a 0–1 fraction, keeping None."""
    return None if percent is None else percent / 100


def _figures_around(
    plan: StaffingPlan, targets: StaffingTargets, aht: float, patience: float | None
) -> list[StaffingFigures]:
    """Figures for a few agent counts either side of the requirement."""
    required = plan.required.agents
    return [
        staffing_figures(
            n, traffic=plan.required.traffic, aht_s=aht, targets=targets, patience_s=patience
        )
        for n in range(max(1, required - _ROWS_AROUND), required + _ROWS_AROUND + 1)
    ]


def _finite_or_none(value: float) -> float | None:
    """The value, or None for infinity (JSON has no infinity)."""
    return value if math.isfinite(value) else None


def _record(figures: StaffingFigures, targets: StaffingTargets, required: int) -> Record:
    """One table row as a flat record with units in the keys."""
    record: Record = {
        "agents": figures.agents,
        "traffic_erlangs": figures.traffic,
        "probability_of_waiting": figures.probability_of_waiting,
    }
    if targets.service_level is not None:
        record["service_level"] = figures.service_level
    record["asa_s"] = _finite_or_none(figures.asa)
    record["occupancy"] = figures.occupancy
    if figures.erlang_a is not None:
        record["erlang_a_probability_of_waiting"] = figures.erlang_a.probability_of_waiting
        record["erlang_a_probability_of_abandonment"] = figures.erlang_a.probability_of_abandonment
        if targets.service_level is not None:
            record["erlang_a_service_level"] = figures.erlang_a.service_level
        record["erlang_a_asa_s"] = figures.erlang_a.asa
    record["required"] = figures.agents == required
    return record


def _answer_line(plan: StaffingPlan) -> str:
    """The one-line answer: required agents and agents to schedule."""
    return (
        f"{plan.required.agents} agents needed ({plan.agents_to_schedule} to schedule "
        f"with {plan.shrinkage * 100:g}% shrinkage)"
    )


def _percent(value: float) -> str:
    """A 0–1 fraction as a percent with one decimal."""
    return f"{value * 100:.1f}%"


def _seconds(value: float) -> str:
    """Seconds with one decimal, ∞ for an unstable queue."""
    return f"{value:.1f}" if math.isfinite(value) else "∞"


def _rich_table(
    rows: list[StaffingFigures],
    plan: StaffingPlan,
    targets: StaffingTargets,
    patience: float | None,
) -> Table:
    """The staffing table; the required row is bold and marked ◀."""
    sl_header = f"SL {targets.service_time_s:g}s"
    model = "Erlang C" if patience is None else f"Erlang C; A = Erlang A, patience {patience:g} s"
    table = Table(
        title=f"{plan.required.traffic:.2f} Erlangs — {model}", box=box.SIMPLE_HEAD, pad_edge=False
    )
    headers = ["Agents", "P(wait)"]
    if targets.service_level is not None:
        headers.append(sl_header)
    headers += ["ASA s", "Occ."]
    if patience is not None:
        headers.append("Aband. A")
        if targets.service_level is not None:
            headers.append(f"{sl_header} A")
        headers.append("ASA s A")
    for header in headers:
        table.add_column(header, justify="right")
    table.add_column("")
    for figures in rows:
        is_required = figures.agents == plan.required.agents
        table.add_row(
            *_table_cells(figures, targets),
            "◀" if is_required else "",
            style="bold" if is_required else None,
        )
    return table


def _table_cells(figures: StaffingFigures, targets: StaffingTargets) -> list[str]:
    """The formatted cells of one table row."""
    cells = [str(figures.agents), _percent(figures.probability_of_waiting)]
    if targets.service_level is not None:
        cells.append(_percent(figures.service_level))
    cells += [_seconds(figures.asa), _percent(figures.occupancy)]
    if figures.erlang_a is not None:
        cells.append(_percent(figures.erlang_a.probability_of_abandonment))
        if targets.service_level is not None:
            cells.append(_percent(figures.erlang_a.service_level))
        cells.append(_seconds(figures.erlang_a.asa))
    return cells


def _csv_text(records: list[Record]) -> str:
    """Records as CSV with a header line."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue()


def _json_text(plan: StaffingPlan, records: list[Record]) -> str:
    """Requirement and rows as one JSON document."""
    return json.dumps(
        {
            "model": plan.model,
            "traffic_erlangs": plan.required.traffic,
            "required_agents": plan.required.agents,
            "agents_to_schedule": plan.agents_to_schedule,
            "shrinkage": plan.shrinkage,
            "rows": records,
        },
        indent=2,
    )


@app.command()
def erlang(
    calls: float = typer.Option(..., help="Contacts arriving per period."),
    per: str = typer.Option(..., help="Period length: 30m, 1h, 900s."),
    aht: float = typer.Option(..., help="Average handle time, seconds."),
    target: str | None = typer.Option(None, help="Service level percent/seconds, e.g. 80/20."),
    shrinkage: float = typer.Option(0.0, help="Share of paid time not on contacts, 0–1."),
    patience: float | None = typer.Option(None, help="Mean patience, seconds: adds Erlang A."),
    asa: float | None = typer.Option(None, help="Maximum average speed of answer, seconds."),
    max_abandon: float | None = typer.Option(None, help="Maximum abandonment, percent."),
    max_occupancy: float | None = typer.Option(None, help="Maximum occupancy, percent."),
    output_format: OutputFormat = typer.Option(OutputFormat.table, "--format", help="Output."),
) -> None:
    """Agents needed for a service target (Erlang C, or Erlang A with --patience)."""
    try:
        _check_options(target, calls, aht, shrinkage, patience, asa, max_abandon, max_occupancy)
        period_s = _parse_period(per)
        targets = StaffingTargets(
            service_level=None if target is None else _parse_target(target),
            max_asa_s=asa,
            max_abandonment=_percent_to_fraction(max_abandon),
            max_occupancy=_percent_to_fraction(max_occupancy),
        )
        plan = plan_staffing(
            traffic=traffic_intensity(calls, period_s, aht),
            aht_s=aht,
            targets=targets,
            patience_s=patience,
            shrinkage=shrinkage,
        )
    except (_BadOption, WfmError) as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(code=2) from None
    _print(plan, targets, aht, patience, output_format)


def _print(
    plan: StaffingPlan,
    targets: StaffingTargets,
    aht: float,
    patience: float | None,
    output_format: OutputFormat,
) -> None:
    """Print the staffing rows and the answer in the chosen format."""
    rows = _figures_around(plan, targets, aht, patience)
    records = [_record(figures, targets, plan.required.agents) for figures in rows]
    if output_format is OutputFormat.csv:
        typer.echo(_csv_text(records), nl=False)
    elif output_format is OutputFormat.json:
        typer.echo(_json_text(plan, records))
    else:
        console = Console()
        console.print(_rich_table(rows, plan, targets, patience))
        console.print(_answer_line(plan))
