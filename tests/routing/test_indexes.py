"""The engine's internal indexes stay exact: agent pools, strategy keys, room, timers.

These tests look inside the engine (private attributes) on purpose: the pools are
updated incrementally on every change, and a pool that drifts from what a from-scratch
computation gives would route wrongly only much later.
"""

from __future__ import annotations

import heapq
import random
from types import MappingProxyType
from typing import Any

from omnidesk.routing import (
    AgentConfig,
    AgentConfigured,
    AgentState,
    AgentStateChanged,
    Decision,
    DesktopConnected,
    DesktopDisconnected,
    EngineConfig,
    EscalationStep,
    InteractionCancelled,
    InteractionEnded,
    InteractionQueued,
    OfferAccepted,
    OfferCreated,
    OfferExpired,
    OfferRejected,
    OfferWithdrawn,
    QueueConfigured,
    QueueMembership,
    RoutingEngine,
    StrategyName,
    Tick,
)
from omnidesk.routing.model import DEFAULT_BLENDING
from omnidesk.routing.pools import before
from omnidesk.routing.state import AgentRuntime, blockers_of
from omnidesk.routing.strategies import OTHER_KIND
from omnidesk.routing.timers import TimerQueue

from .builders import T0, Harness, offers, queue, requirement

SKILLS = ("billing", "french", "tech")
CHANNELS = ("voice", "chat", "email")


def room(agent: AgentRuntime, channel: str) -> bool:
    """The room rule written out plainly (the engine keeps it incrementally)."""
    blending = agent.config.blending if agent.config.blending is not None else DEFAULT_BLENDING
    load = agent.load
    if load.get(channel, 0) >= agent.capacity.get(channel, 0):
        return False
    return not any(load.get(holder, 0) for holder, blocked in blending.items()
                   if channel in blocked)


def check_indexes(engine: RoutingEngine) -> None:
    """Every pool holds exactly the agents a from-scratch computation puts there."""
    engine_any: Any = engine
    queues = engine_any._queues
    for agent in engine_any._agents.values():
        profile = {m.queue_id: m for m in agent.config.profile}
        team_queues = {q.id for q in queues.values() if agent.config.team in q.tiers[-1].teams}
        expected = set()
        for queue_id in profile.keys() | team_queues:
            runtime = queues.get(queue_id)
            if runtime is None:
                continue
            entry = profile.get(queue_id)
            tier = runtime.first_admitting_tier(agent, in_profile=entry is not None)
            if tier is not None:
                expected.add((queue_id, max(tier.after_s, entry.delay_s if entry else 0.0)))
        assert {(m.queue.id, m.level.threshold) for m in agent.memberships} == expected
        ready = agent.state is AgentState.AVAILABLE and agent.routable
        for membership in agent.memberships:
            assert membership.queue is queues[membership.queue.id]
            assert membership.pool is membership.level.agents
            assert (membership.index >= 0) == (ready and room(agent, membership.channel))
            assert agent.can_take(membership.channel) == room(agent, membership.channel)
            if membership.index >= 0:
                key = membership.strategy(agent, membership)
                if membership.kind == OTHER_KIND:
                    assert membership.custom == key
                else:
                    assert (membership.key, membership.tie) == ((*key, 0.0))[:2]
    staffed = dict.fromkeys(queues, 0)
    for agent in engine_any._agents.values():
        if agent.routable and agent.state is not AgentState.OFFLINE:
            for membership in agent.memberships:
                staffed[membership.queue.id] += agent.capacity.get(membership.channel, 0)
    assert {q: runtime.staffed_capacity for q, runtime in queues.items()} == staffed
    for runtime in queues.values():
        for level in runtime.levels:
            heap = level.agents.heap
            assert len(heap) == len({id(m) for m in heap})
            for position, membership in enumerate(heap):
                assert membership.index == position
                assert membership.level is level
                assert membership.seq == membership.agent.seq
                assert membership in membership.agent.memberships
                if position:
                    assert not before(membership, heap[(position - 1) // 2])


def random_agent(rng: random.Random, number: int, queue_count: int) -> AgentConfig:
    skills = {s: rng.randint(1, 5) for s in rng.sample(SKILLS, rng.randint(0, 3))}
    profile = tuple(QueueMembership(f"q{q}", priority=rng.randint(1, 2),
                                    delay_s=rng.choice((0.0, 0.0, 20.0)))
                    for q in rng.sample(range(queue_count), rng.randint(1, queue_count)))
    capacity = None
    if rng.random() < 0.3:
        capacity = MappingProxyType({"voice": 1, "chat": rng.randint(1, 3), "email": 2})
    blending = None
    if rng.random() < 0.2:
        blending = MappingProxyType({"voice": frozenset({"chat"}), "email": frozenset({"voice"})})
    return AgentConfig(f"a{number}", MappingProxyType(skills),
                       team=rng.choice((None, "t1", "t2")), profile=profile,
                       capacity=capacity, blending=blending)


def random_queue(rng: random.Random, number: int) -> Any:
    skills = {s: rng.randint(1, 4) for s in rng.sample(SKILLS, rng.randint(0, 2))}
    steps = [EscalationStep(after_s=30.0, lower_proficiency_by=rng.randint(0, 2),
                            add_teams=frozenset(rng.sample(["t1", "t2"], rng.randint(0, 1))))]
    if rng.random() < 0.4:
        steps.append(EscalationStep(after_s=90.0, drop_skills=frozenset(list(skills)[:1])))
    return queue(f"q{number}", rng.choice(CHANNELS), requirement=requirement(skills),
                 strategy=rng.choice(list(StrategyName)), escalation=tuple(steps),
                 offer_timeout_s=rng.choice((5.0, 15.0)))


def note(decisions: list[Decision], live: dict[str, str]) -> None:
    """Track the live offers from the decisions."""
    for decision in decisions:
        if isinstance(decision, OfferCreated):
            live[decision.interaction_id] = decision.agent_id
        elif isinstance(decision, OfferWithdrawn | OfferExpired):
            live.pop(decision.interaction_id, None)


def test_pools_stay_exact_through_skill_profile_queue_and_state_changes() -> None:
    for seed in range(25):
        rng = random.Random(seed)
        engine = RoutingEngine(EngineConfig(disconnect_grace_s=10))
        now = T0
        queue_count = rng.randint(1, 4)
        for q in range(queue_count):
            engine.handle(QueueConfigured(now, random_queue(rng, q)))
        agent_count = rng.randint(1, 8)
        for a in range(agent_count):
            engine.handle(AgentConfigured(now, random_agent(rng, a, queue_count)))
            engine.handle(DesktopConnected(now, f"a{a}"))
            engine.handle(AgentStateChanged(now, f"a{a}", AgentState.AVAILABLE))
        live: dict[str, str] = {}
        connected: list[str] = []
        arrived = 0
        for _ in range(150):
            now += rng.choice((0.0, 1.0, 3.0, 12.0))
            note(engine.handle(Tick(now)), live)  # timers first: accepts below are valid
            agent_id = f"a{rng.randrange(agent_count)}"
            roll = rng.random()
            if roll < 0.3:
                arrived += 1
                out = engine.handle(InteractionQueued(
                    now, f"i{arrived}", f"q{rng.randrange(queue_count)}",
                    priority=rng.randint(0, 2),
                    required_skills=MappingProxyType(
                        {rng.choice(SKILLS): 2} if rng.random() < 0.2 else {})))
            elif roll < 0.5 and live:
                interaction_id = rng.choice(sorted(live))
                agent_of = live.pop(interaction_id)
                if rng.random() < 0.8:
                    connected.append(interaction_id)
                    out = engine.handle(OfferAccepted(now, interaction_id, agent_of))
                else:
                    out = engine.handle(OfferRejected(now, interaction_id, agent_of))
            elif roll < 0.62 and connected:
                out = engine.handle(InteractionEnded(
                    now, connected.pop(rng.randrange(len(connected))), 60.0))
            elif roll < 0.67 and arrived:
                interaction_id = f"i{rng.randint(1, arrived)}"
                live.pop(interaction_id, None)
                if interaction_id in connected:
                    connected.remove(interaction_id)
                out = engine.handle(InteractionCancelled(now, interaction_id))
            elif roll < 0.77:
                state = rng.choice((AgentState.AVAILABLE, AgentState.BREAK, AgentState.OFFLINE))
                out = engine.handle(AgentStateChanged(now, agent_id, state))
            elif roll < 0.84:
                event = DesktopConnected if rng.random() < 0.5 else DesktopDisconnected
                out = engine.handle(event(now, agent_id))
            elif roll < 0.92:  # new skills, profile, team, capacity or blending
                number = int(agent_id[1:])
                out = engine.handle(AgentConfigured(now, random_agent(rng, number, queue_count)))
            elif roll < 0.95:  # a queue changes its requirement, strategy or steps
                number = rng.randrange(queue_count)
                out = engine.handle(QueueConfigured(now, random_queue(rng, number)))
            else:
                out = engine.handle(Tick(now + rng.choice((5.0, 40.0))))
            note(out, live)
            check_indexes(engine)


def test_an_agent_moves_between_levels_when_its_skills_change() -> None:
    h = Harness()
    h.add_queue(requirement=requirement({"billing": 3}),
                escalation=(EscalationStep(after_s=60, lower_proficiency_by=2),))
    h.add_agent("a1", {"billing": 4})
    check_indexes(h.engine)
    h.send(AgentConfigured(h.now, AgentConfig("a1", MappingProxyType({"billing": 1}),
                                              profile=(QueueMembership("q"),))))
    check_indexes(h.engine)
    assert h.arrive("i1") == []  # below the base requirement: served from 60 s only
    assert offers(h.advance(60)) == [("i1", "a1")]
    h.accept("i1", "a1")
    h.end("i1")
    h.send(AgentConfigured(h.now, AgentConfig("a1", MappingProxyType({}),
                                              profile=(QueueMembership("q"),))))
    check_indexes(h.engine)
    assert h.arrive("i2") == []
    assert offers(h.advance(120)) == []  # meets no tier at all any more
    out = h.send(AgentConfigured(h.now, AgentConfig("a1", MappingProxyType({"billing": 5}),
                                                    profile=(QueueMembership("q"),))))
    assert offers(out) == [("i2", "a1")]
    check_indexes(h.engine)


def test_room_follows_load_and_blending() -> None:
    rng = random.Random(3)
    blendings = (DEFAULT_BLENDING, MappingProxyType({"voice": frozenset({"chat"})}))
    for blending in blendings:
        capacity = MappingProxyType({"voice": 1, "chat": 3, "email": 2})
        agent = AgentRuntime(AgentConfig("a", blending=blending), 1, capacity, blending,
                             blockers_of(blending))
        for _ in range(300):
            channel = rng.choice((*CHANNELS, "video"))
            if agent.load.get(channel, 0) and rng.random() < 0.5:
                agent.add_load(channel, -1)
            else:
                agent.add_load(channel, 1)
            assert agent.held == sum(1 for n in agent.load.values() if n)
            for other in (*CHANNELS, "video", "fax"):
                assert agent.can_take(other) == room(agent, other)


def test_timer_queue_pops_in_due_then_schedule_order() -> None:
    rng = random.Random(5)
    timers = TimerQueue(3)
    reference: list[tuple[float, int]] = []
    now = 0.0
    seq = 0
    popped: list[tuple[float, int]] = []
    for _ in range(3000):
        now += rng.choice((0.0, 0.5, 1.0))
        for _ in range(rng.randint(0, 3)):
            seq += 1
            kind = rng.randrange(3)
            delay = rng.choice((5.0, 20.0, 30.0))
            base = now - rng.choice((0.0, 0.0, 0.0, 17.0))  # some start in the past
            timers.push(base + delay, seq, kind, None, 0, delay)
            heapq.heappush(reference, (base + delay, seq))
        assert timers.next_due() == (reference[0][0] if reference else None)
        assert len(timers) == len(reference)
        while (entry := timers.pop_due(now)) is not None:
            popped.append((entry[0], entry[1]))
            assert heapq.heappop(reference) == popped[-1]
    assert (not reference and timers.next_due() is None) or reference[0][0] > now
