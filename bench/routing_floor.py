"""The least a routing engine pays in CPython as agents grow, timed beside omnidesk's engine.

The floor routes bench/routing.py's centre (N agents, N/20 queues, each agent serving 3–6 of
them) with the least work routing can do: every queue serves its longest-idle free agent, kept
as a FIFO of the agents' entries (a taken agent's entries in its other queues stay there and
are skipped when they come up: nothing is removed), contacts wait FIFO per queue, and agents
and contacts are found by the string ids events name them by. Per contact, as in the engine,
three events: queued (an agent is taken, or the contact waits), accepted, ended (the agent
takes the first waiting contact of its queues, or goes back into their pools). No priorities,
strategies, capacity per channel, levels, escalation, timers or decision records: what is left
is mostly the memory an event reaches, which at 10,000 agents no longer fits the core's caches.

Both are timed per event the same way (`time.perf_counter_ns` around each call, in steady
state), at 10,000, 1,000 and 100 agents. The engine is flat to 1.5× when its time per event at
the largest size exceeds that at the smallest by at most half of the latter ("allowance"); the
floor's own growth says how much of that any CPython engine spends on memory alone.

`--agent-maps` adds to the floor what omnidesk's engine keeps per agent in small dictionaries
(its offers, its connected contacts, its load and idle time per channel, its last offer per
queue), touched as the engine touches them: what such maps cost as the agents grow.

    taskset -c 1 python bench/routing_floor.py            # 200,000 events per size, 3 runs
    taskset -c 1 python bench/routing_floor.py --quick    # 20,000 events, 1 run
    taskset -c 1 python bench/routing_floor.py --agent-maps
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import random
import statistics
import time
from collections import deque
from typing import cast

from routing import SIZES, WARMUP_S, build_agents, build_queues, measure

LOAD = 0.85
"""Offered load per agent (Erlangs): the share of agents busy in steady state."""
HANDLE_S = 300.0
QUEUED, ACCEPTED, ENDED = range(3)


class Agent:
    """An agent: its entries (one per queue it serves) and whether it is free."""

    __slots__ = ("entries", "free", "id")

    def __init__(self, agent_id: str) -> None:
        self.id = agent_id
        self.entries: tuple[Entry, ...] = ()
        self.free = False


class Entry:
    """An agent's place in one queue's pool of free agents: only its newest copy there counts
    (an agent freed again goes to the back; the copies before are skipped)."""

    __slots__ = ("agent", "copies", "pool", "waiting")

    def __init__(self, agent: Agent, pool: deque[Entry], waiting: deque[Contact]) -> None:
        self.agent = agent
        self.pool = pool
        self.waiting = waiting
        self.copies = 0


class AgentWithMaps(Agent):
    """An agent with the engine's per-agent dictionaries."""

    __slots__ = ("active", "idle", "last_offer", "load", "offers")

    def __init__(self, agent_id: str) -> None:
        super().__init__(agent_id)
        self.offers: dict[str, Contact] = {}
        self.active: dict[str, Contact] = {}
        self.load: dict[str, int] = {}
        self.idle: dict[str, float] = {}
        self.last_offer: dict[str, int] = {}


class Contact:
    """A contact, its queue and channel, and the agent it went to."""

    __slots__ = ("agent", "channel", "id", "queue_id")

    def __init__(self, contact_id: str, queue_id: str, channel: str) -> None:
        self.id = contact_id
        self.queue_id = queue_id
        self.channel = channel
        self.agent: Agent | None = None


class FloorRouter:
    """Longest idle by FIFO pools with lazy removal; FIFO contacts per queue."""

    def __init__(self, agents: int, seed: int) -> None:
        rng = random.Random(seed)
        queues = build_queues(max(10, agents // 20), rng)
        self.pools: dict[str, deque[Entry]] = {q.queue_id: deque() for q in queues}
        self.waiting: dict[str, deque[Contact]] = {q.queue_id: deque() for q in queues}
        self.channels = {q.queue_id: q.channel for q in queues}
        self.agents: dict[str, Agent] = {}
        for config in build_agents(agents, queues, rng):
            agent = self.new_agent(config.agent_id)
            agent.entries = tuple(Entry(agent, self.pools[m.queue_id], self.waiting[m.queue_id])
                                  for m in config.profile)
            self.agents[agent.id] = agent
        self.contacts: dict[str, Contact] = {}

    def new_agent(self, agent_id: str) -> Agent:
        return Agent(agent_id)

    def queued(self, contact_id: str, queue_id: str, at: float) -> Contact | None:
        """A new contact: the contact if an agent was taken for it, else None (it waits)."""
        contact = self.contacts[contact_id] = Contact(contact_id, queue_id,
                                                      self.channels[queue_id])
        pool = self.pools[queue_id]
        while pool:
            entry = pool.popleft()
            entry.copies -= 1
            if not entry.copies and entry.agent.free:
                return self.take(entry.agent, contact, at)
        self.waiting[queue_id].append(contact)
        return None

    def accepted(self, contact_id: str) -> Contact:
        """The agent answers the offer."""
        return self.contacts[contact_id]

    def ended(self, contact_id: str, at: float) -> Contact | None:
        """The contact is done: its agent takes a waiting contact (returned) or becomes free."""
        agent = self.contacts.pop(contact_id).agent
        assert agent is not None
        return self.freed(agent.id, at)

    def freed(self, agent_id: str, at: float) -> Contact | None:
        """The agent is free: it takes the first waiting contact of its queues (returned), or
        goes to the back of their pools."""
        agent = self.agents[agent_id]
        for entry in agent.entries:
            if entry.waiting:
                return self.take(agent, entry.waiting.popleft(), at)
        agent.free = True
        for entry in agent.entries:
            entry.copies += 1
            entry.pool.append(entry)
        return None

    def take(self, agent: Agent, contact: Contact, at: float) -> Contact:
        agent.free = False  # its entries in its other queues are skipped from now on
        contact.agent = agent
        return contact


class FloorRouterWithMaps(FloorRouter):
    """The floor, keeping and touching the engine's per-agent dictionaries as it does (each
    agent an `AgentWithMaps`, made by `new_agent`)."""

    def __init__(self, agents: int, seed: int) -> None:
        self.offer_numbers = itertools.count(1)
        super().__init__(agents, seed)

    def new_agent(self, agent_id: str) -> Agent:
        return AgentWithMaps(agent_id)

    def take(self, agent: Agent, contact: Contact, at: float) -> Contact:
        maps = cast(AgentWithMaps, agent)
        channel = contact.channel
        maps.offers[contact.id] = contact
        maps.load[channel] = maps.load.get(channel, 0) + 1
        maps.idle[channel] = at
        maps.last_offer[contact.queue_id] = next(self.offer_numbers)
        return super().take(agent, contact, at)

    def accepted(self, contact_id: str) -> Contact:
        contact = super().accepted(contact_id)
        agent = cast(AgentWithMaps, contact.agent)
        del agent.offers[contact_id]
        agent.active[contact_id] = contact
        return contact

    def ended(self, contact_id: str, at: float) -> Contact | None:
        contact = self.contacts[contact_id]
        agent = cast(AgentWithMaps, contact.agent)
        del agent.active[contact_id]
        agent.load[contact.channel] -= 1
        agent.idle[contact.channel] = at
        return super().ended(contact_id, at)


def floor_ns_per_event(agents: int, events: int, warmup_events: int, *, maps: bool,
                       seed: int = 7) -> float:
    """Steady-state mean time per floor event (Poisson arrivals at LOAD, exponential handle)."""
    router = (FloorRouterWithMaps if maps else FloorRouter)(agents, seed)
    rng = random.Random(seed + 1)
    for agent_id in router.agents:
        router.freed(agent_id, 0.0)
    queue_ids = list(router.pools)
    arrival_rate = agents * LOAD / HANDLE_S
    future: list[tuple[float, int, int, str]] = [(0.0, 0, QUEUED, "")]
    ties = 0
    timed_ns: list[int] = []
    for number in range(warmup_events + events):
        at, _, what, contact_id = heapq.heappop(future)
        if what == QUEUED:
            contact_id, queue_id = f"c{number}", rng.choice(queue_ids)
            started = time.perf_counter_ns()
            taken = router.queued(contact_id, queue_id, at)
        elif what == ACCEPTED:
            started = time.perf_counter_ns()
            router.accepted(contact_id)
            taken = None
        else:
            started = time.perf_counter_ns()
            taken = router.ended(contact_id, at)
        elapsed = time.perf_counter_ns() - started
        if number >= warmup_events:
            timed_ns.append(elapsed)
        if what == QUEUED:
            ties += 1
            heapq.heappush(future, (at + rng.expovariate(arrival_rate), ties, QUEUED, ""))
        elif what == ACCEPTED:
            ties += 1
            heapq.heappush(future, (at + rng.expovariate(1 / HANDLE_S), ties, ENDED,
                                    contact_id))
        if taken is not None:
            ties += 1
            heapq.heappush(future, (at + rng.uniform(1, 4), ties, ACCEPTED, taken.id))
    return sum(timed_ns) / len(timed_ns)


def growth(per_size: dict[int, float]) -> tuple[float, float]:
    """Extra ns per event at the largest size over the smallest, and their ratio."""
    largest, smallest = per_size[max(per_size)], per_size[min(per_size)]
    return largest - smallest, largest / smallest


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 events per size, one run")
    parser.add_argument("--agent-maps", action="store_true",
                        help="the floor keeps the engine's per-agent dictionaries too")
    args = parser.parse_args()
    events, repeat = (20_000, 1) if args.quick else (200_000, 3)
    warmup_s = WARMUP_S / 2 if args.quick else WARMUP_S
    floor_runs: dict[int, list[float]] = {n: [] for n in SIZES}
    engine_runs: dict[int, list[float]] = {n: [] for n in SIZES}
    for _ in range(repeat):
        for n in SIZES:
            floor_runs[n].append(floor_ns_per_event(n, events, warmup_events=20 * n + 20_000,
                                                    maps=args.agent_maps))
            engine_runs[n].append(1e9 / measure(n, events, warmup_s, freeze=False)
                                  ["events_per_s"])
    floor = {n: statistics.median(v) for n, v in floor_runs.items()}
    engine = {n: statistics.median(v) for n, v in engine_runs.items()}
    floor_extra, floor_spread = growth(floor)
    engine_extra, engine_spread = growth(engine)
    allowance = engine[min(SIZES)] / 2
    print(f"medians of {repeat} run(s), {events:,} timed events per size; ns per event; "
          f"the floor {'with' if args.agent_maps else 'without'} the engine's per-agent maps")
    print(f"{'agents':>7} {'floor':>7} {'engine':>7}")
    for n in SIZES:
        print(f"{n:>7} {floor[n]:>7.0f} {engine[n]:>7.0f}")
    print(f"growth {min(SIZES):,} → {max(SIZES):,} agents: floor +{floor_extra:.0f} ns "
          f"({floor_spread:.2f}×), engine +{engine_extra:.0f} ns ({engine_spread:.2f}×); "
          f"flat to 1.5× allows the engine +{allowance:.0f} ns")
    figures: dict[str, float | int] = {}
    for n in SIZES:
        figures[f"floor_ns_per_event_{n}_agents"] = round(floor[n])
        figures[f"engine_ns_per_event_{n}_agents"] = round(engine[n])
    figures |= {"floor_extra_ns": round(floor_extra), "floor_spread": round(floor_spread, 2),
                "engine_extra_ns": round(engine_extra),
                "engine_spread": round(engine_spread, 2),
                "flat_allowance_ns": round(allowance), "timed_events_per_size": events,
                "repeats": repeat, "agent_maps": args.agent_maps}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
