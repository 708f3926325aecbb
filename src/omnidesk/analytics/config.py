"""Plain configuration objects the KPI calculations take in (never read from anywhere)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from fractions import Fraction
from typing import Final, Literal

ServiceLevelVariant = Literal["default", "connect"]

LOAD_SCALE: Final = 720_720
"""An agent's full load in integer units: lcm(1..16), so every share 1/capacity is exact."""

AWAY_STATES: Final = frozenset({"break", "lunch", "training"})
"""Agent states that count as "on break" for utilisation."""


@dataclass(frozen=True, slots=True)
class QueueSettings:
    """Per-queue thresholds: service level X and goal, short-abandon threshold, SL variant."""

    service_level_threshold_s: int = 20
    service_level_goal_pct: int = 80
    short_abandon_threshold_s: int = 5
    service_level_variant: ServiceLevelVariant = "default"


@dataclass(frozen=True, slots=True)
class CostModel:
    """Configured costs: per agent hour by role, per voice minute, per SMS, fixed per period."""

    agent_hour_by_role: Mapping[str, Fraction] = field(default_factory=dict)
    voice_minute: Fraction = Fraction(0)
    sms: Fraction = Fraction(0)
    fixed_per_period: Fraction = Fraction(0)


@dataclass(frozen=True, slots=True)
class AnalyticsConfig:
    """Everything the fold needs besides the events: time zone, queues, agents, FCR window."""

    time_zone: str = "UTC"
    queues: Mapping[str, QueueSettings] = field(default_factory=dict)
    default_queue: QueueSettings = QueueSettings()
    queue_agents: Mapping[str, frozenset[str]] = field(default_factory=dict)
    agent_roles: Mapping[str, str] = field(default_factory=dict)
    default_role: str = "agent"
    channel_capacity: Mapping[str, int] = field(default_factory=dict)
    fcr_window: timedelta = timedelta(days=7)
    outbound_connect_limit_s: int = 2

    def __post_init__(self) -> None:
        for channel, capacity in self.channel_capacity.items():
            if capacity < 1 or LOAD_SCALE % capacity:
                raise ValueError(
                    f"channel_capacity[{channel!r}] = {capacity}: must be a divisor of "
                    f"{LOAD_SCALE} (any of 1–16, 18, 20, 24, 30…)"
                )

    def __deepcopy__(self, memo: dict[int, object]) -> AnalyticsConfig:
        """Itself: it is frozen, so a copied fold state shares it."""
        return self

    def queue(self, queue_id: str | None) -> QueueSettings:
        """Settings of one queue, or the defaults when it has none."""
        if queue_id is None:
            return self.default_queue
        return self.queues.get(queue_id, self.default_queue)

    def role(self, agent_id: str) -> str:
        """The cost role of an agent."""
        return self.agent_roles.get(agent_id, self.default_role)

    def load_share(self, channel: str) -> int:
        """One contact's share of an agent's load, in LOAD_SCALE units (1 / capacity)."""
        return LOAD_SCALE // self.channel_capacity.get(channel, 1)
