"""The ACD: a pure, I/O-free routing engine (events in, decisions out, time passed in)."""

from omnidesk.compiled import use_compiled

use_compiled(__name__, __path__)


from omnidesk.routing.decisions import (
    AgentStateForced,
    Decision,
    InteractionEscalated,
    OfferCreated,
    OfferExpired,
    OfferWithdrawn,
    QueueOutcome,
)
from omnidesk.routing.engine import (
    CAUSE_CLOSED,
    CAUSE_MAX_WAIT,
    CAUSE_QUEUE_FULL,
    RoutingEngine,
)
from omnidesk.routing.errors import (
    ExpressionSyntaxError,
    OfferConflict,
    RoutingConfigError,
    UnknownRoutingObject,
)
from omnidesk.routing.events import (
    AgentConfigured,
    AgentRestored,
    AgentStateChanged,
    CallbackRequested,
    DesktopConnected,
    DesktopDisconnected,
    InteractionAssigned,
    InteractionCancelled,
    InteractionEnded,
    InteractionQueued,
    OfferAccepted,
    OfferDirected,
    OfferRejected,
    QueueConfigured,
    RoutingEvent,
    Tick,
)
from omnidesk.routing.expressions import Expression, compile_expression
from omnidesk.routing.hours import BusinessHours, OpenWindow
from omnidesk.routing.model import (
    AgentConfig,
    AgentState,
    EngineConfig,
    EscalationStep,
    Outcome,
    OutcomeKind,
    QueueConfig,
    QueueMembership,
    Requirement,
    StrategyName,
)
from omnidesk.routing.views import AgentStatus, QueueStatus, WaitEstimate

__all__ = [
    "CAUSE_CLOSED",
    "CAUSE_MAX_WAIT",
    "CAUSE_QUEUE_FULL",
    "AgentConfig",
    "AgentConfigured",
    "AgentRestored",
    "AgentState",
    "AgentStateChanged",
    "AgentStateForced",
    "AgentStatus",
    "BusinessHours",
    "CallbackRequested",
    "Decision",
    "DesktopConnected",
    "DesktopDisconnected",
    "EngineConfig",
    "EscalationStep",
    "Expression",
    "ExpressionSyntaxError",
    "InteractionAssigned",
    "InteractionCancelled",
    "InteractionEnded",
    "InteractionEscalated",
    "InteractionQueued",
    "OfferAccepted",
    "OfferConflict",
    "OfferCreated",
    "OfferDirected",
    "OfferExpired",
    "OfferRejected",
    "OfferWithdrawn",
    "OpenWindow",
    "Outcome",
    "OutcomeKind",
    "QueueConfig",
    "QueueConfigured",
    "QueueMembership",
    "QueueOutcome",
    "QueueStatus",
    "Requirement",
    "RoutingConfigError",
    "RoutingEngine",
    "RoutingEvent",
    "StrategyName",
    "Tick",
    "UnknownRoutingObject",
    "WaitEstimate",
    "compile_expression",
]
