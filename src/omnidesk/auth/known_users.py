"""The users behind recent requests, so that a request with a token needs no read to authenticate.

A `user.*` event forgets that user, an `agent.created` everyone (each user's agent record is
kept too; one is never removed, nor moved to another user); see events/cache.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select

from omnidesk.agents.models import Agent
from omnidesk.events.bus import EventTypes
from omnidesk.events.cache import EVERYTHING, BusCache
from omnidesk.events.record import EventRecord
from omnidesk.users.models import Role, User


@dataclass(frozen=True, slots=True)
class KnownUser:
    """What authentication needs of a user row."""

    tenant_id: uuid.UUID
    role: Role
    active: bool
    platform_admin: bool
    agent_id: uuid.UUID | None  # the user's agent record, if the user is an agent


class KnownUsers(BusCache[KnownUser]):
    """Users by id, read once and kept until they change (or `ttl_s` passes)."""

    FOLLOWS = EventTypes(frozenset({"agent.created"}), ("user.",))

    def changed(self, records: list[EventRecord]) -> Collection[uuid.UUID] | None:
        """A `user.*` event changes that user, an `agent.created` anyone."""
        if any(record.type == "agent.created" for record in records):
            return EVERYTHING
        return [uuid.UUID(record.subject) for record in records
                if record.type.startswith("user.")]

    async def read(self, user_id: uuid.UUID) -> KnownUser | None:
        """The user's row and agent record (None if there is no such user)."""
        query = (select(User.tenant_id, User.role, User.active, User.is_platform_admin,
                        Agent.id.label("agent_id"))
                 .outerjoin(Agent, (Agent.user_id == User.id)
                            & (Agent.tenant_id == User.tenant_id))
                 .where(User.id == user_id))
        async with self.db.lookup() as session:
            row = (await session.execute(query)).one_or_none()
        if row is None:
            return None
        return KnownUser(tenant_id=row.tenant_id, role=row.role, active=row.active,
                         platform_admin=row.is_platform_admin, agent_id=row.agent_id)
