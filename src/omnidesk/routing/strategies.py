"""Agent-selection strategies: each a small function giving an agent's key in a queue.

The queue offers to the available eligible agent with the smallest key. Keys are
recomputed only when the agent changes (state, load, offer), so the per-queue
pools stay ordered without scanning agents.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from omnidesk.routing.model import StrategyName
from omnidesk.routing.pools import AgentKey
from omnidesk.routing.state import AgentRuntime, Membership, Strategy


def longest_idle(agent: AgentRuntime, membership: Membership) -> AgentKey:
    """Who has been free longest on the queue's channel goes first."""
    return (agent.idle_since(membership.channel),)


def least_occupied(agent: AgentRuntime, membership: Membership) -> AgentKey:
    """Lowest load / capacity summed over channels, then longest idle."""
    return (agent.occupancy(), agent.idle_since(membership.channel))


def round_robin(agent: AgentRuntime, membership: Membership) -> AgentKey:
    """Whoever this queue offered to least recently (never offered goes first)."""
    return (agent.last_offer.get(membership.queue.id, 0), agent.seq)


def most_skilled(agent: AgentRuntime, membership: Membership) -> AgentKey:
    """Highest proficiency summed over the queue's skills, then longest idle."""
    return (-membership.skill_score, agent.idle_since(membership.channel))


STRATEGIES: Mapping[StrategyName, Strategy] = MappingProxyType({
    StrategyName.LONGEST_IDLE: longest_idle,
    StrategyName.LEAST_OCCUPIED: least_occupied,
    StrategyName.ROUND_ROBIN: round_robin,
    StrategyName.MOST_SKILLED: most_skilled,
})

LONGEST_IDLE_KIND = 0
MOST_SKILLED_KIND = 1
LEAST_OCCUPIED_KIND = 2
ROUND_ROBIN_KIND = 3
OTHER_KIND = -1

FAST_PATHS: Mapping[Strategy, int] = MappingProxyType({
    longest_idle: LONGEST_IDLE_KIND,
    most_skilled: MOST_SKILLED_KIND,
    least_occupied: LEAST_OCCUPIED_KIND,
    round_robin: ROUND_ROBIN_KIND,
})
"""The built-in strategies the engine computes inline when it re-places an agent
(``RoutingEngine._reindex``), as ``(key, tie)`` with the same order as the function's
key; any other strategy is called. tests/routing/test_pools.py checks they agree."""
