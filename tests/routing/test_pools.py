"""The agent pool's indexed heap against a plainly sorted list, over random changes."""

from __future__ import annotations

import random
from types import MappingProxyType
from typing import Any

import pytest

from omnidesk.routing.model import DEFAULT_BLENDING, AgentConfig, QueueConfig
from omnidesk.routing.state import AgentRuntime, Level, Membership, QueueRuntime
from omnidesk.routing.strategies import longest_idle


def members(count: int) -> tuple[Level, list[Membership]]:
    """One pool (a level of a queue) and the memberships of `count` agents in that queue."""
    queue = QueueRuntime(QueueConfig("q", channel="chat"), longest_idle, samples=10)
    level = Level(0.0)
    agents = [AgentRuntime(AgentConfig(f"a{seq}", MappingProxyType({})), seq, {"chat": 1},
                           DEFAULT_BLENDING) for seq in range(count)]
    return level, [Membership(agent, queue, level, 1, 0) for agent in agents]


def order(membership: Membership) -> tuple[Any, ...]:
    return (membership.key, membership.tie, membership.custom or (), membership.seq)


@pytest.mark.parametrize("custom", [False, True])
def test_the_pool_gives_agents_in_key_order_through_moves_removals_and_skips(custom: bool) -> None:
    rng = random.Random(5)
    level, memberships = members(40)
    pool = level.agents
    inside: set[int] = set()
    for _ in range(3000):
        membership = rng.choice(memberships)
        roll = rng.random()
        if roll < 0.6:
            key = float(rng.randint(0, 6))
            tie = float(rng.randint(0, 3))
            pool.place(membership, 0.0 if custom else key, 0.0 if custom else tie,
                       (key, tie) if custom else None)
            inside.add(membership.seq)
        elif roll < 0.9:
            pool.discard(membership)
            inside.discard(membership.seq)
        else:
            refused = {m.seq for m in memberships if rng.random() < 0.3}
            spare_seqs = {m.seq for m in memberships if rng.random() < 0.2}

            def verdict(agent: AgentRuntime, r: set[int] = refused,
                        s: set[int] = spare_seqs) -> bool | None:
                return None if agent.seq in s else agent.seq not in r

            chosen, spare = pool.best(verdict)
            ranked = sorted((m for m in memberships if m.seq in inside), key=order)
            takes = [m for m in ranked if m.seq not in refused and m.seq not in spare_seqs]
            spares = [m for m in ranked if m.seq in spare_seqs]
            spare_before = [m for m in spares if not takes or order(m) < order(takes[0])]
            assert chosen is (takes[0] if takes else None)
            assert spare is (spare_before[0] if spare_before else None)
        ranked = sorted((m for m in memberships if m.seq in inside), key=order)
        assert pool.head() is (ranked[0] if ranked else None)
        assert sorted(m.seq for m in pool.heap) == sorted(inside)
        assert all(m.index == position for position, m in enumerate(pool.heap))
        assert all(m.index == -1 for m in memberships if m.seq not in inside)
