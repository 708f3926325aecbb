"""Reporting intervals (15 min, hour, day) in the tenant's IANA time zone, DST-correct."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from mypy_extensions import mypyc_attr

Granularity = Literal["15min", "hour", "day"]

_FIXED_SIZE = {"15min": timedelta(minutes=15), "hour": timedelta(hours=1)}


def interval_start(at: datetime, granularity: Granularity, zone: ZoneInfo) -> datetime:
    """Start (UTC) of the local 15-min / hour / day interval containing `at`."""
    local = at.astimezone(zone)
    if granularity == "day":
        return datetime(local.year, local.month, local.day, tzinfo=zone).astimezone(UTC)
    if granularity == "hour":
        floored = local.replace(minute=0, second=0, microsecond=0)
    else:
        floored = local.replace(minute=local.minute - local.minute % 15, second=0, microsecond=0)
    return floored.astimezone(UTC)


def next_interval_start(start: datetime, granularity: Granularity, zone: ZoneInfo) -> datetime:
    """Start (UTC) of the interval after the one starting at `start`."""
    if granularity == "day":
        local = start.astimezone(zone)
        following = datetime(local.year, local.month, local.day, tzinfo=zone) + timedelta(days=1)
        return datetime(following.year, following.month, following.day, tzinfo=zone).astimezone(UTC)
    size = _FIXED_SIZE[granularity]
    candidate = interval_start(start + size, granularity, zone)
    return candidate if candidate > start else start + size


_BLOCK_S = 900


@mypyc_attr(serializable=True)
@dataclass(eq=False)
class IntervalClock:
    """Maps instants to intervals: the current interval, then a memo per 15-minute UTC block.

    Events come in order, so most instants fall in the current interval. Agent time is
    split from further back (an agent's stretch began hours ago), so the intervals already
    seen are memoised by the instant's 15-minute UTC block; a memo entry is used only when it
    does contain the instant, so a zone whose offsets are not whole quarters of an hour is
    still exact (it just misses the memo).
    """

    granularity: Granularity
    zone: ZoneInfo
    _start: datetime = field(init=False)
    _end: datetime = field(init=False)
    _memo: dict[int, tuple[datetime, datetime]] = field(init=False)

    def __post_init__(self) -> None:
        # Set here, not as defaults: see ContactFold.__post_init__.
        self._start = self._end = datetime.min.replace(tzinfo=UTC)
        self._memo = {}

    def start_of(self, at: datetime) -> datetime:
        """The start of the interval containing `at` (the common case without a tuple)."""
        if self._start <= at < self._end:
            return self._start
        return self.bounds(at)[0]

    def bounds(self, at: datetime) -> tuple[datetime, datetime]:
        """The [start, end) interval containing `at`."""
        if self._start <= at < self._end:
            return self._start, self._end
        block = int(at.timestamp()) // _BLOCK_S
        known = self._memo.get(block)
        if known is None or not known[0] <= at < known[1]:
            start = interval_start(at, self.granularity, self.zone)
            known = (start, next_interval_start(start, self.granularity, self.zone))
            self._memo.setdefault(block, known)
        self._start, self._end = known
        return known
