"""Properties over random event sequences (hypothesis)."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from omnidesk.routing import (
    AgentState,
    Decision,
    DesktopConnected,
    DesktopDisconnected,
    EngineConfig,
    EscalationStep,
    InteractionAssigned,
    OfferAccepted,
    OfferCreated,
    OfferExpired,
    OfferRejected,
    OfferWithdrawn,
    QueueOutcome,
    StrategyName,
)
from omnidesk.routing.model import DEFAULT_BLENDING

from .builders import Harness, queue, requirement

QUEUES = (
    queue("voice", "voice", requirement=requirement({"billing": 3}),
          escalation=(EscalationStep(after_s=40, lower_proficiency_by=1),), offer_timeout_s=15),
    queue("chat", "chat", requirement=requirement(
        expression="agent.language == contact.language OR skill.billing >= 5"),
        strategy=StrategyName.LEAST_OCCUPIED, max_wait_s=200),
    queue("email", "email", strategy=StrategyName.ROUND_ROBIN,
          escalation=(EscalationStep(after_s=60, overflow_to="voice"),)),
)
STATES = (AgentState.AVAILABLE, AgentState.AVAILABLE, AgentState.BREAK, AgentState.OFFLINE)
LANGUAGES = ("fr", "de")

agents_strategy = st.lists(
    st.tuples(st.integers(1, 5), st.sampled_from(LANGUAGES),
              st.sets(st.sampled_from(["voice", "chat", "email"]), min_size=1),
              st.integers(1, 3)),
    min_size=1, max_size=5)

operations = st.lists(st.one_of(
    st.tuples(st.just("arrive"), st.sampled_from(["voice", "chat", "email"]),
              st.integers(0, 3), st.sampled_from(LANGUAGES)),
    st.tuples(st.just("accept"), st.integers(0, 10)),
    st.tuples(st.just("reject"), st.integers(0, 10)),
    st.tuples(st.just("end"), st.integers(0, 10)),
    st.tuples(st.just("cancel"), st.integers(0, 30)),
    st.tuples(st.just("state"), st.integers(0, 4), st.sampled_from(STATES)),
    st.tuples(st.just("desktop"), st.integers(0, 4), st.booleans()),
    st.tuples(st.just("wait"), st.integers(0, 45)),
), max_size=40)


@dataclass
class Shadow:
    """What the decisions say is live, checked after every event."""

    live_offers: dict[str, str] = field(default_factory=dict)
    connected: dict[str, str] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    arrived: list[str] = field(default_factory=list)


def check(h: Harness, shadow: Shadow, out: list[Decision], skills: dict[str, int]) -> None:
    """Apply decisions to the shadow and assert the safety properties."""
    for decision in out:
        if isinstance(decision, OfferCreated):
            assert decision.interaction_id not in shadow.live_offers, "two live offers"
            assert decision.interaction_id not in shadow.connected, "offer while connected"
            status = h.engine.agent_status(decision.agent_id)
            assert status.routable, "offer to a disconnected agent"
            if decision.queue_id == "voice":
                assert skills[decision.agent_id] >= 2, "offer to an agent lacking the skill"
            shadow.live_offers[decision.interaction_id] = decision.agent_id
        elif isinstance(decision, OfferWithdrawn | OfferExpired):
            assert shadow.live_offers.pop(decision.interaction_id) == decision.agent_id
        elif isinstance(decision, QueueOutcome):
            assert decision.interaction_id not in shadow.live_offers
            shadow.gone.add(decision.interaction_id)
    for agent_id in skills:
        status = h.engine.agent_status(agent_id)
        if status.offered:
            assert status.state is AgentState.AVAILABLE, "live offer to unavailable agent"
        capacity = {"voice": 1, "chat": 2, "email": 3}
        for channel, load in status.load.items():
            assert load <= capacity[channel], "over capacity"
            for blocked in DEFAULT_BLENDING.get(channel, frozenset()):
                assert not status.load.get(blocked), "blending violated"
        for interaction_id in status.offered:
            assert shadow.live_offers.get(interaction_id) == agent_id


def run(h: Harness, shadow: Shadow, op: tuple[object, ...], agent_ids: list[str]) -> list[Decision]:
    """Turn one generated operation into engine events."""
    kind = op[0]
    if kind == "arrive":
        interaction_id = f"i{len(shadow.arrived)}"
        shadow.arrived.append(interaction_id)
        return h.arrive(interaction_id, str(op[1]), priority=int(str(op[2])),
                        attributes={"language": op[3]})
    if kind in ("accept", "reject") and shadow.live_offers:
        offers = sorted(shadow.live_offers.items())
        interaction_id, agent_id = offers[int(str(op[1])) % len(offers)]
        del shadow.live_offers[interaction_id]
        if kind == "accept":
            shadow.connected[interaction_id] = agent_id
            return h.send(OfferAccepted(h.now, interaction_id, agent_id))
        return h.send(OfferRejected(h.now, interaction_id, agent_id))
    if kind == "end" and shadow.connected:
        interaction_id = sorted(shadow.connected)[int(str(op[1])) % len(shadow.connected)]
        del shadow.connected[interaction_id]
        return h.end(interaction_id)
    if kind == "cancel" and shadow.arrived:
        interaction_id = shadow.arrived[int(str(op[1])) % len(shadow.arrived)]
        shadow.live_offers.pop(interaction_id, None)
        shadow.connected.pop(interaction_id, None)
        out = h.cancel(interaction_id)
        return [x for x in out if not (isinstance(x, OfferWithdrawn)
                                       and x.interaction_id == interaction_id)]
    if kind == "state":
        return h.set_state(agent_ids[int(str(op[1])) % len(agent_ids)], op[2])  # type: ignore[arg-type]
    if kind == "desktop":
        agent_id = agent_ids[int(str(op[1])) % len(agent_ids)]
        event = DesktopConnected if op[2] else DesktopDisconnected
        return h.send(event(h.now, agent_id))
    if kind == "wait":
        return h.advance(float(str(op[1])))
    return []


@settings(deadline=None, max_examples=150)
@given(agents_strategy, operations)
def test_random_events_keep_every_routing_invariant(
        agents: list[tuple[int, str, set[str], int]],
        ops: list[tuple[object, ...]]) -> None:
    h = Harness(EngineConfig(disconnect_grace_s=20,
                             default_capacity={"voice": 1, "chat": 2, "email": 3}))
    for config in QUEUES:
        h.add_queue(config)
    skills = {}
    shadow = Shadow()
    for n, (billing, language, queues, team) in enumerate(agents):
        agent_id = f"a{n}"
        skills[agent_id] = billing
        check(h, shadow, h.add_agent(agent_id, {"billing": billing}, queues=sorted(queues),
                                     attributes={"language": language}, team=str(team)),
              skills)
    for op in ops:
        check(h, shadow, run(h, shadow, op, list(skills)), skills)


@settings(deadline=None, max_examples=60)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 5)), min_size=1, max_size=25))
def test_offers_follow_priority_then_fifo(arrivals: list[tuple[int, int]]) -> None:
    h = Harness()
    h.add_queue()
    expected: list[tuple[int, float, int]] = []
    for n, (priority, gap) in enumerate(arrivals):
        h.arrive(f"i{n}", priority=priority)
        expected.append((-priority, h.now, n))
        h.advance(gap)
    h.add_agent("a1")
    served = []
    while True:
        live = h.engine.agent_status("a1").offered
        if not live:
            break
        served.append(live[0])
        h.accept(live[0], "a1")
        h.end(live[0])
    assert served == [f"i{n}" for *_, n in sorted(expected)]


@settings(deadline=None, max_examples=40)
@given(high_priority=st.integers(1, 5), ageing=st.sampled_from([0.05, 0.1, 0.5]),
       agents=st.integers(1, 3))
def test_with_ageing_a_low_priority_contact_is_eventually_offered(
        high_priority: int, ageing: float, agents: int) -> None:
    h = Harness()
    h.add_queue(ageing_per_s=ageing)
    for n in range(agents):
        h.add_agent(f"a{n}")
    h.arrive("low", priority=0)
    offered_low = False
    for step in range(int(high_priority / ageing) + 400):
        for _ in range(2):  # arrivals outpace the agents: the queue never drains
            h.arrive(f"h{step}-{_}", priority=high_priority)
        for n in range(agents):
            for interaction_id in h.engine.agent_status(f"a{n}").offered:
                offered_low = offered_low or interaction_id == "low"
                h.accept(interaction_id, f"a{n}")
                h.end(interaction_id)
        if offered_low:
            break
        h.advance(1)
    assert offered_low


def test_assigned_interactions_count_towards_capacity() -> None:
    h = Harness()
    h.add_queue()
    h.add_agent("a1")
    h.send(InteractionAssigned(h.now, "x", "a1", "q"))
    assert h.arrive("i1") == []
