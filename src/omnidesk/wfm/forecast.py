"""Contacts per interval from history: day-of-week levels, a linear trend, intraday profiles.

Pure: a regular series of counts in, a forecast out. The model, fitted by least squares:

* **daily totals** ``y_k = γ[dow(k)] + β·k`` — one level per day of the week (weekly
  seasonality) plus a common linear trend per day; the ordinary-least-squares fit of
  this model with day-of-week dummies has the closed form
  ``β = Σ(k − k̄_d)(y_k − ȳ_d) / Σ(k − k̄_d)²`` (centred within each weekday ``d``),
  ``γ[d] = ȳ_d − β·k̄_d``;
* **intraday profile** per day of the week: the share of that weekday's contacts in each
  interval of the day (daily seasonality), ``H[d][slot] = Σ y(d, slot) / Σ y(d)`` —
  the least-squares estimate of a share.

A forecast interval is ``max(0, γ[d] + β·k) · H[d][slot]``. Days and slots are local to
``zone``. With fewer than two weeks of history the trend is not identifiable and is 0.
The error measure is MAPE on a held-out week: fit on all but the last 7 days, forecast
those days, ``MAPE = mean(|actual − forecast| / actual) × 100`` over the intervals whose
actual is > 0 (MAPE is undefined for 0; they are counted in ``zero_actuals``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from omnidesk.wfm.erlang import WfmError

INTERVALS_S = (900, 1800, 3600)
"""Supported interval lengths: 15, 30 and 60 minutes."""
_WEEK = 7


@dataclass(frozen=True, slots=True)
class CountSeries:
    """Counts per consecutive interval from ``start`` (UTC), each ``interval_s`` long."""

    start: datetime
    interval_s: int
    counts: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.interval_s not in INTERVALS_S:
            raise WfmError(f"interval must be 15, 30 or 60 minutes, got {self.interval_s} s")
        if self.start.tzinfo is None:
            raise WfmError("start must be timezone-aware")
        if self.start.timestamp() % self.interval_s:
            raise WfmError("start must be on an interval boundary")
        if any(not 0 <= c < math.inf for c in self.counts):
            raise WfmError("counts must be finite numbers ≥ 0")

    def starts(self) -> list[datetime]:
        """The start of every interval (UTC)."""
        step = timedelta(seconds=self.interval_s)
        return [self.start + k * step for k in range(len(self.counts))]

    @property
    def end(self) -> datetime:
        """The end of the last interval."""
        return self.start + timedelta(seconds=self.interval_s * len(self.counts))

    def head(self, count: int) -> CountSeries:
        """The first ``count`` intervals."""
        return CountSeries(self.start, self.interval_s, self.counts[:count])

    def tail_from(self, index: int) -> CountSeries:
        """The intervals from ``index`` on."""
        start = self.start + timedelta(seconds=self.interval_s * index)
        return CountSeries(start, self.interval_s, self.counts[index:])


@dataclass(frozen=True, slots=True)
class ForecastModel:
    """A fitted model: weekday levels, trend per day, intraday shares, the day origin."""

    zone: str
    interval_s: int
    origin: date
    level: tuple[float, ...]
    trend_per_day: float
    profile: tuple[tuple[float, ...], ...]

    def expected(self, at: datetime) -> float:
        """Expected contacts in the interval starting at ``at``."""
        local = at.astimezone(ZoneInfo(self.zone))
        day = (local.date() - self.origin).days
        weekday = local.weekday()
        slot = (local.hour * 3600 + local.minute * 60 + local.second) // self.interval_s
        total = max(0.0, self.level[weekday] + self.trend_per_day * day)
        shares = self.profile[weekday]
        return total * shares[slot] if slot < len(shares) else 0.0

    def predict(self, start: datetime, periods: int) -> CountSeries:
        """Forecast ``periods`` intervals from ``start``."""
        step = timedelta(seconds=self.interval_s)
        return CountSeries(start, self.interval_s,
                           tuple(self.expected(start + k * step) for k in range(periods)))


@dataclass(frozen=True, slots=True)
class Accuracy:
    """MAPE of a held-out week, and the intervals it could not use (actual 0)."""

    mape_pct: float | None
    intervals: int
    zero_actuals: int


@dataclass(frozen=True, slots=True)
class Forecast:
    """The forecast series, the model behind it and its held-out-week accuracy."""

    series: CountSeries
    model: ForecastModel
    accuracy: Accuracy | None


def _slots_per_day(interval_s: int) -> int:
    # 25 hours: a fall-back day has one local hour twice.
    return 25 * 3600 // interval_s


def fit(history: CountSeries, *, zone: str = "UTC") -> ForecastModel:
    """Fit weekday levels, a linear trend and per-weekday intraday shares to the history."""
    if not history.counts:
        raise WfmError("history is empty")
    tz = ZoneInfo(zone)
    slots = _slots_per_day(history.interval_s)
    day_totals: dict[date, float] = defaultdict(float)
    slot_totals = [[0.0] * slots for _ in range(_WEEK)]
    for at, count in zip(history.starts(), history.counts, strict=True):
        local = at.astimezone(tz)
        day_totals[local.date()] += count
        slot = (local.hour * 3600 + local.minute * 60) // history.interval_s
        slot_totals[local.weekday()][slot] += count
    origin = min(day_totals)
    days = sorted(day_totals)
    # Drop partial first/last days from the daily regression when there are whole ones.
    whole = [d for d in days if _whole_day(d, history, tz)] or days
    by_weekday: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for d in whole:
        by_weekday[d.weekday()].append(((d - origin).days, day_totals[d]))
    trend = _trend(by_weekday) if len(whole) >= 2 * _WEEK else 0.0
    overall = sum(y for pts in by_weekday.values() for _, y in pts) / len(whole)
    level = []
    for weekday in range(_WEEK):
        points = by_weekday.get(weekday)
        if points:
            k_mean = sum(k for k, _ in points) / len(points)
            y_mean = sum(y for _, y in points) / len(points)
            level.append(y_mean - trend * k_mean)
        else:
            level.append(overall)
    profile = []
    pooled = [sum(slot_totals[w][s] for w in range(_WEEK)) for s in range(slots)]
    for weekday in range(_WEEK):
        row = slot_totals[weekday]
        total = sum(row)
        source, denominator = (row, total) if total > 0 else (pooled, sum(pooled))
        profile.append(tuple(v / denominator if denominator else 0.0 for v in source))
    return ForecastModel(zone, history.interval_s, origin, tuple(level), trend, tuple(profile))


def _whole_day(day: date, history: CountSeries, tz: ZoneInfo) -> bool:
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    return history.start <= start and end.astimezone(UTC) <= history.end


def _trend(by_weekday: dict[int, list[tuple[int, float]]]) -> float:
    """Common slope of daily totals against the day number, centred within each weekday."""
    numerator = denominator = 0.0
    for points in by_weekday.values():
        k_mean = sum(k for k, _ in points) / len(points)
        y_mean = sum(y for _, y in points) / len(points)
        numerator += sum((k - k_mean) * (y - y_mean) for k, y in points)
        denominator += sum((k - k_mean) ** 2 for k, _ in points)
    return numerator / denominator if denominator else 0.0


def mape(actual: Sequence[float], predicted: Sequence[float]) -> Accuracy:
    """Mean absolute percentage error over the intervals with a non-zero actual."""
    if len(actual) != len(predicted):
        raise WfmError("actual and predicted must have the same length")
    errors = [abs(a - p) / a for a, p in zip(actual, predicted, strict=True) if a > 0]
    zeros = len(actual) - len(errors)
    return Accuracy(100 * sum(errors) / len(errors) if errors else None, len(actual), zeros)


def holdout_accuracy(history: CountSeries, *, zone: str = "UTC") -> Accuracy | None:
    """MAPE of a fit on all but the last week, forecasting that week (None: < 2 weeks)."""
    week = _WEEK * 86400 // history.interval_s
    if len(history.counts) < 2 * week:
        return None
    cut = len(history.counts) - week
    model = fit(history.head(cut), zone=zone)
    held_out = history.tail_from(cut)
    predicted = model.predict(held_out.start, len(held_out.counts))
    return mape(held_out.counts, predicted.counts)


def forecast(history: CountSeries, *, periods: int, zone: str = "UTC") -> Forecast:
    """Forecast ``periods`` intervals after the history, with the held-out-week MAPE."""
    if periods < 1:
        raise WfmError(f"periods must be ≥ 1, got {periods}")
    model = fit(history, zone=zone)
    return Forecast(model.predict(history.end, periods), model,
                    holdout_accuracy(history, zone=zone))


def regular_series(points: Sequence[tuple[datetime, float]], interval_s: int,
                   start: datetime | None = None, end: datetime | None = None) -> CountSeries:
    """A regular series from (interval start, count) points; missing intervals count 0."""
    if interval_s not in INTERVALS_S:
        raise WfmError(f"interval must be 15, 30 or 60 minutes, got {interval_s} s")
    if not points and (start is None or end is None):
        raise WfmError("history is empty")
    floor = _floor(start or min(at for at, _ in points), interval_s)
    stop = end or max(at for at, _ in points) + timedelta(seconds=interval_s)
    size = math.ceil((stop - floor).total_seconds() / interval_s)
    counts = [0.0] * max(size, 0)
    for at, count in points:
        index = int((at - floor).total_seconds() // interval_s)
        if 0 <= index < size:
            counts[index] += count
    return CountSeries(floor, interval_s, tuple(counts))


def _floor(at: datetime, interval_s: int) -> datetime:
    if at.tzinfo is None:
        raise WfmError("times must be timezone-aware")
    stamp = at.timestamp()
    return datetime.fromtimestamp(stamp - stamp % interval_s, tz=UTC)
