"""Agent-selection strategies, each through the engine."""

from __future__ import annotations

from omnidesk.routing import StrategyName

from .builders import Harness, offers, requirement


def test_longest_idle_offers_to_the_agent_free_longest_on_the_channel() -> None:
    h = Harness()
    h.add_queue(strategy=StrategyName.LONGEST_IDLE)
    h.add_agent("a1")
    h.advance(5)
    h.add_agent("a2")
    h.arrive("i1")
    h.accept("i1", "a1")
    h.advance(5)
    h.end("i1")
    assert offers(h.arrive("i2")) == [("i2", "a2")]


def test_least_occupied_offers_to_the_agent_with_the_lowest_load() -> None:
    h = Harness()
    h.add_queue(channel="chat", strategy=StrategyName.LEAST_OCCUPIED)
    h.add_agent("busy", capacity={"chat": 3})
    h.arrive("c1")
    h.advance(1)
    h.add_agent("free", capacity={"chat": 3})
    assert offers(h.arrive("c2")) == [("c2", "free")]
    assert offers(h.arrive("c3")) == [("c3", "busy")]  # equal load, busy idle longer


def test_round_robin_rotates_through_the_agents() -> None:
    h = Harness()
    h.add_queue(channel="chat", strategy=StrategyName.ROUND_ROBIN)
    for name in ("a1", "a2", "a3"):
        h.add_agent(name, capacity={"chat": 5})
    got = [offers(h.arrive(f"c{n}"))[0][1] for n in range(6)]
    assert got == ["a1", "a2", "a3", "a1", "a2", "a3"]


def test_most_skilled_offers_to_the_highest_proficiency() -> None:
    h = Harness()
    h.add_queue(strategy=StrategyName.MOST_SKILLED,
                requirement=requirement({"billing": 1, "french": 1}))
    h.add_agent("ok", {"billing": 3, "french": 3})
    h.add_agent("best", {"billing": 5, "french": 4})
    assert offers(h.arrive("i1")) == [("i1", "best")]


def test_most_skilled_breaks_ties_by_longest_idle() -> None:
    h = Harness()
    h.add_queue(strategy=StrategyName.MOST_SKILLED, requirement=requirement({"billing": 1}))
    h.add_agent("late", {"billing": 4}, available=False)
    h.add_agent("early", {"billing": 4})
    h.advance(10)
    h.set_state("late", h.engine.agent_status("early").state)
    assert offers(h.arrive("i1")) == [("i1", "early")]
