"""Business hours and holidays of a queue, in the queue's IANA time zone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from omnidesk.routing.errors import RoutingConfigError

MIDNIGHT = time(0, 0)


@dataclass(frozen=True, slots=True)
class OpenWindow:
    """Open from ``start`` (inclusive) to ``end`` (exclusive); end 00:00 means midnight."""

    start: time
    end: time = MIDNIGHT

    def contains(self, moment: time) -> bool:
        """True when the local time of day falls inside the window."""
        return self.start <= moment and (self.end == MIDNIGHT or moment < self.end)


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """Weekly opening windows (0 = Monday) and closed dates, in ``time_zone``."""

    time_zone: str
    weekly: Mapping[int, tuple[OpenWindow, ...]] = field(
        default_factory=lambda: MappingProxyType({}))
    holidays: frozenset[date] = frozenset()

    def zone(self) -> ZoneInfo:
        """The queue's time zone (raises RoutingConfigError when unknown)."""
        try:
            return ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise RoutingConfigError(
                f"unknown time zone {self.time_zone!r}", field="time_zone") from error

    def is_open(self, now: float) -> bool:
        """True when the epoch time ``now`` is inside opening hours and not a holiday."""
        local = datetime.fromtimestamp(now, self.zone())
        if local.date() in self.holidays:
            return False
        moment = local.time()
        return any(window.contains(moment) for window in self.weekly.get(local.weekday(), ()))
