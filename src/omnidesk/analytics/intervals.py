"""Reporting intervals (15 min, hour, day) in the tenant's IANA time zone, DST-correct."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

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


class IntervalClock:
    """Maps instants to interval starts, caching the current interval (events come in order)."""

    __slots__ = ("_end", "_granularity", "_start", "_zone")

    def __init__(self, granularity: Granularity, zone: ZoneInfo) -> None:
        self._granularity: Granularity = granularity
        self._zone = zone
        self._start = datetime.min.replace(tzinfo=UTC)
        self._end = self._start

    def bounds(self, at: datetime) -> tuple[datetime, datetime]:
        """The [start, end) interval containing `at`."""
        if not self._start <= at < self._end:
            self._start = interval_start(at, self._granularity, self._zone)
            self._end = next_interval_start(self._start, self._granularity, self._zone)
        return self._start, self._end
