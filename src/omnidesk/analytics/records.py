"""Per-interaction contact records: queue segments, agent segments, outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from omnidesk.analytics.events import NO_TIME
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
NO_DIMS = Dims()
"""No dimension at all (one shared value: calling Dims runs interpreted code)."""


def micros(start: datetime, end: datetime) -> int:
    """Whole microseconds from start to end (exact integer arithmetic)."""
    delta = end - start
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


# The classes below write their __init__ out: compiled, the dataclass decorator's generated
# one would run as interpreted code for every contact and segment the fold creates. Every
# argument has a default because copy and pickle build a compiled instance by calling the
# class with none, then restore its attributes (mypyc's `serializable` would avoid that, but
# with it a written-out __init__ is never called: mypyc 2.4).


@dataclass(slots=True, init=False)
class QueueSegment:
    """One stay in one queue: queued → left, with how it ended."""

    queue_id: str
    queued_at: datetime
    left_at: datetime | None
    outcome: QueueOutcome | None

    def __init__(self, queue_id: str = "", queued_at: datetime = NO_TIME) -> None:
        self.queue_id = queue_id
        self.queued_at = queued_at
        self.left_at = None
        self.outcome = None


@dataclass(slots=True, init=False)
class AgentSegment:
    """One agent's handling: connected → talk (with holds) → optional ACW → end."""

    agent_id: str
    queue_id: str | None
    connected_at: datetime
    hold_started_at: datetime | None
    hold_us: int
    talk_ended_at: datetime | None
    ended_at: datetime | None
    transferred: bool

    def __init__(self, agent_id: str = "", queue_id: str | None = None,
                 connected_at: datetime = NO_TIME) -> None:
        self.agent_id = agent_id
        self.queue_id = queue_id
        self.connected_at = connected_at
        self.hold_started_at = None
        self.hold_us = 0
        self.talk_ended_at = None
        self.ended_at = None
        self.transferred = False

    def talk_us(self) -> int:
        """Talk time: connected → talk end, less hold."""
        end = self.talk_ended_at or self.ended_at
        return micros(self.connected_at, end) - self.hold_us if end else 0

    def acw_us(self) -> int:
        """After-contact work: wrap-up start → end."""
        if self.talk_ended_at is None or self.ended_at is None:
            return 0
        return micros(self.talk_ended_at, self.ended_at)


@dataclass(slots=True, init=False)
class ContactRecord:
    """Everything analytics knows about one interaction, built in one pass over its events."""

    interaction_id: str
    channel: str
    direction: str
    customer_id: str | None
    campaign_id: str | None
    created_at: datetime | None
    self_service_entered: bool
    self_service_outcome: str | None
    article_id: str | None
    queue_segments: list[QueueSegment]
    agent_segments: list[AgentSegment]
    live_answered_at: datetime | None
    outbound_settled: bool
    call_ended: bool
    closed_at: datetime | None
    resolved: bool
    disposition: str | None

    def __init__(self, interaction_id: str = "") -> None:
        self.interaction_id = interaction_id
        self.channel = "unknown"
        self.direction = "inbound"
        self.customer_id = None
        self.campaign_id = None
        self.created_at = None
        self.self_service_entered = False
        self.self_service_outcome = None
        self.article_id = None
        self.queue_segments = []
        self.agent_segments = []
        self.live_answered_at = None
        self.outbound_settled = False
        self.call_ended = False
        self.closed_at = None
        self.resolved = False
        self.disposition = None

    def open_queue_segment(self) -> QueueSegment | None:
        """The queue segment the contact is waiting in, if any."""
        last = self.queue_segments[-1] if self.queue_segments else None
        return last if last is not None and last.outcome is None else None

    def open_agent_segment(self) -> AgentSegment | None:
        """The agent segment still in progress, if any."""
        last = self.agent_segments[-1] if self.agent_segments else None
        return last if last is not None and last.ended_at is None else None

    def dims(self, queue: str | None = None, agent: str | None = None,
             article: str | None = None) -> Dims:
        """Dimensions of a fact about this contact in `queue` with `agent` (about `article`)."""
        return _new_dims(Dims, (queue, agent, self.channel, self.direction, self.campaign_id,
                                self.disposition, article, None))

    def last_handling_dims(self) -> Dims:
        """Dimensions of the last agent handling (for surveys and FCR)."""
        last = self.agent_segments[-1] if self.agent_segments else None
        if last is None:
            segment = self.queue_segments[-1] if self.queue_segments else None
            return self.dims(segment.queue_id if segment else None)
        return self.dims(last.queue_id, last.agent_id)
