"""One routing engine per tenant, fed from the event bus, its decisions written as events.

The engine is pure; this module is its I/O: it rebuilds each tenant's engine from the
database at start-up (queued contacts keep their order and wait clocks), translates events
into engine inputs, writes each decision (actor "acd"), drives time-outs from the server
clock, tracks agents' desktop connections, and sweeps for anything the event path missed.
Engine calls and the writes of their decisions are serialised per tenant by a lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.acd.mapping import Names, agent_config, every_queue, queue_config
from omnidesk.acd.writes import ACD_ACTOR, apply_decision
from omnidesk.agents.models import Agent, Skill, Team
from omnidesk.db import Database, mark_background
from omnidesk.errors import Conflict, NotFound
from omnidesk.events.follower import BusFollower
from omnidesk.events.log import last_seq, record
from omnidesk.events.record import EventRecord
from omnidesk.interactions.actions import change_state
from omnidesk.interactions.models import Interaction
from omnidesk.interactions.schemas import StateChange
from omnidesk.interactions.states import InteractionState
from omnidesk.queues.models import Queue
from omnidesk.routing import (
    AgentConfigured,
    AgentRestored,
    AgentState,
    AgentStateChanged,
    CallbackRequested,
    Decision,
    DesktopConnected,
    DesktopDisconnected,
    InteractionAssigned,
    InteractionCancelled,
    InteractionEnded,
    InteractionQueued,
    OfferAccepted,
    OfferDirected,
    OfferRejected,
    QueueConfigured,
    RoutingEngine,
    RoutingEvent,
    UnknownRoutingObject,
)
from omnidesk.scoping import get_in_tenant
from omnidesk.tasks import stop_tasks
from omnidesk.tenants.models import Tenant

S = InteractionState
TRANSFER_RING_SECONDS = 30.0
TICK_SECONDS = 0.2
SWEEP_SECONDS = 30.0
SETTLE_SECONDS = 10.0  # how long a sweep waits for the bus follower to reach what it read
WAITING = (S.QUEUED, S.CALLBACK_SCHEDULED)
WORKING = (S.CONNECTED, S.ON_HOLD, S.WRAP_UP)
log = logging.getLogger("omnidesk.acd")


@dataclass(frozen=True, slots=True)
class DirectedOffer:
    """A transfer to one agent, ringing at that agent until `expires_at` (epoch seconds).
    The engine still counts the contact on the transferring agent until it is taken."""

    agent_id: str
    from_agent_id: str | None
    queue_id: str
    expires_at: float


class TenantRouter:
    """A tenant's engine, its lock, which of its agents have a desktop open, and the
    transfers to an agent that are ringing; the last event seq it has followed."""

    def __init__(self, tenant_id: uuid.UUID) -> None:
        self.tenant_id = tenant_id
        self.engine = RoutingEngine()
        self.lock = asyncio.Lock()
        self.desktops: Counter[str] = Counter()
        self.transfers: dict[str, DirectedOffer] = {}
        self.skill_names: frozenset[str] = frozenset()  # the tenant's skills
        self.seen_seq = 0  # the tenant's last event the engine has been told of
        self.followed = asyncio.Event()  # set each time seen_seq moves

    def contact_skills(self, names: Sequence[str]) -> dict[str, int]:
        """A contact's own skill needs for the engine (any proficiency); skills the tenant
        does not have are left out, with a warning, so the contact can still be served."""
        unknown = set(names) - self.skill_names
        if unknown:
            log.warning("tenant %s: ignoring unknown contact skills %s", self.tenant_id,
                        ", ".join(sorted(unknown)))
        return {name: 1 for name in names if name in self.skill_names}

    def require_available(self, agent_id: str) -> None:
        """NotFound / Conflict (field `agent_id`) unless the agent can take a contact now."""
        try:
            status = self.engine.agent_status(agent_id)
        except UnknownRoutingObject as error:
            raise NotFound(error.message, field="agent_id") from error
        if not status.routable or status.state is not AgentState.AVAILABLE:
            desktop = "" if status.connected else ", desktop closed"
            raise Conflict(f"that agent is not available ({status.state.value}{desktop})",
                           field="agent_id")


async def _names(session: AsyncSession, tenant_id: uuid.UUID,
                 queues: Sequence[Queue]) -> Names:
    skills = await session.execute(
        select(Skill.id, Skill.name).where(Skill.tenant_id == tenant_id))
    teams = await session.execute(select(Team.name, Team.id).where(Team.tenant_id == tenant_id))
    return Names(skills={skill_id: name for skill_id, name in skills},
                 queues={queue.name: queue.id for queue in queues},
                 teams={name: team_id for name, team_id in teams})


async def _queues(session: AsyncSession, tenant_id: uuid.UUID) -> Sequence[Queue]:
    return (await session.scalars(select(Queue).where(Queue.tenant_id == tenant_id))).all()


async def _configuration(session: AsyncSession, router: TenantRouter, now: float,
                         agent_id: uuid.UUID | None = None) -> list[RoutingEvent]:
    """Queues and agents as engine events (each agent serves the queues of their routing
    profile, or every queue); with `agent_id`, only that agent (a queue change reconfigures
    everyone: profiles name queues). Keeps the router's list of the tenant's skills current."""
    tenant_id = router.tenant_id
    queues = await _queues(session, tenant_id)
    names = await _names(session, tenant_id, queues)
    router.skill_names = frozenset(names.skills.values())
    query = select(Agent).where(Agent.tenant_id == tenant_id)
    events: list[RoutingEvent] = []
    if agent_id is None:
        events += [QueueConfigured(now, queue_config(q, names)) for q in queues]
    else:
        query = query.where(Agent.id == agent_id)
    agents = (await session.scalars(query)).all()
    default_profile = every_queue(queues)
    return events + [AgentConfigured(now, agent_config(a, names, default_profile))
                     for a in agents]


def _queued_event(router: TenantRouter, row: Interaction, now: float) -> InteractionQueued:
    assert row.queue_id is not None and row.queued_at is not None
    return InteractionQueued(now, str(row.id), str(row.queue_id), priority=row.priority,
                             queued_at=row.queued_at.timestamp(),
                             required_skills=router.contact_skills(row.required_skills),
                             callback=row.state is S.CALLBACK_SCHEDULED)


async def _answered_interaction(session: AsyncSession, tenant_id: uuid.UUID,
                                interaction_id: uuid.UUID) -> Interaction:
    """The interaction an agent is answering (it existed a moment ago, in their tenant)."""
    return await get_in_tenant(session, Interaction, interaction_id, tenant_id=tenant_id,
                               what="interaction")


def _moved(router: TenantRouter, interaction_id: str, queue_id: str, payload: dict[str, Any],
           now: float) -> list[RoutingEvent]:
    """A waiting contact queued again in another queue (a supervisor's move): it changes
    line there, keeping its time waited."""
    where = router.engine.wait_estimate(interaction_id, now)
    if where.queue_id == queue_id:
        return []
    return [InteractionQueued(now, interaction_id, queue_id,
                              priority=int(payload.get("priority") or 0),
                              queued_at=now - where.waited_s, callback=where.callback)]


class AcdService(BusFollower):
    """Routing for every tenant of this process."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.routers: dict[uuid.UUID, TenantRouter] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def now(self) -> float:
        """The server clock, as epoch seconds (what the engine is given)."""
        return self.db.clock.now().timestamp()

    async def start(self) -> None:
        """Follow every tenant's events, rebuild each engine, start the clock and the sweep."""
        await super().start()
        await self.adopt_new_tenants()
        self._tasks += [asyncio.create_task(self._tick_forever()),
                        asyncio.create_task(self._sweep_forever())]

    async def stop(self) -> None:
        """Stop every task."""
        await stop_tasks(*self._tasks)
        self._tasks.clear()
        await super().stop()

    async def adopt_new_tenants(self) -> None:
        """Start routing for tenants this process does not route yet."""
        async with self.db.read() as session:
            tenant_ids = (await session.scalars(select(Tenant.id))).all()
        for tenant_id in tenant_ids:
            await self.router(tenant_id)

    async def router(self, tenant_id: uuid.UUID) -> TenantRouter:
        """The tenant's router, rebuilt from the database the first time it is needed."""
        router = self.routers.get(tenant_id)
        if router is None:
            router = self.routers[tenant_id] = TenantRouter(tenant_id)
            async with router.lock:
                await self._rebuild(router)
        return router

    async def current_router(self, tenant_id: uuid.UUID) -> TenantRouter:
        """The tenant's router once it has followed the events this process has published,
        so that a request acts on the effects of the requests before it (an agent created,
        a contact queued a moment ago); SETTLE_SECONDS at most. Never with the lock held."""
        router = await self.router(tenant_id)
        await self._follower_reaches(router, self.db.published_seq.get(tenant_id, 0))
        return router

    async def on_event(self, record: EventRecord | None) -> None:
        """Translate an event into engine inputs; after a gap, reconcile with the database."""
        if record is None:
            for router in tuple(self.routers.values()):
                await self.sweep(router, settle=False)
            return
        await self._follow_batch([record])

    async def on_events(self, records: list[EventRecord | None]) -> None:
        """The events that were waiting together: per tenant, the engine takes them all and
        their decisions commit in one transaction (under load, one commit instead of one per
        event); a gap (None) is handled where it falls."""
        batch: list[EventRecord] = []
        for event in records:
            if event is None:
                await self._follow_batch(batch)
                await self.on_event(None)
                batch = []
            else:
                batch.append(event)
        await self._follow_batch(batch)

    async def _follow_batch(self, records: Sequence[EventRecord]) -> None:
        by_tenant: dict[uuid.UUID, list[EventRecord]] = defaultdict(list)
        for event in records:
            by_tenant[event.tenant_id].append(event)
        for tenant_id, tenant_records in by_tenant.items():
            router = await self.router(tenant_id)
            async with router.lock:
                try:
                    groups = []
                    for event in tenant_records:
                        try:
                            groups.append(
                                self._decide(router, await self._translate(router, event)))
                        except Exception:  # one bad event must not stop the others
                            log.exception("ACD could not handle %s", event)
                    await self._write_groups(router, groups)
                finally:  # handled or failed, passed: requests waiting on the router go on
                    router.seen_seq = max(router.seen_seq, *(r.seq for r in tenant_records))
                    router.followed.set()

    async def _rebuild(self, router: TenantRouter) -> None:
        """The engine from the database: configuration, agents' states, waiting and working
        contacts; contacts that were on offer when the process died go back in line."""
        now = self.now()
        async with self.db.write() as session:
            router.seen_seq = await last_seq(session, router.tenant_id)
            events = await _configuration(session, router, now)
            agents = (await session.scalars(
                select(Agent).where(Agent.tenant_id == router.tenant_id))).all()
            events += [AgentRestored(now, str(a.id), AgentState(a.state.value),
                                     a.state_reason or "", connected=False) for a in agents]
            rows = (await session.scalars(
                select(Interaction).where(Interaction.tenant_id == router.tenant_id,
                                          Interaction.state.in_((*WAITING, S.OFFERED, *WORKING)))
                .order_by(Interaction.queued_at))).all()
            for row in rows:
                if row.state is S.OFFERED:
                    await change_state(session, row, StateChange(state=S.QUEUED),
                                       actor=ACD_ACTOR, event_type="offer.withdrawn",
                                       details={"reason": "restart"})
                if row.state in WAITING and row.queue_id is not None:
                    events.append(_queued_event(router, row, now))
                elif row.state in WORKING and row.agent_id and row.queue_id:
                    events.append(InteractionAssigned(now, str(row.id), str(row.agent_id),
                                                      str(row.queue_id)))
        for event in events:
            router.engine.handle(event)

    async def _translate(self, router: TenantRouter,
                         record: EventRecord) -> list[RoutingEvent]:
        """The engine inputs an event means (the ACD's own writes mean nothing new)."""
        if record.actor == ACD_ACTOR:
            return []
        now = self.now()
        kind = record.type
        if kind in ("queue.created", "queue.updated", "agent.created", "agent.updated"):
            agent_id = uuid.UUID(record.subject) if kind.startswith("agent.") else None
            async with self.db.read() as session:
                return await _configuration(session, router, now, agent_id)
        if kind == "agent.state_changed":
            return [AgentStateChanged(now, record.subject, AgentState(record.payload["state"]),
                                      record.payload.get("reason") or "")]
        return self._interaction_inputs(router, record, now)

    def _interaction_inputs(self, router: TenantRouter, record: EventRecord,
                            now: float) -> list[RoutingEvent]:
        """Engine inputs from an interaction's event, from its payload alone (no query)."""
        interaction_id, payload = record.subject, record.payload
        queue_id, agent_id = payload.get("queue_id"), payload.get("agent_id")
        match record.type:
            case "interaction.queued" if queue_id and not router.engine.is_queued(
                    interaction_id):
                return [InteractionQueued(
                    now, interaction_id, queue_id, priority=int(payload.get("priority") or 0),
                    queued_at=record.occurred_at.timestamp(),
                    required_skills=router.contact_skills(payload.get("skills") or []))]
            case "interaction.queued" if queue_id:
                return _moved(router, interaction_id, queue_id, payload, now)
            case "interaction.callback_scheduled":
                return [CallbackRequested(now, interaction_id)]
            case "interaction.abandoned":
                return [InteractionCancelled(now, interaction_id)]
            case "interaction.connected" if (payload.get("from") != S.OFFERED
                                             and agent_id and queue_id):
                return [InteractionAssigned(now, interaction_id, agent_id, queue_id)]
            case "interaction.closed" if payload.get("handle_seconds") is not None:
                return [InteractionEnded(now, interaction_id, float(payload["handle_seconds"]))]
            case "interaction.closed":
                return [InteractionCancelled(now, interaction_id, reason="closed")]
        return []

    async def _feed(self, router: TenantRouter, events: Sequence[RoutingEvent]) -> None:
        """Hand events to the engine and write its decisions (caller holds the lock)."""
        await self.write(router, self._decide(router, events))

    @staticmethod
    def _decide(router: TenantRouter, events: Sequence[RoutingEvent]) -> list[Decision]:
        """The engine's decisions on these inputs (an input about an unknown object is
        ignored: its configuration or contact arrives by another event or the sweep)."""
        decisions: list[Decision] = []
        for event in events:
            try:
                decisions += router.engine.handle(event)
            except UnknownRoutingObject as error:
                log.info("ACD ignored %s: %s", type(event).__name__, error.message)
        return decisions

    async def _write_groups(self, router: TenantRouter,
                            groups: Sequence[Sequence[Decision]]) -> None:
        """Write several inputs' decisions in one transaction; if that fails, each input's
        in its own, so that one bad write cannot take the others with it."""
        try:
            await self.write(router, [decision for group in groups for decision in group])
        except Exception:
            if len(groups) < 2:
                raise
            log.warning("ACD batch write failed; writing %d inputs one by one", len(groups))
            for group in groups:
                try:
                    await self.write(router, group)
                except Exception:
                    log.exception("ACD could not write %s", group)

    async def write(self, router: TenantRouter, decisions: Sequence[Decision]) -> None:
        """Write the decisions of the tenant's engine in one transaction (their events go out
        after the commit)."""
        if decisions:
            async with self.db.write() as session:
                for decision in decisions:
                    await apply_decision(session, router.tenant_id, decision)

    async def handle(self, tenant_id: uuid.UUID, event: RoutingEvent) -> None:
        """Feed one input from outside the event path (API calls, desktops)."""
        router = await self.current_router(tenant_id)
        async with router.lock:
            await self._feed(router, [event])

    async def desktop_opened(self, tenant_id: uuid.UUID, agent_id: uuid.UUID) -> None:
        """An agent's desktop connected (the first of its tabs counts)."""
        router = self.routers.get(tenant_id)
        key = str(agent_id)
        if router is not None:
            router.desktops[key] += 1
            if router.desktops[key] == 1:
                await self.handle(tenant_id, DesktopConnected(self.now(), key))

    async def desktop_closed(self, tenant_id: uuid.UUID, agent_id: uuid.UUID) -> None:
        """An agent's desktop went away (the last of its tabs counts)."""
        router = self.routers.get(tenant_id)
        key = str(agent_id)
        if router is not None and router.desktops[key] > 0:
            router.desktops[key] -= 1
            if router.desktops[key] == 0:
                await self.handle(tenant_id, DesktopDisconnected(self.now(), key))

    async def tick(self) -> None:
        """Fire every engine's due timers (offer time-outs, escalations, grace periods)."""
        now = self.now()
        for router in tuple(self.routers.values()):
            due = router.engine.next_timer_at()
            if due is not None and due <= now:
                async with router.lock:
                    await self.write(router, router.engine.tick(now))
            for interaction_id, offer in tuple(router.transfers.items()):
                if offer.expires_at <= now:
                    async with router.lock:
                        if router.transfers.get(interaction_id) is offer:
                            await self._transfer_declined(router, interaction_id,
                                                          "offer.timed_out", "timeout")

    async def _tick_forever(self) -> None:
        mark_background()
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                await self.tick()
            except Exception:
                log.exception("ACD tick failed")

    async def sweep(self, router: TenantRouter, *, settle: bool = True) -> None:
        """Queue in the engine any waiting contact it does not know (a missed event).

        A contact whose events are still on their way through the bus is not missed: when
        the follower is behind what the sweep read, the sweep (with `settle`) waits for it
        (up to SETTLE_SECONDS) and then looks again at those contacts only.
        """
        async with router.lock:
            read_seq, missed = await self._unknown_waiting(router)
            if not missed or not settle or router.seen_seq >= read_seq:
                await self._feed_missed(router, missed)
                return
        await self._follower_reaches(router, read_seq)
        candidates = {event.interaction_id for event in missed}
        async with router.lock:
            _, missed = await self._unknown_waiting(router)
            await self._feed_missed(router, [m for m in missed if m.interaction_id in candidates])

    async def _unknown_waiting(
            self, router: TenantRouter) -> tuple[int, list[InteractionQueued]]:
        """The tenant's event seq and its waiting contacts the engine does not know, read in
        one transaction (the caller holds the lock: rows read before it may be stale)."""
        now = self.now()
        async with self.db.read() as session:
            read_seq = await last_seq(session, router.tenant_id)
            rows = (await session.scalars(
                select(Interaction).where(Interaction.tenant_id == router.tenant_id,
                                          Interaction.state.in_(WAITING))
                .order_by(Interaction.queued_at))).all()
        return read_seq, [_queued_event(router, row, now) for row in rows
                          if row.queue_id is not None
                          and not router.engine.is_queued(str(row.id))]

    async def _feed_missed(self, router: TenantRouter, missed: list[InteractionQueued]) -> None:
        if missed:
            log.warning("ACD sweep found %d waiting contacts the engine missed", len(missed))
            await self._feed(router, missed)

    @staticmethod
    async def _follower_reaches(router: TenantRouter, seq: int) -> None:
        """Wait until the bus follower has handled the tenant's events up to `seq`."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SETTLE_SECONDS):
                while router.seen_seq < seq:
                    router.followed.clear()
                    await router.followed.wait()

    async def _sweep_forever(self) -> None:
        mark_background()
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                await self.adopt_new_tenants()
                for router in tuple(self.routers.values()):
                    await self.sweep(router)
            except Exception:
                log.exception("ACD sweep failed")

    async def queue_position(self, interaction: Interaction) -> tuple[int, float | None]:
        """A queued contact's position (1 = next) and estimated wait in seconds: the router's,
        as the desktop shows them; the position counted in the table when the router does not
        know the contact (yet); (0, None) when it is not queued."""
        if interaction.state is not S.QUEUED or interaction.queue_id is None:
            return 0, None
        router = await self.current_router(interaction.tenant_id)
        try:
            estimate = router.engine.wait_estimate(str(interaction.id), self.now())
        except UnknownRoutingObject:
            async with self.db.read() as session:
                ahead = await session.scalar(select(func.count(Interaction.id)).where(
                    Interaction.queue_id == interaction.queue_id, Interaction.state == S.QUEUED,
                    Interaction.queued_at < interaction.queued_at))
            return int(ahead or 0) + 1, None
        return estimate.position, estimate.estimated_wait_s

    async def accept(self, tenant_id: uuid.UUID, interaction_id: uuid.UUID,
                     agent_id: uuid.UUID, *, actor: str) -> Interaction:
        """The agent takes the offer: the engine first (409 if it is gone), then the rows;
        the interaction as committed."""
        router = await self.current_router(tenant_id)
        async with router.lock:
            directed = router.transfers.get(str(interaction_id))
            if directed is not None and directed.agent_id == str(agent_id):
                del router.transfers[str(interaction_id)]
                decisions = router.engine.handle(InteractionAssigned(
                    self.now(), str(interaction_id), directed.agent_id, directed.queue_id))
            else:
                decisions = router.engine.handle(
                    OfferAccepted(self.now(), str(interaction_id), str(agent_id)))
            async with self.db.write() as session:
                row = await _answered_interaction(session, tenant_id, interaction_id)
                await record(session, tenant_id=row.tenant_id, type="offer.accepted",
                             subject=row.id, payload={"agent_id": str(agent_id),
                                                      "channel": row.channel}, actor=actor)
                await change_state(session, row, StateChange(state=S.CONNECTED), actor=actor)
                for decision in decisions:
                    await apply_decision(session, router.tenant_id, decision)
            return row

    async def direct_offer(self, interaction: Interaction, agent_id: uuid.UUID, *,
                           actor: str) -> None:
        """A supervisor offers a waiting contact to one agent (409 when the contact is not
        waiting or the agent cannot take an offer); the offer times out as any other."""
        router = await self.current_router(interaction.tenant_id)
        async with router.lock:
            now = self.now()
            await self.write(router, router.engine.tick(now))
            decisions = router.engine.handle(
                OfferDirected(now, str(interaction.id), str(agent_id)))
            async with self.db.write() as session:
                row = await _answered_interaction(session, router.tenant_id, interaction.id)
                await record(session, tenant_id=row.tenant_id, type="interaction.directed",
                             subject=row.id, payload={"agent_id": str(agent_id),
                                                      "queue_id": str(row.queue_id)},
                             actor=actor)
                for decision in decisions:
                    await apply_decision(session, router.tenant_id, decision)

    async def reject(self, interaction: Interaction, agent_id: uuid.UUID, *, actor: str) -> None:
        """The agent declines: back in line, and the engine offers it to the next agent."""
        router = await self.current_router(interaction.tenant_id)
        async with router.lock:
            directed = router.transfers.get(str(interaction.id))
            if directed is not None and directed.agent_id == str(agent_id):
                await self._transfer_declined(router, str(interaction.id), "offer.rejected",
                                              "rejected", actor=actor)
                return
            decisions = router.engine.handle(
                OfferRejected(self.now(), str(interaction.id), str(agent_id)))
            async with self.db.write() as session:
                row = await _answered_interaction(session, router.tenant_id, interaction.id)
                await change_state(session, row, StateChange(state=S.QUEUED), actor=actor,
                                   event_type="offer.rejected",
                                   details={"agent_id": str(agent_id), "reason": "rejected"})
                for decision in decisions:
                    await apply_decision(session, router.tenant_id, decision)

    async def transfer_to_queue(self, interaction: Interaction, queue_id: uuid.UUID, *,
                                actor: str) -> None:
        """The agent hands the contact to a queue: it waits there (a fresh place in line) and
        the transferring agent's capacity is freed."""
        router = await self.current_router(interaction.tenant_id)
        async with router.lock:
            router.transfers.pop(str(interaction.id), None)
            async with self.db.write() as session:
                row = await _answered_interaction(session, router.tenant_id, interaction.id)
                from_agent = str(row.agent_id) if row.agent_id else None
                await change_state(session, row, StateChange(state=S.TRANSFERRED), actor=actor,
                                   details={"to_queue_id": str(queue_id),
                                            "from_agent_id": from_agent})
                await change_state(session, row, StateChange(state=S.QUEUED, queue_id=queue_id),
                                   actor=ACD_ACTOR, details={"transfer_from": from_agent})
                event = _queued_event(router, row, self.now())
            await self._feed(router, [event])

    async def transfer_to_agent(self, interaction: Interaction, agent_id: uuid.UUID, *,
                                actor: str) -> float:
        """Ring one agent with the contact (accept / reject like any offer; a rejection or
        no answer within TRANSFER_RING_SECONDS puts it in its queue). Returns expires_at."""
        router = await self.current_router(interaction.tenant_id)
        target = str(agent_id)
        async with router.lock:
            router.require_available(target)
            now = self.now()
            async with self.db.write() as session:
                row = await _answered_interaction(session, router.tenant_id, interaction.id)
                if row.queue_id is None:
                    raise Conflict("this interaction has no queue to fall back on; transfer it "
                                   "to a queue", field="agent_id")
                from_agent = str(row.agent_id) if row.agent_id else None
                offer = DirectedOffer(target, from_agent, str(row.queue_id),
                                      now + TRANSFER_RING_SECONDS)
                await change_state(session, row, StateChange(state=S.TRANSFERRED), actor=actor,
                                   details={"to_agent_id": target, "from_agent_id": from_agent})
                await change_state(session, row, StateChange(state=S.OFFERED, agent_id=agent_id),
                                   actor=ACD_ACTOR,
                                   details={"expires_at": offer.expires_at,
                                            "channel": row.channel, "transfer_from": from_agent})
            router.transfers[str(interaction.id)] = offer
            return offer.expires_at

    async def _transfer_declined(self, router: TenantRouter, interaction_id: str,
                                 event_type: str, reason: str, *, actor: str = ACD_ACTOR) -> None:
        """A transfer to an agent was rejected or not answered: the contact waits in its
        queue, and the transferring agent's capacity is freed (caller holds the lock)."""
        offer = router.transfers.pop(interaction_id)
        async with self.db.write() as session:
            row = await session.get(Interaction, uuid.UUID(interaction_id))
            if row is None or row.state is not S.OFFERED:
                return
            if row.queued_at is None:  # connected without queueing: its place starts now
                row.queued_at = self.db.clock.now()
            await change_state(session, row, StateChange(state=S.QUEUED), actor=actor,
                               event_type=event_type,
                               details={"agent_id": offer.agent_id, "reason": reason,
                                        "transfer_from": offer.from_agent_id})
            event = _queued_event(router, row, self.now())
        await self._feed(router, [event])
