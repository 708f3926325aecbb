"""`omnidesk report`: fill the aggregates, then print KPIs as a table, CSV or JSON (+ chart)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from omnidesk.analytics.chart import chart_data, png_chart, svg_chart
from omnidesk.analytics.fill import fill
from omnidesk.analytics.report import to_csv
from omnidesk.analytics.reports import (
    KpiReport,
    kpi_report,
    parse_granularity,
    parse_group_by,
    period,
    plain,
    zone_of,
)
from omnidesk.config import Settings
from omnidesk.db import Database, upgrade
from omnidesk.errors import InvalidInput, OmnideskError
from omnidesk.events.bus import InProcessBus
from omnidesk.tenants import service as tenant_service

app = typer.Typer(add_completion=False)
errors = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")
TABLE_KPIS = ("contacts_offered", "contacts_handled", "contacts_abandoned",
              "service_level_pct", "asa_s", "aht_s", "abandonment_rate_pct", "occupancy_pct",
              "fcr_pct", "csat_pct", "nps", "transfer_rate_pct",
              "self_service_containment_pct", "cost_per_contact")
INTERVAL_KPIS = ("contacts_offered", "contacts_handled", "service_level_pct", "asa_s",
                 "aht_s")


class Format(StrEnum):
    """How the report is printed."""

    table = "table"
    csv = "csv"
    json = "json"


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine; a domain error is one line on stderr and exit code 2."""
    try:
        return asyncio.run(work)
    except OmnideskError as error:
        errors.print(f"[red]error:[/red] {error.message}", highlight=False)
        raise typer.Exit(2) from error


async def _report(db: Database, tenant: str, start: str | None, end: str | None, by: str,
                  interval: str) -> tuple[KpiReport, str]:
    group_by, granularity = parse_group_by(by, field="--by"), parse_granularity(
        interval, field="--interval")
    try:
        async with db.read() as session:
            row = await tenant_service.get_by_slug(session, tenant)
        await fill(db, row.id)
        zone = zone_of(row.timezone)
        async with db.read() as session:
            span = period(start, end, zone, db.clock.now().astimezone(zone).date())
            return await kpi_report(session, row.id, span, group_by=group_by,
                                    granularity=granularity), row.timezone
    finally:
        await db.dispose()


def _cell(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M %Z")
    value = plain(value)
    if value is None:
        return "–"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _label(row: dict[str, Any], group_by: tuple[str, ...]) -> str:
    return " / ".join(_cell(row.get(name)) for name in group_by) or "tenant"


def _totals_table(report: KpiReport) -> Table:
    """One row per KPI, one column per group: this period (previous period)."""
    previous = {_label(row, report.group_by): row for row in report.previous}
    table = Table(title=f"Totals {report.span.start.date()} – {report.span.end.date()} "
                        "(previous period in brackets)")
    table.add_column("KPI")
    for row in report.totals:
        table.add_column(_label(row, report.group_by), justify="right")
    for kpi in TABLE_KPIS:
        cells = []
        for row in report.totals:
            before = previous.get(_label(row, report.group_by), {})
            cells.append(f"{_cell(row.get(kpi))} ({_cell(before.get(kpi))})")
        table.add_row(kpi, *cells)
    return table


def _interval_table(report: KpiReport) -> Table:
    columns = ("interval", *report.group_by)
    table = Table(title=f"By {report.granularity}")
    for name in (*columns, *INTERVAL_KPIS):
        table.add_column(name, justify="left" if name in columns else "right")
    for row in report.intervals:
        table.add_row(*(_cell(row.get(name)) for name in (*columns, *INTERVAL_KPIS)))
    return table


def _print(report: KpiReport, output: Format) -> None:
    if output is Format.json:
        typer.echo(json.dumps(report.to_json(), indent=2))
    elif output is Format.csv:
        typer.echo(to_csv(report.intervals), nl=False)
    else:
        console = Console(width=160)
        console.print(_interval_table(report))
        console.print(_totals_table(report))


def _write_chart(report: KpiReport, zone_name: str, path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix not in (".svg", ".png"):
        raise InvalidInput("--chart must end in .svg or .png", field="chart")
    data = chart_data(f"{report.span.start.date()} – {report.span.end.date()}",
                      report.intervals, zone_of(zone_name))
    if suffix == ".svg":
        path.write_text(svg_chart(data), encoding="utf-8")
    else:
        path.write_bytes(png_chart(data))


@app.command("report")
def report(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    start: Annotated[str | None, typer.Option("--from", help="Local date (default: today).")]
    = None,
    end: Annotated[str | None, typer.Option("--to", help="Exclusive (default: from + 1 day).")]
    = None,
    by: Annotated[str, typer.Option(help="queue, agent, channel, disposition, role.")] = "",
    interval: Annotated[str, typer.Option(help="15m, hour or day.")] = "day",
    output: Annotated[Format, typer.Option("--format", help="table, csv or json.")]
    = Format.table,
    chart: Annotated[Path | None, typer.Option(
        help="Also write volume, service level and ASA by interval (.svg or .png).")] = None,
) -> None:
    """Fill the aggregates from the event log, then print every KPI for the period."""
    settings = Settings()
    upgrade(settings.resolved_database_url)
    db = Database(settings.resolved_database_url, InProcessBus())
    if chart is not None and chart.suffix.lower() not in (".svg", ".png"):
        errors.print("[red]error:[/red] --chart must end in .svg or .png", highlight=False)
        raise typer.Exit(2)
    result, zone_name = _run(_report(db, tenant, start, end, by, interval))
    _print(result, output)
    if chart is not None:
        try:
            _write_chart(result, zone_name, chart)
        except OmnideskError as error:
            errors.print(f"[red]error:[/red] {error.message}", highlight=False)
            raise typer.Exit(2) from error
