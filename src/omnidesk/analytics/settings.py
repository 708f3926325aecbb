"""A tenant's analytics configuration, read from its tenant, queues, agents and settings row."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.agents.models import Agent
from omnidesk.analytics.config import AnalyticsConfig, CostModel, QueueSettings
from omnidesk.analytics.models import AnalyticsSettings
from omnidesk.errors import NotFound
from omnidesk.queues.models import Queue
from omnidesk.tenants.models import Tenant

Money = Decimal


class CostModelDocument(BaseModel):
    """The configured costs (any currency): per agent hour by role, per unit, fixed."""

    model_config = ConfigDict(extra="forbid")

    agent_hour_by_role: dict[str, Money] = Field(default_factory=dict)
    voice_minute: Money = Money(0)
    sms: Money = Money(0)
    fixed_per_period: Money = Money(0)


class AnalyticsSettingsDocument(BaseModel):
    """Per tenant: cost model, service-level variant per queue id, cost role per agent id."""

    model_config = ConfigDict(extra="forbid")

    cost_model: CostModelDocument = Field(default_factory=CostModelDocument)
    service_level_variants: dict[str, Literal["default", "connect"]] = Field(
        default_factory=dict)
    agent_roles: dict[str, str] = Field(default_factory=dict)


def cost_model(document: AnalyticsSettingsDocument) -> CostModel:
    """The pure CostModel (exact Fractions) of a settings document."""
    costs = document.cost_model
    return CostModel(
        agent_hour_by_role={role: Fraction(rate) for role, rate in
                            costs.agent_hour_by_role.items()},
        voice_minute=Fraction(costs.voice_minute),
        sms=Fraction(costs.sms),
        fixed_per_period=Fraction(costs.fixed_per_period),
    )


async def settings_document(session: AsyncSession,
                            tenant_id: uuid.UUID) -> AnalyticsSettingsDocument:
    """The tenant's analytics settings (defaults when none are stored)."""
    row = await session.get(AnalyticsSettings, tenant_id)
    return AnalyticsSettingsDocument.model_validate(row.document if row else {})


async def save_settings(session: AsyncSession, tenant_id: uuid.UUID,
                        document: AnalyticsSettingsDocument) -> None:
    """Store the tenant's analytics settings (replacing them)."""
    row = await session.get(AnalyticsSettings, tenant_id)
    stored = document.model_dump(mode="json")
    if row is None:
        session.add(AnalyticsSettings(tenant_id=tenant_id, document=stored))
    else:
        row.document = stored


def queue_members(queues: Sequence[Queue], agents: Sequence[Agent]) -> dict[str, frozenset[str]]:
    """Agents skilled for each queue (every required skill at its minimum proficiency)."""
    members: dict[str, frozenset[str]] = {}
    for queue in queues:
        required = {s.skill_id: s.min_proficiency for s in queue.required_skills}
        members[str(queue.id)] = frozenset(
            str(agent.id) for agent in agents
            if all(any(s.skill_id == skill and s.proficiency >= level for s in agent.skills)
                   for skill, level in required.items()))
    return members


async def tenant_time_zone(session: AsyncSession, tenant_id: uuid.UUID) -> str:
    """The tenant's IANA time zone (NotFound for an unknown tenant)."""
    zone = await session.scalar(select(Tenant.timezone).where(Tenant.id == tenant_id))
    if zone is None:
        raise NotFound(f"tenant {tenant_id} not found", field="tenant")
    return zone


async def load_config(session: AsyncSession,
                      tenant_id: uuid.UUID) -> tuple[AnalyticsConfig, CostModel]:
    """The tenant's AnalyticsConfig (zone, queue thresholds and members) and cost model."""
    zone = await tenant_time_zone(session, tenant_id)
    document = await settings_document(session, tenant_id)
    queues = (await session.scalars(select(Queue).where(Queue.tenant_id == tenant_id))).all()
    agents = (await session.scalars(select(Agent).where(Agent.tenant_id == tenant_id))).all()
    variants = document.service_level_variants
    config = AnalyticsConfig(
        time_zone=zone,
        queues={str(q.id): QueueSettings(
            service_level_threshold_s=q.service_level_seconds,
            service_level_goal_pct=round(q.service_level_goal_pct),
            short_abandon_threshold_s=q.short_abandon_seconds,
            service_level_variant=variants.get(str(q.id), "default"),
        ) for q in queues},
        queue_agents=queue_members(queues, agents),
        agent_roles=dict(document.agent_roles),
    )
    return config, cost_model(document)
