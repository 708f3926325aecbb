"""The engine's timers: sorted FIFO lanes merged through a small heap.

Almost every timer is "now + a configured delay" (offer timeout, desktop grace) or
"queued_at + a milestone threshold" with ``queued_at`` = now for a fresh contact.
Since the engine's clock never goes back, timers with the same delay arrive in due
order, so they are appended to a FIFO *lane* per (kind, delay) instead of being
pushed into one big heap. The heap holds only the head of each non-empty lane and
the few timers that arrive out of order (rebuilt contacts with an old
``queued_at``, milestones scheduled late), so it stays small (a handful of entries
instead of one per live offer and waiting contact) and cheap on the cache.

Entries are ``(due, seq, kind, target, token, lane)``; ``seq`` is unique, so the
order is exactly (due, seq) as with a single heap, and stale entries (a token that
no longer matches) are skipped by the handlers, as before.
"""

from __future__ import annotations

from collections import deque
from heapq import heappop, heappush
from typing import Any

TimerEntry = tuple[float, int, int, Any, int, "Lane | None"]


class Lane:
    """Timers of one (kind, delay), in due order; its first entry sits in the heap."""

    __slots__ = ("active", "items", "tail")

    def __init__(self) -> None:
        self.items: deque[TimerEntry] = deque()
        self.tail = float("-inf")
        self.active = False


class TimerQueue:
    """Timers in (due, seq) order: ``push``, ``pop_due``, ``next_due``."""

    __slots__ = ("heap", "lanes")

    def __init__(self, kinds: int) -> None:
        self.heap: list[TimerEntry] = []
        self.lanes: list[dict[float, Lane]] = [{} for _ in range(kinds)]

    def __len__(self) -> int:
        return len(self.heap) + sum(len(lane.items) for lanes in self.lanes
                                    for lane in lanes.values())

    def push(self, due: float, seq: int, kind: int, target: object, token: int,
             delay: float) -> None:
        """Schedule a timer; ``delay`` names its lane (the configured offset it came from)."""
        lanes = self.lanes[kind]
        lane = lanes.get(delay)
        if lane is None:
            lane = lanes[delay] = Lane()
        if not lane.active:
            lane.active = True
            lane.tail = due
            heappush(self.heap, (due, seq, kind, target, token, lane))
        elif due >= lane.tail:
            lane.tail = due
            lane.items.append((due, seq, kind, target, token, lane))
        else:
            heappush(self.heap, (due, seq, kind, target, token, None))

    def next_due(self) -> float | None:
        """When the earliest timer is due."""
        heap = self.heap
        return heap[0][0] if heap else None

    def pop_due(self, now: float) -> TimerEntry | None:
        """Remove and return the earliest timer if it is due by ``now``."""
        heap = self.heap
        if not heap or heap[0][0] > now:
            return None
        entry = heappop(heap)
        lane = entry[5]
        if lane is not None:
            if lane.items:
                heappush(heap, lane.items.popleft())
            else:
                lane.active = False
        return entry
