"""The running configuration as a center file (secrets and passwords are never exported)."""

from __future__ import annotations

import uuid
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.agents.models import Agent, Skill, Team
from omnidesk.canned.models import CannedResponse
from omnidesk.channels.models import Channel
from omnidesk.configuration.schema import (
    AgentSpec,
    CannedResponseSpec,
    CenterFile,
    ChannelSpec,
    DispositionSpec,
    TenantSpec,
    UserSpec,
)
from omnidesk.interactions.models import Disposition
from omnidesk.knowledge.config import export_articles
from omnidesk.queues.models import Queue
from omnidesk.queues.schemas import QueueCreate, RequiredSkill
from omnidesk.tenants.models import Tenant
from omnidesk.users.models import User


async def _names(session: AsyncSession, model: type[Skill] | type[Team] | type[Queue],
                 tenant_id: uuid.UUID) -> dict[uuid.UUID, str]:
    rows = await session.execute(select(model.id, model.name).where(model.tenant_id == tenant_id))
    return {row_id: name for row_id, name in rows}


def queue_spec(queue: Queue, skill_names: dict[uuid.UUID, str]) -> QueueCreate:
    """A queue row as its center-file entry."""
    return QueueCreate.model_validate({
        "name": queue.name, "channel": queue.channel, "priority": queue.priority,
        "strategy": queue.strategy,
        "service_level_seconds": queue.service_level_seconds,
        "service_level_goal_pct": queue.service_level_goal_pct,
        "short_abandon_seconds": queue.short_abandon_seconds,
        "offer_timeout_seconds": queue.offer_timeout_seconds, "timezone": queue.timezone,
        "business_hours": queue.business_hours, "holidays": queue.holidays,
        "ageing_per_second": queue.ageing_per_second, "escalation": queue.escalation,
        "max_wait_seconds": queue.max_wait_seconds, "max_size": queue.max_size,
        "outcomes": queue.outcomes or None,
        "skills": [RequiredSkill(skill=skill_names[s.skill_id], min_proficiency=s.min_proficiency)
                   for s in queue.required_skills]})


def agent_spec(agent: Agent, email: str, team_names: dict[uuid.UUID, str],
               skill_names: dict[uuid.UUID, str]) -> AgentSpec:
    """An agent row as its center-file entry."""
    return AgentSpec(user=email, name=agent.name,
                     team=team_names[agent.team_id] if agent.team_id else None,
                     skills={skill_names[s.skill_id]: s.proficiency for s in agent.skills},
                     capacity=agent.capacity, routing_profile=agent.routing_profile)


async def export_tenant(session: AsyncSession, tenant: Tenant) -> TenantSpec:
    """Everything configurable of one tenant, as a center-file entry."""
    skills = await _names(session, Skill, tenant.id)
    teams = await _names(session, Team, tenant.id)
    queues = await _names(session, Queue, tenant.id)

    def rows(model: Any) -> Any:
        return session.scalars(select(model).where(model.tenant_id == tenant.id))

    users = list(await rows(User))
    emails = {user.id: user.email for user in users}
    return TenantSpec(
        slug=tenant.slug, name=tenant.name, timezone=tenant.timezone,
        skills=sorted(skills.values()), teams=sorted(teams.values()),
        queues=sorted((queue_spec(q, skills) for q in await rows(Queue)), key=lambda q: q.name),
        users=sorted((UserSpec(email=u.email, name=u.name, role=u.role,
                               platform_admin=u.is_platform_admin) for u in users),
                     key=lambda u: u.email),
        agents=sorted((agent_spec(a, emails[a.user_id], teams, skills) for a in await rows(Agent)),
                      key=lambda a: a.user),
        channels=sorted((ChannelSpec(name=c.name, kind=c.kind, settings=c.settings,
                                     default_queue=queues.get(c.default_queue_id)
                                     if c.default_queue_id else None)
                         for c in await rows(Channel)), key=lambda c: c.name),
        canned_responses=sorted((CannedResponseSpec(shortcut=c.shortcut, title=c.title,
                                                    body=c.body)
                                 for c in await rows(CannedResponse)),
                                key=lambda c: c.shortcut),
        dispositions=[DispositionSpec(code=d.code, label=d.label, resolved=d.resolved)
                      for d in sorted(await rows(Disposition),
                                      key=lambda d: (d.position, d.code))],
        knowledge=await export_articles(session, tenant))


async def export_center(session: AsyncSession, *,
                        tenant_id: uuid.UUID | None = None) -> CenterFile:
    """The whole installation (or one tenant) as a center file."""
    query = select(Tenant).order_by(Tenant.slug)
    if tenant_id is not None:
        query = query.where(Tenant.id == tenant_id)
    rows = await session.scalars(query)
    return CenterFile(tenants=[await export_tenant(session, tenant) for tenant in rows])


class _Dumper(yaml.SafeDumper):
    """Safe YAML, with multi-line text (article bodies) as readable literal blocks."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value,
                                   style="|" if "\n" in value.rstrip("\n") else None)


_Dumper.add_representer(str, _text)


def to_yaml(center: CenterFile) -> str:
    """The center file as YAML, leaving out empty and unset values."""
    data = center.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
