"""The ACD routing engine: events in, decisions out, time passed in, no I/O.

One engine serves one tenant. ``handle(event)`` first fires the timers due by
``event.at`` (offer timeouts, escalation, max wait, desktop grace), then applies
the event, and returns the decisions taken. Matching runs in both directions:
a contact that becomes routable looks for the best available agent in its
queue's pools; an agent that gains room looks for the best waiting contact in
the queues it serves. Both are bounded by the pools' heads, not by head counts.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from heapq import heappop, heappush
from types import MappingProxyType
from typing import Any

from omnidesk.routing import decisions as d
from omnidesk.routing import events as e
from omnidesk.routing.errors import OfferConflict, RoutingConfigError, UnknownRoutingObject
from omnidesk.routing.model import AgentConfig, AgentState, EngineConfig, QueueConfig
from omnidesk.routing.pools import COMPACT_SLACK, Verdict, before
from omnidesk.routing.state import (
    AgentRuntime,
    ContactRuntime,
    ContactStatus,
    Level,
    Membership,
    Milestone,
    MilestoneKind,
    QueueRuntime,
    blockers_of,
)
from omnidesk.routing.strategies import (
    FAST_PATHS,
    LEAST_OCCUPIED_KIND,
    LONGEST_IDLE_KIND,
    MOST_SKILLED_KIND,
    OTHER_KIND,
    ROUND_ROBIN_KIND,
    STRATEGIES,
)
from omnidesk.routing.timers import TimerQueue
from omnidesk.routing.views import AgentStatus, QueueStatus, WaitEstimate

_OFFER_TIMEOUT, _MILESTONE, _GRACE = 0, 1, 2
_AVAILABLE = AgentState.AVAILABLE

CAUSE_CLOSED = "closed"
CAUSE_QUEUE_FULL = "queue_full"
CAUSE_MAX_WAIT = "max_wait"


def _always(_: object) -> Verdict:
    return True


class RoutingEngine:
    """One tenant's ACD. Feed it events with ``handle``; read it with the query methods."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        self._config = config or EngineConfig()
        self._now = float("-inf")
        self._counter = itertools.count(1)
        self._queues: dict[str, QueueRuntime] = {}
        self._agents: dict[str, AgentRuntime] = {}
        self._contacts: dict[str, ContactRuntime] = {}
        self._timers = TimerQueue(3)
        self._profile_members: dict[str, set[str]] = {}
        self._team_members: dict[str, set[str]] = {}
        self._queues_by_team: dict[str, set[str]] = {}
        self._out: list[d.Decision] = []
        # Matching evaluations run so far (a contact looking for an agent, or an
        # available agent looking for a contact); bench/routing.py reads it to count
        # the calls that made a routing decision. Not part of the API.
        self._evaluations = 0
        self._default_blockers = blockers_of(self._config.blending)
        self._handlers: dict[type, Callable[[Any, float], None]] = {
            e.QueueConfigured: self._on_queue_configured,
            e.AgentConfigured: self._on_agent_configured,
            e.AgentStateChanged: self._on_agent_state_changed,
            e.AgentRestored: self._on_agent_restored,
            e.DesktopConnected: self._on_desktop_connected,
            e.DesktopDisconnected: self._on_desktop_disconnected,
            e.InteractionQueued: self._on_interaction_queued,
            e.CallbackRequested: self._on_callback_requested,
            e.InteractionCancelled: self._on_interaction_cancelled,
            e.OfferAccepted: self._on_offer_accepted,
            e.OfferRejected: self._on_offer_rejected,
            e.InteractionAssigned: self._on_interaction_assigned,
            e.InteractionEnded: self._on_interaction_ended,
            e.OfferDirected: self._on_offer_directed,
            e.Tick: lambda event, now: None,
        }
        self._timer_handlers: dict[int, Callable[[Any, int, float], None]] = {
            _OFFER_TIMEOUT: self._on_offer_timeout,
            _MILESTONE: self._on_milestone,
            _GRACE: self._on_grace_over,
        }

    # ------------------------------------------------------------------ API

    def handle(self, event: e.RoutingEvent) -> list[d.Decision]:
        """Fire the timers due by ``event.at``, apply the event, return the decisions."""
        out: list[d.Decision] = []
        self._out = out
        now = event.at
        if now < self._now:
            now = self._now
        heap = self._timers.heap
        if heap and heap[0][0] <= now:
            self._fire_timers(now)
        self._now = now
        self._handlers[type(event)](event, now)
        return out

    def tick(self, now: float) -> list[d.Decision]:
        """Let time pass to ``now`` (the same as ``handle(Tick(now))``)."""
        return self.handle(e.Tick(now))

    def next_timer_at(self) -> float | None:
        """When the earliest pending timer is due; the server should tick by then."""
        return self._timers.next_due()

    def is_queued(self, interaction_id: str) -> bool:
        """True when the contact is in a queue, waiting or on offer (O(1))."""
        contact = self._contacts.get(interaction_id)
        return contact is not None and contact.status is not ContactStatus.CONNECTED

    def wait_estimate(self, interaction_id: str, now: float) -> WaitEstimate:
        """Position (1 = next) and estimated wait of a contact in queue; O(queue length)."""
        contact = self._contacts.get(interaction_id)
        if contact is None or contact.status is ContactStatus.CONNECTED:
            raise UnknownRoutingObject(f"interaction {interaction_id!r} is not in a queue")
        key = contact.position_key()
        ahead = sum(1 for other in contact.queue.members.values() if other.position_key() < key)
        return self._estimate(contact, ahead + 1, now)

    def waiting(self, queue_id: str, now: float) -> list[WaitEstimate]:
        """Every contact of the queue in serving order with position and estimated wait."""
        queue = self._queue(queue_id)
        ordered = sorted(queue.members.values(), key=ContactRuntime.position_key)
        return [self._estimate(c, position, now) for position, c in enumerate(ordered, 1)]

    def queue_status(self, queue_id: str, now: float) -> QueueStatus:
        """Live figures of one queue (O(queue length))."""
        queue = self._queue(queue_id)
        members = queue.members.values()
        hours = queue.config.hours
        return QueueStatus(
            queue_id=queue_id,
            in_queue=len(queue.members),
            waiting=sum(1 for c in members if c.waiting),
            longest_wait_s=max((now - c.queued_at for c in members), default=0.0),
            staffed_capacity=queue.staffed_capacity,
            available_agents=sum(len(level.agents.heap) for level in queue.levels),
            average_handle_time_s=queue.handle_times.mean(),
            is_open=hours is None or hours.is_open(now),
        )

    def agent_status(self, agent_id: str) -> AgentStatus:
        """Live figures of one agent."""
        agent = self._agent(agent_id)
        return AgentStatus(
            agent_id=agent.id, state=agent.state, reason=agent.reason,
            connected=agent.connected, routable=agent.routable,
            load=MappingProxyType({c: n for c, n in agent.load.items() if n}),
            offered=tuple(agent.offers), active=tuple(agent.active),
        )

    def rebuild_events(self, now: float) -> list[e.RoutingEvent]:
        """Events that rebuild this engine's state in a fresh engine (live offers re-queued)."""
        rebuilt: list[e.RoutingEvent] = [e.QueueConfigured(now, q.config)
                                         for q in self._queues.values()]
        agents = sorted(self._agents.values(), key=lambda a: a.seq)
        rebuilt += [e.AgentConfigured(now, a.config) for a in agents]
        rebuilt += [e.AgentRestored(now, a.id, a.state, a.reason, a.routable,
                                    MappingProxyType(dict(a.idle))) for a in agents]
        for agent in agents:
            rebuilt += [e.InteractionAssigned(now, c.id, agent.id, c.handled_by_queue.id)
                        for c in agent.active.values()]
        queued = sorted((c for c in self._contacts.values()
                         if c.status is not ContactStatus.CONNECTED),
                        key=lambda c: (c.seq, c.position_key()))
        rebuilt += [e.InteractionQueued(
            now, c.id, c.queue.id, c.priority, c.queued_at, MappingProxyType(dict(c.attributes)),
            MappingProxyType(dict(c.required)), c.callback, frozenset(c.declined))
            for c in queued]
        return rebuilt

    # --------------------------------------------------------------- timers

    def _fire_timers(self, now: float) -> None:
        """Fire every timer due by ``now`` in (due, scheduling) order (TimerQueue.pop_due)."""
        heap = self._timers.heap
        handlers = self._timer_handlers
        while heap and heap[0][0] <= now:
            due, _, kind, target, token, lane = heappop(heap)
            if lane is not None:
                if lane.items:
                    heappush(heap, lane.items.popleft())
                else:
                    lane.active = False
            if due > self._now:
                self._now = due
            handlers[kind](target, token, self._now)

    def _schedule(self, due: float, kind: int, target: object, token: int,
                  delay: float) -> None:
        """Schedule a timer ``delay`` after its reference time (its lane, see timers.py)."""
        self._timers.push(due, next(self._counter), kind, target, token, delay)

    # ---------------------------------------------------------- configuration

    def _on_queue_configured(self, event: e.QueueConfigured, now: float) -> None:
        config = event.queue
        _validate_queue(config)
        old = self._queues.get(config.queue_id)
        strategy = STRATEGIES[config.strategy]
        queue = QueueRuntime(config, strategy, self._config.handle_time_samples,
                             FAST_PATHS.get(strategy, OTHER_KIND))
        self._queues[queue.id] = queue
        affected = set(self._profile_members.get(queue.id, ()))
        for team in self._teams_of(old) | self._teams_of(queue):
            affected |= self._team_members.get(team, set())
            self._queues_by_team.setdefault(team, set()).add(queue.id)
        for team in self._teams_of(old) - self._teams_of(queue):
            self._queues_by_team[team].discard(queue.id)
        if old is not None:
            queue.handle_times = old.handle_times
            queue.handle_times.default = config.default_handle_time_s
        for agent_id in sorted(affected, key=lambda agent_id: self._agents[agent_id].seq):
            self._refresh_memberships(self._agents[agent_id], now)
        if old is not None:
            for contact in list(old.members.values()):
                self._move(contact, queue, now)
        for agent_id in affected:
            self._fill(self._agents[agent_id], now)

    @staticmethod
    def _teams_of(queue: QueueRuntime | None) -> set[str]:
        return set(queue.tiers[-1].teams) if queue is not None else set()

    def _on_agent_configured(self, event: e.AgentConfigured, now: float) -> None:
        config = event.agent
        _validate_agent(config)
        capacity = config.capacity if config.capacity is not None else (
            self._config.default_capacity)
        blending = config.blending if config.blending is not None else self._config.blending
        agent = self._agents.get(config.agent_id)
        blocked_by = self._default_blockers if blending is self._config.blending else None
        if agent is None:
            agent = AgentRuntime(config, next(self._counter), capacity, blending, blocked_by)
            self._agents[agent.id] = agent
        else:
            self._unindex_agent_config(agent)
            agent.configure(config, capacity, blending, blocked_by)
        for membership in config.profile:
            self._profile_members.setdefault(membership.queue_id, set()).add(agent.id)
        if config.team is not None:
            self._team_members.setdefault(config.team, set()).add(agent.id)
        self._refresh_memberships(agent, now)
        self._fill(agent, now)

    def _unindex_agent_config(self, agent: AgentRuntime) -> None:
        for membership in agent.config.profile:
            self._profile_members.get(membership.queue_id, set()).discard(agent.id)
        if agent.config.team is not None:
            self._team_members.get(agent.config.team, set()).discard(agent.id)

    def _refresh_memberships(self, agent: AgentRuntime, now: float) -> None:
        """Recompute which queues the agent serves, from which level, at which priority."""
        for membership in agent.memberships:
            membership.pool.discard(membership)
        profile = {m.queue_id: m for m in agent.config.profile}
        team_queues = self._queues_by_team.get(agent.config.team or "", set())
        memberships: list[Membership] = []
        for queue_id in sorted(profile.keys() | team_queues):
            queue = self._queues.get(queue_id)
            if queue is None:
                continue
            entry = profile.get(queue_id)
            tier = queue.first_admitting_tier(agent, in_profile=entry is not None)
            if tier is None:
                continue
            threshold = max(tier.after_s, entry.delay_s if entry else 0.0)
            level = self._level(queue, threshold, now)
            priority = entry.priority if entry else queue.config.added_team_priority
            score = sum(agent.config.skills.get(s, 0) for s in queue.tiers[0].skills)
            memberships.append(Membership(agent, queue, level, priority, score))
        agent.set_membership(memberships)
        self._update_staffing(agent)
        self._reindex(agent)

    def _level(self, queue: QueueRuntime, threshold: float, now: float) -> Level:
        """The queue's level at threshold; a new one is seeded with the contacts already due."""
        level, created = queue.level_at(threshold)
        if created:
            for contact in queue.members.values():
                if contact.applied_wait >= threshold:
                    if contact.waiting:
                        level.contacts.push(contact)
                else:
                    self._schedule(contact.queued_at + threshold, _MILESTONE, contact,
                                   contact.epoch, threshold)
        return level

    # ------------------------------------------------------------ agents

    def _on_agent_state_changed(self, event: e.AgentStateChanged, now: float) -> None:
        self._set_state(self._agent(event.agent_id), event.state, event.reason, now)

    def _on_agent_restored(self, event: e.AgentRestored, now: float) -> None:
        agent = self._agent(event.agent_id)
        agent.connected = agent.routable = event.connected
        agent.connection_token += 1
        self._set_state(agent, event.state, event.reason, now)
        for channel, since in event.idle_since.items():
            agent.idle[channel] = since
        self._reindex(agent)

    def _set_state(self, agent: AgentRuntime, state: AgentState, reason: str, now: float,
                   withdraw_reason: str = "agent_unavailable") -> None:
        was_available = agent.state is _AVAILABLE
        withdrawn: list[ContactRuntime] = []
        if was_available and state is not _AVAILABLE:
            withdrawn = self._take_back_offers(agent, withdraw_reason, now)
        agent.state, agent.reason = state, reason
        if state is _AVAILABLE and not was_available:
            for channel in agent.capacity:
                agent.idle[channel] = now
        self._update_staffing(agent)
        self._reindex(agent)
        for contact in withdrawn:
            self._return_to_queue(contact, now)
        self._fill(agent, now)

    def _on_desktop_connected(self, event: e.DesktopConnected, now: float) -> None:
        agent = self._agent(event.agent_id)
        agent.connected = True
        agent.connection_token += 1
        if not agent.routable:
            agent.routable = True
            self._update_staffing(agent)
            self._reindex(agent)
            self._fill(agent, now)

    def _on_desktop_disconnected(self, event: e.DesktopDisconnected, now: float) -> None:
        """No new offers from now on; the state and live offers wait out the grace period."""
        agent = self._agent(event.agent_id)
        agent.connected = False
        agent.connection_token += 1
        grace = self._config.disconnect_grace_s
        self._schedule(now + grace, _GRACE, agent, agent.connection_token, grace)
        if agent.routable:
            agent.routable = False
            self._update_staffing(agent)
            self._reindex(agent)

    def _on_grace_over(self, agent: AgentRuntime, token: int, now: float) -> None:
        if agent.connected or token != agent.connection_token:
            return
        if agent.state is not AgentState.OFFLINE:
            self._out.append(d.AgentStateForced(now, agent.id, AgentState.OFFLINE,
                                                "desktop_disconnected"))
        self._set_state(agent, AgentState.OFFLINE, "desktop_disconnected", now,
                        withdraw_reason="agent_disconnected")

    def _update_staffing(self, agent: AgentRuntime) -> None:
        """Keep each queue's staffed capacity as a running counter."""
        for membership in agent.staffed_share:
            membership.queue.staffed_capacity -= membership.share
        agent.staffed_share = ()
        if agent.staffed:
            for membership in agent.memberships:
                membership.share = agent.capacity.get(membership.channel, 0)
                membership.queue.staffed_capacity += membership.share
            agent.staffed_share = agent.memberships

    def _reindex(self, agent: AgentRuntime) -> None:
        """Place the agent in (or out of) each pool it belongs to, at its current key.

        The hottest path of the engine (every offer, release and state change), so the
        built-in strategies' keys are computed inline (``strategies.FAST_PATHS``).
        """
        if agent.state is not _AVAILABLE or not agent.routable:
            for membership in agent.memberships:
                membership.pool.discard(membership)
            return
        occupancy: float | None = None
        holds_nothing = not agent.held
        capacity = agent.capacity
        for channel, members in agent.channel_groups:
            if not (capacity.get(channel, 0) > 0 if holds_nothing else agent.can_take(channel)):
                for membership in members:
                    membership.pool.discard(membership)
                continue
            idle = agent.idle.get(channel, 0.0)
            for membership in members:
                kind = membership.kind
                if kind == LONGEST_IDLE_KIND:
                    key, tie = idle, 0.0
                elif kind == MOST_SKILLED_KIND:
                    key, tie = float(-membership.skill_score), idle
                elif kind == LEAST_OCCUPIED_KIND:
                    if occupancy is None:
                        occupancy = agent.occupancy()
                    key, tie = occupancy, idle
                elif kind == ROUND_ROBIN_KIND:
                    key = float(agent.last_offer.get(membership.queue.id, 0))
                    tie = float(agent.seq)
                else:
                    membership.pool.place(membership, 0.0, 0.0,
                                          membership.strategy(agent, membership))
                    continue
                membership.pool.place(membership, key, tie)

    # ---------------------------------------------------------- contacts

    def _on_interaction_queued(self, event: e.InteractionQueued, now: float) -> None:
        queue = self._queue(event.queue_id)
        if event.interaction_id in self._contacts:
            self._drop(self._contacts[event.interaction_id], "requeued", now)
        fresh = event.queued_at is None
        config = queue.config
        if (fresh and not event.callback
                and (config.hours is not None or config.max_size is not None)
                and self._refuses(queue, event.interaction_id, now)):
            return
        queued_at = now if event.queued_at is None else event.queued_at
        contact = ContactRuntime(event.interaction_id, queue, event.priority, queued_at,
                                 next(self._counter))
        # Empty mappings are not kept per contact (each event has its own empty proxy).
        if event.attributes:
            contact.attributes = event.attributes
        if event.required_skills:
            contact.required = event.required_skills
        contact.callback = event.callback
        if event.declined_by:
            contact.declined = set(event.declined_by)
        self._contacts[contact.id] = contact
        self._enter(contact, queue, now)

    def _refuses(self, queue: QueueRuntime, interaction_id: str, now: float) -> bool:
        """Emit the closed / full outcome and return True when the queue refuses a contact."""
        config = queue.config
        if config.hours is not None and not config.hours.is_open(now):
            self._out.append(d.QueueOutcome(now, interaction_id, queue.id, CAUSE_CLOSED,
                                            config.closed_outcome))
            return True
        if config.max_size is not None and len(queue.members) >= config.max_size:
            self._out.append(d.QueueOutcome(now, interaction_id, queue.id, CAUSE_QUEUE_FULL,
                                            config.full_outcome))
            return True
        return False

    def _enter(self, contact: ContactRuntime, queue: QueueRuntime, now: float) -> None:
        """Put the contact in line; milestones already passed apply without decisions."""
        queue.members[contact.id] = contact
        held: list[Level] = []
        self._advance(contact, now, silent_until=now - contact.queued_at, hold=held)
        self._route(contact, now)
        if held and contact.waiting:
            # Only now, so that a contact offered at once leaves no stale heap entry.
            for level in held:
                level.contacts.push(contact)

    def _on_callback_requested(self, event: e.CallbackRequested, now: float) -> None:
        contact = self._contacts.get(event.interaction_id)
        if contact is None or contact.status is ContactStatus.CONNECTED:
            raise UnknownRoutingObject(f"interaction {event.interaction_id!r} is not in a queue")
        contact.callback = True

    def _on_interaction_cancelled(self, event: e.InteractionCancelled, now: float) -> None:
        contact = self._contacts.get(event.interaction_id)
        if contact is not None:
            self._drop(contact, event.reason, now)

    def _drop(self, contact: ContactRuntime, reason: str, now: float) -> None:
        """Remove a contact wherever it is; withdraw its live offer, free its agent."""
        agent = contact.offer_agent
        if contact.status is ContactStatus.OFFERED and agent is not None:
            self._out.append(d.OfferWithdrawn(now, contact.id, agent.id, reason))
            del agent.offers[contact.id]
        elif contact.status is ContactStatus.CONNECTED and agent is not None:
            del agent.active[contact.id]
        self._forget(contact)
        if agent is not None:
            self._release(agent, contact, now)
            self._reindex(agent)
            self._fill(agent, now)

    def _forget(self, contact: ContactRuntime) -> None:
        contact.queue.members.pop(contact.id, None)
        self._contacts.pop(contact.id, None)
        contact.set_status(ContactStatus.GONE)
        contact.epoch += 1
        contact.offer_token += 1

    def _on_interaction_assigned(self, event: e.InteractionAssigned, now: float) -> None:
        agent, queue = self._agent(event.agent_id), self._queue(event.queue_id)
        if event.interaction_id in self._contacts:
            self._drop(self._contacts[event.interaction_id], "assigned", now)
        contact = ContactRuntime(event.interaction_id, queue, 0, now, next(self._counter))
        contact.set_status(ContactStatus.CONNECTED)
        contact.offer_agent = agent
        self._contacts[contact.id] = contact
        agent.active[contact.id] = contact
        agent.add_load(queue.channel, 1)
        self._reindex(agent)

    def _on_interaction_ended(self, event: e.InteractionEnded, now: float) -> None:
        contact = self._contacts.get(event.interaction_id)
        if contact is None:
            return
        if contact.status is ContactStatus.CONNECTED:
            contact.handled_by_queue.handle_times.add(event.handle_time_s)
        self._drop(contact, "ended", now)

    # ------------------------------------------------------------- offers

    def _offer(self, contact: ContactRuntime, agent: AgentRuntime, now: float) -> None:
        queue = contact.queue
        channel = queue.channel
        contact.set_status(ContactStatus.OFFERED)
        contact.offer_agent = agent
        contact.offer_token += 1
        contact.channel = channel
        agent.offers[contact.id] = contact
        agent.add_load(channel, 1)
        agent.idle[channel] = now
        agent.last_offer[queue.id] = next(self._counter)
        timeout = queue.config.offer_timeout_s
        expires_at = now + timeout
        self._schedule(expires_at, _OFFER_TIMEOUT, contact, contact.offer_token, timeout)
        self._reindex(agent)
        self._out.append(d.OfferCreated(now, contact.id, agent.id, queue.id, channel, expires_at))

    def _on_offer_directed(self, event: e.OfferDirected, now: float) -> None:
        """Offer a waiting contact to the named agent (a supervisor's choice): the agent must
        be available with the desktop open; capacity is the supervisor's call."""
        contact = self._contacts.get(event.interaction_id)
        if contact is None or not contact.waiting:
            raise OfferConflict(f"interaction {event.interaction_id!r} is not waiting in a queue")
        agent = self._agent(event.agent_id)
        if agent.state is not _AVAILABLE or not agent.routable:
            raise OfferConflict(f"agent {event.agent_id!r} is not available for an offer",
                                field="agent_id")
        self._offer(contact, agent, now)

    def _live_offer(self, interaction_id: str, agent_id: str) -> ContactRuntime:
        contact = self._contacts.get(interaction_id)
        if (contact is None or contact.status is not ContactStatus.OFFERED
                or contact.offer_agent is None or contact.offer_agent.id != agent_id):
            raise OfferConflict(
                f"no live offer of interaction {interaction_id!r} to agent {agent_id!r}")
        return contact

    def _on_offer_accepted(self, event: e.OfferAccepted, now: float) -> None:
        contact = self._live_offer(event.interaction_id, event.agent_id)
        agent = contact.offer_agent
        assert agent is not None  # checked by _live_offer: the engine's agent of that id
        del agent.offers[contact.id]
        agent.active[contact.id] = contact
        contact.set_status(ContactStatus.CONNECTED)
        contact.offer_token += 1
        contact.epoch += 1
        queue = contact.handled_by_queue = contact.queue
        members = queue.members
        del members[contact.id]
        limit = 2 * len(members) + COMPACT_SLACK
        for level in queue.levels:
            if len(level.contacts) > limit:
                level.contacts.compact(len(members))

    def _on_offer_rejected(self, event: e.OfferRejected, now: float) -> None:
        contact = self._live_offer(event.interaction_id, event.agent_id)
        self._decline(contact, self._agent(event.agent_id), now, missed=False)

    def _on_offer_timeout(self, contact: ContactRuntime, token: int, now: float) -> None:
        agent = contact.offer_agent
        if token != contact.offer_token or agent is None:
            return
        self._out.append(d.OfferExpired(now, contact.id, agent.id))
        self._decline(contact, agent, now, missed=self._config.missed_state_on_timeout)

    def _decline(self, contact: ContactRuntime, agent: AgentRuntime, now: float,
                 missed: bool) -> None:
        """The agent rejected or missed: try everyone else first, the decliner last."""
        del agent.offers[contact.id]
        declined = contact.declined
        if isinstance(declined, set):
            declined.add(agent.id)
        else:
            contact.declined = {*declined, agent.id}
        self._release(agent, contact, now)
        if missed:
            self._out.append(d.AgentStateForced(now, agent.id, AgentState.MISSED,
                                                "offer_timeout"))
            self._set_state(agent, AgentState.MISSED, "offer_timeout", now)
        else:
            self._reindex(agent)
        self._return_to_queue(contact, now, allow_declined=False)
        self._fill(agent, now)
        if contact.waiting:
            self._route(contact, now)

    def _take_back_offers(self, agent: AgentRuntime, reason: str,
                          now: float) -> list[ContactRuntime]:
        """Withdraw every live offer of the agent; the caller re-queues the contacts."""
        withdrawn = list(agent.offers.values())
        for contact in withdrawn:
            self._out.append(d.OfferWithdrawn(now, contact.id, agent.id, reason))
            self._release(agent, contact, now)
        agent.offers.clear()
        return withdrawn

    def _release(self, agent: AgentRuntime, contact: ContactRuntime, now: float) -> None:
        channel = contact.channel
        agent.add_load(channel, -1)
        agent.idle[channel] = now

    def _return_to_queue(self, contact: ContactRuntime, now: float,
                         allow_declined: bool = True) -> None:
        """A contact whose offer failed waits again at its original place."""
        contact.set_status(ContactStatus.WAITING)
        contact.offer_agent = None
        contact.offer_token += 1
        for level in contact.queue.levels:
            if level.threshold > contact.applied_wait:
                break
            level.contacts.push(contact)
        if self._apply_deferred(contact, now):
            return
        self._advance(contact, now)
        self._route(contact, now, allow_declined)

    # ------------------------------------------------------------- matching

    def _route(self, contact: ContactRuntime, now: float, allow_declined: bool = True) -> None:
        """Offer a waiting contact to the best available agent of its queue, if any."""
        if not contact.waiting or contact.id not in self._contacts:
            return
        self._evaluations += 1
        applied_wait = contact.applied_wait
        best: Membership | None = None
        if not contact.declined and not contact.needs_pair_check:
            # Everyone in the pools may take it: the best is the smallest pool head.
            for level in contact.queue.levels:
                if level.threshold > applied_wait:
                    break
                heap = level.agents.heap
                if heap and (best is None or before(heap[0], best)):
                    best = heap[0]
            if best is not None:
                self._offer(contact, best.agent, now)
            return
        verdict = self._agent_verdict(contact)
        fallback: Membership | None = None
        for level in contact.queue.levels:
            if level.threshold > applied_wait:
                break
            if not level.agents.heap:
                continue
            chosen, spare = level.agents.best(verdict)
            if chosen is not None and (best is None or before(chosen, best)):
                best = chosen
            if spare is not None and (fallback is None or before(spare, fallback)):
                fallback = spare
        pick = best or (fallback if allow_declined else None)
        if pick is not None:
            self._offer(contact, pick.agent, now)

    @staticmethod
    def _agent_verdict(contact: ContactRuntime) -> Callable[[AgentRuntime], Verdict]:
        declined = contact.declined
        if not contact.needs_pair_check:
            if not declined:
                return _always
            return lambda agent: None if agent.id in declined else True
        admits = contact.admits

        def verdict(agent: AgentRuntime) -> Verdict:
            if not admits(agent):
                return False
            return None if agent.id in declined else True

        return verdict

    def _fill(self, agent: AgentRuntime, now: float) -> None:
        """Give the agent waiting contacts while it has room."""
        if agent.state is _AVAILABLE and agent.routable:
            self._evaluations += 1
        while agent.state is _AVAILABLE and agent.routable:
            contact = self._pick_for(agent, now)
            if contact is None:
                return
            self._offer(contact, agent, now)

    def _pick_for(self, agent: AgentRuntime, now: float) -> ContactRuntime | None:
        """The best waiting contact for the agent: by profile priority, then queue order."""
        verdict: Callable[[ContactRuntime], Verdict] | None = None
        fallback: ContactRuntime | None = None
        room: dict[str, bool] | None = None
        for group in agent.groups:
            best: ContactRuntime | None = None
            best_rank: tuple[float, float, int] | None = None
            for membership in group:
                contacts = membership.contacts
                if not contacts:
                    continue  # nobody waits at this level
                channel = membership.channel
                if room is None:
                    room = {}
                has_room = room.get(channel)
                if has_room is None:
                    has_room = room[channel] = agent.can_take(channel)
                if not has_room:
                    continue
                if verdict is None:
                    verdict = self._contact_verdict(agent)
                chosen, spare = contacts.best(verdict)
                if chosen is not None:
                    rank = (-chosen.effective_priority(now), chosen.queued_at, chosen.seq)
                    if best_rank is None or rank < best_rank:
                        best, best_rank = chosen, rank
                if fallback is None:
                    fallback = spare
            if best is not None:
                return best
        return fallback

    @staticmethod
    def _contact_verdict(agent: AgentRuntime) -> Callable[[ContactRuntime], Verdict]:
        agent_id = agent.id

        def verdict(contact: ContactRuntime) -> Verdict:
            if contact.needs_pair_check and not contact.admits(agent):
                return False
            return None if agent_id in contact.declined else True

        return verdict

    # ------------------------------------------------------------ milestones

    def _on_milestone(self, contact: ContactRuntime, epoch: int, now: float) -> None:
        if epoch != contact.epoch or contact.id not in self._contacts:
            return
        if self._advance(contact, now):
            self._route(contact, now)

    def _advance(self, contact: ContactRuntime, now: float, silent_until: float = -1.0,
                 hold: list[Level] | None = None) -> bool:
        """Apply the milestones reached by now; True when a new level or tier opened."""
        queue = contact.queue
        milestones = queue.milestones
        wait = now - contact.queued_at
        index = queue.next_milestone(contact.applied_wait)
        opened = False
        while index < len(milestones) and milestones[index].threshold <= wait:
            milestone = milestones[index]
            opened = opened or milestone.kind is not MilestoneKind.MAX_WAIT
            if self._apply(contact, milestone, now, milestone.threshold <= silent_until, hold):
                return False
            contact.applied_wait = milestone.threshold
            index += 1
        if index < len(milestones):
            threshold = milestones[index].threshold
            due = contact.queued_at + threshold
            if due != contact.timer_due:
                contact.timer_due = due
                self._schedule(due, _MILESTONE, contact, contact.epoch, threshold)
        return opened

    def _apply(self, contact: ContactRuntime, milestone: Milestone, now: float,
               silent: bool, hold: list[Level] | None = None) -> bool:
        """Apply one milestone; True when the contact left the queue.

        A level reached goes to ``hold`` when given (the caller pushes the contact
        into those levels' heaps afterwards, if it still waits).
        """
        if milestone.kind is MilestoneKind.LEVEL:
            if contact.waiting and milestone.level is not None:
                if hold is not None:
                    hold.append(milestone.level)
                else:
                    milestone.level.contacts.push(contact)
            return False
        if milestone.kind is MilestoneKind.STEP:
            contact.tier = max(contact.tier, milestone.step)
            if silent:
                return False
        elif contact.callback:
            return False
        if not contact.waiting:
            contact.deferred += (milestone,)
            return False
        if milestone.kind is MilestoneKind.STEP:
            return self._escalate(contact, milestone.step, now)
        self._forget(contact)
        self._out.append(d.QueueOutcome(now, contact.id, contact.queue.id, CAUSE_MAX_WAIT,
                                        contact.queue.config.max_wait_outcome))
        return True

    def _apply_deferred(self, contact: ContactRuntime, now: float) -> bool:
        """Apply the overflow / max wait held back while an offer was live; True if it left."""
        deferred, contact.deferred = contact.deferred, ()
        return any(self._apply(contact, milestone, now, silent=False) for milestone in deferred)

    def _escalate(self, contact: ContactRuntime, step_number: int, now: float) -> bool:
        """Emit the escalation and overflow if the step says so; True when the contact moved."""
        queue = contact.queue
        step = queue.config.escalation[step_number - 1]
        target = self._queues.get(step.overflow_to) if step.overflow_to else None
        if target is not None and self._refuses_overflow(target, now):
            target = None
        self._out.append(d.InteractionEscalated(
            now, contact.id, queue.id, step_number, target.id if target else None))
        if target is None:
            return False
        self._move(contact, target, now)
        return True

    @staticmethod
    def _refuses_overflow(target: QueueRuntime, now: float) -> bool:
        config = target.config
        closed = config.hours is not None and not config.hours.is_open(now)
        full = config.max_size is not None and len(target.members) >= config.max_size
        return closed or full

    def _move(self, contact: ContactRuntime, target: QueueRuntime, now: float) -> None:
        """Move a contact to another queue (overflow, reconfiguration), keeping its time."""
        contact.queue.members.pop(contact.id, None)
        contact.queue = target
        contact.epoch += 1
        contact.version += 1
        contact.applied_wait = -1.0
        contact.tier = 0
        contact.timer_due = -1.0
        contact.deferred = ()
        contact.order_key = target.config.ageing_per_s * contact.queued_at - contact.priority
        self._enter(contact, target, now)

    # -------------------------------------------------------------- helpers

    def _estimate(self, contact: ContactRuntime, position: int, now: float) -> WaitEstimate:
        queue = contact.queue
        staffed = queue.staffed_capacity
        ewt = position * queue.handle_times.mean() / staffed if staffed else None
        return WaitEstimate(contact.id, queue.id, position, ewt, now - contact.queued_at,
                            contact.callback)

    def _queue(self, queue_id: str) -> QueueRuntime:
        queue = self._queues.get(queue_id)
        if queue is None:
            raise UnknownRoutingObject(f"unknown queue {queue_id!r}", field="queue_id")
        return queue

    def _agent(self, agent_id: str) -> AgentRuntime:
        agent = self._agents.get(agent_id)
        if agent is None:
            raise UnknownRoutingObject(f"unknown agent {agent_id!r}", field="agent_id")
        return agent


def _check_proficiencies(skills: Mapping[str, int], where: str) -> None:
    for name, level in skills.items():
        if not 1 <= level <= 5:
            raise RoutingConfigError(
                f"{where}: proficiency of skill {name!r} must be 1–5, got {level}", field="skills")


def _validate_queue(config: QueueConfig) -> None:
    _check_proficiencies(config.requirement.skills, f"queue {config.queue_id!r}")
    if config.offer_timeout_s <= 0:
        raise RoutingConfigError("offer timeout must be positive", field="offer_timeout_s")
    if config.ageing_per_s < 0:
        raise RoutingConfigError("ageing must not be negative", field="ageing_per_s")
    thresholds = [step.after_s for step in config.escalation]
    if any(t <= 0 for t in thresholds) or thresholds != sorted(thresholds):
        raise RoutingConfigError("escalation steps need increasing positive after_s",
                                 field="escalation")
    if config.hours is not None:
        config.hours.zone()


def _validate_agent(config: AgentConfig) -> None:
    _check_proficiencies(config.skills, f"agent {config.agent_id!r}")
