"""Answers to the engine's queries: position and estimated wait, queue and agent status."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from omnidesk.routing.model import AgentState, Channel


@dataclass(frozen=True, slots=True)
class WaitEstimate:
    """Position in queue (1 = next) and estimated wait in seconds (None: nobody staffed)."""

    interaction_id: str
    queue_id: str
    position: int
    estimated_wait_s: float | None
    waited_s: float
    callback: bool


@dataclass(frozen=True, slots=True)
class QueueStatus:
    """Live figures of one queue."""

    queue_id: str
    in_queue: int
    waiting: int
    longest_wait_s: float
    staffed_capacity: int
    available_agents: int
    average_handle_time_s: float
    is_open: bool


@dataclass(frozen=True, slots=True)
class AgentStatus:
    """Live figures of one agent."""

    agent_id: str
    state: AgentState
    reason: str
    connected: bool
    routable: bool
    load: Mapping[Channel, int]
    offered: tuple[str, ...]
    active: tuple[str, ...]
