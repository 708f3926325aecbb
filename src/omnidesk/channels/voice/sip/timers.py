"""Time for the SIP state machines: the RFC 3261 timer values and a scheduler to pass in."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class TimerValues:
    """T1 (RTT estimate), T2 (longest non-INVITE retransmit interval), T4 (network lifetime)."""

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0

    @property
    def timeout(self) -> float:
        """64·T1: Timers B, F, H and J."""
        return 64 * self.t1


class Handle(Protocol):
    """A scheduled callback that can be cancelled."""

    def cancel(self) -> None:
        """Do not run it."""


class Scheduler(Protocol):
    """Runs a callback after a delay (the event loop in production, a fake in tests)."""

    def call_later(self, delay: float, callback: Callable[[], None]) -> Handle:
        """Schedule `callback` in `delay` seconds."""
        ...


class LoopScheduler:
    """The running asyncio loop as a Scheduler."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.loop = loop or asyncio.get_running_loop()

    def call_later(self, delay: float, callback: Callable[[], None]) -> Handle:
        """Schedule on the loop."""
        return self.loop.call_later(delay, callback)


@dataclass(order=True)
class _Entry:
    due: float
    order: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        """Do not run it."""
        self.cancelled = True


class FakeScheduler:
    """A scheduler whose time only moves when `advance` is called (for tests and simulation)."""

    def __init__(self) -> None:
        self.now = 0.0
        self._queue: list[_Entry] = []
        self._order = itertools.count()

    def call_later(self, delay: float, callback: Callable[[], None]) -> Handle:
        """Schedule at now + delay."""
        entry = _Entry(self.now + max(0.0, delay), next(self._order), callback)
        heapq.heappush(self._queue, entry)
        return entry

    def advance(self, seconds: float) -> None:
        """Move time forward, running every callback that falls due, in order."""
        until = self.now + seconds
        while self._queue and self._queue[0].due <= until:
            entry = heapq.heappop(self._queue)
            self.now = entry.due
            if not entry.cancelled:
                entry.callback()
        self.now = until

    @property
    def pending(self) -> int:
        """How many live callbacks are scheduled."""
        return sum(1 for entry in self._queue if not entry.cancelled)
