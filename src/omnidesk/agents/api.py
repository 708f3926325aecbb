"""Skills, teams and agents API."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from omnidesk.agents import actions, service
from omnidesk.agents.models import Agent, Skill, Team
from omnidesk.agents.schemas import (
    AgentCreate,
    AgentRead,
    AgentStateChange,
    AgentUpdate,
    SkillCreate,
    SkillRead,
    TeamCreate,
    TeamRead,
)
from omnidesk.auth.principal import EVERYONE, STAFF
from omnidesk.deps import DbDep, PrincipalDep
from omnidesk.errors import Forbidden
from omnidesk.scoping import get_in_tenant
from omnidesk.users.models import Role

router = APIRouter(tags=["agents"])


@router.get("/skills", response_model=list[SkillRead])
async def list_skills(db: DbDep, principal: PrincipalDep) -> list[Skill]:
    """The tenant's skills."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        return list(await service.list_skills(session, tenant_id=principal.tenant_id))


@router.post("/skills", response_model=SkillRead, status_code=status.HTTP_201_CREATED)
async def create_skill(data: SkillCreate, db: DbDep, principal: PrincipalDep) -> Skill:
    """Create a skill."""
    principal.require(Role.ADMIN)
    async with db.write() as session:
        return await actions.create_skill(session, data.name, tenant_id=principal.tenant_id,
                                          actor=principal.actor)


@router.get("/teams", response_model=list[TeamRead])
async def list_teams(db: DbDep, principal: PrincipalDep) -> list[Team]:
    """The tenant's teams."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        return list(await service.list_teams(session, tenant_id=principal.tenant_id))


@router.post("/teams", response_model=TeamRead, status_code=status.HTTP_201_CREATED)
async def create_team(data: TeamCreate, db: DbDep, principal: PrincipalDep) -> Team:
    """Create a team."""
    principal.require(Role.ADMIN)
    async with db.write() as session:
        return await actions.create_team(session, data.name, tenant_id=principal.tenant_id,
                                         actor=principal.actor)


@router.get("/agents", response_model=list[AgentRead])
async def list_agents(db: DbDep, principal: PrincipalDep) -> list[Agent]:
    """The tenant's agents with state and skills."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        return list(await service.list_agents(session, tenant_id=principal.tenant_id))


@router.post("/agents", response_model=AgentRead, status_code=status.HTTP_201_CREATED)
async def create_agent(data: AgentCreate, db: DbDep, principal: PrincipalDep) -> Agent:
    """Make a user an agent."""
    principal.require(Role.ADMIN)
    async with db.write() as session:
        return await actions.create_agent(session, data, tenant_id=principal.tenant_id,
                                          actor=principal.actor)


@router.get("/agents/me", response_model=AgentRead)
async def my_agent(db: DbDep, principal: PrincipalDep) -> Agent:
    """The calling user's own agent record (403 when the user is not an agent)."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        agent = None
        if principal.user_id is not None:
            agent = await service.agent_for_user(session, tenant_id=principal.tenant_id,
                                                 user_id=principal.user_id)
        if agent is None:
            raise Forbidden("you are not an agent: an admin gives users an agent record")
        return agent


@router.get("/agents/{agent_id}", response_model=AgentRead)
async def get_agent(agent_id: uuid.UUID, db: DbDep, principal: PrincipalDep) -> Agent:
    """One agent."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        return await get_in_tenant(session, Agent, agent_id, tenant_id=principal.tenant_id,
                                   what="agent")


@router.patch("/agents/{agent_id}", response_model=AgentRead)
async def update_agent(
    agent_id: uuid.UUID, data: AgentUpdate, db: DbDep, principal: PrincipalDep,
) -> Agent:
    """Change an agent's skills, team or capacity."""
    principal.require(Role.ADMIN)
    async with db.write() as session:
        agent = await get_in_tenant(session, Agent, agent_id, tenant_id=principal.tenant_id,
                                    what="agent")
        return await actions.update_agent(session, agent, data, actor=principal.actor)


@router.put("/agents/{agent_id}/state", response_model=AgentRead)
async def change_agent_state(
    agent_id: uuid.UUID, change: AgentStateChange, db: DbDep, principal: PrincipalDep,
) -> Agent:
    """Change an agent's state: agents their own, supervisors and admins anyone's."""
    principal.require(*EVERYONE)
    async with db.write() as session:
        agent = await get_in_tenant(session, Agent, agent_id, tenant_id=principal.tenant_id,
                                    what="agent")
        if principal.role not in STAFF and agent.user_id != principal.user_id:
            raise Forbidden("agents may change only their own state")
        return await actions.change_state(session, agent, change, actor=principal.actor)
