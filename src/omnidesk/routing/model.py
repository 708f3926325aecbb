"""Configuration the engine routes by: queues, requirements, escalation, agents, capacity."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from omnidesk.routing.hours import BusinessHours

Channel = str
"""A media channel name: "voice", "video", "chat", "messaging", "email", "social" …"""

VOICE: Channel = "voice"
CHAT: Channel = "chat"
EMAIL: Channel = "email"


class AgentState(enum.StrEnum):
    """Where an agent is; only AVAILABLE (and connected) receives offers."""

    AVAILABLE = "available"
    BREAK = "break"
    LUNCH = "lunch"
    TRAINING = "training"
    AFTER_CALL_WORK = "after_call_work"
    MISSED = "missed"
    OFFLINE = "offline"


class StrategyName(enum.StrEnum):
    """How a queue picks among the eligible available agents."""

    LONGEST_IDLE = "longest_idle"
    LEAST_OCCUPIED = "least_occupied"
    ROUND_ROBIN = "round_robin"
    MOST_SKILLED = "most_skilled"


class OutcomeKind(enum.StrEnum):
    """What the server does with a contact the queue will not keep."""

    MESSAGE_THEN_END = "message_then_end"
    CALLBACK_OFFER = "callback_offer"
    DISCONNECT = "disconnect"


@dataclass(frozen=True, slots=True)
class Outcome:
    """A configured outcome (closed queue, max wait, queue full) with an optional message."""

    kind: OutcomeKind = OutcomeKind.DISCONNECT
    message: str = ""


def _frozen_map(values: Mapping[str, int] | None = None) -> Mapping[str, int]:
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True, slots=True)
class Requirement:
    """Skills with minimum proficiency (1–5) plus an optional routing expression."""

    skills: Mapping[str, int] = field(default_factory=_frozen_map)
    expression: str | None = None


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """After ``after_s`` seconds of wait: widen the requirement or overflow elsewhere."""

    after_s: float
    lower_proficiency_by: int = 0
    drop_skills: frozenset[str] = frozenset()
    drop_expression: bool = False
    add_teams: frozenset[str] = frozenset()
    overflow_to: str | None = None


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """One queue: channel, requirement, strategy, timeouts, escalation, limits and hours."""

    queue_id: str
    channel: Channel
    requirement: Requirement = field(default_factory=Requirement)
    strategy: StrategyName = StrategyName.LONGEST_IDLE
    ageing_per_s: float = 0.0
    offer_timeout_s: float = 20.0
    escalation: tuple[EscalationStep, ...] = ()
    max_wait_s: float | None = None
    max_wait_outcome: Outcome = field(default_factory=Outcome)
    max_size: int | None = None
    full_outcome: Outcome = field(default_factory=Outcome)
    hours: BusinessHours | None = None
    closed_outcome: Outcome = field(default_factory=Outcome)
    default_handle_time_s: float = 180.0
    added_team_priority: int = 99


@dataclass(frozen=True, slots=True)
class QueueMembership:
    """A queue in an agent's routing profile; priority 1 is served first."""

    queue_id: str
    priority: int = 1
    delay_s: float = 0.0


Blending = Mapping[Channel, frozenset[Channel]]
"""Channel → the channels it blocks while the agent holds at least one of it."""


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """An agent's skills, attributes, team, routing profile, capacity and blending."""

    agent_id: str
    skills: Mapping[str, int] = field(default_factory=_frozen_map)
    attributes: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    team: str | None = None
    profile: tuple[QueueMembership, ...] = ()
    capacity: Mapping[Channel, int] | None = None
    blending: Blending | None = None


DEFAULT_CAPACITY: Mapping[Channel, int] = MappingProxyType(
    {"voice": 1, "video": 1, "chat": 3, "messaging": 3, "social": 3, "email": 5})

DEFAULT_BLENDING: Blending = MappingProxyType({
    "voice": frozenset({"video", "chat", "messaging", "social", "email"}),
    "video": frozenset({"voice", "chat", "messaging", "social", "email"}),
    "chat": frozenset({"voice", "video"}),
    "messaging": frozenset({"voice", "video"}),
    "social": frozenset({"voice", "video"}),
    "email": frozenset({"voice", "video"}),
})


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Tenant-wide defaults for one engine."""

    default_capacity: Mapping[Channel, int] = field(default_factory=lambda: DEFAULT_CAPACITY)
    blending: Blending = field(default_factory=lambda: DEFAULT_BLENDING)
    missed_state_on_timeout: bool = True
    disconnect_grace_s: float = 30.0
    handle_time_samples: int = 50
