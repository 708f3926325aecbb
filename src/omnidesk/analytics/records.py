"""Per-interaction contact records: queue segments, agent segments, outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from mypy_extensions import mypyc_attr

from omnidesk.analytics.measures import QueueOutcome


class Dims(NamedTuple):
    """The dimensions a fact can be grouped by (None where it does not apply)."""

    queue: str | None = None
    agent: str | None = None
    channel: str | None = None
    direction: str | None = None
    campaign: str | None = None
    disposition: str | None = None
    article: str | None = None
    role: str | None = None


DIMENSIONS = Dims._fields
_new_dims = tuple.__new__  # Dims(...) without the named tuple's Python-level __new__ (hot path)


def micros(start: datetime, end: datetime) -> int:
    """Whole microseconds from start to end (exact integer arithmetic)."""
    delta = end - start
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@mypyc_attr(serializable=True)
@dataclass(slots=True)
class QueueSegment:
    """One stay in one queue: queued → left, with how it ended."""

    queue_id: str
    queued_at: datetime
    left_at: datetime | None = None
    outcome: QueueOutcome | None = None


@mypyc_attr(serializable=True)
@dataclass(slots=True)
class AgentSegment:
    """One agent's handling: connected → talk (with holds) → optional ACW → end."""

    agent_id: str
    queue_id: str | None
    connected_at: datetime
    hold_started_at: datetime | None = None
    hold_us: int = 0
    talk_ended_at: datetime | None = None
    ended_at: datetime | None = None
    transferred: bool = False

    def talk_us(self) -> int:
        """Talk time: connected → talk end, less hold."""
        end = self.talk_ended_at or self.ended_at
        return micros(self.connected_at, end) - self.hold_us if end else 0

    def acw_us(self) -> int:
        """After-contact work: wrap-up start → end."""
        if self.talk_ended_at is None or self.ended_at is None:
            return 0
        return micros(self.talk_ended_at, self.ended_at)


@mypyc_attr(serializable=True)
@dataclass(slots=True)
class ContactRecord:
    """Everything analytics knows about one interaction, built in one pass over its events."""

    interaction_id: str
    channel: str = "unknown"
    direction: str = "inbound"
    customer_id: str | None = None
    campaign_id: str | None = None
    created_at: datetime | None = None
    self_service_entered: bool = False
    self_service_outcome: str | None = None
    article_id: str | None = None
    queue_segments: list[QueueSegment] = field(default_factory=list)
    agent_segments: list[AgentSegment] = field(default_factory=list)
    live_answered_at: datetime | None = None
    outbound_settled: bool = False
    call_ended: bool = False
    closed_at: datetime | None = None
    resolved: bool = False
    disposition: str | None = None

    def open_queue_segment(self) -> QueueSegment | None:
        """The queue segment the contact is waiting in, if any."""
        last = self.queue_segments[-1] if self.queue_segments else None
        return last if last is not None and last.outcome is None else None

    def open_agent_segment(self) -> AgentSegment | None:
        """The agent segment still in progress, if any."""
        last = self.agent_segments[-1] if self.agent_segments else None
        return last if last is not None and last.ended_at is None else None

    def dims(self, queue: str | None = None, agent: str | None = None) -> Dims:
        """Dimensions of a fact about this contact in `queue` with `agent`."""
        return _new_dims(Dims, (queue, agent, self.channel, self.direction, self.campaign_id,
                                self.disposition, None, None))

    def last_handling_dims(self) -> Dims:
        """Dimensions of the last agent handling (for surveys and FCR)."""
        last = self.agent_segments[-1] if self.agent_segments else None
        if last is None:
            segment = self.queue_segments[-1] if self.queue_segments else None
            return self.dims(segment.queue_id if segment else None)
        return self.dims(last.queue_id, last.agent_id)
