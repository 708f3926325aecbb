"""Historical KPIs: pure functions from events (+ config and `now`) to measures and KPIs."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from omnidesk.analytics.config import AnalyticsConfig, CostModel
from omnidesk.analytics.events import EventLike
from omnidesk.analytics.fold import ContactFold
from omnidesk.analytics.intervals import Granularity
from omnidesk.analytics.kpis import Ratio, all_kpis, outbound_abandonment_rate
from omnidesk.analytics.measures import Measures
from omnidesk.analytics.records import ContactRecord, Dims
from omnidesk.analytics.sinks import DimKey, IntervalSink, PeriodSink, RowKey


def period_measures(
    events: Iterable[EventLike],
    *,
    config: AnalyticsConfig,
    start: datetime,
    end: datetime,
    now: datetime,
    group_by: Sequence[str] = (),
) -> dict[DimKey, Measures]:
    """Measures over [start, end) per group; agent time and FCR settled as of `now`."""
    sink = PeriodSink(start, end, group_by)
    fold = ContactFold(config, sink)
    fold.apply_all(events)
    fold.settle(now)
    return sink.rows


def interval_measures(
    events: Iterable[EventLike],
    *,
    config: AnalyticsConfig,
    granularity: Granularity,
    now: datetime,
    group_by: Sequence[str] = (),
) -> dict[RowKey, Measures]:
    """Measures per (local interval start in UTC, group...); settled as of `now`."""
    sink = IntervalSink(granularity, ZoneInfo(config.time_zone), group_by)
    fold = ContactFold(config, sink)
    fold.apply_all(events)
    fold.settle(now)
    return sink.rows


class _DiscardSink:
    """A sink that counts nothing (for building contact records only)."""

    def point(self, at: datetime, dims: Dims) -> Iterator[Measures]:
        """Nothing."""
        return iter(())

    def span(self, start: datetime, end: datetime, dims: Dims) -> Iterator[tuple[Measures, int]]:
        """Nothing."""
        return iter(())


def contact_records(
    events: Iterable[EventLike], config: AnalyticsConfig | None = None
) -> dict[str, ContactRecord]:
    """Every interaction's contact record (segments, durations, outcome), in one pass."""
    fold = ContactFold(
        config or AnalyticsConfig(), _DiscardSink(), track_fcr=False, keep_closed=True
    )
    fold.apply_all(events)
    return fold.records


def deflection_by_article(
    events: Iterable[EventLike],
    *,
    config: AnalyticsConfig,
    start: datetime,
    end: datetime,
    now: datetime,
) -> dict[str | None, int]:
    """Contacts contained in self-service per KB article that answered them (None: no article)."""
    rows = period_measures(
        events, config=config, start=start, end=end, now=now, group_by=("article",)
    )
    return {key[0]: m.self_service_contained for key, m in rows.items() if m.self_service_contained}


def outbound_abandonment_last_30_days(
    events: Iterable[EventLike], *, config: AnalyticsConfig, now: datetime
) -> dict[str | None, Ratio]:
    """Outbound abandonment rate per campaign over the rolling 30 days before `now`."""
    rows = period_measures(
        events,
        config=config,
        start=now - timedelta(days=30),
        end=now,
        now=now,
        group_by=("campaign",),
    )
    return {
        key[0]: outbound_abandonment_rate(m) for key, m in rows.items() if m.outbound_live_answered
    }


def kpi_rows(
    rows: Mapping[tuple[object, ...], Measures],
    *,
    config: AnalyticsConfig,
    cost_model: CostModel,
    columns: Sequence[str],
) -> list[dict[str, object]]:
    """One dict per row: the key columns then every KPI (a queue row uses its SL variant)."""
    table: list[dict[str, object]] = []
    for key, m in sorted(rows.items(), key=lambda item: tuple(map(str, item[0]))):
        labels = dict(zip(columns, key, strict=True))
        queue_id = labels.get("queue")
        variant = config.queue(queue_id if isinstance(queue_id, str) else None)
        kpis = all_kpis(m, variant.service_level_variant, cost_model)
        table.append({**labels, **kpis})
    return table


def to_csv(table: Sequence[Mapping[str, object]]) -> str:
    """CSV text of a KPI table; Fractions rendered as decimals, missing values empty."""
    if not table:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(table[0]), lineterminator="\n")
    writer.writeheader()
    for row in table:
        writer.writerow({name: _cell(value) for name, value in row.items()})
    return out.getvalue()


def _cell(value: object) -> object:
    if isinstance(value, Fraction):
        return format(float(value), ".6g") if value.denominator != 1 else value.numerator
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else value
