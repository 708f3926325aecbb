"""API shapes of skills, teams and agents."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from omnidesk.agents.models import AgentState
from omnidesk.queues.schemas import MediaChannel
from omnidesk.schemas import Name, ReadModel, WriteModel

Proficiency = Annotated[int, Field(ge=1, le=5)]
# Capacity is per media channel (what a queue holds), not per provider.
MEDIA_CHANNELS = frozenset(channel.value for channel in MediaChannel)


class SkillCreate(WriteModel):
    """A new skill."""

    name: Name


class SkillRead(ReadModel):
    """A skill."""

    id: uuid.UUID
    name: str


class TeamCreate(WriteModel):
    """A new team."""

    name: Name


class TeamRead(ReadModel):
    """A team."""

    id: uuid.UUID
    name: str


class SkillLevel(WriteModel):
    """A skill, by name, at a proficiency from 1 to 5."""

    skill: Name
    proficiency: Proficiency = 3


def _known_channels(capacity: dict[str, int]) -> dict[str, int]:
    unknown = sorted(set(capacity) - MEDIA_CHANNELS)
    if unknown:
        known = ", ".join(sorted(MEDIA_CHANNELS))
        raise ValueError(f"unknown channel {unknown[0]!r}; known: {known}")
    return capacity


Capacity = Annotated[dict[str, Annotated[int, Field(ge=0, le=100)]],
                     AfterValidator(_known_channels)]
"""How many contacts of each media channel an agent holds at once."""
DEFAULT_CAPACITY = {"voice": 1, "chat": 3, "email": 5}


class QueueServed(WriteModel):
    """A queue in an agent's routing profile, by name: served in priority order (1 first),
    and only for contacts that have waited `delay_seconds` (serve B after 30 s)."""

    queue: Name
    priority: Annotated[int, Field(ge=1, le=100)] = 1
    delay_seconds: Annotated[float, Field(ge=0, le=86_400)] = 0.0


def _each_queue_once(profile: list[QueueServed]) -> list[QueueServed]:
    seen: set[str] = set()
    for entry in profile:
        if entry.queue in seen:
            raise ValueError(f"queue {entry.queue!r} is listed twice")
        seen.add(entry.queue)
    return profile


RoutingProfile = Annotated[list[QueueServed], AfterValidator(_each_queue_once)]
"""The queues an agent serves; absent (null): every queue, in the queues' priority order."""


class AgentCreate(WriteModel):
    """A user becomes an agent, with skills, per-channel capacity and a routing profile."""

    user_id: uuid.UUID
    name: Name | None = None
    team: Name | None = None
    skills: list[SkillLevel] = []
    capacity: Capacity = DEFAULT_CAPACITY
    routing_profile: RoutingProfile | None = None


class AgentUpdate(WriteModel):
    """Changes to an agent (`routing_profile: null` serves every queue again)."""

    name: Name | None = None
    team: Name | None = None
    skills: list[SkillLevel] | None = None
    capacity: Capacity | None = None
    routing_profile: RoutingProfile | None = None


class AgentStateChange(WriteModel):
    """A new state, with an optional reason code (break: "coffee")."""

    state: AgentState
    reason: Annotated[str, Field(max_length=100)] | None = None


class AgentSkillRead(ReadModel):
    """An agent's proficiency in a skill (by id)."""

    skill_id: uuid.UUID
    proficiency: int


class AgentRead(ReadModel):
    """An agent as the API shows it."""

    id: uuid.UUID
    user_id: uuid.UUID
    team_id: uuid.UUID | None
    name: str
    capacity: dict[str, int]
    state: AgentState
    state_reason: str | None
    state_since: datetime
    skills: list[AgentSkillRead]
    routing_profile: list[QueueServed] | None
