"""Apply a center file: create what is missing, update what differs, touch nothing else."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.agents import actions as agents
from omnidesk.agents.schemas import AgentCreate, AgentUpdate, SkillLevel
from omnidesk.agents.service import agent_for_user
from omnidesk.canned import actions as canned
from omnidesk.canned import service as canned_service
from omnidesk.canned.schemas import CannedResponseCreate, CannedResponseUpdate
from omnidesk.channels import actions as channels
from omnidesk.channels import service as channel_service
from omnidesk.channels.registry import InvalidSettings, validate_settings
from omnidesk.channels.schemas import ChannelCreate
from omnidesk.configuration.export import export_tenant
from omnidesk.configuration.schema import (
    AgentSpec,
    CannedResponseSpec,
    CenterFile,
    ChannelSpec,
    TenantSpec,
    UserSpec,
    reference_errors,
)
from omnidesk.configuration.yaml_source import (
    ConfigFileError,
    YamlDocument,
    dotted,
    parse,
    validate,
)
from omnidesk.errors import Forbidden, InvalidInput
from omnidesk.interactions import actions as interaction_actions
from omnidesk.interactions import service as interaction_service
from omnidesk.interactions.schemas import DispositionCreate
from omnidesk.knowledge.config import apply_articles
from omnidesk.queues import actions as queues
from omnidesk.queues import service as queue_service
from omnidesk.queues.schemas import QueueCreate, QueueUpdate
from omnidesk.tenants import actions as tenants
from omnidesk.tenants import service as tenant_service
from omnidesk.tenants.models import Tenant
from omnidesk.tenants.schemas import TenantCreate, TenantUpdate
from omnidesk.users import actions as users
from omnidesk.users import service as user_service
from omnidesk.users.schemas import UserCreate, UserUpdate


@dataclass
class ApplyReport:
    """What an apply changed, one line per created or updated object."""

    changes: list[str] = field(default_factory=list)

    def note(self, verb: str, kind: str, tenant: str, name: str) -> None:
        """Record one change."""
        self.changes.append(f"{verb} {kind} {tenant}/{name}")


def _from_env(document: YamlDocument, path: tuple[str | int, ...], variable: str) -> str:
    value = os.environ.get(variable)
    if not value:
        raise ConfigFileError(document.source, document.line_of(path), dotted(path),
                              f"environment variable {variable} is not set")
    return value


def _resolve_env(document: YamlDocument, center: CenterFile) -> CenterFile:
    """Fill password_env / secret_env from the environment (checked at load time)."""
    for t_index, tenant in enumerate(center.tenants):
        for u_index, user in enumerate(tenant.users):
            if user.password_env:
                path = ("tenants", t_index, "users", u_index, "password_env")
                user.password = _from_env(document, path, user.password_env)
        for c_index, channel in enumerate(tenant.channels):
            if channel.secret_env:
                path = ("tenants", t_index, "channels", c_index, "secret_env")
                channel.secret = _from_env(document, path, channel.secret_env)
    return center


def _check_channels(document: YamlDocument, center: CenterFile) -> None:
    """Each channel's kind must be known and its settings must meet the kind's model."""
    for t_index, tenant in enumerate(center.tenants):
        for c_index, channel in enumerate(tenant.channels):
            try:
                channel.settings = validate_settings(channel.kind, channel.settings)
            except InvalidSettings as error:
                path = ("tenants", t_index, "channels", c_index, *error.path)
                raise ConfigFileError(document.source, document.line_of(path), dotted(path),
                                      error.reason) from error


def load_center(text: str, source: str) -> CenterFile:
    """Parse and check a center file; any problem raises ConfigFileError with file and line."""
    document = parse(text, source)
    center = validate(document, CenterFile)
    for t_index, tenant in enumerate(center.tenants):
        for path, message in reference_errors(tenant):
            full = ("tenants", t_index, *path)
            raise ConfigFileError(source, document.line_of(full), dotted(full), message)
    _check_channels(document, center)
    return _resolve_env(document, center)


def load_center_file(path: Path) -> CenterFile:
    """load_center on a file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigFileError(str(path), None, "", f"cannot read: {error.strerror}") from error
    return load_center(text, str(path))


async def _ensure_tenant(session: AsyncSession, spec: TenantSpec, report: ApplyReport,
                         actor: str) -> Tenant:
    tenant = await tenant_service.find_by_slug(session, spec.slug)
    if tenant is None:
        report.note("created", "tenant", spec.slug, spec.slug)
        return await tenants.create_tenant(
            session, TenantCreate(slug=spec.slug, name=spec.name, timezone=spec.timezone),
            actor=actor)
    if (tenant.name, tenant.timezone) != (spec.name, spec.timezone):
        report.note("updated", "tenant", spec.slug, spec.slug)
        await tenants.update_tenant(session, tenant,
                                    TenantUpdate(name=spec.name, timezone=spec.timezone),
                                    actor=actor)
    return tenant


async def _apply_names(session: AsyncSession, tenant: Tenant, spec: TenantSpec,
                       current: TenantSpec, report: ApplyReport, actor: str) -> None:
    for name in spec.skills:
        if name not in current.skills:
            await agents.create_skill(session, name, tenant_id=tenant.id, actor=actor)
            report.note("created", "skill", tenant.slug, name)
    for name in spec.teams:
        if name not in current.teams:
            await agents.create_team(session, name, tenant_id=tenant.id, actor=actor)
            report.note("created", "team", tenant.slug, name)


async def _apply_queues(session: AsyncSession, tenant: Tenant, spec: TenantSpec,
                        current: dict[str, QueueCreate], report: ApplyReport,
                        actor: str) -> None:
    """Create missing queues first, so that escalation steps may overflow to any of them."""
    for desired in spec.queues:
        if desired.name not in current:
            await queues.create_queue(session, desired.model_copy(update={"escalation": None}),
                                      tenant_id=tenant.id, actor=actor)
            report.note("created", "queue", tenant.slug, desired.name)
    for desired in spec.queues:
        existing = current.get(desired.name)
        full = desired.model_dump(mode="json")
        wanted = {key: full[key] for key in desired.model_fields_set}
        if existing is None:
            wanted = {"escalation": full["escalation"]} if desired.escalation else {}
        elif {key: existing.model_dump(mode="json")[key] for key in wanted} == wanted:
            wanted = {}
        else:
            report.note("updated", "queue", tenant.slug, desired.name)
        if wanted:
            queue = await queue_service.find_by_name(session, tenant_id=tenant.id,
                                                     name=desired.name)
            assert queue is not None
            await queues.update_queue(session, queue, QueueUpdate.model_validate(wanted),
                                      actor=actor)


async def _apply_user(session: AsyncSession, tenant: Tenant, spec: UserSpec,
                      current: dict[str, UserSpec], report: ApplyReport, actor: str) -> None:
    existing = current.get(spec.email)
    if existing is None:
        if not spec.password:
            raise InvalidInput(f"user {spec.email} is new: give password or password_env",
                               field="password")
        await users.create_user(
            session, UserCreate(email=spec.email, name=spec.name, role=spec.role,
                                password=spec.password),
            tenant_id=tenant.id, actor=actor, platform_admin=spec.platform_admin)
        report.note("created", "user", tenant.slug, spec.email)
        return
    if (existing.name, existing.role, existing.platform_admin) != (
            spec.name, spec.role, spec.platform_admin):
        user = await user_service.find_by_email(session, tenant_id=tenant.id, email=spec.email)
        assert user is not None
        user.is_platform_admin = spec.platform_admin
        await users.update_user(session, user, UserUpdate(name=spec.name, role=spec.role),
                                actor=actor)
        report.note("updated", "user", tenant.slug, spec.email)


async def _apply_agent(session: AsyncSession, tenant: Tenant, spec: AgentSpec,
                       current: dict[str, AgentSpec], report: ApplyReport, actor: str) -> None:
    user = await user_service.find_by_email(session, tenant_id=tenant.id, email=spec.user)
    if user is None:
        raise InvalidInput(f"agent {spec.user}: no such user in tenant {tenant.slug}",
                           field="user")
    skills = [SkillLevel(skill=name, proficiency=level) for name, level in spec.skills.items()]
    existing = current.get(spec.user)
    if existing is None:
        await agents.create_agent(
            session, AgentCreate(user_id=user.id, name=spec.name, team=spec.team, skills=skills,
                                 capacity=spec.capacity, routing_profile=spec.routing_profile),
            tenant_id=tenant.id, actor=actor)
        report.note("created", "agent", tenant.slug, spec.user)
        return
    if existing.model_dump(exclude={"name"}) != spec.model_dump(exclude={"name"}) or (
            spec.name and spec.name != existing.name):
        agent = await agent_for_user(session, tenant_id=tenant.id, user_id=user.id)
        assert agent is not None
        await agents.update_agent(session, agent, AgentUpdate(
            name=spec.name, team=spec.team, skills=skills, capacity=spec.capacity,
            routing_profile=spec.routing_profile), actor=actor)
        report.note("updated", "agent", tenant.slug, spec.user)


async def _apply_channel(session: AsyncSession, tenant: Tenant, spec: ChannelSpec,
                         report: ApplyReport, actor: str) -> None:
    channel = await channel_service.find_by_name(session, tenant_id=tenant.id, name=spec.name)
    settings = validate_settings(spec.kind, spec.settings)  # as stored, to compare with them
    if channel is None:
        await channels.create_channel(
            session, ChannelCreate(kind=spec.kind, name=spec.name, settings=spec.settings,
                                   default_queue=spec.default_queue, secret=spec.secret),
            tenant_id=tenant.id, actor=actor)
        report.note("created", "channel", tenant.slug, spec.name)
        return
    queue_id = await queue_service.id_by_name(session, tenant_id=tenant.id,
                                              name=spec.default_queue, field="default_queue")
    new_secret = spec.secret if spec.secret and spec.secret != channel.secret else None
    if (channel.default_queue_id, channel.settings) != (queue_id, settings) or new_secret:
        await channels.update_channel(session, channel, default_queue=spec.default_queue,
                                      settings=settings, secret=new_secret, actor=actor)
        report.note("updated", "channel", tenant.slug, spec.name)


async def _apply_canned(session: AsyncSession, tenant: Tenant, spec: CannedResponseSpec,
                        report: ApplyReport, actor: str) -> None:
    existing = await canned_service.find_by_shortcut(session, tenant_id=tenant.id,
                                                     shortcut=spec.shortcut)
    if existing is None:
        await canned.create_canned(session, CannedResponseCreate(**spec.model_dump()),
                                   tenant_id=tenant.id, actor=actor)
        report.note("created", "canned response", tenant.slug, spec.shortcut)
    elif (existing.title, existing.body) != (spec.title, spec.body):
        await canned.update_canned(session, existing, CannedResponseUpdate(
            title=spec.title, body=spec.body), actor=actor)
        report.note("updated", "canned response", tenant.slug, spec.shortcut)


async def _apply_dispositions(session: AsyncSession, tenant: Tenant, spec: TenantSpec,
                              report: ApplyReport, actor: str) -> None:
    existing = {d.code: d for d in await interaction_service.list_dispositions(
        session, tenant_id=tenant.id)}
    for wanted in spec.dispositions:
        data = DispositionCreate(code=wanted.code, label=wanted.label, resolved=wanted.resolved)
        current = existing.get(wanted.code)
        if current is None:
            await interaction_actions.create_disposition(session, data, tenant_id=tenant.id,
                                                         actor=actor)
            report.note("created", "disposition", tenant.slug, wanted.code)
        elif (current.label, current.resolved) != (wanted.label, wanted.resolved):
            await interaction_actions.update_disposition(session, current, data, actor=actor)
            report.note("updated", "disposition", tenant.slug, wanted.code)


async def apply_tenant(session: AsyncSession, spec: TenantSpec, report: ApplyReport, *,
                       actor: str) -> Tenant:
    """Bring one tenant to what the spec says."""
    tenant = await _ensure_tenant(session, spec, report, actor)
    current = await export_tenant(session, tenant)
    await _apply_names(session, tenant, spec, current, report, actor)
    await _apply_queues(session, tenant, spec, {q.name: q for q in current.queues}, report,
                        actor)
    current_users = {user.email: user for user in current.users}
    for user in spec.users:
        await _apply_user(session, tenant, user, current_users, report, actor)
    current_agents = {agent.user: agent for agent in current.agents}
    for agent in spec.agents:
        await _apply_agent(session, tenant, agent, current_agents, report, actor)
    for channel in spec.channels:
        await _apply_channel(session, tenant, channel, report, actor)
    for canned_spec in spec.canned_responses:
        await _apply_canned(session, tenant, canned_spec, report, actor)
    await _apply_dispositions(session, tenant, spec, report, actor)
    await apply_articles(session, tenant, spec.knowledge, actor=actor,
                         note=lambda verb, slug: report.note(verb, "article", tenant.slug, slug))
    return tenant


def check_scope(center: CenterFile, *, tenant_slug: str | None) -> None:
    """A tenant administrator may apply only their own tenant and grant no platform rights."""
    if tenant_slug is None:
        return
    for spec in center.tenants:
        if spec.slug != tenant_slug:
            raise Forbidden(f"you may configure only tenant {tenant_slug!r}", field="slug")
        if any(user.platform_admin for user in spec.users):
            raise Forbidden("only a platform administrator may grant platform_admin",
                            field="platform_admin")


async def apply_center(session: AsyncSession, center: CenterFile, *, actor: str,
                       tenant_slug: str | None = None) -> ApplyReport:
    """Apply every tenant of the file in the caller's transaction (all or nothing)."""
    check_scope(center, tenant_slug=tenant_slug)
    report = ApplyReport()
    for spec in center.tenants:
        await apply_tenant(session, spec, report, actor=actor)
    return report

