"""The simulator: agrees with Erlang C and A, reproduces seeded runs, drives the real engine."""

from __future__ import annotations

import math
import random

import pytest

from omnidesk.routing import AgentConfig, QueueConfig, QueueMembership, StrategyName
from omnidesk.wfm.erlang import WfmError
from omnidesk.wfm.simulate.core import Simulation, run
from omnidesk.wfm.simulate.distributions import (
    NEVER,
    Deterministic,
    Empirical,
    Exponential,
    Lognormal,
)
from omnidesk.wfm.simulate.model import (
    PoissonArrivals,
    ReplayedArrivals,
    Scenario,
    Shift,
    SimAgent,
    SimQueue,
    single_queue,
)
from omnidesk.wfm.simulate.results import simulate
from omnidesk.wfm.simulate.validation import validate
from omnidesk.wfm.simulate.whatif import parse_what_if

# 100,000 contacts take ~6 s each here; bench/wfm.py runs the same at 1,000,000.
CONTACTS = 100_000
# Batch means (20 batches) give the standard error; a correct simulator is within 4 SE
# (probability of a false alarm < 1e-4 per figure). Rates must also be within 1 point.
SE_MULTIPLE = 4.0


@pytest.mark.parametrize("patience_s", [None, 300.0], ids=["erlang_c", "erlang_a"])
@pytest.mark.parametrize(("agents", "traffic"), [(10, 8.0), (1, 0.3)], ids=["busy", "light"])
def test_simulator_agrees_with_erlang_c_and_erlang_a(agents: int, traffic: float,
                                                      patience_s: float | None) -> None:
    check = validate(agents=agents, traffic=traffic, aht_s=180.0, contacts=CONTACTS,
                     patience_s=patience_s, seed=1)
    assert check.model == ("erlang_c" if patience_s is None else "erlang_a")
    names = {c.name for c in check.comparisons}
    assert {"service_level", "asa", "probability_of_waiting"} <= names
    for comparison in check.comparisons:
        assert abs(comparison.difference) <= SE_MULTIPLE * comparison.standard_error, comparison
        if comparison.unit == "%":
            assert abs(comparison.difference) <= 1.0, comparison
            assert comparison.standard_error < 1.0, comparison  # the test has power


def _small(seed: int = 5, agents: int = 3, patience: float | None = 120.0) -> Scenario:
    return single_queue(agents=agents, arrivals_per_hour=50, handle_time=Exponential(180),
                        patience=NEVER if patience is None else Exponential(patience),
                        duration_s=4 * 3600, warmup_s=900, seed=seed)


def test_seeded_runs_reproduce_exactly() -> None:
    assert run(_small()) == run(_small())
    assert simulate(_small()).total == simulate(_small()).total
    assert run(_small(seed=6)) != run(_small())


def test_emits_the_servers_event_vocabulary_in_time_order() -> None:
    events = run(_small(agents=2))
    types = {kind for _, kind, _, _ in events}
    assert types == {"interaction.created", "interaction.queued", "offer.created",
                     "offer.accepted", "interaction.connected", "interaction.wrap_up_started",
                     "interaction.closed", "interaction.abandoned", "agent.state_changed"}
    times = [t for t, _, _, _ in events]
    assert times == sorted(times)


def test_every_contact_is_answered_or_abandoned_once() -> None:
    events = run(_small(agents=2))
    queued = {s for _, k, s, _ in events if k == "interaction.queued"}
    connected = [s for _, k, s, _ in events if k == "interaction.connected"]
    abandoned = [s for _, k, s, _ in events if k == "interaction.abandoned"]
    assert len(connected) == len(set(connected))
    assert set(connected).isdisjoint(abandoned)
    assert set(connected) | set(abandoned) == queued


def _two_agent_scenario(strategy: StrategyName) -> Scenario:
    queue = SimQueue(QueueConfig("q", "voice", strategy=strategy),
                     ReplayedArrivals(tuple(float(600 * k) for k in range(1, 11))),
                     handle_time=Deterministic(60))
    profile = (QueueMembership("q"),)
    agents = (SimAgent(AgentConfig("novice", skills={"q": 1}, profile=profile)),
              SimAgent(AgentConfig("expert", skills={"q": 5}, profile=profile)))
    return Scenario(queues=(queue,), agents=agents, duration_s=7200)


def test_routing_is_the_engines_own_strategy() -> None:
    def agents_used(strategy: StrategyName) -> set[str]:
        events = run(_two_agent_scenario(strategy))
        return {p["agent_id"] for _, k, _, p in events if k == "interaction.connected"}

    # most_skilled sums the queue's required skills; this queue requires none, so both
    # score 0 and longest idle decides: both agents work, in turn.
    assert agents_used(StrategyName.LONGEST_IDLE) == {"novice", "expert"}
    assert agents_used(StrategyName.ROUND_ROBIN) == {"novice", "expert"}


def test_most_skilled_strategy_sends_everything_to_the_expert() -> None:
    scenario = _two_agent_scenario(StrategyName.MOST_SKILLED)
    from dataclasses import replace

    from omnidesk.routing import Requirement

    queue = scenario.queues[0]
    skilled = replace(queue, config=replace(queue.config,
                                            requirement=Requirement(skills={"q": 1})))
    events = run(replace(scenario, queues=(skilled,)))
    assert {p["agent_id"] for _, k, _, p in events if k == "interaction.connected"} == {"expert"}


def test_contacts_wait_for_the_shift_and_abandon_without_agents() -> None:
    queue = SimQueue(QueueConfig("q", "voice"), ReplayedArrivals((10.0, 20.0)),
                     handle_time=Deterministic(30), patience=Deterministic(100))
    late = SimAgent(AgentConfig("late", profile=(QueueMembership("q"),)),
                    shifts=(Shift(50.0, 1000.0),))
    events = run(Scenario(queues=(queue,), agents=(late,), duration_s=900))
    connected = [(t, s) for t, k, s, _ in events if k == "interaction.connected"]
    assert connected == [(50.0, "c1"), (80.0, "c2")]
    abandoned = run(Scenario(queues=(queue,), agents=(), duration_s=900))
    assert [(t, s) for t, k, s, _ in abandoned if k == "interaction.abandoned"] == [
        (110.0, "c1"), (120.0, "c2")]


def test_chat_agents_take_several_contacts_at_once() -> None:
    queue = SimQueue(QueueConfig("chat", "chat"), ReplayedArrivals((1.0, 2.0, 3.0, 4.0)),
                     handle_time=Deterministic(100))
    agent = SimAgent(AgentConfig("a", profile=(QueueMembership("chat"),),
                                 capacity={"chat": 3}))
    events = run(Scenario(queues=(queue,), agents=(agent,), duration_s=600))
    connected = [t for t, k, _, _ in events if k == "interaction.connected"]
    assert connected == [1.0, 2.0, 3.0, 101.0]  # the fourth waits for a free slot


def test_wrap_up_counts_in_handle_time_and_holds_the_agent() -> None:
    queue = SimQueue(QueueConfig("q", "voice"), ReplayedArrivals((0.0, 1.0)),
                     handle_time=Deterministic(100), wrap_up=Deterministic(20))
    agent = SimAgent(AgentConfig("a", profile=(QueueMembership("q"),)))
    events = run(Scenario(queues=(queue,), agents=(agent,), duration_s=900))
    assert [t for t, k, _, _ in events if k == "interaction.connected"] == [0.0, 120.0]


def test_what_if_more_agents_improves_service_with_the_same_customers() -> None:
    base = _small(agents=3)
    what_if = parse_what_if(agents=["+2"])
    assert what_if is not None
    more = what_if.apply(base)
    assert len(more.agents) == 5
    before, after = simulate(base), simulate(more)
    assert after.total.offered == before.total.offered  # common random numbers
    assert (after.total.service_level_pct or 0) > (before.total.service_level_pct or 0)


def test_what_if_mix_scales_arrivals_and_bad_options_are_named() -> None:
    what_if = parse_what_if(mix=["voice=2"], strategy="most_skilled")
    assert what_if is not None
    doubled = what_if.apply(_small())
    arrivals = doubled.queues[0].arrivals
    assert isinstance(arrivals, PoissonArrivals) and arrivals.per_interval == (100.0,)
    assert doubled.queues[0].config.strategy is StrategyName.MOST_SKILLED
    with pytest.raises(WfmError, match="--strategy"):
        parse_what_if(strategy="fastest")
    with pytest.raises(WfmError, match="--agents"):
        parse_what_if(agents=["two"])
    with pytest.raises(WfmError, match="--mix: no queue or channel 'fax'"):
        parse_what_if(mix=["fax=2"]).apply(_small())  # type: ignore[union-attr]


def test_poisson_arrivals_follow_the_interval_table() -> None:
    process = PoissonArrivals((0.0, 3600.0), 3600.0)
    times = list(process.times(random.Random(1), 3 * 3600))
    assert all(t >= 3600 for t in times)  # nothing in the first, empty, hour
    assert abs(len(times) - 7200) < 4 * math.sqrt(7200)  # the last value repeats
    assert process.expected(3 * 3600) == 7200


@pytest.mark.parametrize("distribution", [
    Exponential(120.0), Lognormal(120.0, 60.0), Deterministic(120.0),
    Empirical.of([60.0, 120.0, 180.0]),
])
def test_distributions_have_their_mean(distribution: Exponential) -> None:
    rng = random.Random(3)
    draws = [distribution.sample(rng) for _ in range(40_000)]
    assert abs(sum(draws) / len(draws) - distribution.mean) < 0.02 * distribution.mean


def test_bad_distributions_are_refused() -> None:
    with pytest.raises(WfmError):
        Exponential(0.0)
    with pytest.raises(WfmError):
        Empirical(())


def test_max_contacts_stops_arrivals() -> None:
    simulation = Simulation(single_queue(agents=2, arrivals_per_hour=100,
                                         handle_time=Exponential(60), duration_s=1e9,
                                         max_contacts=500))
    events = list(simulation.events())
    assert simulation.counters.contacts == 500
    assert sum(1 for _, k, _, _ in events if k == "interaction.queued") == 500
