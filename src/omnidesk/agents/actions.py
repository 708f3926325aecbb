"""Writes of skills, teams and agents, each recording its event."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.agents import service
from omnidesk.agents.models import Agent, AgentSkill, AgentState, Skill, Team
from omnidesk.agents.schemas import (
    AgentCreate,
    AgentStateChange,
    AgentUpdate,
    QueueServed,
    SkillLevel,
)
from omnidesk.db import session_now
from omnidesk.errors import Conflict
from omnidesk.events.log import record
from omnidesk.queues import service as queue_service
from omnidesk.scoping import get_in_tenant, update_in_tenant
from omnidesk.users.models import User


async def create_skill(session: AsyncSession, name: str, *, tenant_id: uuid.UUID,
                       actor: str) -> Skill:
    """Create a skill; names are unique per tenant."""
    if await session.scalar(select(Skill).where(Skill.tenant_id == tenant_id, Skill.name == name)):
        raise Conflict(f"skill {name!r} exists already", field="name")
    skill = Skill(tenant_id=tenant_id, name=name)
    session.add(skill)
    await session.flush()
    await record(session, tenant_id=tenant_id, type="skill.created", subject=skill.id,
                 payload={"name": name}, actor=actor)
    return skill


async def create_team(session: AsyncSession, name: str, *, tenant_id: uuid.UUID,
                      actor: str) -> Team:
    """Create a team; names are unique per tenant."""
    if await session.scalar(select(Team).where(Team.tenant_id == tenant_id, Team.name == name)):
        raise Conflict(f"team {name!r} exists already", field="name")
    team = Team(tenant_id=tenant_id, name=name)
    session.add(team)
    await session.flush()
    await record(session, tenant_id=tenant_id, type="team.created", subject=team.id,
                 payload={"name": name}, actor=actor)
    return team


async def _skill_rows(
    session: AsyncSession, levels: list[SkillLevel], *, tenant_id: uuid.UUID,
) -> list[AgentSkill]:
    ids = await service.skill_ids_by_name(session, tenant_id=tenant_id,
                                          names=[level.skill for level in levels], field="skills")
    return [AgentSkill(skill_id=ids[level.skill], proficiency=level.proficiency)
            for level in levels]


async def _profile_rows(session: AsyncSession, profile: list[QueueServed] | None, *,
                        tenant_id: uuid.UUID) -> list[dict[str, Any]] | None:
    """A routing profile as stored (its queues checked), or None: every queue."""
    if profile is None:
        return None
    for index, entry in enumerate(profile):
        await queue_service.id_by_name(session, tenant_id=tenant_id, name=entry.queue,
                                       field=f"routing_profile[{index}].queue")
    return [entry.model_dump() for entry in profile]


def _agent_payload(agent: Agent, levels: list[SkillLevel] | None) -> dict[str, object]:
    payload: dict[str, object] = {"name": agent.name, "capacity": agent.capacity,
                                  "team_id": str(agent.team_id) if agent.team_id else None,
                                  "routing_profile": agent.routing_profile}
    if levels is not None:
        payload["skills"] = {level.skill: level.proficiency for level in levels}
    return payload


async def create_agent(session: AsyncSession, data: AgentCreate, *, tenant_id: uuid.UUID,
                       actor: str) -> Agent:
    """Make a user of the tenant an agent."""
    user = await get_in_tenant(session, User, data.user_id, tenant_id=tenant_id, what="user")
    if await service.agent_for_user(session, tenant_id=tenant_id, user_id=user.id):
        raise Conflict("this user is an agent already", field="user_id")
    agent = Agent(tenant_id=tenant_id, user_id=user.id, name=data.name or user.name,
                  team_id=await service.team_id_by_name(session, tenant_id=tenant_id,
                                                        name=data.team),
                  capacity=data.capacity, state=AgentState.OFFLINE,
                  state_since=session_now(session),
                  skills=await _skill_rows(session, data.skills, tenant_id=tenant_id),
                  routing_profile=await _profile_rows(session, data.routing_profile,
                                                      tenant_id=tenant_id))
    session.add(agent)
    await session.flush()
    await record(session, tenant_id=tenant_id, type="agent.created", subject=agent.id,
                 payload=_agent_payload(agent, data.skills), actor=actor)
    return agent


async def update_agent(session: AsyncSession, agent: Agent, data: AgentUpdate, *,
                       actor: str) -> Agent:
    """Change an agent's name, team, skills, capacity or routing profile."""
    fields = data.model_fields_set
    if "name" in fields and data.name:
        agent.name = data.name
    if "team" in fields:
        agent.team_id = await service.team_id_by_name(session, tenant_id=agent.tenant_id,
                                                      name=data.team)
    if data.capacity is not None:
        agent.capacity = data.capacity
    if data.skills is not None:
        agent.skills = await _skill_rows(session, data.skills, tenant_id=agent.tenant_id)
    if "routing_profile" in fields:
        agent.routing_profile = await _profile_rows(session, data.routing_profile,
                                                    tenant_id=agent.tenant_id)
    await session.flush()
    await record(session, tenant_id=agent.tenant_id, type="agent.updated", subject=agent.id,
                 payload=_agent_payload(agent, data.skills), actor=actor)
    return agent


async def change_state(session: AsyncSession, agent: Agent, change: AgentStateChange, *,
                       actor: str) -> Agent:
    """Put an agent in a new state with a reason code."""
    await update_in_tenant(session, agent, {"state": change.state, "state_reason": change.reason,
                                            "state_since": session_now(session)})
    await record(session, tenant_id=agent.tenant_id, type="agent.state_changed",
                 subject=agent.id, payload={"state": change.state.value, "reason": change.reason},
                 actor=actor)
    return agent


async def rename_in_profiles(session: AsyncSession, *, tenant_id: uuid.UUID, old: str, new: str,
                             actor: str) -> None:
    """A queue was renamed: the routing profiles that name it follow (`agent.updated`)."""
    agents = await session.scalars(select(Agent).where(Agent.tenant_id == tenant_id,
                                                       Agent.routing_profile.is_not(None)))
    for agent in agents:
        profile = agent.routing_profile or []
        if any(entry["queue"] == old for entry in profile):
            agent.routing_profile = [{**entry, "queue": new} if entry["queue"] == old else entry
                                     for entry in profile]
            await record(session, tenant_id=tenant_id, type="agent.updated", subject=agent.id,
                         payload=_agent_payload(agent, None), actor=actor)
