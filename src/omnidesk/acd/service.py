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
from collections import Counter
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.acd.mapping import Names, agent_config, queue_config
from omnidesk.acd.writes import ACD_ACTOR, apply_decision
from omnidesk.agents.models import Agent, Skill, Team
from omnidesk.db import Database
from omnidesk.errors import NotFound
from omnidesk.events.follower import BusFollower
from omnidesk.events.log import record
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
    OfferRejected,
    QueueConfigured,
    RoutingEngine,
    RoutingEvent,
    UnknownRoutingObject,
)
from omnidesk.tenants.models import Tenant

S = InteractionState
TICK_SECONDS = 0.2
SWEEP_SECONDS = 30.0
WAITING = (S.QUEUED, S.CALLBACK_SCHEDULED)
WORKING = (S.CONNECTED, S.ON_HOLD, S.WRAP_UP)
log = logging.getLogger("omnidesk.acd")


class TenantRouter:
    """A tenant's engine, its lock, and which of its agents have a desktop open."""

    def __init__(self, tenant_id: uuid.UUID) -> None:
        self.tenant_id = tenant_id
        self.engine = RoutingEngine()
        self.lock = asyncio.Lock()
        self.desktops: Counter[str] = Counter()

    def knows_waiting(self, interaction_id: str, now: float) -> bool:
        """True when the engine has this contact in a queue."""
        try:
            self.engine.wait_estimate(interaction_id, now)
        except UnknownRoutingObject:
            return False
        return True


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


async def _configuration(session: AsyncSession, tenant_id: uuid.UUID, now: float,
                         agent_id: uuid.UUID | None = None) -> list[RoutingEvent]:
    """Queues and agents as engine events (every agent serves every queue it is skilled for);
    with `agent_id`, only that agent (a queue change reconfigures everyone: profiles hold
    every queue)."""
    queues = await _queues(session, tenant_id)
    names = await _names(session, tenant_id, queues)
    query = select(Agent).where(Agent.tenant_id == tenant_id)
    events: list[RoutingEvent] = []
    if agent_id is None:
        events += [QueueConfigured(now, queue_config(q, names)) for q in queues]
    else:
        query = query.where(Agent.id == agent_id)
    agents = (await session.scalars(query)).all()
    return events + [AgentConfigured(now, agent_config(a, names.skills, queues)) for a in agents]


def _queued_event(row: Interaction, now: float) -> InteractionQueued:
    assert row.queue_id is not None and row.queued_at is not None
    return InteractionQueued(now, str(row.id), str(row.queue_id), priority=row.priority,
                             queued_at=row.queued_at.timestamp(),
                             callback=row.state is S.CALLBACK_SCHEDULED)


async def _answered_interaction(session: AsyncSession, interaction_id: uuid.UUID) -> Interaction:
    """The interaction an agent is answering (it existed a moment ago, in their tenant)."""
    row = await session.get(Interaction, interaction_id)
    if row is None:
        raise NotFound(f"interaction {interaction_id} not found", field="interaction_id")
    return row


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
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
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

    async def on_event(self, record: EventRecord | None) -> None:
        """Translate an event into engine inputs; after a gap, reconcile with the database."""
        if record is None:
            for router in tuple(self.routers.values()):
                await self.sweep(router)
            return
        router = await self.router(record.tenant_id)
        async with router.lock:
            await self._feed(router, await self._translate(router, record))

    async def _rebuild(self, router: TenantRouter) -> None:
        """The engine from the database: configuration, agents' states, waiting and working
        contacts; contacts that were on offer when the process died go back in line."""
        now = self.now()
        async with self.db.write() as session:
            events = await _configuration(session, router.tenant_id, now)
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
                    events.append(_queued_event(row, now))
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
                return await _configuration(session, router.tenant_id, now, agent_id)
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
            case "interaction.queued" if queue_id and not router.knows_waiting(
                    interaction_id, now):
                return [InteractionQueued(now, interaction_id, queue_id,
                                          priority=int(payload.get("priority") or 0),
                                          queued_at=record.occurred_at.timestamp())]
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
        decisions: list[Decision] = []
        for event in events:
            try:
                decisions += router.engine.handle(event)
            except UnknownRoutingObject as error:
                log.info("ACD ignored %s: %s", type(event).__name__, error.message)
        await self.write(decisions)

    async def write(self, decisions: Sequence[Decision]) -> None:
        """Write decisions in one transaction (their events go out after the commit)."""
        if decisions:
            async with self.db.write() as session:
                for decision in decisions:
                    await apply_decision(session, decision)

    async def handle(self, tenant_id: uuid.UUID, event: RoutingEvent) -> None:
        """Feed one input from outside the event path (API calls, desktops)."""
        router = await self.router(tenant_id)
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
                    await self.write(router.engine.tick(now))

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                await self.tick()
            except Exception:
                log.exception("ACD tick failed")

    async def sweep(self, router: TenantRouter) -> None:
        """Queue in the engine any waiting contact it does not know (a missed event)."""
        now = self.now()
        async with self.db.read() as session:
            rows = (await session.scalars(
                select(Interaction).where(Interaction.tenant_id == router.tenant_id,
                                          Interaction.state.in_(WAITING))
                .order_by(Interaction.queued_at))).all()
        async with router.lock:
            missed = [_queued_event(row, now) for row in rows
                      if row.queue_id is not None and not router.knows_waiting(str(row.id), now)]
            if missed:
                log.warning("ACD sweep found %d waiting contacts the engine missed", len(missed))
                await self._feed(router, missed)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                await self.adopt_new_tenants()
                for router in tuple(self.routers.values()):
                    await self.sweep(router)
            except Exception:
                log.exception("ACD sweep failed")

    async def accept(self, interaction: Interaction, agent_id: uuid.UUID, *, actor: str) -> None:
        """The agent takes the offer: the engine first (409 if it is gone), then the rows."""
        router = await self.router(interaction.tenant_id)
        async with router.lock:
            decisions = router.engine.handle(
                OfferAccepted(self.now(), str(interaction.id), str(agent_id)))
            async with self.db.write() as session:
                row = await _answered_interaction(session, interaction.id)
                await record(session, tenant_id=row.tenant_id, type="offer.accepted",
                             subject=row.id, payload={"agent_id": str(agent_id)}, actor=actor)
                await change_state(session, row, StateChange(state=S.CONNECTED), actor=actor)
                for decision in decisions:
                    await apply_decision(session, decision)

    async def reject(self, interaction: Interaction, agent_id: uuid.UUID, *, actor: str) -> None:
        """The agent declines: back in line, and the engine offers it to the next agent."""
        router = await self.router(interaction.tenant_id)
        async with router.lock:
            decisions = router.engine.handle(
                OfferRejected(self.now(), str(interaction.id), str(agent_id)))
            async with self.db.write() as session:
                row = await _answered_interaction(session, interaction.id)
                await change_state(session, row, StateChange(state=S.QUEUED), actor=actor,
                                   event_type="offer.rejected",
                                   details={"agent_id": str(agent_id), "reason": "rejected"})
                for decision in decisions:
                    await apply_decision(session, decision)
