"""Reads of skills, teams and agents."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.agents.models import Agent, Skill, Team
from omnidesk.errors import InvalidInput


async def list_skills(session: AsyncSession, *, tenant_id: uuid.UUID) -> Sequence[Skill]:
    """The tenant's skills by name."""
    return (await session.scalars(
        select(Skill).where(Skill.tenant_id == tenant_id).order_by(Skill.name))).all()


async def list_teams(session: AsyncSession, *, tenant_id: uuid.UUID) -> Sequence[Team]:
    """The tenant's teams by name."""
    return (await session.scalars(
        select(Team).where(Team.tenant_id == tenant_id).order_by(Team.name))).all()


async def list_agents(session: AsyncSession, *, tenant_id: uuid.UUID) -> Sequence[Agent]:
    """The tenant's agents by name."""
    return (await session.scalars(
        select(Agent).where(Agent.tenant_id == tenant_id).order_by(Agent.name))).all()


async def skill_ids_by_name(
    session: AsyncSession, *, tenant_id: uuid.UUID, names: list[str], field: str,
) -> dict[str, uuid.UUID]:
    """Map skill names to ids; an unknown name is an error naming the field."""
    rows = await session.scalars(
        select(Skill).where(Skill.tenant_id == tenant_id, Skill.name.in_(names)))
    found = {skill.name: skill.id for skill in rows}
    for index, name in enumerate(names):
        if name not in found:
            raise InvalidInput(f"unknown skill {name!r}", field=f"{field}[{index}].skill")
    return found


async def team_id_by_name(
    session: AsyncSession, *, tenant_id: uuid.UUID, name: str | None,
) -> uuid.UUID | None:
    """The id of the named team (None for no team); an unknown name is an error."""
    if name is None:
        return None
    team = await session.scalar(select(Team).where(Team.tenant_id == tenant_id, Team.name == name))
    if team is None:
        raise InvalidInput(f"unknown team {name!r}", field="team")
    return team.id


async def agent_for_user(
    session: AsyncSession, *, tenant_id: uuid.UUID, user_id: uuid.UUID,
) -> Agent | None:
    """The agent record of a user, if the user is an agent."""
    return await session.scalar(
        select(Agent).where(Agent.tenant_id == tenant_id, Agent.user_id == user_id))

