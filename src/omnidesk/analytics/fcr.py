"""First-contact-resolution tracking: a resolved closure is settled once its window passes."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from mypy_extensions import mypyc_attr

from omnidesk.analytics.events import NO_TIME
from omnidesk.analytics.records import NO_DIMS, Dims

if TYPE_CHECKING:
    from omnidesk.analytics.fold import ContactFold


@dataclass(slots=True, init=False)
class PendingClosure:
    """A resolved closure waiting for its FCR window to pass."""

    customer_id: str
    closed_at: datetime
    deadline: datetime
    dims: Dims
    contacted_again: bool
    seq: int
    """The seq of the event that closed it, where known (the fill's journal names it so)."""

    def __init__(self, customer_id: str = "", closed_at: datetime = NO_TIME,
                 deadline: datetime = NO_TIME, dims: Dims = NO_DIMS,
                 contacted_again: bool = False, seq: int = 0) -> None:
        # Written out and with defaults, as in records.py, so that it is compiled.
        self.customer_id = customer_id
        self.closed_at = closed_at
        self.deadline = deadline
        self.dims = dims
        self.contacted_again = contacted_again
        self.seq = seq


@mypyc_attr(serializable=True)
@dataclass(slots=True)
class FcrTracker:
    """Marks closures followed by another inbound contact of the customer within the window."""

    window: timedelta
    pending: dict[str, list[PendingClosure]] = field(default_factory=dict)
    deadlines: list[tuple[datetime, int, PendingClosure]] = field(default_factory=list)
    counter: int = 0

    def contact_created(self, customer_id: str, at: datetime) -> None:
        """A new inbound contact: any closure of the customer in (closed_at, deadline] fails."""
        for closure in self.pending.get(customer_id, ()):
            if not closure.contacted_again and closure.closed_at < at <= closure.deadline:
                closure.contacted_again = True
                self.contacted_again(closure)

    def contacted_again(self, closure: PendingClosure) -> None:
        """A pending closure has just been marked as contacted again (a hook)."""

    def resolved_closure(self, customer_id: str, closed_at: datetime,
                         dims: Dims) -> PendingClosure:
        """A contact of the customer was closed as resolved: its closure, now tracked."""
        closure = PendingClosure(customer_id, closed_at, closed_at + self.window, dims)
        self.track(closure)
        return closure

    def track(self, closure: PendingClosure) -> None:
        """Keep the closure pending until its deadline."""
        self.pending.setdefault(closure.customer_id, []).append(closure)
        self.counter += 1
        heapq.heappush(self.deadlines, (closure.deadline, self.counter, closure))

    def settle(self, now: datetime) -> list[PendingClosure]:
        """Closures whose window has passed (deadline strictly before `now`), oldest first."""
        settled: list[PendingClosure] = []
        while self.deadlines and self.deadlines[0][0] < now:
            closure = heapq.heappop(self.deadlines)[2]
            siblings = self.pending[closure.customer_id]
            siblings.remove(closure)
            if not siblings:
                del self.pending[closure.customer_id]
            settled.append(closure)
        return settled


@mypyc_attr(serializable=True)
@dataclass(slots=True)
class JournalingFcr(FcrTracker):
    """The fill's FCR tracker, noting what changed since the last write (keyed by seq).

    A closure is named by the seq of the event that closed it: the `fold`'s last seq.
    """

    fold: ContactFold | None = None
    stored: set[int] = field(default_factory=set)
    added: dict[int, PendingClosure] = field(default_factory=dict)
    flagged: set[int] = field(default_factory=set)
    removed: list[int] = field(default_factory=list)

    def resolved_closure(self, customer_id: str, closed_at: datetime,
                         dims: Dims) -> PendingClosure:
        """Track a new resolved closure under the seq of the event that closed it."""
        # no super(): slots
        closure = FcrTracker.resolved_closure(self, customer_id, closed_at, dims)
        closure.seq = self.fold.last_seq if self.fold is not None else self.counter
        self.added[closure.seq] = closure
        return closure

    def contacted_again(self, closure: PendingClosure) -> None:
        """Note a stored closure that this contact marks as contacted again."""
        if closure.seq in self.stored:
            self.flagged.add(closure.seq)

    def settle(self, now: datetime) -> list[PendingClosure]:
        """Settle as the pure tracker does, noting stored closures to delete."""
        if not self.deadlines or self.deadlines[0][0] >= now:
            return []
        settled = FcrTracker.settle(self, now)
        for closure in settled:
            seq = closure.seq
            if self.added.pop(seq, None) is None:
                self.stored.discard(seq)
                self.flagged.discard(seq)
                self.removed.append(seq)
        return settled

    def restore(self, closure: PendingClosure) -> None:
        """Load one stored pending closure, named by its seq (call in seq order)."""
        self.track(closure)
        self.stored.add(closure.seq)

    def take(self) -> tuple[dict[int, PendingClosure], set[int], list[int]]:
        """The journal since the last take (added, flagged, removed), handed to a write.

        Its closures count as stored from now on: if that write fails the fill stops and this
        state is dropped, so nothing folded after it is ever written.
        """
        journal = (self.added, self.flagged, self.removed)
        self.stored.update(self.added)
        self.added, self.flagged, self.removed = {}, set(), []
        return journal
