"""`omnidesk erlang`, `simulate`, `forecast` and `plan`: workforce management from a shell."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from omnidesk.errors import OmnideskError
from omnidesk.wfm.charts import Series, svg_chart
from omnidesk.wfm.erlang import WfmError, traffic_intensity
from omnidesk.wfm.forecast import INTERVALS_S, CountSeries, Forecast, forecast
from omnidesk.wfm.history import read_history_csv
from omnidesk.wfm.plan import StaffingPlanTable, plan_records, staffing_plan
from omnidesk.wfm.simulate.model import Scenario
from omnidesk.wfm.simulate.results import (
    SimulationResult,
    interval_records,
    kpi_records,
    simulate,
)
from omnidesk.wfm.simulate.results import to_csv as results_csv
from omnidesk.wfm.simulate.scenario import load_scenario
from omnidesk.wfm.simulate.whatif import parse_what_if
from omnidesk.wfm.staffing import (
    ServiceLevelTarget,
    StaffingFigures,
    StaffingPlan,
    StaffingTargets,
    plan_staffing,
    staffing_figures,
)
from omnidesk.wfm.units import parse_duration

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


# --------------------------------------------------------------------------- simulate

_errors = Console(stderr=True, soft_wrap=True)


def _fail(message: str) -> NoReturn:
    """Print one error line on stderr and exit with code 2."""
    _errors.print(f"Error: {message}", highlight=False, markup=False)
    raise typer.Exit(code=2)


def _wide_console() -> Console:
    """A console at least 100 columns wide (result tables have many columns)."""
    return Console(width=max(100, Console().width))


def _fmt(value: float | None, spec: str = ".1f", suffix: str = "") -> str:
    return "—" if value is None else f"{value:{spec}}{suffix}"


def _results_table(result: SimulationResult) -> Table:
    """One row per queue, then the total, over the measured window."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False,
                  title=f"{result.scenario}: {result.window_start:%Y-%m-%d %H:%M} → "
                        f"{result.window_end:%H:%M} UTC")
    for header in ("Queue", "Offered", "Handled", "Aband.", "SL", "ASA s", "P(wait)",
                   "AHT s", "Aband.%", "Occ."):
        table.add_column(header, justify="left" if header == "Queue" else "right")
    for row in (*result.queues, result.total):
        table.add_row(row.queue_id, str(row.offered), str(row.handled), str(row.abandoned),
                      _fmt(row.service_level_pct, suffix="%"), _fmt(row.asa_s),
                      _fmt(row.probability_of_waiting_pct, suffix="%"), _fmt(row.aht_s),
                      _fmt(row.abandonment_rate_pct, suffix="%"),
                      _fmt(row.occupancy_pct, suffix="%"),
                      style="bold" if row.queue_id == "all" else None)
    return table


def _run_with_progress(scenario: Scenario, label: str, quiet: bool) -> SimulationResult:
    """Simulate with a rich progress bar on stderr (contacts arrived / expected)."""
    expected = scenario.expected_contacts()
    if scenario.max_contacts is not None:
        expected = min(expected, scenario.max_contacts)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=_errors, transient=True,
                  disable=quiet) as progress:
        task = progress.add_task(label, total=max(1, round(expected)))
        result = simulate(scenario, progress=lambda done: progress.update(task, completed=done))
    return result


def _write_outputs(directory: Path, results: list[SimulationResult]) -> list[Path]:
    """results.csv (per queue and total), intervals.csv and an SVG chart per run."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    kpis = [{"run": r.scenario, **record} for r in results for record in kpi_records(r)]
    intervals = [{"run": r.scenario, **record} for r in results for record in interval_records(r)]
    for name, records in (("results.csv", kpis), ("intervals.csv", intervals)):
        path = directory / name
        path.write_text(results_csv(records), encoding="utf-8")
        written.append(path)
    for number, result in enumerate(results):
        totals: dict[datetime, float] = {}
        for row in result.intervals:
            totals[row.start] = totals.get(row.start, 0.0) + row.kpis.offered
        labels = [f"{start:%d %H:%M}" for start in totals]
        series = [Series("offered per 15 min", list(totals.values()), "bar")]
        for queue_id in sorted({row.kpis.queue_id for row in result.intervals}):
            by_start = {row.start: row.kpis.service_level_pct for row in result.intervals
                        if row.kpis.queue_id == queue_id}
            series.append(Series(f"SL % {queue_id}", [by_start.get(s) for s in totals]))
        path = directory / ("chart.svg" if number == 0 else f"chart-{number}.svg")
        path.write_text(svg_chart(result.scenario, labels, series, "contacts / %"),
                        encoding="utf-8")
        written.append(path)
    return written


@app.command("simulate")
def simulate_command(
    scenario_file: Path = typer.Argument(..., help="Scenario file (YAML), see docs/wfm.md."),
    seed: int | None = typer.Option(None, help="Override the scenario's seed."),
    agents: list[str] = typer.Option([], "--agents", help="What if: +N, -N or GROUP=+N agents."),
    strategy: str | None = typer.Option(None, help="What if: route every queue so."),
    mix: list[str] = typer.Option([], "--mix", help="What if: QUEUE_OR_CHANNEL=FACTOR."),
    max_contacts: int | None = typer.Option(None, help="Stop arrivals after this many."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write CSV and SVG here."),
    output_format: OutputFormat = typer.Option(OutputFormat.table, "--format", help="Output."),
    quiet: bool = typer.Option(False, help="No progress bar."),
) -> None:
    """Simulate a contact centre (the real routing engine) and report its KPIs."""
    try:
        scenario = load_scenario(scenario_file)
        if seed is not None:
            scenario = replace(scenario, seed=seed)
        if max_contacts is not None:
            if max_contacts < 1:
                raise WfmError(f"--max-contacts: expected a number ≥ 1, got {max_contacts}")
            scenario = replace(scenario, max_contacts=max_contacts)
        what_if = parse_what_if(agents, strategy, mix)
        runs = [scenario] if what_if is None else [scenario, what_if.apply(scenario)]
        results = [_run_with_progress(run, run.name, quiet) for run in runs]
    except (WfmError, OmnideskError) as error:
        _fail(str(error))
    records = [{"run": r.scenario, **record} for r in results for record in kpi_records(r)]
    if output_format is OutputFormat.csv:
        typer.echo(results_csv(records), nl=False)
    elif output_format is OutputFormat.json:
        typer.echo(json.dumps({"runs": [_run_summary(r) for r in results],
                               "rows": records}, indent=2, default=str))
    else:
        console = _wide_console()
        for result in results:
            console.print(_results_table(result))
            console.print(f"{result.scenario}: {result.contacts} contacts, seed {result.seed}, "
                          f"{result.wall_s:.1f} s ({result.contacts_per_s:,.0f} contacts/s)",
                          highlight=False)
    if output is not None:
        for path in _write_outputs(output, results):
            _errors.print(f"wrote {path}", highlight=False)


def _run_summary(result: SimulationResult) -> dict[str, object]:
    return {"scenario": result.scenario, "seed": result.seed, "contacts": result.contacts,
            "engine_calls": result.engine_calls, "wall_s": round(result.wall_s, 3),
            "window_start": result.window_start.isoformat(),
            "window_end": result.window_end.isoformat()}


# --------------------------------------------------------------------- forecast, plan


def _interval_seconds(text: str) -> int:
    try:
        seconds = parse_duration(text)
    except WfmError:
        seconds = -1.0
    if seconds not in INTERVALS_S:
        raise WfmError(f"--interval: expected 15m, 30m or 60m, got {text!r}")
    return int(seconds)


def _load_history(history: Path | None, tenant: str | None, queue: str | None,
                  interval_s: int, weeks: int, zone: str) -> CountSeries:
    """History from a CSV file, or from the database of omnidesk's settings."""
    if history is not None:
        return read_history_csv(history, interval_s)
    if tenant is None:
        raise WfmError("--tenant: give --tenant SLUG (history from the database) or --history")
    if weeks < 1:
        raise WfmError(f"--weeks: expected a number ≥ 1, got {weeks}")
    return _history_from_database(tenant, queue, interval_s, weeks, zone)


def _history_from_database(tenant: str, queue: str | None, interval_s: int, weeks: int,
                           zone: str) -> CountSeries:
    import asyncio

    from omnidesk.config import Settings
    from omnidesk.db import Database, upgrade
    from omnidesk.events.bus import InProcessBus
    from omnidesk.tenants import service as tenant_service
    from omnidesk.wfm.history import find_queue, queued_counts

    settings = Settings()
    upgrade(settings.resolved_database_url)  # before any event loop: Alembic runs its own
    until = _local_midnight(datetime.now(UTC), zone)
    since = until - timedelta(weeks=weeks)

    async def load() -> CountSeries:
        db = Database(settings.resolved_database_url, InProcessBus())
        try:
            async with db.read() as session:
                tenant_row = await tenant_service.get_by_slug(session, tenant)
                queue_ids = None
                if queue is not None:
                    found = await find_queue(session, tenant_id=tenant_row.id, name=queue)
                    queue_ids = [found.id]
                return await queued_counts(session, tenant_id=tenant_row.id,
                                           interval_s=interval_s, since=since, until=until,
                                           queue_ids=queue_ids)
        finally:
            await db.dispose()

    return asyncio.run(load())


def _local_midnight(at: datetime, zone: str) -> datetime:
    local = at.astimezone(ZoneInfo(zone))
    return datetime(local.year, local.month, local.day, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _check_zone(zone: str) -> None:
    try:
        ZoneInfo(zone)
    except (ValueError, KeyError):
        raise WfmError(f"--zone: unknown time zone {zone!r}") from None


def _forecast_records(result: Forecast) -> list[dict[str, object]]:
    return [{"interval_start": at.isoformat(), "forecast": round(count, 3)}
            for at, count in zip(result.series.starts(), result.series.counts, strict=True)]


def _accuracy_line(result: Forecast) -> str:
    accuracy = result.accuracy
    if accuracy is None or accuracy.mape_pct is None:
        return "MAPE on a held-out week: needs at least two weeks of history"
    return (f"MAPE on the held-out last week: {accuracy.mape_pct:.1f}% "
            f"({accuracy.intervals - accuracy.zero_actuals} intervals; "
            f"{accuracy.zero_actuals} with no contacts left out)")


@app.command("forecast")
def forecast_command(
    history: Path | None = typer.Option(None, help="CSV of interval_start,count instead of DB."),
    tenant: str | None = typer.Option(None, help="Tenant slug: history from the database."),
    queue: str | None = typer.Option(None, help="Only this queue (name)."),
    interval: str = typer.Option("30m", help="15m, 30m or 60m."),
    weeks: int = typer.Option(8, help="Weeks of history to read from the database."),
    days: int = typer.Option(7, help="Days to forecast."),
    zone: str = typer.Option("UTC", help="Time zone of days and intraday profiles."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write CSV and SVG here."),
    output_format: OutputFormat = typer.Option(OutputFormat.table, "--format", help="Output."),
) -> None:
    """Forecast contacts per interval from history, with MAPE on a held-out week."""
    try:
        _check_zone(zone)
        interval_s = _interval_seconds(interval)
        if days < 1:
            raise WfmError(f"--days: expected a number ≥ 1, got {days}")
        series = _load_history(history, tenant, queue, interval_s, weeks, zone)
        result = forecast(series, periods=days * 86400 // interval_s, zone=zone)
    except (WfmError, OmnideskError) as error:
        _fail(str(error))
    records = _forecast_records(result)
    if output_format is OutputFormat.csv:
        typer.echo(results_csv(records), nl=False)
    elif output_format is OutputFormat.json:
        accuracy = result.accuracy
        typer.echo(json.dumps({
            "mape_pct": accuracy.mape_pct if accuracy else None,
            "trend_per_day": result.model.trend_per_day, "intervals": records}, indent=2))
    else:
        console = Console()
        console.print(_forecast_table(result))
        console.print(_accuracy_line(result), highlight=False)
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
        (output / "forecast.csv").write_text(results_csv(records), encoding="utf-8")
        labels = [f"{at:%a %H:%M}" for at in result.series.starts()]
        chart = svg_chart("Forecast contacts per interval", labels,
                          [Series("forecast", list(result.series.counts))], "contacts")
        (output / "forecast.svg").write_text(chart, encoding="utf-8")
        _errors.print(f"wrote {output / 'forecast.csv'} and {output / 'forecast.svg'}",
                      highlight=False)


def _forecast_table(result: Forecast) -> Table:
    """Forecast per day: total, busiest interval and its volume."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, title=(
        f"Forecast per day (trend {result.model.trend_per_day:+.2f} contacts/day)"))
    for header in ("Day", "Contacts", "Busiest interval", "Peak"):
        table.add_column(header, justify="left" if header in ("Day", "Busiest interval")
                         else "right")
    zone = ZoneInfo(result.model.zone)
    days: dict[str, list[tuple[datetime, float]]] = {}
    for at, count in zip(result.series.starts(), result.series.counts, strict=True):
        days.setdefault(f"{at.astimezone(zone):%a %Y-%m-%d}", []).append((at, count))
    for day, points in days.items():
        peak_at, peak = max(points, key=lambda point: point[1])
        table.add_row(day, f"{sum(c for _, c in points):.0f}",
                      f"{peak_at.astimezone(zone):%H:%M}", f"{peak:.1f}")
    return table


@app.command("plan")
def plan_command(
    aht: float = typer.Option(..., help="Average handle time, seconds (per chat for chat)."),
    target: str | None = typer.Option(None, help="Service level percent/seconds, e.g. 80/20."),
    history: Path | None = typer.Option(None, help="CSV of interval_start,count instead of DB."),
    tenant: str | None = typer.Option(None, help="Tenant slug: history from the database."),
    queue: str | None = typer.Option(None, help="Only this queue (name)."),
    interval: str = typer.Option("30m", help="15m, 30m or 60m."),
    weeks: int = typer.Option(8, help="Weeks of history to read from the database."),
    days: int = typer.Option(1, help="Days to plan."),
    zone: str = typer.Option("UTC", help="Time zone of days and intraday profiles."),
    shrinkage: float = typer.Option(0.0, help="Share of paid time not on contacts, 0–1."),
    patience: float | None = typer.Option(None, help="Mean patience, seconds: Erlang A."),
    asa: float | None = typer.Option(None, help="Maximum average speed of answer, seconds."),
    max_abandon: float | None = typer.Option(None, help="Maximum abandonment, percent."),
    max_occupancy: float | None = typer.Option(None, help="Maximum occupancy, percent."),
    concurrency: int = typer.Option(1, help="Contacts an agent handles at once (chat: 2–3)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write CSV and SVG here."),
    output_format: OutputFormat = typer.Option(OutputFormat.table, "--format", help="Output."),
) -> None:
    """Agents needed per interval: forecast × AHT through Erlang C/A (chat: concurrency)."""
    try:
        _check_options(target, 1.0, aht, shrinkage, patience, asa, max_abandon, max_occupancy)
        _check_zone(zone)
        if concurrency < 1:
            raise WfmError(f"--concurrency: expected a number ≥ 1, got {concurrency}")
        if days < 1:
            raise WfmError(f"--days: expected a number ≥ 1, got {days}")
        interval_s = _interval_seconds(interval)
        targets = StaffingTargets(
            service_level=None if target is None else _parse_target(target),
            max_asa_s=asa, max_abandonment=_percent_to_fraction(max_abandon),
            max_occupancy=_percent_to_fraction(max_occupancy))
        series = _load_history(history, tenant, queue, interval_s, weeks, zone)
        predicted = forecast(series, periods=days * 86400 // interval_s, zone=zone)
        plan = staffing_plan(predicted.series, aht_s=aht, targets=targets, patience_s=patience,
                             shrinkage=shrinkage, concurrency=concurrency)
    except (_BadOption, WfmError, OmnideskError) as error:
        _fail(str(error))
    records = plan_records(plan)
    if output_format is OutputFormat.csv:
        typer.echo(results_csv(records), nl=False)
    elif output_format is OutputFormat.json:
        typer.echo(json.dumps({"model": plan.model, "peak_agents": plan.peak_agents,
                               "agent_hours": plan.agent_hours, "rows": records}, indent=2))
    else:
        console = _wide_console()
        console.print(_plan_table(plan, zone))
        console.print(f"peak {plan.peak_agents} agents; {plan.agent_hours:.1f} agent hours to "
                      f"schedule with {shrinkage * 100:g}% shrinkage; "
                      + _accuracy_line(predicted), highlight=False)
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
        (output / "plan.csv").write_text(results_csv(records), encoding="utf-8")
        labels = [f"{row.start.astimezone(ZoneInfo(zone)):%a %H:%M}" for row in plan.rows]
        chart = svg_chart(
            f"Staffing plan ({plan.model}, AHT {aht:g} s)", labels,
            [Series("agents needed", [row.agents for row in plan.rows], "bar"),
             Series("to schedule", [row.agents_to_schedule for row in plan.rows], "bar"),
             Series("forecast contacts", [row.contacts for row in plan.rows])],
            "agents / contacts")
        (output / "plan.svg").write_text(chart, encoding="utf-8")
        _errors.print(f"wrote {output / 'plan.csv'} and {output / 'plan.svg'}", highlight=False)


def _plan_table(plan: StaffingPlanTable, zone: str) -> Table:
    title = f"Staffing plan — {plan.model.replace('_', ' ').title()}, AHT {plan.aht_s:g} s"
    if plan.concurrency > 1:
        title += f", {plan.concurrency} contacts per agent"
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, title=title)
    headers = ["Interval", "Contacts", "Erlangs", "Agents", "Schedule", "SL", "ASA s", "Occ."]
    if plan.patience_s is not None:
        headers.append("Aband.")
    for header in headers:
        table.add_column(header, justify="left" if header == "Interval" else "right")
    tz = ZoneInfo(zone)
    for row in plan.rows:
        cells = [f"{row.start.astimezone(tz):%a %H:%M}", f"{row.contacts:.1f}",
                 f"{row.traffic_erlangs:.2f}", str(row.agents), str(row.agents_to_schedule),
                 "—" if row.service_level is None else _percent(row.service_level),
                 "—" if row.asa_s is None else _seconds(row.asa_s),
                 "—" if row.occupancy is None else _percent(row.occupancy)]
        if plan.patience_s is not None:
            cells.append("—" if row.abandonment is None else _percent(row.abandonment))
        table.add_row(*cells)
    return table
