"""A seeded, realistic day of contact-center events (for tests, the benchmark and demos).

A small discrete-event simulation: arrivals over business hours with a midday peak, a
channel mix, self-service, per-queue FIFO routing to agents with per-channel capacity,
ringing offers, holds, transfers between queues, wrap-up, abandons and callbacks,
outbound calls with live/machine answer, surveys, breaks and shifts. Events stream out
in time order with increasing seq, so a million interactions never sit in memory.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from omnidesk.analytics import events as ev
from omnidesk.analytics.config import AnalyticsConfig, QueueSettings
from omnidesk.analytics.events import Event

CAPACITY = {"voice": 1, "chat": 3, "email": 2, "sms": 3, "whatsapp": 3}
MEAN_TALK_S = {"voice": 240, "chat": 420, "email": 360, "sms": 300, "whatsapp": 300}
MEAN_PATIENCE_S = {"voice": 150.0, "chat": 300.0}
CSAT_WEIGHTS = (1, 1, 2, 5, 6)
NPS_WEIGHTS = (1, 1, 1, 1, 1, 2, 2, 4, 5, 6, 5)
S = 1_000_000


@dataclass(frozen=True, slots=True)
class TrafficProfile:
    """What day to generate: size, date and zone, seed, queues and behaviour shares."""

    interactions: int = 2_000
    day: date = date(2026, 3, 29)
    time_zone: str = "Europe/Paris"
    seed: int = 7
    open_hour: int = 8
    close_hour: int = 20
    queues: tuple[str, ...] = ("sales", "support", "billing")
    channel_weights: tuple[tuple[str, float], ...] = (
        ("voice", 0.55),
        ("chat", 0.25),
        ("email", 0.1),
        ("sms", 0.05),
        ("whatsapp", 0.05),
    )
    self_service_share: float = 0.4
    outbound_share: float = 0.05
    transfer_share: float = 0.06
    staffing_factor: float = 1.0

    def agents_per_queue(self) -> int:
        """Agents staffed on each queue, from the offered load (Erlangs) with some slack."""
        open_s = (self.close_hour - self.open_hour) * 3600
        erlangs = self.interactions / open_s * 300 * 0.8 / len(self.queues)
        return max(2, math.ceil(erlangs * 1.1 * self.staffing_factor) + 1)

    def agent_ids(self, queue_id: str) -> list[str]:
        """The agent ids of one queue."""
        return [f"{queue_id}-a{i}" for i in range(self.agents_per_queue())]


def analytics_config(profile: TrafficProfile) -> AnalyticsConfig:
    """The analytics configuration matching a generated day (zone, queues, members, roles)."""
    members = {q: frozenset(profile.agent_ids(q)) for q in profile.queues}
    roles = {a: ("senior" if a.endswith("-a0") else "agent") for q in members for a in members[q]}
    queues = {q: QueueSettings() for q in profile.queues}
    queues[profile.queues[-1]] = QueueSettings(30, 90, 5, "connect")
    return AnalyticsConfig(
        time_zone=profile.time_zone,
        queues=queues,
        queue_agents=members,
        agent_roles=roles,
        channel_capacity=CAPACITY,
    )


def generate_day(profile: TrafficProfile) -> Iterator[Event]:
    """Stream the events of one generated day in time order, seq 1, 2, 3…"""
    return _DaySimulation(profile).run()


@dataclass(slots=True, eq=False)
class _Contact:
    id: str
    channel: str
    customer_id: str
    outbound: bool = False
    state: str = "new"
    queue_id: str = ""
    transferred: bool = False


@dataclass(slots=True, eq=False)
class _Agent:
    id: str
    queue_id: str
    state: str = "offline"
    used: int = 0
    channel: str = ""
    break_due: bool = False
    shift_over: bool = False

    @property
    def winding_down(self) -> bool:
        return self.break_due or self.shift_over


Action = Callable[..., None]


class _DaySimulation:
    def __init__(self, profile: TrafficProfile) -> None:
        self.p = profile
        self.rng = random.Random(profile.seed)  # noqa: S311 - a simulation, not security
        zone = ZoneInfo(profile.time_zone)
        self.day_start = datetime(
            profile.day.year, profile.day.month, profile.day.day, tzinfo=zone
        ).astimezone(UTC)
        self.open_us = self._local_us(profile.open_hour, zone)
        self.close_us = self._local_us(profile.close_hour, zone)
        self.now = 0
        self.seq = 0
        self.counter = 0
        self.created = 0
        self.heap: list[tuple[int, int, Action, tuple[Any, ...]]] = []
        self.out: list[Event] = []
        self.waiting: dict[str, deque[_Contact]] = {q: deque() for q in profile.queues}
        self.idle: dict[str, OrderedDict[str, _Agent]] = {q: OrderedDict() for q in profile.queues}
        self.partial: dict[tuple[str, str], OrderedDict[str, _Agent]] = {}
        self.channels = [c for c, _ in profile.channel_weights]
        self.weights = [w for _, w in profile.channel_weights]
        self.mean_gap_us = (self.close_us - self.open_us) / max(1, profile.interactions)

    def _local_us(self, hour: int, zone: ZoneInfo) -> int:
        day = self.p.day
        local = datetime(day.year, day.month, day.day, hour, tzinfo=zone).astimezone(UTC)
        return int((local - self.day_start).total_seconds()) * S

    # -- engine ---------------------------------------------------------------------

    def run(self) -> Iterator[Event]:
        for queue_id in self.p.queues:
            for agent_id in self.p.agent_ids(queue_id):
                self._start_shift(_Agent(agent_id, queue_id))
        self._at(self.open_us, self._arrive)
        while self.heap:
            self.now, _, action, args = heapq.heappop(self.heap)
            action(*args)
            if self.out:
                yield from self.out
                self.out.clear()

    def _at(self, t_us: float, action: Action, *args: Any) -> None:
        self.counter += 1
        heapq.heappush(self.heap, (int(t_us), self.counter, action, args))

    def _after(self, seconds: float, action: Action, *args: Any) -> None:
        self._at(self.now + seconds * S, action, *args)

    def _emit(self, type_: str, subject: str, **payload: Any) -> None:
        self._emit_payload(type_, subject, payload)

    def _emit_later(self, seconds: float, type_: str, subject: str, **payload: Any) -> None:
        self._after(seconds, self._emit_payload, type_, subject, payload)

    def _emit_payload(self, type_: str, subject: str, payload: dict[str, Any]) -> None:
        self.seq += 1
        at = self.day_start + timedelta(microseconds=self.now)
        self.out.append(Event(self.seq, type_, subject, at, payload))

    # -- arrivals and self-service -----------------------------------------------------

    def _arrive(self) -> None:
        self.created += 1
        if self.created < self.p.interactions:
            self._at(min(self.now + self._gap_us(), self.close_us), self._arrive)
        rng = self.rng
        customer = f"c{rng.randrange(max(1, self.p.interactions * 2 // 3))}"
        if rng.random() < self.p.outbound_share:
            self._dial(_Contact(f"i{self.created}", "voice", customer, outbound=True))
            return
        channel = rng.choices(self.channels, self.weights)[0]
        contact = _Contact(f"i{self.created}", channel, customer)
        self._emit(
            ev.INTERACTION_CREATED,
            contact.id,
            channel=channel,
            direction="inbound",
            customer_id=customer,
        )
        if channel in MEAN_PATIENCE_S and rng.random() < self.p.self_service_share:
            self._emit(ev.SELF_SERVICE_STARTED, contact.id, flow_id=f"{channel}-main")
            self._after(rng.uniform(20, 120), self._end_self_service, contact)
        else:
            self._enqueue(contact, rng.choice(self.p.queues))

    def _gap_us(self) -> float:
        span = self.close_us - self.open_us
        phase = min(1.0, max(0.0, (self.now - self.open_us) / span))
        intensity = (0.5 + math.sin(math.pi * phase)) / (0.5 + 2 / math.pi)
        return self.rng.expovariate(1.0) * self.mean_gap_us / intensity

    def _end_self_service(self, contact: _Contact) -> None:
        draw = self.rng.random()
        if draw < 0.35:
            article = f"kb-{self.rng.randrange(20)}"
            self._emit(ev.SELF_SERVICE_ENDED, contact.id, outcome="resolved", article_id=article)
            self._emit(ev.CLOSED, contact.id, resolved=True, disposition="self-service")
        elif draw < 0.45:
            self._emit(ev.SELF_SERVICE_ENDED, contact.id, outcome="abandoned")
            self._emit(ev.CLOSED, contact.id, resolved=False)
        else:
            self._emit(ev.SELF_SERVICE_ENDED, contact.id, outcome="queued")
            self._enqueue(contact, self.rng.choice(self.p.queues))

    def _dial(self, contact: _Contact) -> None:
        self._emit(
            ev.INTERACTION_CREATED,
            contact.id,
            channel="voice",
            direction="outbound",
            customer_id=contact.customer_id,
            campaign_id="renewals",
        )
        self._after(self.rng.uniform(8, 20), self._answer, contact)

    def _answer(self, contact: _Contact) -> None:
        if self.rng.random() < 0.25:
            self._emit(ev.ANSWERED, contact.id, answered_by="machine")
            self._emit(ev.CLOSED, contact.id, resolved=False, disposition="machine")
            return
        self._emit(ev.ANSWERED, contact.id, answered_by="human")
        self._enqueue(contact, self.p.queues[0], patience_s=self.rng.expovariate(1 / 4))

    # -- queues -----------------------------------------------------------------------

    def _enqueue(self, contact: _Contact, queue_id: str, patience_s: float | None = None) -> None:
        contact.state, contact.queue_id = "waiting", queue_id
        self._emit(ev.QUEUED, contact.id, queue_id=queue_id, priority=1)
        self.waiting[queue_id].append(contact)
        mean = MEAN_PATIENCE_S.get(contact.channel)
        if patience_s is None and mean is not None:
            patience_s = self.rng.expovariate(1 / mean)
        if patience_s is not None:
            self._after(patience_s, self._give_up, contact, queue_id)
        self._dispatch(queue_id)

    def _give_up(self, contact: _Contact, queue_id: str) -> None:
        if contact.state != "waiting" or contact.queue_id != queue_id:
            return
        contact.state = "done"
        if not contact.outbound and self.rng.random() < 0.15:
            self._emit(ev.CALLBACK_SCHEDULED, contact.id, queue_id=queue_id)
        else:
            self._emit(ev.ABANDONED, contact.id, queue_id=queue_id)
        self._emit(ev.CLOSED, contact.id, resolved=False)

    def _dispatch(self, queue_id: str) -> None:
        waiting = self.waiting[queue_id]
        while waiting:
            contact = waiting[0]
            if contact.state != "waiting" or contact.queue_id != queue_id:
                waiting.popleft()
                continue
            agent = self._free_agent(queue_id, contact.channel)
            if agent is None:
                return
            waiting.popleft()
            self._offer(contact, agent)

    def _free_agent(self, queue_id: str, channel: str) -> _Agent | None:
        partial = self.partial.get((queue_id, channel))
        if partial:
            return next(iter(partial.values()))
        idle = self.idle[queue_id]
        return next(iter(idle.values())) if idle else None

    def _offer(self, contact: _Contact, agent: _Agent) -> None:
        contact.state = "ringing"
        self._take_slot(agent, contact)
        self._emit(ev.OFFER_CREATED, contact.id, agent_id=agent.id, queue_id=contact.queue_id)
        ring_s = 0 if contact.outbound else 3 if contact.channel == "voice" else 1
        self._after(ring_s, self._connect, contact, agent)

    def _connect(self, contact: _Contact, agent: _Agent) -> None:
        contact.state = "talking"
        self._emit(ev.OFFER_ACCEPTED, contact.id, agent_id=agent.id)
        self._emit(ev.CONNECTED, contact.id, agent_id=agent.id, queue_id=contact.queue_id)
        rng = self.rng
        talk_s = 10 + rng.expovariate(1 / MEAN_TALK_S[contact.channel])
        if rng.random() < 0.2:
            hold_at = rng.uniform(0, talk_s / 2)
            self._emit_later(hold_at, ev.HELD, contact.id, agent_id=agent.id)
            self._emit_later(
                hold_at + rng.uniform(5, talk_s / 2),
                ev.RESUMED,
                contact.id,
                agent_id=agent.id,
            )
        self._after(talk_s, self._end_talk, contact, agent)

    def _end_talk(self, contact: _Contact, agent: _Agent) -> None:
        if not contact.transferred and self.rng.random() < self.p.transfer_share:
            contact.transferred = True
            target = self.rng.choice([q for q in self.p.queues if q != contact.queue_id])
            self._emit(ev.TRANSFERRED, contact.id, from_agent_id=agent.id, to_queue_id=target)
            self._release(agent, contact)
            self._enqueue(contact, target)
            return
        self._emit(ev.WRAP_UP_STARTED, contact.id, agent_id=agent.id)
        self._after(self.rng.uniform(5, 60), self._close, contact, agent)

    def _close(self, contact: _Contact, agent: _Agent) -> None:
        rng = self.rng
        contact.state = "done"
        disposition = rng.choice(("sale", "info", "complaint", "fixed"))
        self._emit(
            ev.CLOSED,
            contact.id,
            agent_id=agent.id,
            resolved=rng.random() < 0.8,
            disposition=disposition,
        )
        self._release(agent, contact)
        if rng.random() < 0.25:
            kind = "csat" if rng.random() < 0.6 else "nps"
            scale = CSAT_WEIGHTS if kind == "csat" else NPS_WEIGHTS
            score = rng.choices(range(len(scale)), scale)[0] + (kind == "csat")
            self._emit_later(
                30,
                ev.SURVEY_ANSWERED,
                contact.id,
                interaction_id=contact.id,
                kind=kind,
                score=score,
            )

    # -- agents -----------------------------------------------------------------------

    def _start_shift(self, agent: _Agent) -> None:
        start = self.open_us - 10 * 60 * S + self.rng.randrange(5 * 60 * S)
        self._at(start, self._log_in, agent)
        self._at(self.open_us + self.rng.uniform(2, 7) * 3600 * S, self._want_break, agent)
        self._at(self.close_us + 30 * 60 * S, self._end_shift, agent)

    def _log_in(self, agent: _Agent) -> None:
        self._emit(ev.AGENT_LOGGED_IN, agent.id, state="available")
        self._become_available(agent)

    def _become_available(self, agent: _Agent) -> None:
        agent.state = "available"
        self.idle[agent.queue_id][agent.id] = agent
        self._dispatch(agent.queue_id)

    def _want_break(self, agent: _Agent) -> None:
        agent.break_due = True
        self.partial.get((agent.queue_id, agent.channel), OrderedDict()).pop(agent.id, None)
        if agent.used == 0 and agent.state == "available":
            self._take_break(agent)

    def _take_break(self, agent: _Agent) -> None:
        agent.break_due = False
        reason = "lunch" if self.rng.random() < 0.5 else "break"
        self.idle[agent.queue_id].pop(agent.id, None)
        agent.state = reason
        self._emit(ev.AGENT_STATE_CHANGED, agent.id, state=reason)
        self._after(30 * 60 if reason == "lunch" else 15 * 60, self._back_from_break, agent)

    def _back_from_break(self, agent: _Agent) -> None:
        if agent.shift_over:
            self._log_out(agent)
            return
        self._emit(ev.AGENT_STATE_CHANGED, agent.id, state="available")
        self._become_available(agent)

    def _end_shift(self, agent: _Agent) -> None:
        if any(
            c.state == "waiting" and c.queue_id == agent.queue_id
            for c in self.waiting[agent.queue_id]
        ):
            self._after(5 * 60, self._end_shift, agent)  # stay until the queue is empty
            return
        agent.shift_over = True
        self.partial.get((agent.queue_id, agent.channel), OrderedDict()).pop(agent.id, None)
        if agent.used == 0 and agent.state == "available":
            self._log_out(agent)

    def _log_out(self, agent: _Agent) -> None:
        self.idle[agent.queue_id].pop(agent.id, None)
        agent.state = "offline"
        self._emit(ev.AGENT_LOGGED_OUT, agent.id)

    def _take_slot(self, agent: _Agent, contact: _Contact) -> None:
        self.idle[agent.queue_id].pop(agent.id, None)
        agent.used += 1
        agent.channel = contact.channel
        partial = self.partial.setdefault((agent.queue_id, contact.channel), OrderedDict())
        if agent.used < CAPACITY[contact.channel] and not agent.winding_down:
            partial[agent.id] = agent
        else:
            partial.pop(agent.id, None)

    def _release(self, agent: _Agent, contact: _Contact) -> None:
        agent.used -= 1
        partial = self.partial.setdefault((agent.queue_id, agent.channel), OrderedDict())
        if agent.used:
            if not agent.winding_down:
                partial[agent.id] = agent
                self._dispatch(agent.queue_id)
            return
        partial.pop(agent.id, None)
        if agent.break_due:
            self._take_break(agent)
        elif agent.shift_over:
            self._log_out(agent)
        else:
            self._become_available(agent)
