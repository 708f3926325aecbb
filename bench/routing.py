"""Routing engine benchmark: decisions per second and latency per engine call.

Builds a contact center of N agents (10,000 / 1,000 / 100), N/20 queues, 50 skills,
channels voice / chat / email, agents with 3–8 skills serving several queues, then
drives a steady simulated stream (arrivals, accepts, some rejects and timeouts,
abandons, ends, breaks) through ``RoutingEngine.handle`` and times every call with
``time.perf_counter_ns``. Only engine calls are timed, not the simulator around them.

Run: ``.venv/bin/python bench/routing.py`` (``--quick`` for a short run). The last
line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import MappingProxyType

from omnidesk.routing import (
    AgentConfig,
    AgentConfigured,
    AgentState,
    AgentStateChanged,
    AgentStateForced,
    Decision,
    DesktopConnected,
    EscalationStep,
    InteractionCancelled,
    InteractionEnded,
    InteractionQueued,
    OfferAccepted,
    OfferCreated,
    OfferRejected,
    QueueConfig,
    QueueConfigured,
    QueueMembership,
    Requirement,
    RoutingEngine,
    RoutingEvent,
    StrategyName,
)

SKILLS = [f"skill{n:02d}" for n in range(50)]
CHANNELS = (("voice", 0.5, 240.0), ("chat", 0.3, 420.0), ("email", 0.2, 600.0))
STRATEGY_MIX = (StrategyName.LONGEST_IDLE, StrategyName.LONGEST_IDLE,
                StrategyName.MOST_SKILLED, StrategyName.LEAST_OCCUPIED,
                StrategyName.ROUND_ROBIN)
START = 1_700_000_000.0


def build_queues(count: int, rng: random.Random) -> list[QueueConfig]:
    """Queues with 1–2 required skills, a channel, a strategy and one or two escalation steps."""
    queues = []
    for number in range(count):
        channel = rng.choices([c for c, _, _ in CHANNELS], [w for _, w, _ in CHANNELS])[0]
        skills = {s: rng.randint(1, 3) for s in rng.sample(SKILLS, rng.randint(1, 2))}
        steps = [EscalationStep(after_s=60.0, lower_proficiency_by=1)]
        if rng.random() < 0.3:
            steps.append(EscalationStep(after_s=180.0, drop_skills=frozenset(list(skills)[:1])))
        queues.append(QueueConfig(
            queue_id=f"q{number}", channel=channel,
            requirement=Requirement(MappingProxyType(skills)),
            strategy=rng.choice(STRATEGY_MIX), ageing_per_s=0.01,
            escalation=tuple(steps), max_wait_s=900.0))
    return queues


def build_agents(count: int, queues: list[QueueConfig], rng: random.Random) -> list[AgentConfig]:
    """Agents serving 3–6 queues, skilled enough for them, 3–8 skills in all."""
    agents = []
    for number in range(count):
        served = rng.sample(queues, min(len(queues), rng.randint(3, 6)))
        skills: dict[str, int] = {}
        for q in served:
            for name, level in q.requirement.skills.items():
                if len(skills) < 8 or name in skills:
                    skills[name] = max(skills.get(name, 0), rng.randint(level, 5))
        while len(skills) < 3:
            skills[rng.choice(SKILLS)] = rng.randint(1, 5)
        profile = tuple(QueueMembership(q.queue_id, priority=rng.randint(1, 2),
                                        delay_s=rng.choice((0.0, 0.0, 0.0, 30.0)))
                        for q in served)
        agents.append(AgentConfig(f"a{number}", MappingProxyType(skills), profile=profile))
    return agents


@dataclass
class Stats:
    """Timings of the engine calls of one run."""

    latencies_ns: list[int] = field(default_factory=list)
    decisions: int = 0
    offers: int = 0

    def summary(self) -> dict[str, float]:
        """Throughput and latency percentiles."""
        ordered = sorted(self.latencies_ns)
        total_s = sum(ordered) / 1e9
        return {
            "calls": len(ordered),
            "decisions": self.decisions,
            "calls_per_s": len(ordered) / total_s,
            "decisions_per_s": self.decisions / total_s,
            "p50_ms": ordered[len(ordered) // 2] / 1e6,
            "p99_ms": ordered[int(len(ordered) * 0.99)] / 1e6,
            "max_ms": ordered[-1] / 1e6,
        }


class Driver:
    """A small discrete-event simulation around one engine; only engine calls are timed."""

    def __init__(self, agents: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.engine = RoutingEngine()
        self.queues = build_queues(max(10, agents // 20), self.rng)
        self.agents = build_agents(agents, self.queues, self.rng)
        self.handle_times = {c: h for c, _, h in CHANNELS}
        self.channel_of = {q.queue_id: q.channel for q in self.queues}
        self.arrival_rate = agents * 0.9 / 300.0
        self.future: list[tuple[float, int, Callable[[float], RoutingEvent | None]]] = []
        self.counter = itertools.count()
        self.contacts = itertools.count()
        self.connected: set[str] = set()
        self.stats: Stats | None = None

    def setup(self) -> None:
        """Configure queues and agents, make everybody available, start arrivals."""
        for q in self.queues:
            self.call(QueueConfigured(START, q))
        for a in self.agents:
            self.call(AgentConfigured(START, a))
            self.call(DesktopConnected(START, a.agent_id))
            self.call(AgentStateChanged(START, a.agent_id, AgentState.AVAILABLE))
        self.later(START, self.arrival)

    def later(self, at: float, make: Callable[[float], RoutingEvent | None]) -> None:
        """Schedule a simulated happening."""
        heapq.heappush(self.future, (at, next(self.counter), make))

    def run(self, calls: int, stats: Stats | None) -> None:
        """Process simulated happenings until ``calls`` engine calls were made."""
        self.stats = stats
        made = 0
        while made < calls:
            at, _, make = heapq.heappop(self.future)
            event = make(at)
            if event is not None:
                self.call(event)
                made += 1

    def call(self, event: RoutingEvent) -> None:
        """One timed engine call, then react to its decisions."""
        started = time.perf_counter_ns()
        decisions = self.engine.handle(event)
        elapsed = time.perf_counter_ns() - started
        if self.stats is not None:
            self.stats.latencies_ns.append(elapsed)
            self.stats.decisions += len(decisions)
        for decision in decisions:
            self.react(decision)

    def react(self, decision: Decision) -> None:
        """Agents accept most offers, reject some, let a few time out."""
        if isinstance(decision, OfferCreated):
            roll = self.rng.random()
            if roll < 0.94:
                self.later(decision.at + self.rng.uniform(1, 4), self.accept(decision))
            elif roll < 0.98:
                self.later(decision.at + 2, self.reject(decision))
        elif isinstance(decision, AgentStateForced) and decision.state is AgentState.MISSED:
            self.later(decision.at + 15, lambda at, a=decision.agent_id: AgentStateChanged(
                at, a, AgentState.AVAILABLE))

    def still_offered(self, offer: OfferCreated) -> bool:
        """True while the offer is live (the customer may have left meanwhile)."""
        return offer.interaction_id in self.engine.agent_status(offer.agent_id).offered

    def reject(self, offer: OfferCreated) -> Callable[[float], RoutingEvent | None]:
        """Reject the offer if it is still live."""
        def make(at: float) -> RoutingEvent | None:
            if not self.still_offered(offer):
                return None
            return OfferRejected(at, offer.interaction_id, offer.agent_id)
        return make

    def accept(self, offer: OfferCreated) -> Callable[[float], RoutingEvent | None]:
        """Accept, then end after a channel-typical handle time."""
        def make(at: float) -> RoutingEvent | None:
            if not self.still_offered(offer):
                return None
            self.connected.add(offer.interaction_id)
            handle = self.rng.expovariate(1 / self.handle_times[offer.channel])
            self.later(at + handle, self.end(offer.interaction_id, offer.agent_id, handle))
            return OfferAccepted(at, offer.interaction_id, offer.agent_id)
        return make

    def end(self, interaction_id: str, agent_id: str,
            handle: float) -> Callable[[float], RoutingEvent | None]:
        """End the interaction; now and then the agent takes a break."""
        def make(at: float) -> RoutingEvent | None:
            self.connected.discard(interaction_id)
            if self.rng.random() < 0.02:
                self.later(at + 0.5, lambda t: AgentStateChanged(t, agent_id, AgentState.BREAK))
                self.later(at + 120, lambda t: AgentStateChanged(t, agent_id,
                                                                 AgentState.AVAILABLE))
            return InteractionEnded(at, interaction_id, handle)
        return make

    def arrival(self, at: float) -> RoutingEvent:
        """A new contact; some abandon if still waiting after their patience."""
        self.later(at + self.rng.expovariate(self.arrival_rate), self.arrival)
        interaction_id = f"i{next(self.contacts)}"
        q = self.rng.choice(self.queues)
        patience = self.rng.expovariate(1 / 240.0)
        self.later(at + patience, lambda t: None if interaction_id in self.connected
                   else InteractionCancelled(t, interaction_id))
        return InteractionQueued(at, interaction_id, q.queue_id, priority=self.rng.randint(0, 2))


def measure(agents: int, calls: int, seed: int = 7) -> dict[str, float]:
    """Build, warm up, then time ``calls`` engine calls."""
    driver = Driver(agents, seed)
    driver.setup()
    driver.run(calls // 4, None)
    stats = Stats()
    driver.run(calls, stats)
    result = stats.summary()
    result["queues"] = len(driver.queues)
    result["waiting_at_end"] = sum(driver.engine.queue_status(q.queue_id, START).in_queue
                                   for q in driver.queues)
    return result


def main() -> None:
    """Run the three sizes and print a table, then the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (a few seconds)")
    args = parser.parse_args()
    calls = 20_000 if args.quick else 200_000
    results = {n: measure(n, calls) for n in (10_000, 1_000, 100)}
    print(f"{'agents':>7} {'queues':>6} {'calls':>8} {'decisions':>9} {'calls/s':>9} "
          f"{'decisions/s':>11} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'waiting':>7}")
    for n, r in results.items():
        print(f"{n:>7} {r['queues']:>6.0f} {r['calls']:>8.0f} {r['decisions']:>9.0f} "
              f"{r['calls_per_s']:>9.0f} {r['decisions_per_s']:>11.0f} {r['p50_ms']:>7.3f} "
              f"{r['p99_ms']:>7.3f} {r['max_ms']:>7.3f} {r['waiting_at_end']:>7.0f}")
    big = results[10_000]
    figures = {
        "decisions_per_s": round(big["decisions_per_s"]),
        "calls_per_s": round(big["calls_per_s"]),
        "p50_ms": round(big["p50_ms"], 4),
        "p99_ms": round(big["p99_ms"], 4),
    }
    for n in (1_000, 100):
        figures[f"decisions_per_s_{n}_agents"] = round(results[n]["decisions_per_s"])
        figures[f"calls_per_s_{n}_agents"] = round(results[n]["calls_per_s"])
        figures[f"p99_ms_{n}_agents"] = round(results[n]["p99_ms"], 4)
    figures["timed_calls_per_size"] = calls
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
