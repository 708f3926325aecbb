"""First-contact-resolution tracking: a resolved closure is settled once its window passes."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mypy_extensions import mypyc_attr

from omnidesk.analytics.records import Dims


@mypyc_attr(serializable=True)
@dataclass(slots=True)
class PendingClosure:
    """A resolved closure waiting for its FCR window to pass."""

    customer_id: str
    closed_at: datetime
    deadline: datetime
    dims: Dims
    contacted_again: bool = False


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
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

    def resolved_closure(self, customer_id: str, closed_at: datetime, dims: Dims) -> None:
        """A contact of the customer was closed as resolved."""
        closure = PendingClosure(customer_id, closed_at, closed_at + self.window, dims)
        self.pending.setdefault(customer_id, []).append(closure)
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
