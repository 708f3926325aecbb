"""The one-pass fold: events → contact records and agent clocks → facts into Measures.

The fold decides *when* a fact happens and *which* dimensions it has; measures.py decides
*what* it adds. A sink decides *where* it goes (an interval row, a period total, today's
wallboard). Historical reports, restartable aggregation and the real-time projection all
run this same fold, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Protocol

from mypy_extensions import mypyc_attr

from omnidesk.analytics import events as ev
from omnidesk.analytics.config import AnalyticsConfig
from omnidesk.analytics.events import Event, EventLike, as_event
from omnidesk.analytics.fcr import FcrTracker
from omnidesk.analytics.measures import (
    MICROS,
    AgentStatus,
    Measures,
    QueueOutcome,
    count_agent_time,
    count_fcr,
    count_handle_completed,
    count_offered,
    count_outbound_answer,
    count_queue_exit,
    count_self_service_contained,
    count_self_service_started,
    count_sms_contact,
    count_survey,
    count_voice,
)
from omnidesk.analytics.records import (
    NO_DIMS,
    AgentSegment,
    ContactRecord,
    Dims,
    QueueSegment,
    micros,
)

CONTACT_TYPES: Final = frozenset({
    ev.INTERACTION_CREATED, ev.SELF_SERVICE_STARTED, ev.SELF_SERVICE_ENDED, ev.QUEUED,
    ev.CONNECTED, ev.HELD, ev.RESUMED, ev.TRANSFERRED, ev.WRAP_UP_STARTED, ev.CLOSED,
    ev.ABANDONED, ev.CALLBACK_SCHEDULED, ev.ANSWERED,
})
"""Event types whose subject is an interaction."""


class MeasureSink(Protocol):
    """Where facts land: the Measures a point fact or a stretch of agent time adds to."""

    def point(self, at: datetime, dims: Dims) -> Iterable[Measures]:
        """Measures that a fact happening at `at` with `dims` counts into."""
        ...

    def span(self, start: datetime, end: datetime, dims: Dims) -> Iterable[tuple[Measures, int]]:
        """Measures and microseconds that agent time over [start, end) counts into."""
        ...


class FoldObserver(Protocol):
    """Hooks for state the real-time projection keeps besides Measures."""

    def queue_entered(self, interaction_id: str, queue_id: str, at: datetime) -> None:
        """A contact started waiting in a queue."""
        ...

    def queue_left(self, interaction_id: str, queue_id: str) -> None:
        """A contact stopped waiting in a queue."""
        ...

    def handle_completed(self, queue_id: str | None, handle_us: int) -> None:
        """An agent finished handling a contact answered from `queue_id`."""
        ...

    def agent_changed(
        self, agent_id: str, before: AgentStatus, after: AgentStatus, at: datetime
    ) -> None:
        """An agent's state or load changed."""
        ...


@mypyc_attr(serializable=True)
@dataclass
class NullObserver:
    """An observer that ignores everything (historical folds)."""

    def queue_entered(self, interaction_id: str, queue_id: str, at: datetime) -> None:
        """Ignore."""

    def queue_left(self, interaction_id: str, queue_id: str) -> None:
        """Ignore."""

    def handle_completed(self, queue_id: str | None, handle_us: int) -> None:
        """Ignore."""

    def agent_changed(
        self, agent_id: str, before: AgentStatus, after: AgentStatus, at: datetime
    ) -> None:
        """Ignore."""


@mypyc_attr(serializable=True)
@dataclass(slots=True)
class AgentClock:
    """An agent's current state, open contacts and the time its current stretch began."""

    agent_id: str
    dims: Dims
    state: str = "offline"
    since: datetime | None = None
    load: int = 0
    contacts: int = 0

    def status(self) -> AgentStatus:
        """What the agent is doing now, for agent-time measures."""
        return AgentStatus(self.state, self.dims.role or "", self.contacts, self.load)


@mypyc_attr(serializable=True)
@dataclass(eq=False, repr=False)  # a repr would print every row
class ContactFold:
    """Folds ordered events into Measures via a sink; O(1) work per event."""

    config: AnalyticsConfig
    sink: MeasureSink
    observer: FoldObserver = field(default_factory=NullObserver, kw_only=True)
    track_fcr: bool = field(default=True, kw_only=True)
    keep_closed: bool = field(default=False, kw_only=True)
    records: dict[str, ContactRecord] = field(init=False)
    closed_dims: dict[str, Dims] = field(init=False)
    agents: dict[str, AgentClock] = field(init=False)
    fcr: FcrTracker | None = field(init=False)
    last_seq: int = field(init=False)
    _observed: bool = field(init=False)

    def __post_init__(self) -> None:
        # Every field not passed in is set here: compiled, a serializable class leaves the
        # defaults of init=False fields unset (mypyc 2.4; docs/development.md).
        self.records, self.closed_dims, self.agents = {}, {}, {}
        self.fcr = FcrTracker(self.config.fcr_window) if self.track_fcr else None
        self.last_seq = 0
        self._observed = not isinstance(self.observer, NullObserver)

    def apply(self, event: EventLike) -> None:
        """Fold one event; events at or below the last folded seq are ignored (idempotent)."""
        native = as_event(event)  # compiled, the handlers read an Event's fields directly
        if native.seq <= self.last_seq:
            return
        self.last_seq = native.seq
        fcr = self.fcr
        if fcr is not None and fcr.deadlines and fcr.deadlines[0][0] < native.occurred_at:
            self._settle_fcr(native.occurred_at)
        handler = _HANDLERS.get(native.type)
        if handler is not None:
            handler(self, native)

    def skip_to(self, seq: int) -> None:
        """Events up to `seq` not passed to `apply` were of types the fold ignores."""
        self.last_seq = max(self.last_seq, seq)

    def apply_all(self, events: Iterable[EventLike]) -> None:
        """Fold many events in order."""
        for event in events:
            self.apply(event)  # compiled, a direct call (a bound method would be a generic one)

    def settle(self, now: datetime) -> None:
        """Count agent time up to `now` and every FCR window that has passed by `now`."""
        for clock in self.agents.values():
            self._accrue(clock, now)
        if self.fcr is not None:
            self._settle_fcr(now)

    def referenced_contacts(self, events: list[Event]) -> tuple[set[str], list[str]]:
        """Interactions the events touch, and those the fold holds no trace of.

        A fold that forgets idle contacts (the fill's) rebuilds the ones missing from their own
        earlier events before it folds these.
        """
        records, closed = self.records, self.closed_dims
        touched: set[str] = set()
        missing: list[str] = []
        for event in events:
            kind = event.type
            interaction_id: str
            if kind in CONTACT_TYPES:
                interaction_id = event.subject
            elif kind == ev.SURVEY_ANSWERED and isinstance(event.payload.get("interaction_id"),
                                                           str):
                interaction_id = event.payload["interaction_id"]
            else:
                continue
            if interaction_id in touched:
                continue
            touched.add(interaction_id)
            if (kind != ev.INTERACTION_CREATED and interaction_id not in records
                    and interaction_id not in closed):
                missing.append(interaction_id)
        return touched, missing

    def forget_idle(self, keep: set[str]) -> None:
        """Bound memory: drop closed dims and idle contacts not in `keep` (a later reference
        finds them missing, and the fill rebuilds them from the log)."""
        self.closed_dims.clear()
        idle = [interaction_id for interaction_id, record in self.records.items()
                if interaction_id not in keep and record.open_queue_segment() is None
                and record.open_agent_segment() is None]
        for interaction_id in idle:
            del self.records[interaction_id]

    # -- interactions ---------------------------------------------------------------

    def _record(self, interaction_id: str) -> ContactRecord:
        record = self.records.get(interaction_id)
        if record is None:
            record = self.records[interaction_id] = ContactRecord(interaction_id)
        return record

    def _count(self, at: datetime, dims: Dims, add: Callable[[Measures], None]) -> None:
        for m in self.sink.point(at, dims):
            add(m)

    def _created(self, event: Event) -> None:
        record, payload, at = self._record(event.subject), event.payload, event.occurred_at
        record.channel = payload.get("channel", record.channel)
        record.direction = payload.get("direction", record.direction)
        record.customer_id = payload.get("customer_id")
        record.campaign_id = payload.get("campaign_id")
        record.created_at = at
        if record.channel == "sms":
            self._count(at, record.dims(), count_sms_contact)
        if self.fcr is not None and record.customer_id and record.direction == "inbound":
            self.fcr.contact_created(record.customer_id, at)

    def _self_service_started(self, event: Event) -> None:
        record = self._record(event.subject)
        record.self_service_entered = True
        self._count(event.occurred_at, record.dims(), count_self_service_started)

    def _self_service_ended(self, event: Event) -> None:
        record, payload = self._record(event.subject), event.payload
        record.self_service_outcome = payload.get("outcome")
        record.article_id = payload.get("article_id")
        if record.self_service_outcome == "resolved" and not record.queue_segments:
            dims = record.dims(article=record.article_id)
            self._count(event.occurred_at, dims, count_self_service_contained)

    def _queued(self, event: Event) -> None:
        record, at = self._record(event.subject), event.occurred_at
        waiting = record.open_queue_segment()
        if waiting is not None:
            self._leave_queue(record, waiting, at, "moved")
        queue_id = event.payload["queue_id"]
        record.queue_segments.append(QueueSegment(queue_id, at))
        self._count(at, record.dims(queue_id), count_offered)
        if self._observed:
            self.observer.queue_entered(record.interaction_id, queue_id, at)

    def _leave_queue(
        self,
        record: ContactRecord,
        segment: QueueSegment,
        at: datetime,
        outcome: QueueOutcome,
        agent_id: str | None = None,
    ) -> None:
        segment.left_at, segment.outcome = at, outcome
        wait_us = micros(segment.queued_at, at)
        settings = self.config.queue(segment.queue_id)
        for m in self.sink.point(at, record.dims(segment.queue_id, agent_id)):
            count_queue_exit(m, outcome, wait_us, settings)
        if self._observed:
            self.observer.queue_left(record.interaction_id, segment.queue_id)

    def _connected(self, event: Event) -> None:
        record, payload, at = self._record(event.subject), event.payload, event.occurred_at
        agent_id: str = payload["agent_id"]
        queue_id: str | None = payload.get("queue_id")
        waiting = record.open_queue_segment()
        if waiting is not None:
            self._leave_queue(record, waiting, at, "answered", agent_id)
            queue_id = queue_id or waiting.queue_id
        previous = record.open_agent_segment()
        if previous is not None:
            self._end_agent_segment(record, previous, at)
        record.agent_segments.append(AgentSegment(agent_id, queue_id, at))
        self._change_load(agent_id, at, self._share(record), 1)
        if record.live_answered_at is not None:
            late = micros(record.live_answered_at, at) > self._outbound_limit_us()
            self._settle_outbound(record, at, abandoned=late)

    def _held(self, event: Event) -> None:
        segment = self._record(event.subject).open_agent_segment()
        if segment is not None and segment.hold_started_at is None:
            segment.hold_started_at = event.occurred_at

    def _resumed(self, event: Event) -> None:
        segment = self._record(event.subject).open_agent_segment()
        if segment is not None:
            _end_hold(segment, event.occurred_at)

    def _transferred(self, event: Event) -> None:
        record = self._record(event.subject)
        segment = record.open_agent_segment()
        if segment is not None:
            segment.transferred = True
            self._end_agent_segment(record, segment, event.occurred_at)

    def _wrap_up_started(self, event: Event) -> None:
        record, at = self._record(event.subject), event.occurred_at
        segment = record.open_agent_segment()
        if segment is not None and segment.talk_ended_at is None:
            _end_hold(segment, at)
            segment.talk_ended_at = at
        self._end_call(record, at)

    def _closed(self, event: Event) -> None:
        record, payload, at = self._record(event.subject), event.payload, event.occurred_at
        record.closed_at, record.resolved = at, bool(payload.get("resolved", False))
        record.disposition = payload.get("disposition")
        segment = record.open_agent_segment()
        if segment is not None:
            self._end_agent_segment(record, segment, at)
        waiting = record.open_queue_segment()
        if waiting is not None:
            self._leave_queue(record, waiting, at, "closed")
        self._end_without_agent(record, at)
        dims = record.last_handling_dims()
        if self.fcr is not None and record.resolved and record.customer_id:
            self.fcr.resolved_closure(record.customer_id, at, dims)
        if not self.keep_closed:
            self.closed_dims[record.interaction_id] = dims
            del self.records[record.interaction_id]

    def _abandoned(self, event: Event) -> None:
        self._left_unanswered(event, "abandoned")

    def _callback_scheduled(self, event: Event) -> None:
        self._left_unanswered(event, "callback")

    def _left_unanswered(self, event: Event, outcome: QueueOutcome) -> None:
        record, at = self._record(event.subject), event.occurred_at
        waiting = record.open_queue_segment()
        if waiting is not None:
            self._leave_queue(record, waiting, at, outcome)
        self._end_without_agent(record, at)

    def _answered(self, event: Event) -> None:
        if event.payload.get("answered_by", "human") == "human":
            self._record(event.subject).live_answered_at = event.occurred_at

    def _survey_answered(self, event: Event) -> None:
        payload = event.payload
        interaction_id = payload["interaction_id"]
        record = self.records.get(interaction_id)
        if record is not None:
            dims = record.last_handling_dims()
        else:
            dims = self.closed_dims.get(interaction_id, NO_DIMS)
        # Voice IVR surveys before session 3 logged only "scale"; it names the same kind.
        kind: str = payload.get("kind", payload.get("scale")) or ""
        score = int(payload["score"])
        for m in self.sink.point(event.occurred_at, dims):
            count_survey(m, kind, score)

    def _end_agent_segment(
        self, record: ContactRecord, segment: AgentSegment, at: datetime
    ) -> None:
        _end_hold(segment, at)
        segment.ended_at = at
        talk_us, acw_us = segment.talk_us(), segment.acw_us()
        for m in self.sink.point(at, record.dims(segment.queue_id, segment.agent_id)):
            count_handle_completed(m, talk_us, segment.hold_us, acw_us, segment.transferred)
        if self._observed:
            self.observer.handle_completed(segment.queue_id, talk_us + segment.hold_us + acw_us)
        self._change_load(segment.agent_id, at, -self._share(record), -1)

    def _end_without_agent(self, record: ContactRecord, at: datetime) -> None:
        self._end_call(record, at)
        if record.live_answered_at is not None:
            self._settle_outbound(record, at, abandoned=True)

    def _end_call(self, record: ContactRecord, at: datetime) -> None:
        if record.channel != "voice" or record.call_ended or record.created_at is None:
            return
        record.call_ended = True
        duration_us = micros(record.created_at, at)
        for m in self.sink.point(at, record.dims()):
            count_voice(m, duration_us)

    def _settle_outbound(self, record: ContactRecord, at: datetime, *, abandoned: bool) -> None:
        if record.outbound_settled:
            return
        record.outbound_settled = True
        for m in self.sink.point(at, record.dims()):
            count_outbound_answer(m, abandoned)

    def _outbound_limit_us(self) -> int:
        return self.config.outbound_connect_limit_s * MICROS

    def _settle_fcr(self, now: datetime) -> None:
        assert self.fcr is not None
        for closure in self.fcr.settle(now):
            for m in self.sink.point(closure.closed_at, closure.dims):
                count_fcr(m, not closure.contacted_again)

    # -- agents ---------------------------------------------------------------------

    def _clock(self, agent_id: str) -> AgentClock:
        clock = self.agents.get(agent_id)
        if clock is None:
            dims = Dims(agent=agent_id, role=self.config.role(agent_id))
            clock = self.agents[agent_id] = AgentClock(agent_id, dims)
        return clock

    def _accrue(self, clock: AgentClock, at: datetime, status: AgentStatus | None = None) -> None:
        since = clock.since
        if since is not None and at > since:
            status = status or clock.status()
            for m, duration_us in self.sink.span(since, at, clock.dims):
                count_agent_time(m, status, duration_us)
        if since is None or at > since:
            clock.since = at

    def _change_agent(
        self, agent_id: str, at: datetime, state: str | None, share: int, contacts: int
    ) -> None:
        """Count the agent's time up to `at`, then set its state and/or change its load."""
        clock = self.agents.get(agent_id) or self._clock(agent_id)
        before = clock.status() if self._observed else None
        self._accrue(clock, at, before)
        if state is not None:
            clock.state = state
        clock.load += share
        clock.contacts += contacts
        if before is not None:
            self.observer.agent_changed(agent_id, before, clock.status(), at)

    def _share(self, record: ContactRecord) -> int:
        return self.config.load_share(record.channel)

    def _change_load(self, agent_id: str, at: datetime, share: int, contacts: int) -> None:
        self._change_agent(agent_id, at, None, share, contacts)

    def _set_state(self, agent_id: str, at: datetime, state: str) -> None:
        self._change_agent(agent_id, at, state, 0, 0)

    def _agent_state_changed(self, event: Event) -> None:
        self._set_state(event.subject, event.occurred_at, event.payload["state"])

    def _agent_logged_in(self, event: Event) -> None:
        self._set_state(event.subject, event.occurred_at, event.payload.get("state", "available"))

    def _agent_logged_out(self, event: Event) -> None:
        self._set_state(event.subject, event.occurred_at, "offline")


_HANDLERS: dict[str, Callable[[ContactFold, Event], None]] = {
    ev.INTERACTION_CREATED: ContactFold._created,
    ev.SELF_SERVICE_STARTED: ContactFold._self_service_started,
    ev.SELF_SERVICE_ENDED: ContactFold._self_service_ended,
    ev.QUEUED: ContactFold._queued,
    ev.CONNECTED: ContactFold._connected,
    ev.HELD: ContactFold._held,
    ev.RESUMED: ContactFold._resumed,
    ev.TRANSFERRED: ContactFold._transferred,
    ev.WRAP_UP_STARTED: ContactFold._wrap_up_started,
    ev.CLOSED: ContactFold._closed,
    ev.ABANDONED: ContactFold._abandoned,
    ev.CALLBACK_SCHEDULED: ContactFold._callback_scheduled,
    ev.ANSWERED: ContactFold._answered,
    ev.SURVEY_ANSWERED: ContactFold._survey_answered,
    ev.AGENT_STATE_CHANGED: ContactFold._agent_state_changed,
    ev.AGENT_LOGGED_IN: ContactFold._agent_logged_in,
    ev.AGENT_LOGGED_OUT: ContactFold._agent_logged_out,
}
"""What each folded event type does; unbound, so a copied fold dispatches to itself."""

FOLDED_TYPES = frozenset(_HANDLERS)
"""The event types the fold reads; an event of any other type only moves `last_seq`."""


def _end_hold(segment: AgentSegment, at: datetime) -> None:
    if segment.hold_started_at is not None:
        segment.hold_us += micros(segment.hold_started_at, at)
        segment.hold_started_at = None
