"""Database rows → the routing engine's configuration records."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from omnidesk.agents.models import Agent
from omnidesk.queues.models import Queue
from omnidesk.queues.schemas import WEEKDAYS
from omnidesk.routing import (
    AgentConfig,
    BusinessHours,
    EscalationStep,
    OpenWindow,
    Outcome,
    OutcomeKind,
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


def _outcome(spec: Mapping[str, Any] | None) -> Outcome:
    spec = spec or {}
    return Outcome(kind=OutcomeKind(spec.get("kind", OutcomeKind.DISCONNECT)),
                   message=str(spec.get("message", "")))


def _step(step: Mapping[str, Any], names: Names) -> EscalationStep:
    overflow = step.get("overflow_to")
    return EscalationStep(
        after_s=float(step["after_seconds"]),
        lower_proficiency_by=int(step.get("lower_proficiency_by", 0)),
        drop_skills=frozenset(step.get("drop_skills", ())),
        add_teams=frozenset(str(names.teams[team]) for team in step.get("add_teams", ())),
        overflow_to=str(names.queues[overflow]) if overflow else None)


@dataclass(frozen=True, slots=True)
class Names:
    """A tenant's names → ids, to resolve what queues refer to by name."""

    skills: Mapping[uuid.UUID, str]
    queues: Mapping[str, uuid.UUID]
    teams: Mapping[str, uuid.UUID]


def queue_config(queue: Queue, names: Names) -> QueueConfig:
    """The engine's view of a queue."""
    outcomes = queue.outcomes or {}
    return QueueConfig(
        queue_id=str(queue.id), channel=queue.channel,
        requirement=Requirement(skills={names.skills[s.skill_id]: s.min_proficiency
                                        for s in queue.required_skills}),
        strategy=StrategyName(queue.strategy), ageing_per_s=queue.ageing_per_second,
        offer_timeout_s=float(queue.offer_timeout_seconds),
        escalation=tuple(_step(step, names) for step in queue.escalation),
        max_wait_s=float(queue.max_wait_seconds) if queue.max_wait_seconds else None,
        max_wait_outcome=_outcome(outcomes.get("max_wait")),
        max_size=queue.max_size, full_outcome=_outcome(outcomes.get("full")),
        hours=business_hours(queue), closed_outcome=_outcome(outcomes.get("closed")))


def every_queue(queues: Iterable[Queue]) -> tuple[QueueMembership, ...]:
    """The profile of an agent without one: every queue of the tenant, by queue priority."""
    by_priority = sorted(queues, key=lambda q: -q.priority)
    return tuple(QueueMembership(str(q.id), priority=rank + 1)
                 for rank, q in enumerate(by_priority))


def agent_config(agent: Agent, names: Names,
                 default_profile: tuple[QueueMembership, ...]) -> AgentConfig:
    """The engine's view of an agent: the queues of their routing profile (else the default);
    eligibility for a queue they serve is decided by skills."""
    profile = default_profile if agent.routing_profile is None else tuple(
        QueueMembership(str(names.queues[entry["queue"]]), priority=int(entry["priority"]),
                        delay_s=float(entry["delay_seconds"]))
        for entry in agent.routing_profile)
    return AgentConfig(
        agent_id=str(agent.id),
        skills={names.skills[s.skill_id]: s.proficiency for s in agent.skills},
        team=str(agent.team_id) if agent.team_id else None,
        profile=profile, capacity=dict(agent.capacity))
