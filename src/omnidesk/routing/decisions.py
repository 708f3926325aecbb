"""What the engine decides: plain frozen records the server turns into events."""

from __future__ import annotations

from dataclasses import dataclass

from omnidesk.routing.model import AgentState, Channel, Outcome


@dataclass(frozen=True, slots=True)
class OfferCreated:
    """Offer the interaction to the agent until ``expires_at``."""

    at: float
    interaction_id: str
    agent_id: str
    queue_id: str
    channel: Channel
    expires_at: float


@dataclass(frozen=True, slots=True)
class OfferWithdrawn:
    """Take a live offer back (customer left, agent unavailable or disconnected)."""

    at: float
    interaction_id: str
    agent_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class OfferExpired:
    """The agent let the offer time out; the interaction goes back to the queue."""

    at: float
    interaction_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class InteractionEscalated:
    """An escalation step applied; ``overflow_to`` names the new queue if it moved."""

    at: float
    interaction_id: str
    queue_id: str
    step: int
    overflow_to: str | None = None


@dataclass(frozen=True, slots=True)
class QueueOutcome:
    """The queue will not keep the contact (closed, full, waited too long): apply ``outcome``."""

    at: float
    interaction_id: str
    queue_id: str
    cause: str
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class AgentStateForced:
    """The engine changed the agent's state (missed offer, desktop lost)."""

    at: float
    agent_id: str
    state: AgentState
    reason: str


Decision = (
    OfferCreated | OfferWithdrawn | OfferExpired | InteractionEscalated | QueueOutcome
    | AgentStateForced
)
