"""Small builders and a harness that drives a RoutingEngine with a moving clock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from omnidesk.routing import (
    AgentConfig,
    AgentConfigured,
    AgentState,
    AgentStateChanged,
    Decision,
    DesktopConnected,
    EngineConfig,
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
    Tick,
)

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC, a Tuesday


def requirement(skills: Mapping[str, int] | None = None,
                expression: str | None = None) -> Requirement:
    """A queue requirement from plain values."""
    return Requirement(MappingProxyType(dict(skills or {})), expression)


def queue(queue_id: str = "q", channel: str = "voice", **settings: Any) -> QueueConfig:
    """A queue config with defaults suited to tests."""
    return QueueConfig(queue_id=queue_id, channel=channel, **settings)


def agent(agent_id: str, skills: Mapping[str, int] | None = None,
          queues: Iterable[str | QueueMembership] = ("q",), **settings: Any) -> AgentConfig:
    """An agent config; plain queue ids become priority-1 memberships."""
    profile = tuple(QueueMembership(q) if isinstance(q, str) else q for q in queues)
    return AgentConfig(agent_id=agent_id, skills=MappingProxyType(dict(skills or {})),
                       profile=profile, **settings)


def offers(decisions: Iterable[Decision]) -> list[tuple[str, str]]:
    """The (interaction, agent) pairs offered in a batch of decisions."""
    return [(x.interaction_id, x.agent_id) for x in decisions if isinstance(x, OfferCreated)]


class Harness:
    """Drives an engine; ``now`` moves only with ``advance``."""

    def __init__(self, config: EngineConfig | None = None, start: float = T0) -> None:
        self.engine = RoutingEngine(config)
        self.now = start
        self.decisions: list[Decision] = []

    def send(self, event: RoutingEvent) -> list[Decision]:
        """Handle one event and remember its decisions."""
        out = self.engine.handle(event)
        self.decisions.extend(out)
        return out

    def advance(self, seconds: float) -> list[Decision]:
        """Move the clock and fire the timers now due."""
        self.now += seconds
        return self.send(Tick(self.now))

    def add_queue(self, config: QueueConfig | None = None, **settings: Any) -> list[Decision]:
        """Configure a queue."""
        return self.send(QueueConfigured(self.now, config or queue(**settings)))

    def add_agent(self, agent_id: str, skills: Mapping[str, int] | None = None,
                  queues: Iterable[str | QueueMembership] = ("q",), available: bool = True,
                  **settings: Any) -> list[Decision]:
        """Configure an agent, connect its desktop and (by default) make it available."""
        out = self.send(AgentConfigured(self.now, agent(agent_id, skills, queues, **settings)))
        out += self.send(DesktopConnected(self.now, agent_id))
        if available:
            out += self.set_state(agent_id, AgentState.AVAILABLE)
        return out

    def set_state(self, agent_id: str, state: AgentState, reason: str = "") -> list[Decision]:
        """Change an agent's state."""
        return self.send(AgentStateChanged(self.now, agent_id, state, reason))

    def arrive(self, interaction_id: str, queue_id: str = "q", **fields: Any) -> list[Decision]:
        """A contact arrives in a queue now."""
        return self.send(InteractionQueued(self.now, interaction_id, queue_id, **fields))

    def accept(self, interaction_id: str, agent_id: str) -> list[Decision]:
        """The agent accepts the offer."""
        return self.send(OfferAccepted(self.now, interaction_id, agent_id))

    def reject(self, interaction_id: str, agent_id: str) -> list[Decision]:
        """The agent rejects the offer."""
        return self.send(OfferRejected(self.now, interaction_id, agent_id))

    def end(self, interaction_id: str, handle_time_s: float = 60.0) -> list[Decision]:
        """The connected interaction ends."""
        return self.send(InteractionEnded(self.now, interaction_id, handle_time_s))

    def cancel(self, interaction_id: str) -> list[Decision]:
        """The customer leaves."""
        return self.send(InteractionCancelled(self.now, interaction_id))
