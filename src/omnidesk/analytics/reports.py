"""Reports from the stored aggregate rows: sums in SQL, KPIs by the pure functions.

Rows are stored per 15-minute interval; an hour or a day of the tenant's zone is the sum of
its 15-minute rows (every zone offset is a multiple of 15 minutes), so nothing is re-folded.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.analytics.config import LOAD_SCALE, AnalyticsConfig, CostModel
from omnidesk.analytics.intervals import Granularity, IntervalClock
from omnidesk.analytics.measures import Measures, add_measures
from omnidesk.analytics.models import (
    KEY_DIMENSIONS,
    MEASURE_FIELDS,
    WEIGHTED_COLUMNS,
    analytics_intervals,
)
from omnidesk.analytics.report import kpi_rows
from omnidesk.analytics.settings import load_config
from omnidesk.errors import InvalidInput

GROUPS = KEY_DIMENSIONS
GRANULARITIES: dict[str, Granularity] = {"15m": "15min", "15min": "15min", "hour": "hour",
                                         "day": "day"}
Table = list[dict[str, Any]]
_SUMMED = (*MEASURE_FIELDS, *WEIGHTED_COLUMNS)


def parse_group_by(text: str | None, *, field: str = "by") -> tuple[str, ...]:
    """"queue,channel" → ("queue", "channel"); unknown names are InvalidInput naming `field`."""
    names = tuple(name.strip() for name in (text or "").split(",") if name.strip())
    unknown = [name for name in names if name not in GROUPS]
    if unknown or len(set(names)) != len(names):
        raise InvalidInput(f"{field} takes a comma-separated subset of {', '.join(GROUPS)}; "
                           f"got {text!r}", field=field)
    return names


def parse_granularity(text: str, *, field: str = "interval") -> Granularity:
    """15m | hour | day (15min accepted)."""
    granularity = GRANULARITIES.get(text)
    if granularity is None:
        raise InvalidInput(f"{field} must be 15m, hour or day; got {text!r}", field=field)
    return granularity


def parse_instant(text: str, zone: ZoneInfo, *, field: str) -> datetime:
    """A local date (its midnight in the tenant's zone) or an ISO datetime with an offset."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return datetime.combine(day, time(), zone)
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        raise InvalidInput(f"{field} must be a date (2026-11-01) or a datetime with an offset; "
                           f"got {text!r}", field=field)
    return instant


def zone_of(name: str) -> ZoneInfo:
    """The tenant's zone (UTC if the stored name is unknown to this system)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open period [start, end) asked for, in the tenant's zone."""

    start: datetime
    end: datetime

    def previous(self) -> Period:
        """The period of equal length just before (for trends)."""
        return Period(self.start - (self.end - self.start), self.start)


def period(start_text: str | None, end_text: str | None, zone: ZoneInfo,
           today: date) -> Period:
    """From/to as given (to is exclusive; default from = today, to = from + 1 day)."""
    start = parse_instant(start_text, zone, field="from") if start_text else datetime.combine(
        today, time(), zone)
    end = parse_instant(end_text, zone, field="to") if end_text else datetime.combine(
        start.astimezone(zone).date() + timedelta(days=1), time(), zone)
    if end <= start:
        raise InvalidInput("to must be after from", field="to")
    if end - start > timedelta(days=400):
        raise InvalidInput("a report covers at most 400 days", field="to")
    return Period(start, end)


def _measures(row: Any, offset: int) -> Measures:
    values = [int(value or 0) for value in row[offset:]]
    m = Measures()
    for name, value in zip(MEASURE_FIELDS, values, strict=False):
        setattr(m, name, value)
    load, rem = values[len(MEASURE_FIELDS):]
    m.weighted_busy_units_us = load * LOAD_SCALE + rem
    return m


async def stored_measures(
    session: AsyncSession, tenant_id: uuid.UUID, span: Period, *,
    group_by: Sequence[str] = (), granularity: Granularity | None = None,
    zone: ZoneInfo | None = None,
) -> dict[tuple[Any, ...], Measures]:
    """Measures per (interval start, *group) — or per group — summed from the stored rows."""
    table = analytics_intervals.c
    keys = [table.interval_start, *(table[name] for name in group_by)]
    if "role" not in group_by:
        keys.append(table.role)
    query = (select(*keys, *(func.sum(table[name]) for name in _SUMMED))
             .where(table.tenant_id == tenant_id, table.interval_start >= span.start,
                    table.interval_start < span.end)
             .group_by(*keys).order_by(table.interval_start))
    clock = IntervalClock(granularity, zone or ZoneInfo("UTC")) if granularity else None
    rows: dict[tuple[Any, ...], Measures] = {}
    for row in (await session.execute(query)).all():
        m = _measures(row, len(keys))
        role = row[group_by.index("role") + 1] if "role" in group_by else row[len(keys) - 1]
        if m.logged_in_us:
            m.logged_in_us_by_role[role or ""] = m.logged_in_us
        groups = tuple(value or None for value in row[1:1 + len(group_by)])
        key = (clock.bounds(row[0])[0], *groups) if clock else groups
        target = rows.get(key)
        if target is None:
            rows[key] = m
        else:
            add_measures(target, m)
    return rows


def plain(value: object) -> object:
    """JSON-ready: Fractions as floats, datetimes as ISO strings."""
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def plain_table(table: Table) -> Table:
    """Every cell JSON-ready."""
    return [{name: plain(value) for name, value in row.items()} for row in table]


@dataclass(slots=True)
class KpiReport:
    """Totals per group for the period, the previous period's, and rows per interval."""

    span: Period
    granularity: Granularity
    group_by: tuple[str, ...]
    totals: Table
    previous: Table
    intervals: Table

    def to_json(self) -> dict[str, Any]:
        """The API's answer: each total row carries the previous period's figures."""
        previous = {_group(row, self.group_by): row for row in self.previous}
        totals = []
        for row in plain_table(self.totals):
            before = previous.get(_group(row, self.group_by))
            row["previous"] = plain_table([before])[0] if before else None
            totals.append(row)
        return {
            "from": self.span.start.isoformat(), "to": self.span.end.isoformat(),
            "previous_from": self.span.previous().start.isoformat(),
            "interval": self.granularity, "by": list(self.group_by),
            "totals": totals, "intervals": plain_table(self.intervals),
        }


def _group(row: Mapping[str, Any], group_by: Sequence[str]) -> tuple[Any, ...]:
    return tuple(row.get(name) for name in group_by)


def _table(rows: Mapping[tuple[Any, ...], Measures], config: AnalyticsConfig,
           costs: CostModel, columns: Sequence[str]) -> Table:
    return kpi_rows(rows, config=config, cost_model=costs, columns=columns)


async def kpi_report(session: AsyncSession, tenant_id: uuid.UUID, span: Period, *,
                     group_by: tuple[str, ...], granularity: Granularity) -> KpiReport:
    """Every KPI (pure kpis.all_kpis) per group and per interval, with the previous period."""
    config, costs = await load_config(session, tenant_id)
    zone = zone_of(config.time_zone)
    totals = await stored_measures(session, tenant_id, span, group_by=group_by)
    before = await stored_measures(session, tenant_id, span.previous(), group_by=group_by)
    if not group_by:  # the tenant's total row exists even when nothing happened
        totals, before = totals or {(): Measures()}, before or {(): Measures()}
    by_interval = await stored_measures(session, tenant_id, span, group_by=group_by,
                                        granularity=granularity, zone=zone)
    return KpiReport(
        span, granularity, group_by,
        totals=_table(totals, config, costs, group_by),
        previous=_table(before, config, costs, group_by),
        intervals=_table(by_interval, config, costs, ("interval", *group_by)),
    )
