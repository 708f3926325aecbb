"""The discrete-event loop: arrivals, patience, talk and wrap-up, shifts; routed by the real engine.

``run(scenario)`` yields the centre's events as plain tuples ``(t, type, subject, payload)``
— the server's event vocabulary (``interaction.queued``, ``offer.created``,
``interaction.connected``, …) with ``t`` in seconds from the start — in time order.
Every routing choice is made by ``omnidesk.routing.RoutingEngine``, the server's own
code: the loop only tells it what happened and carries out its decisions. Agents
accept offers at once; customers abandon when their patience runs out while waiting.

The loop is one heap of ``(time, seq, kind, target)`` entries; no per-event logging.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from omnidesk.analytics import events as ev
from omnidesk.routing import (
    AgentConfigured,
    AgentState,
    AgentStateChanged,
    AgentStateForced,
    Decision,
    DesktopConnected,
    InteractionCancelled,
    InteractionEnded,
    InteractionEscalated,
    InteractionQueued,
    OfferAccepted,
    OfferCreated,
    OfferExpired,
    QueueConfigured,
    QueueOutcome,
    RoutingEngine,
)
from omnidesk.wfm.simulate.model import Scenario, SimAgent, SimQueue

RawEvent = tuple[float, str, str, dict[str, Any]]
"""(seconds from the start, event type, subject id, payload)."""

Progress = Callable[[int], None]
"""Called now and then with the number of contacts arrived so far."""

_ARRIVAL, _PATIENCE, _TALK_END, _CLOSE, _SHIFT_START, _SHIFT_END = range(6)
_WAITING, _CONNECTED, _GONE = 0, 1, 2
_PROGRESS_EVERY = 8192
_AVAILABLE = AgentState.AVAILABLE
_OFFLINE = AgentState.OFFLINE


class _Contact:
    """One simulated interaction."""

    __slots__ = ("agent_id", "connected_at", "id", "queue", "queued_at", "state")

    def __init__(self, contact_id: str, queue: _Queue, queued_at: float) -> None:
        self.id = contact_id
        self.queue = queue
        self.queued_at = queued_at
        self.connected_at = 0.0
        self.agent_id = ""
        self.state = _WAITING


class _Queue:
    """Runtime of one simulated queue: its random streams and window counters."""

    __slots__ = ("arrivals", "channel", "handle", "id", "patience", "priority", "spec")

    def __init__(self, spec: SimQueue, seed: int, index: int) -> None:
        self.spec = spec
        self.id = spec.queue_id
        self.channel = spec.channel
        self.priority = spec.priority
        # Separate streams per queue and purpose: changing agents or routing keeps the
        # same customers (common random numbers across what-if runs).
        self.arrivals = random.Random(f"{seed}:{index}:arrivals")  # noqa: S311 - simulation
        self.handle = random.Random(f"{seed}:{index}:handle")  # noqa: S311 - simulation
        self.patience = random.Random(f"{seed}:{index}:patience")  # noqa: S311 - simulation


@dataclass(slots=True)
class RunCounters:
    """What the loop counted itself (the KPIs come from the events via analytics)."""

    contacts: int = 0
    engine_calls: int = 0
    last_arrival_s: float = 0.0
    end_s: float = 0.0


class Simulation:
    """One seeded run of a scenario; iterate ``events()`` once."""

    def __init__(self, scenario: Scenario, *, progress: Progress | None = None) -> None:
        self.scenario = scenario
        self.counters = RunCounters()
        self._progress = progress
        self._engine = RoutingEngine(scenario.engine)
        self._queues = {q.queue_id: _Queue(q, scenario.seed, k)
                        for k, q in enumerate(scenario.queues)}
        self._contacts: dict[str, _Contact] = {}
        self._heap: list[tuple[float, int, int, Any]] = []
        self._seq = 0
        self._out: list[RawEvent] = []
        self._logged_in: dict[str, None] = {}
        # Offers are accepted at once, so the engine's offer timers are always stale and
        # need no tick; escalation and max-wait timers do.
        self._ticks = any(q.config.escalation or q.config.max_wait_s is not None
                          for q in scenario.queues)

    # ----------------------------------------------------------------- set-up

    def _push(self, at: float, kind: int, target: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, kind, target))

    def _setup(self) -> None:
        engine, handle = self._engine, self._engine.handle
        for spec in self.scenario.queues:
            handle(QueueConfigured(0.0, spec.config))
        for agent in self.scenario.agents:
            handle(AgentConfigured(0.0, agent.config))
            self._schedule_shifts(agent)
        until = self.scenario.duration_s
        for queue in self._queues.values():
            stream = queue.spec.arrivals.times(queue.arrivals, until)
            first = next(stream, None)
            if first is not None:
                self._push(first, _ARRIVAL, (queue, stream))
        del engine

    def _schedule_shifts(self, agent: SimAgent) -> None:
        for shift in sorted(agent.shifts, key=lambda s: s.start_s):
            self._push(shift.start_s, _SHIFT_START, agent.agent_id)
            if math.isfinite(shift.end_s):
                self._push(shift.end_s, _SHIFT_END, agent.agent_id)

    # ----------------------------------------------------------------- loop

    def events(self) -> Iterator[RawEvent]:
        """Run the simulation, yielding its events in time order."""
        self._setup()
        scenario = self.scenario
        limit = scenario.max_contacts if scenario.max_contacts is not None else math.inf
        heap, out, contacts, counters = self._heap, self._out, self._contacts, self.counters
        engine = self._engine
        handle = engine.handle
        apply = self._apply
        pop, push = heapq.heappop, heapq.heappush
        progress = self._progress
        ticks = self._ticks
        calls = 0
        number = 0
        now = last_arrival = 0.0
        while heap:
            now, _, kind, target = pop(heap)
            if ticks:
                calls += self._fire_engine_timers(now)
            if kind == _ARRIVAL:
                queue, stream = target
                if number >= limit:
                    continue
                number += 1
                contact_id = f"c{number}"
                contact = _Contact(contact_id, queue, now)
                contacts[contact_id] = contact
                last_arrival = now
                out.append((now, ev.INTERACTION_CREATED, contact_id,
                            {"channel": queue.channel, "direction": "inbound"}))
                out.append((now, ev.QUEUED, contact_id,
                            {"queue_id": queue.id, "priority": queue.priority}))
                patience = queue.spec.patience.sample(queue.patience)
                if patience != math.inf:
                    self._seq += 1
                    push(heap, (now + patience, self._seq, _PATIENCE, contact))
                decisions = handle(InteractionQueued(now, contact_id, queue.id, queue.priority))
                calls += 1
                if decisions:
                    calls += apply(decisions)
                following = next(stream, None)
                if following is not None:
                    self._seq += 1
                    push(heap, (following, self._seq, _ARRIVAL, target))
                if progress is not None and not number % _PROGRESS_EVERY:
                    progress(number)
            elif kind == _TALK_END:
                contact = target
                out.append((now, ev.WRAP_UP_STARTED, contact.id, {"agent_id": contact.agent_id}))
                wrap = contact.queue.spec.wrap_up.sample(contact.queue.handle)
                if wrap > 0:
                    self._seq += 1
                    push(heap, (now + wrap, self._seq, _CLOSE, contact))
                else:
                    calls += self._close(contact, now)
            elif kind == _CLOSE:
                calls += self._close(target, now)
            elif kind == _PATIENCE:
                contact = target
                if contact.state == _WAITING:
                    contact.state = _GONE
                    del contacts[contact.id]
                    out.append((now, ev.ABANDONED, contact.id, {"queue_id": contact.queue.id}))
                    decisions = handle(InteractionCancelled(now, contact.id))
                    calls += 1
                    if decisions:
                        calls += apply(decisions)
            elif kind == _SHIFT_START:
                self._logged_in[target] = None
                out.append((now, ev.AGENT_STATE_CHANGED, target, {"state": "available"}))
                handle(DesktopConnected(now, target))
                decisions = handle(AgentStateChanged(now, target, _AVAILABLE))
                calls += 2
                if decisions:
                    calls += apply(decisions)
            else:  # _SHIFT_END
                self._logged_in.pop(target, None)
                out.append((now, ev.AGENT_STATE_CHANGED, target, {"state": "offline"}))
                decisions = handle(AgentStateChanged(now, target, _OFFLINE))
                calls += 1
                if decisions:
                    calls += apply(decisions)
            if out:
                yield from out
                out.clear()
        for agent_id in self._logged_in:
            yield (now, ev.AGENT_STATE_CHANGED, agent_id, {"state": "offline"})
        counters.contacts = number
        counters.engine_calls = calls
        counters.end_s = now
        counters.last_arrival_s = last_arrival
        if progress is not None:
            progress(number)

    def _fire_engine_timers(self, now: float) -> int:
        """Tick the engine at each of its timers due before ``now``; the calls made."""
        engine = self._engine
        calls = 0
        due = engine.next_timer_at()
        while due is not None and due < now:
            decisions = engine.tick(due)
            calls += 1
            if decisions:
                calls += self._apply(decisions)
            due = engine.next_timer_at()
        return calls

    def _close(self, contact: _Contact, now: float) -> int:
        """The agent finished the contact (talk and wrap-up); the engine frees the capacity."""
        self._out.append((now, ev.CLOSED, contact.id,
                          {"agent_id": contact.agent_id, "resolved": True}))
        contact.state = _GONE
        del self._contacts[contact.id]
        decisions = self._engine.handle(
            InteractionEnded(now, contact.id, now - contact.connected_at))
        return 1 + (self._apply(decisions) if decisions else 0)

    # ---------------------------------------------------------- decisions

    def _apply(self, decisions: list[Decision]) -> int:
        """Carry out the engine's decisions; returns the engine calls this made."""
        calls = 0
        out = self._out
        for decision in decisions:
            kind = type(decision)
            if kind is OfferCreated:
                calls += self._accept(decision)  # type: ignore[arg-type]
            elif kind is AgentStateForced:
                forced: AgentStateForced = decision  # type: ignore[assignment]
                out.append((forced.at, ev.AGENT_STATE_CHANGED, forced.agent_id,
                            {"state": str(forced.state), "reason": forced.reason}))
            elif kind is OfferExpired:
                expired: OfferExpired = decision  # type: ignore[assignment]
                out.append((expired.at, ev.OFFER_TIMED_OUT, expired.interaction_id,
                            {"agent_id": expired.agent_id}))
            elif kind is InteractionEscalated:
                escalated: InteractionEscalated = decision  # type: ignore[assignment]
                if escalated.overflow_to is not None:
                    contact = self._contacts[escalated.interaction_id]
                    contact.queue = self._queues[escalated.overflow_to]
                    out.append((escalated.at, ev.QUEUED, contact.id,
                                {"queue_id": contact.queue.id, "priority": contact.queue.priority}))
            elif kind is QueueOutcome:
                calls += self._turned_away(decision)  # type: ignore[arg-type]
        return calls

    def _accept(self, offer: OfferCreated) -> int:
        """The agent accepts at once: connected, talk until a drawn handle time."""
        now = offer.at
        contact = self._contacts[offer.interaction_id]
        out = self._out
        out.append((now, ev.OFFER_CREATED, contact.id, {"agent_id": offer.agent_id}))
        out.append((now, ev.OFFER_ACCEPTED, contact.id, {"agent_id": offer.agent_id}))
        out.append((now, ev.CONNECTED, contact.id,
                    {"agent_id": offer.agent_id, "queue_id": offer.queue_id}))
        contact.state = _CONNECTED
        contact.connected_at = now
        contact.agent_id = offer.agent_id
        decisions = self._engine.handle(OfferAccepted(now, contact.id, offer.agent_id))
        queue = contact.queue
        talk = queue.spec.handle_time.sample(queue.handle)
        self._seq += 1
        heapq.heappush(self._heap, (now + talk, self._seq, _TALK_END, contact))
        return 1 + (self._apply(decisions) if decisions else 0)

    def _turned_away(self, outcome: QueueOutcome) -> int:
        """The queue would not keep the contact (closed, full, waited too long): it ends."""
        contact = self._contacts.pop(outcome.interaction_id, None)
        if contact is None:
            return 0
        contact.state = _GONE
        self._out.append((outcome.at, ev.CLOSED, contact.id,
                          {"resolved": False, "disposition": outcome.cause}))
        return 0


def run(scenario: Scenario, *, progress: Progress | None = None) -> list[RawEvent]:
    """Run a scenario to the end and return all its events (small runs; else iterate)."""
    return list(Simulation(scenario, progress=progress).events())
