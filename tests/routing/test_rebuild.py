"""Rebuilding an engine (restart, tenant moving process) gives the same routing."""

from __future__ import annotations

from omnidesk.routing import (
    AgentConfigured,
    AgentRestored,
    AgentState,
    AgentStateChanged,
    EscalationStep,
    InteractionAssigned,
    InteractionEnded,
    InteractionQueued,
    QueueConfigured,
    RoutingEngine,
    RoutingEvent,
    Tick,
)

from .builders import Harness, agent, queue, requirement


def busy_center() -> Harness:
    """Two queues, five agents, some contacts connected, some waiting, some declined."""
    h = Harness()
    h.add_queue(queue("sales", requirement=requirement({"sales": 2}), ageing_per_s=0.05,
                      escalation=(EscalationStep(after_s=90, lower_proficiency_by=1),)))
    h.add_queue(queue("support", "chat", max_wait_s=600))
    h.add_agent("a1", {"sales": 3}, queues=("sales", "support"))
    h.add_agent("a2", {"sales": 1}, queues=("sales",))
    h.add_agent("a3", {"sales": 5}, queues=("sales",))
    h.add_agent("a4", {}, queues=("support",), capacity={"chat": 1})
    h.add_agent("a5", {"sales": 2}, queues=("sales",), available=False)
    for n in range(6):
        h.arrive(f"s{n}", "sales", priority=n % 3)
        h.arrive(f"c{n}", "support")
        for interaction_id, agent_id in _live_offers(h):
            if interaction_id == "s2" and agent_id == "a1":
                h.reject(interaction_id, agent_id)
            else:
                h.accept(interaction_id, agent_id)
        h.advance(10)
    assert not _live_offers(h)
    return h


def _live_offers(h: Harness) -> list[tuple[str, str]]:
    live = []
    for agent_id in ("a1", "a2", "a3", "a4", "a5"):
        live += [(i, agent_id) for i in h.engine.agent_status(agent_id).offered]
    return live


def future(h: Harness) -> list[RoutingEvent]:
    """The same continuation for both engines."""
    t = h.now
    return [Tick(t + 30), InteractionEnded(t + 31, "s0", 80), Tick(t + 100),
            AgentStateChanged(t + 101, "a5", AgentState.AVAILABLE),
            InteractionQueued(t + 102, "late", "sales", priority=2),
            InteractionEnded(t + 103, "c0", 50), Tick(t + 700)]


def test_rebuilt_engine_routes_identically() -> None:
    original = busy_center()
    rebuilt = RoutingEngine()
    for event in original.engine.rebuild_events(original.now):
        rebuilt.handle(event)
    assert rebuilt.waiting("sales", original.now) == original.engine.waiting(
        "sales", original.now)
    for event in future(original):
        assert rebuilt.handle(event) == original.engine.handle(event)


def test_requeue_with_original_times_restores_order_and_wait_clocks() -> None:
    h = Harness()
    h.add_queue(queue("q", ageing_per_s=0.01))
    arrivals = [("i1", 0, 3), ("i2", 10, 1), ("i3", 20, 3), ("i4", 30, 0)]
    for interaction_id, offset, priority in arrivals:
        h.send(InteractionQueued(h.now + offset, interaction_id, "q", priority=priority))
    now = h.now + 400
    before = h.engine.waiting("q", now)

    fresh = RoutingEngine()
    fresh.handle(QueueConfigured(now, queue("q", ageing_per_s=0.01)))
    for interaction_id, offset, priority in reversed(arrivals):  # any order from the database
        fresh.handle(InteractionQueued(now, interaction_id, "q", priority=priority,
                                       queued_at=h.now + offset))
    assert fresh.waiting("q", now) == before


def test_rebuild_restores_agent_load_and_idle_order() -> None:
    engine = RoutingEngine()
    now = 1_700_000_000.0
    engine.handle(QueueConfigured(now, queue("q", "chat")))
    for name in ("a1", "a2"):
        engine.handle(AgentConfigured(now, agent(name, capacity={"chat": 2})))
    engine.handle(AgentRestored(now, "a1", AgentState.AVAILABLE, idle_since={"chat": now - 5}))
    engine.handle(AgentRestored(now, "a2", AgentState.AVAILABLE, idle_since={"chat": now - 50}))
    engine.handle(InteractionAssigned(now, "old", "a2", "q"))
    assert engine.agent_status("a2").load == {"chat": 1}
    first = engine.handle(InteractionQueued(now, "new", "q"))
    second = engine.handle(InteractionQueued(now, "newer", "q"))
    assert [getattr(x, "agent_id", "") for x in first + second] == ["a2", "a1"]
