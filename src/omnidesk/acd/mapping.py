"""Database rows → the routing engine's configuration records."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, time

from omnidesk.agents.models import Agent
from omnidesk.queues.models import Queue
from omnidesk.queues.schemas import WEEKDAYS
from omnidesk.routing import (
    AgentConfig,
    BusinessHours,
    OpenWindow,
    QueueConfig,
    QueueMembership,
    Requirement,
    StrategyName,
)


def _clock_time(text: str) -> time:
    return time(0, 0) if text == "24:00" else time.fromisoformat(text)


def business_hours(queue: Queue) -> BusinessHours | None:
    """The queue's opening hours, or None for always open (no hours configured)."""
    if not queue.business_hours:
        return None
    weekly = {WEEKDAYS.index(day): tuple(OpenWindow(_clock_time(opens), _clock_time(closes))
                                         for opens, closes in spans)
              for day, spans in queue.business_hours.items()}
    return BusinessHours(time_zone=queue.timezone, weekly=weekly,
                         holidays=frozenset(date.fromisoformat(day) for day in queue.holidays))


def queue_config(queue: Queue, skill_names: Mapping[uuid.UUID, str]) -> QueueConfig:
    """The engine's view of a queue."""
    return QueueConfig(
        queue_id=str(queue.id), channel=queue.channel,
        requirement=Requirement(skills={skill_names[s.skill_id]: s.min_proficiency
                                        for s in queue.required_skills}),
        strategy=StrategyName(queue.strategy), offer_timeout_s=float(queue.offer_timeout_seconds),
        hours=business_hours(queue))


def agent_config(agent: Agent, skill_names: Mapping[uuid.UUID, str],
                 queues: Iterable[Queue]) -> AgentConfig:
    """The engine's view of an agent: every queue of the tenant is in the routing profile,
    served in queue-priority order, eligibility decided by skills."""
    by_priority = sorted(queues, key=lambda q: -q.priority)
    return AgentConfig(
        agent_id=str(agent.id),
        skills={skill_names[s.skill_id]: s.proficiency for s in agent.skills},
        team=str(agent.team_id) if agent.team_id else None,
        profile=tuple(QueueMembership(str(q.id), priority=rank + 1)
                      for rank, q in enumerate(by_priority)),
        capacity=dict(agent.capacity))
