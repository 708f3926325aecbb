"""Ordered pools with lazy deletion: available agents per queue level, waiting contacts.

Both are binary heaps whose stale entries are skipped when they reach the top and
dropped in bulk when the heap grows past twice its live size, so every update is
O(log n) and no decision scans the whole population.

An agent's place in a pool is kept on its ``Membership`` (one per agent and queue,
so one per pool): ``stamp`` names its live heap entry (0 = not in the pool) and
``key`` its current key. Placing or discarding is a few attribute writes and at
most one ``heappush``; no dictionary is involved.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heapify, heappop, heappush
from typing import TYPE_CHECKING, Any

from mypy_extensions import mypyc_attr

if TYPE_CHECKING:
    from omnidesk.routing.state import AgentRuntime, ContactRuntime, Membership

AgentKey = tuple[float, ...]
Verdict = bool | None
"""A candidate check: True take it, False skip it, None keep it only as a fallback."""

COMPACT_SLACK = 32
AgentEntry = tuple[Any, float, int, int, "Membership"]
"""(key, key tie-break, agent seq, stamp, membership), smallest first.

The strategy key is stored flat as two parts: every built-in strategy's key has one
or two numbers (a one-number key gets 0.0 as its second part, which orders the same);
a key of another shape is kept whole in the first part. Ties go to the agent
configured first (``seq``); ``stamp`` tells the live entry from stale ones. One
tuple per placement, with no nested key tuple, keeps allocations (and the garbage
collector's work) low.
"""


@mypyc_attr(native_class=False)  # mypyc compiles no subclass of list
class AgentPool(list[AgentEntry]):
    """Available agents of one queue level, best first by the queue strategy's key.

    The pool *is* its heap (a list subclass, ``heapq`` works on it directly) with two
    counters beside it: ``live`` agents in it (``len()`` counts heap entries, stale
    ones included) and the last ``stamp`` given. One object instead of a pool plus
    a list: one memory block fewer to fetch per placement on the hot path.
    """

    __slots__ = ("live", "stamp")

    def __init__(self) -> None:
        super().__init__()
        self.live = 0
        self.stamp = 0

    def place(self, membership: Membership, key: Any, tie: float = 0.0) -> None:
        """Insert the membership's agent, or move it to its new key."""
        if membership.stamp:
            if membership.key == key and membership.tie == tie:
                return
        else:
            self.live += 1
        self.stamp = stamp = self.stamp + 1
        membership.stamp = stamp
        membership.key = key
        membership.tie = tie
        heappush(self, (key, tie, membership.agent.seq, stamp, membership))
        if len(self) > 2 * self.live + COMPACT_SLACK:
            self.compact()

    def discard(self, membership: Membership) -> None:
        """Remove the membership's agent (its heap entries go stale)."""
        if membership.stamp:
            membership.stamp = 0
            self.live -= 1

    def head(self) -> AgentEntry | None:
        """The best live entry (stale entries on top are dropped), or None."""
        while self:
            entry = self[0]
            if entry[4].stamp == entry[3]:
                return entry
            heappop(self)
        return None

    def best(
        self, verdict: Callable[[AgentRuntime], Verdict],
    ) -> tuple[AgentEntry | None, AgentEntry | None]:
        """The best entry the verdict takes, and the best kept as a fallback, in key order."""
        skipped: list[AgentEntry] | None = None
        fallback: AgentEntry | None = None
        chosen: AgentEntry | None = None
        while self:
            entry = self[0]
            if entry[4].stamp != entry[3]:
                heappop(self)
                continue
            answer = verdict(entry[4].agent)
            if answer:
                chosen = entry
                break
            if answer is None and fallback is None:
                fallback = entry
            if skipped is None:
                skipped = []
            skipped.append(heappop(self))
        if skipped is not None:
            for entry in skipped:
                heappush(self, entry)
        return chosen, fallback

    def compact(self) -> None:
        """Drop the stale entries (in place: the list stays the same object)."""
        self[:] = [e for e in self if e[4].stamp == e[3]]
        heapify(self)


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
