"""Ordered pools with lazy deletion: available agents per queue level, waiting contacts.

Both are binary heaps whose stale entries are skipped when they reach the top and
dropped in bulk when the heap grows past twice its live size, so every update is
O(log n) and no decision scans the whole population.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omnidesk.routing.state import AgentRuntime, ContactRuntime

AgentKey = tuple[float, ...]
Verdict = bool | None
"""A candidate check: True take it, False skip it, None keep it only as a fallback."""

_COMPACT_SLACK = 32


class AgentPool:
    """Available agents of one queue level, best first by the queue strategy's key."""

    __slots__ = ("_heap", "_live", "_stamp")

    def __init__(self) -> None:
        self._heap: list[tuple[AgentKey, int, int, AgentRuntime]] = []
        self._live: dict[int, tuple[AgentKey, int]] = {}
        self._stamp = 0

    def __len__(self) -> int:
        return len(self._live)

    def place(self, agent: AgentRuntime, key: AgentKey) -> None:
        """Insert the agent, or move it to its new key."""
        current = self._live.get(agent.seq)
        if current is not None and current[0] == key:
            return
        self._stamp += 1
        self._live[agent.seq] = (key, self._stamp)
        heapq.heappush(self._heap, (key, agent.seq, self._stamp, agent))
        if len(self._heap) > 2 * len(self._live) + _COMPACT_SLACK:
            self._compact()

    def discard(self, agent: AgentRuntime) -> None:
        """Remove the agent (its heap entries go stale)."""
        self._live.pop(agent.seq, None)

    def best(
        self, verdict: Callable[[AgentRuntime], Verdict],
    ) -> tuple[tuple[AgentKey, AgentRuntime] | None, tuple[AgentKey, AgentRuntime] | None]:
        """The best agent the verdict takes, and the best kept as a fallback, in key order."""
        heap, live = self._heap, self._live
        skipped: list[tuple[AgentKey, int, int, AgentRuntime]] = []
        fallback: tuple[AgentKey, AgentRuntime] | None = None
        chosen: tuple[AgentKey, AgentRuntime] | None = None
        while heap:
            entry = heap[0]
            current = live.get(entry[1])
            if current is None or current[1] != entry[2]:
                heapq.heappop(heap)
                continue
            answer = verdict(entry[3])
            if answer:
                chosen = (entry[0], entry[3])
                break
            if answer is None and fallback is None:
                fallback = (entry[0], entry[3])
            skipped.append(heapq.heappop(heap))
        for entry in skipped:
            heapq.heappush(heap, entry)
        return chosen, fallback

    def _compact(self) -> None:
        live = self._live
        self._heap = [e for e in self._heap if live.get(e[1], ((), -1))[1] == e[2]]
        heapq.heapify(self._heap)


ContactEntry = tuple[float, float, int, int, "ContactRuntime"]


class ContactHeap:
    """Waiting contacts of one queue level, best first (ageing priority, then FIFO)."""

    __slots__ = ("_heap",)

    def __init__(self) -> None:
        self._heap: list[ContactEntry] = []

    def push(self, contact: ContactRuntime) -> None:
        """Add the contact at its current version."""
        heapq.heappush(
            self._heap,
            (contact.order_key, contact.queued_at, contact.seq, contact.version, contact))

    def best(
        self, verdict: Callable[[ContactRuntime], Verdict],
    ) -> tuple[ContactRuntime | None, ContactRuntime | None]:
        """The best waiting contact the verdict takes, and the best kept as a fallback."""
        heap = self._heap
        skipped: list[ContactEntry] = []
        fallback: ContactRuntime | None = None
        chosen: ContactRuntime | None = None
        while heap:
            entry = heap[0]
            contact = entry[4]
            if contact.version != entry[3] or not contact.waiting:
                heapq.heappop(heap)
                continue
            answer = verdict(contact)
            if answer:
                chosen = contact
                break
            if answer is None and fallback is None:
                fallback = contact
            skipped.append(heapq.heappop(heap))
        for entry in skipped:
            heapq.heappush(heap, entry)
        return chosen, fallback

    def compact(self, live_count: int) -> None:
        """Drop stale entries once they outnumber the live ones."""
        if len(self._heap) > 2 * live_count + _COMPACT_SLACK:
            self._heap = [e for e in self._heap if e[4].version == e[3] and e[4].waiting]
            heapq.heapify(self._heap)
