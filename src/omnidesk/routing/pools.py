"""Ordered pools: available agents per queue level, waiting contacts.

Agents: an indexed binary heap of the agents' ``Membership`` records themselves. Each
membership knows its place in the heap (``index``, -1 while out of the pool) and carries
its strategy key as unboxed floats (``key``, ``tie``), so placing, moving or removing an
agent is O(log n) with no allocation, and a sift reads one record per level. Contacts: a
binary heap with lazy deletion (stale entries are skipped at the top and dropped in bulk).
No decision scans the whole population.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heapify, heappop, heappush
from typing import TYPE_CHECKING

from mypy_extensions import mypyc_attr

if TYPE_CHECKING:
    from omnidesk.routing.state import AgentRuntime, ContactRuntime, Membership

AgentKey = tuple[float, ...]
Verdict = bool | None
"""A candidate check: True take it, False skip it, None keep it only as a fallback."""

COMPACT_SLACK = 32


def before(first: Membership, second: Membership) -> bool:
    """Strategy order of two agents in one pool: key, tie-break, a custom strategy's whole
    key (None for the built-in ones), then the agent configured first."""
    if first.key != second.key:
        return first.key < second.key
    if first.tie != second.tie:
        return first.tie < second.tie
    custom = first.custom
    other = second.custom
    if custom is not None and other is not None and custom != other:
        return custom < other
    return first.seq < second.seq


class AgentPool:
    """Available agents of one queue level, best first by the queue strategy's key."""

    __slots__ = ("heap",)

    def __init__(self) -> None:
        self.heap: list[Membership] = []

    def place(self, membership: Membership, key: float, tie: float,
              custom: AgentKey | None = None) -> None:
        """Insert the membership's agent, or move it to its new key."""
        position = membership.index
        if position >= 0 and membership.key == key and membership.tie == tie \
                and membership.custom == custom:
            return
        membership.key = key
        membership.tie = tie
        membership.custom = custom
        if position < 0:
            self.heap.append(membership)
            self._rise(membership, len(self.heap) - 1)
        else:
            self._settle(membership, position)

    def discard(self, membership: Membership) -> None:
        """Remove the membership's agent, if it is in the pool."""
        position = membership.index
        if position < 0:
            return
        membership.index = -1
        last = self.heap.pop()
        if last is not membership:
            self._settle(last, position)

    def head(self) -> Membership | None:
        """The best agent's membership, or None."""
        return self.heap[0] if self.heap else None

    def best(
        self, verdict: Callable[[AgentRuntime], Verdict],
    ) -> tuple[Membership | None, Membership | None]:
        """The best member the verdict takes, and the best kept as a fallback, in key order."""
        skipped: list[Membership] | None = None
        fallback: Membership | None = None
        chosen: Membership | None = None
        heap = self.heap
        while heap:
            membership = heap[0]
            answer = verdict(membership.agent)
            if answer:
                chosen = membership
                break
            if answer is None and fallback is None:
                fallback = membership
            if skipped is None:
                skipped = []
            skipped.append(membership)
            self.discard(membership)
        if skipped is not None:
            for membership in skipped:
                heap.append(membership)
                self._rise(membership, len(heap) - 1)
        return chosen, fallback

    def _settle(self, membership: Membership, position: int) -> None:
        """Put the membership at ``position`` and sift it up or down to its place."""
        if position > 0 and before(membership, self.heap[(position - 1) >> 1]):
            self._rise(membership, position)
        else:
            self._sink(membership, position)

    def _rise(self, membership: Membership, position: int) -> None:
        heap = self.heap
        while position > 0:
            parent_position = (position - 1) >> 1
            parent = heap[parent_position]
            if not before(membership, parent):
                break
            heap[position] = parent
            parent.index = position
            position = parent_position
        heap[position] = membership
        membership.index = position

    def _sink(self, membership: Membership, position: int) -> None:
        heap = self.heap
        size = len(heap)
        while True:
            child_position = 2 * position + 1
            if child_position >= size:
                break
            child = heap[child_position]
            if child_position + 1 < size:
                right = heap[child_position + 1]
                if before(right, child):
                    child_position += 1
                    child = right
            if not before(child, membership):
                break
            heap[position] = child
            child.index = position
            position = child_position
        heap[position] = membership
        membership.index = position


ContactEntry = tuple[float, float, int, int, "ContactRuntime"]


@mypyc_attr(native_class=False)
class ContactHeap(list[ContactEntry]):
    """Waiting contacts of one queue level, best first (ageing priority, then FIFO).

    A list subclass (the heap itself), so an empty level is one ``not heap`` away.
    """

    __slots__ = ()

    def push(self, contact: ContactRuntime) -> None:
        """Add the contact at its current version."""
        heappush(
            self,
            (contact.order_key, contact.queued_at, contact.seq, contact.version, contact))

    def best(
        self, verdict: Callable[[ContactRuntime], Verdict],
    ) -> tuple[ContactRuntime | None, ContactRuntime | None]:
        """The best waiting contact the verdict takes, and the best kept as a fallback."""
        skipped: list[ContactEntry] | None = None
        fallback: ContactRuntime | None = None
        chosen: ContactRuntime | None = None
        while self:
            entry = self[0]
            contact = entry[4]
            if contact.version != entry[3] or not contact.waiting:
                heappop(self)
                continue
            answer = verdict(contact)
            if answer:
                chosen = contact
                break
            if answer is None and fallback is None:
                fallback = contact
            if skipped is None:
                skipped = []
            skipped.append(heappop(self))
        if skipped is not None:
            for entry in skipped:
                heappush(self, entry)
        return chosen, fallback

    def compact(self, live_count: int) -> None:
        """Drop stale entries once they outnumber the live ones (in place)."""
        if len(self) > 2 * live_count + COMPACT_SLACK:
            self[:] = [e for e in self if e[4].version == e[3] and e[4].waiting]
            heapify(self)
