"""The shape of a center file (center.yaml): tenants with their skills, queues, people, channels."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import StringConstraints

from omnidesk.agents.schemas import DEFAULT_CAPACITY, Capacity, Proficiency, RoutingProfile
from omnidesk.canned.schemas import Body, Shortcut, Title
from omnidesk.interactions.schemas import DispositionCode
from omnidesk.knowledge.config import ArticleSpec, duplicate_slugs
from omnidesk.queues.schemas import QueueCreate
from omnidesk.schemas import Name, Slug, TimeZoneName, WriteModel
from omnidesk.users.models import Role
from omnidesk.users.schemas import Email, Password

EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]*$")]


class UserSpec(WriteModel):
    """A user; the password is set only when the user is created."""

    email: Email
    name: Name
    role: Role
    password: Password | None = None
    password_env: EnvName | None = None
    platform_admin: bool = False


class AgentSpec(WriteModel):
    """An agent: one of the file's (or existing) users, with skills, capacity and the queues
    they serve (no `routing_profile`: every queue)."""

    user: Email
    name: Name | None = None
    team: Name | None = None
    skills: dict[str, Proficiency] = {}
    capacity: Capacity = DEFAULT_CAPACITY
    routing_profile: RoutingProfile | None = None


class ChannelSpec(WriteModel):
    """A channel instance; the secret comes from the file, an env variable, or is generated."""

    name: Name
    kind: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,31}$")]
    default_queue: Name | None = None
    secret: Annotated[str, StringConstraints(min_length=16, max_length=200)] | None = None
    secret_env: EnvName | None = None
    settings: dict[str, Any] = {}


class CannedResponseSpec(WriteModel):
    """A canned response agents insert by typing /shortcut."""

    shortcut: Shortcut
    title: Title
    body: Body


class DispositionSpec(WriteModel):
    """A wrap-up reason code; `resolved` is the desktop's default for the Resolved tick."""

    code: DispositionCode
    label: Name
    resolved: bool = True


class TenantSpec(WriteModel):
    """Everything of one tenant."""

    slug: Slug
    name: Name
    timezone: TimeZoneName = "UTC"
    skills: list[Name] = []
    teams: list[Name] = []
    queues: list[QueueCreate] = []
    users: list[UserSpec] = []
    agents: list[AgentSpec] = []
    channels: list[ChannelSpec] = []
    canned_responses: list[CannedResponseSpec] = []
    dispositions: list[DispositionSpec] = []
    knowledge: list[ArticleSpec] = []


def _escalation_errors(index: int, queue: QueueCreate, skills: set[str], teams: set[str],
                       queues: set[str]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    for number, step in enumerate(queue.escalation or []):
        path = ("queues", index, "escalation", number)
        for skill in step.drop_skills:
            if skill not in skills:
                yield (*path, "drop_skills"), f"skill {skill!r} is not in the tenant's skills"
        for team in step.add_teams:
            if team not in teams:
                yield (*path, "add_teams"), f"team {team!r} is not in the tenant's teams"
        if step.overflow_to is not None and (step.overflow_to not in queues
                                             or step.overflow_to == queue.name):
            yield (*path, "overflow_to"), f"queue {step.overflow_to!r} is not another queue " \
                "of the tenant"


def reference_errors(tenant: TenantSpec) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Names that point at nothing in the tenant: (path inside the tenant, message)."""
    skills, teams = set(tenant.skills), set(tenant.teams)
    queues = {queue.name for queue in tenant.queues}
    for index, queue in enumerate(tenant.queues):
        for position, required in enumerate(queue.skills or []):
            if required.skill not in skills:
                yield (("queues", index, "skills", position, "skill"),
                       f"skill {required.skill!r} is not in the tenant's skills")
        yield from _escalation_errors(index, queue, skills, teams, queues)
    for index, agent in enumerate(tenant.agents):
        for skill in agent.skills:
            if skill not in skills:
                yield (("agents", index, "skills", skill),
                       f"skill {skill!r} is not in the tenant's skills")
        if agent.team and agent.team not in teams:
            yield ("agents", index, "team"), f"team {agent.team!r} is not in the tenant's teams"
    seen: set[str] = set()
    for index, canned in enumerate(tenant.canned_responses):
        if canned.shortcut in seen:
            yield (("canned_responses", index, "shortcut"),
                   f"shortcut {canned.shortcut!r} is used twice")
        seen.add(canned.shortcut)
    codes: set[str] = set()
    for index, disposition in enumerate(tenant.dispositions):
        if disposition.code in codes:
            yield (("dispositions", index, "code"), f"code {disposition.code!r} is used twice")
        codes.add(disposition.code)
    for index, message in duplicate_slugs(tenant.knowledge):
        yield ("knowledge", index, "slug"), message
    for index, channel in enumerate(tenant.channels):
        if channel.default_queue and channel.default_queue not in queues:
            yield (("channels", index, "default_queue"),
                   f"queue {channel.default_queue!r} is not in the tenant's queues")


class CenterFile(WriteModel):
    """A whole center file."""

    tenants: list[TenantSpec]
