"""What the engine is told: plain frozen records, each with the time ``at`` (epoch seconds)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from omnidesk.routing.model import AgentConfig, AgentState, Channel, QueueConfig


def _no_attributes() -> Mapping[str, object]:
    return MappingProxyType({})


def _no_skills() -> Mapping[str, int]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class QueueConfigured:
    """A queue was created or its settings changed."""

    at: float
    queue: QueueConfig


@dataclass(frozen=True, slots=True)
class AgentConfigured:
    """An agent was created or its skills, profile or capacity changed."""

    at: float
    agent: AgentConfig


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    """The agent (or a supervisor) set the agent's state, with an optional reason code."""

    at: float
    agent_id: str
    state: AgentState
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AgentRestored:
    """Rebuild: the agent's state, desktop connection and idle-since times per channel."""

    at: float
    agent_id: str
    state: AgentState
    reason: str = ""
    connected: bool = True
    idle_since: Mapping[Channel, float] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class DesktopConnected:
    """The agent's desktop heartbeat is back."""

    at: float
    agent_id: str


@dataclass(frozen=True, slots=True)
class DesktopDisconnected:
    """The agent's desktop heartbeat was lost; after the grace period the agent goes offline."""

    at: float
    agent_id: str


@dataclass(frozen=True, slots=True)
class InteractionQueued:
    """A contact (or a queued callback) waits in a queue; ``queued_at`` keeps its place."""

    at: float
    interaction_id: str
    queue_id: str
    priority: int = 0
    queued_at: float | None = None
    attributes: Mapping[str, object] = field(default_factory=_no_attributes)
    required_skills: Mapping[str, int] = field(default_factory=_no_skills)
    callback: bool = False
    declined_by: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class OfferDirected:
    """A supervisor offers a waiting contact to one agent, whatever the queue's order."""

    at: float
    interaction_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class CallbackRequested:
    """The waiting customer asked to be called back; the contact keeps its place in line."""

    at: float
    interaction_id: str


@dataclass(frozen=True, slots=True)
class InteractionCancelled:
    """The customer hung up or left before being connected."""

    at: float
    interaction_id: str
    reason: str = "abandoned"


@dataclass(frozen=True, slots=True)
class OfferAccepted:
    """The agent accepted the live offer."""

    at: float
    interaction_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class OfferRejected:
    """The agent rejected the live offer."""

    at: float
    interaction_id: str
    agent_id: str
    reason: str = "rejected"


@dataclass(frozen=True, slots=True)
class InteractionAssigned:
    """Rebuild or direct transfer: the interaction is already connected to the agent."""

    at: float
    interaction_id: str
    agent_id: str
    queue_id: str


@dataclass(frozen=True, slots=True)
class InteractionEnded:
    """A connected interaction ended after ``handle_time_s`` (talk + wrap-up)."""

    at: float
    interaction_id: str
    handle_time_s: float


@dataclass(frozen=True, slots=True)
class Tick:
    """Only time passed: fire the timers due by ``at`` (offer timeouts, escalation …)."""

    at: float


RoutingEvent = (
    QueueConfigured | AgentConfigured | AgentStateChanged | AgentRestored | DesktopConnected
    | DesktopDisconnected | InteractionQueued | CallbackRequested | InteractionCancelled
    | OfferAccepted | OfferRejected | InteractionAssigned | InteractionEnded | Tick
    | OfferDirected
)
