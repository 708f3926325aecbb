"""Who gets which event: staff see their tenant's every event, an agent only their own.

One bus subscription per process feeds every open stream. Each event is routed by index, not
by asking every socket, so thousands of agent desktops cost nothing per event that is not
theirs: an agent gets events about themselves (subject), events naming them
(payload.agent_id: offers, assignments) and every event on an interaction they hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable

from sqlalchemy import select

from omnidesk.db import Database
from omnidesk.events.bus import Subscription
from omnidesk.events.follower import BusFollower
from omnidesk.events.record import EventRecord
from omnidesk.interactions.models import Interaction
from omnidesk.interactions.states import TERMINAL_STATES
from omnidesk.realtime.signals import Signal

SIGNAL_BUFFER = 100  # per stream; a slow reader drops signals (they are ephemeral)

# Events after which an interaction is no longer the named agent's.
RELEASES = frozenset({"offer.rejected", "offer.timed_out", "offer.withdrawn",
                      "interaction.requeued", "interaction.queued", "interaction.closed",
                      "interaction.abandoned", "interaction.transferred"})
# Events that give an interaction to the agent in their payload.
TAKES = frozenset({"offer.created", "interaction.connected"})


class Owners:
    """Which agent holds which interaction, kept up to date from the events themselves."""

    def __init__(self, held: Iterable[tuple[str, str]] = ()) -> None:
        self._agent_of: dict[str, str] = dict(held)

    def concerned(self, record: EventRecord) -> set[str]:
        """The agents this event is for; updates who holds what."""
        named = record.payload.get("agent_id")
        agents = {agent for agent in (named, self._agent_of.get(record.subject), record.subject)
                  if isinstance(agent, str)}
        if record.type in TAKES and isinstance(named, str):
            self._agent_of[record.subject] = named
        elif record.type in RELEASES:
            self._agent_of.pop(record.subject, None)
        return agents

    def holder(self, interaction_id: str) -> str | None:
        """The agent holding the interaction now, if any."""
        return self._agent_of.get(interaction_id)

    def copy(self) -> Owners:
        """Who holds what now, to be followed on its own."""
        return Owners(self._agent_of.items())


async def held_interactions(db: Database) -> dict[uuid.UUID, Owners]:
    """Who holds what, per tenant: every open interaction with an agent."""
    query = select(Interaction.tenant_id, Interaction.id, Interaction.agent_id).where(
        Interaction.agent_id.is_not(None), Interaction.state.not_in(TERMINAL_STATES))
    held: dict[uuid.UUID, list[tuple[str, str]]] = defaultdict(list)
    async with db.read() as session:
        for tenant, interaction_id, agent_id in await session.execute(query):
            held[tenant].append((str(interaction_id), str(agent_id)))
    return defaultdict(Owners, {tenant: Owners(pairs) for tenant, pairs in held.items()})


class StreamHub(BusFollower):
    """Routes the bus's events to the open streams of this process."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self._staff: dict[uuid.UUID, set[Subscription]] = defaultdict(set)
        self._agents: dict[tuple[uuid.UUID, str], set[Subscription]] = defaultdict(set)
        self._owners: dict[uuid.UUID, Owners] = defaultdict(Owners)
        self._signals: dict[Subscription, asyncio.Queue[Signal]] = {}

    async def prepare(self) -> None:
        """Who holds what, from the database."""
        self._owners = await held_interactions(self.db)

    async def on_event(self, record: EventRecord | None) -> None:
        """Route the event; after a gap, every stream catches up and holdings are reloaded."""
        if record is None:
            self._everyone_lost_events()
            self._owners = await held_interactions(self.db)
        else:
            self.route(record)

    def route(self, record: EventRecord) -> None:
        """Hand the event to the tenant's staff streams and to the agents it concerns."""
        for subscription in self._staff.get(record.tenant_id, ()):
            subscription.offer(record)
        for agent in self._owners[record.tenant_id].concerned(record):
            for subscription in self._agents.get((record.tenant_id, agent), ()):
                subscription.offer(record)

    def signal(self, signal: Signal) -> None:
        """Hand an ephemeral signal to the tenant's staff streams and, for a customer's
        signal, to the streams of the agent holding the interaction."""
        targets = list(self._staff.get(signal.tenant_id, ()))
        holder = self._owners[signal.tenant_id].holder(signal.interaction_id)
        if signal.who == "customer" and holder is not None:
            targets += self._agents.get((signal.tenant_id, holder), ())
        for subscription in targets:
            queue = self._signals.get(subscription)
            if queue is not None and not queue.full():
                queue.put_nowait(signal)

    def owners(self, tenant_id: uuid.UUID) -> Owners:
        """Who holds what in the tenant as of the last event routed (a copy: no query)."""
        return self._owners[tenant_id].copy()

    def signals_of(self, subscription: Subscription) -> asyncio.Queue[Signal]:
        """The signals waiting for one open stream."""
        return self._signals[subscription]

    def _everyone_lost_events(self) -> None:
        for subscriptions in (*self._staff.values(), *self._agents.values()):
            for subscription in subscriptions:
                subscription.mark_gap()

    @contextlib.asynccontextmanager
    async def staff_stream(self, tenant_id: uuid.UUID) -> AsyncIterator[Subscription]:
        """Every event of the tenant."""
        subscription = Subscription()
        self._staff[tenant_id].add(subscription)
        self._signals[subscription] = asyncio.Queue(SIGNAL_BUFFER)
        try:
            yield subscription
        finally:
            self._staff[tenant_id].discard(subscription)
            self._signals.pop(subscription, None)

    @contextlib.asynccontextmanager
    async def agent_stream(self, tenant_id: uuid.UUID,
                           agent_id: str) -> AsyncIterator[Subscription]:
        """The events that concern one agent."""
        subscription = Subscription()
        key = (tenant_id, agent_id)
        self._agents[key].add(subscription)
        self._signals[subscription] = asyncio.Queue(SIGNAL_BUFFER)
        try:
            yield subscription
        finally:
            self._agents[key].discard(subscription)
            self._signals.pop(subscription, None)
            if not self._agents[key]:
                del self._agents[key]
