"""Historical sinks: facts land in rows keyed by interval and/or chosen dimensions."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from mypy_extensions import mypyc_attr

from omnidesk.analytics.config import LOAD_SCALE
from omnidesk.analytics.intervals import Granularity, IntervalClock
from omnidesk.analytics.measures import Measures, measure_columns
from omnidesk.analytics.records import DIMENSIONS, Dims, micros

DimKey = tuple[str | None, ...]
RowKey = tuple[datetime, *tuple[str | None, ...]]


def dimension_key(group_by: Sequence[str]) -> Callable[[Dims], DimKey]:
    """A function projecting Dims onto the chosen dimension names, as a tuple."""
    unknown = set(group_by) - set(DIMENSIONS)
    if unknown:
        raise ValueError(f"unknown dimensions {sorted(unknown)}; choose from {DIMENSIONS}")
    indices = [DIMENSIONS.index(name) for name in group_by]
    if not indices:
        return _no_dimensions
    if len(indices) == 1:
        return functools.partial(_one_dimension, indices[0])
    return operator.itemgetter(*indices)


# Functions and partials rather than closures: a copied sink copies its key function too.
def _no_dimensions(dims: Dims) -> DimKey:
    return ()


def _one_dimension(index: int, dims: Dims) -> DimKey:
    return (dims[index],)


class PeriodSink:
    """Totals over one period [start, end), grouped by dimensions."""

    def __init__(self, start: datetime, end: datetime, group_by: Sequence[str] = ()) -> None:
        self.start, self.end = start, end
        self.rows: dict[DimKey, Measures] = {}
        self._key = dimension_key(group_by)

    def _row(self, dims: Dims) -> Measures:
        key = self._key(dims)
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = Measures()
        return row

    def point(self, at: datetime, dims: Dims) -> Iterator[Measures]:
        """The row of `dims` if `at` is in the period."""
        if self.start <= at < self.end:
            yield self._row(dims)

    def span(self, start: datetime, end: datetime, dims: Dims) -> Iterator[tuple[Measures, int]]:
        """The row of `dims` with the part of [start, end) inside the period."""
        clipped_start, clipped_end = max(start, self.start), min(end, self.end)
        if clipped_start < clipped_end:
            yield self._row(dims), micros(clipped_start, clipped_end)


@mypyc_attr(serializable=True)
@dataclass(eq=False, repr=False)  # a repr would print every row
class IntervalSink:
    """Rows keyed by (interval start in UTC, chosen dimensions...), intervals in local time."""

    granularity: Granularity
    zone: ZoneInfo
    group_by: Sequence[str] = ()
    rows: dict[RowKey, Measures] = field(init=False)
    _clock: IntervalClock = field(init=False)
    _key: Callable[[Dims], DimKey] = field(init=False)
    _last_span: dict[Dims, tuple[datetime, datetime, Measures]] = field(init=False)
    """Per dims, the interval (start, end) and row of its latest span: an agent's time comes
    in many short stretches, and most fall in the interval of the one before."""

    def __post_init__(self) -> None:
        # Set here, not as defaults: see ContactFold.__post_init__.
        self.rows = {}
        self._clock = IntervalClock(self.granularity, self.zone)
        self._key = dimension_key(self.group_by)
        self._last_span = {}

    def take_rows(self) -> dict[RowKey, Measures]:
        """The rows so far; the sink goes on with none (replacing `rows` directly would leave
        `_last_span` pointing at the old rows)."""
        rows, self.rows = self.rows, {}
        self._last_span = {}
        return rows

    def _row(self, interval: datetime, dims: Dims) -> Measures:
        key: RowKey = (interval, *self._key(dims))
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = Measures()
        return row

    def point(self, at: datetime, dims: Dims) -> tuple[Measures]:
        """The row of the interval containing `at`."""
        key: RowKey = (self._clock.start_of(at), *self._key(dims))
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = Measures()
        return (row,)

    def span(self, start: datetime, end: datetime, dims: Dims) -> list[tuple[Measures, int]]:
        """[start, end) split at interval boundaries, one piece per interval row."""
        last = self._last_span.get(dims)
        if last is not None and last[0] <= start and end <= last[1]:
            return [(last[2], micros(start, end))]
        bounds, pieces = self._clock.bounds, []
        while start < end:
            interval, interval_end = bounds(start)
            piece_end = end if end < interval_end else interval_end
            row = self._row(interval, dims)
            pieces.append((row, micros(start, piece_end)))
            self._last_span[dims] = (interval, interval_end, row)
            start = piece_end
        return pieces


_ALL_ZERO = measure_columns(Measures())


def stored_values(tenant_id: object, rows: dict[RowKey, Measures]) -> list[tuple[object, ...]]:
    """The column values of the rows with a non-zero measure, as analytics_intervals holds them.

    Tenant, interval start, the dimensions ('' for none), the measures stored one column each,
    then the weighted load as load and remainder (models.WEIGHTED_COLUMNS); a zero measure is
    None (stored as NULL). All-zero rows would add nothing. Compiled: the fill turns every row
    of a batch into values here.
    """
    values: list[tuple[object, ...]] = []
    for row_key, m in rows.items():
        key: tuple[object, ...] = row_key  # mypyc cannot index a variadic tuple type
        measures = measure_columns(m)
        weighted = m.weighted_busy_units_us
        if weighted or measures != _ALL_ZERO:
            load, rem = divmod(weighted, LOAD_SCALE)
            values.append((tenant_id, key[0], *[value or "" for value in key[1:]],
                           *[value or None for value in measures], load or None, rem or None))
    return values
