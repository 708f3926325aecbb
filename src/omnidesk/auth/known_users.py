"""The users behind recent requests, so that a request with a token needs no read to authenticate.

Before each lookup the cache reads the events published since the last one: a `user.*` event
forgets that user, an `agent.created` everyone (each user's agent record is kept too; one is
never removed, nor moved to another user). On the in-process bus, the change's own events are
here before its request has answered; through Redis, every process gets them within the bus's
delay. A gap in the bus forgets everyone; an entry is trusted for TTL seconds at most anyway.
"""

from __future__ import annotations

import time
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass

from sqlalchemy import select

from omnidesk.agents.models import Agent
from omnidesk.db import Database
from omnidesk.events.bus import Subscription
from omnidesk.users.models import Role, User

USER_TTL_S = 30.0


@dataclass(frozen=True, slots=True)
class KnownUser:
    """What authentication needs of a user row."""

    tenant_id: uuid.UUID
    role: Role
    active: bool
    platform_admin: bool
    agent_id: uuid.UUID | None  # the user's agent record, if the user is an agent


class KnownUsers:
    """Users by id, read once and kept until they change (or TTL seconds pass)."""

    def __init__(self, db: Database, ttl_s: float = USER_TTL_S) -> None:
        self.db = db
        self._ttl_s = ttl_s
        self._known: dict[uuid.UUID, tuple[float, KnownUser]] = {}
        self._forgets = 0  # bumped by every forgetting: a read begun before one is not kept
        self._changes: Subscription | None = None
        self._subscribed = AsyncExitStack()

    async def start(self) -> None:
        """Follow the bus from now on."""
        self._changes = await self._subscribed.enter_async_context(self.db.bus.subscribe_all())

    async def stop(self) -> None:
        """Stop following the bus."""
        await self._subscribed.aclose()
        self._changes = None

    async def get(self, user_id: uuid.UUID) -> KnownUser | None:
        """The user (None if there is no such user), from memory when fresh."""
        self._forget_changed()
        now = time.monotonic()
        entry = self._known.get(user_id)
        if entry is not None and entry[0] > now:
            return entry[1]
        forgets = self._forgets
        query = (select(User.tenant_id, User.role, User.active, User.is_platform_admin,
                        Agent.id.label("agent_id"))
                 .outerjoin(Agent, (Agent.user_id == User.id)
                            & (Agent.tenant_id == User.tenant_id))
                 .where(User.id == user_id))
        async with self.db.read() as session:
            row = (await session.execute(query)).one_or_none()
        if row is None:
            return None
        user = KnownUser(tenant_id=row.tenant_id, role=row.role, active=row.active,
                         platform_admin=row.is_platform_admin, agent_id=row.agent_id)
        self._forget_changed()
        if forgets == self._forgets:
            self._known[user_id] = (now + self._ttl_s, user)
        return user

    def _forget_changed(self) -> None:
        """Forget the users whose events arrived since the last look (everyone after a gap)."""
        if self._changes is None:
            raise RuntimeError("KnownUsers.start() was not awaited")
        records, lost = self._changes.drain()
        changed = [uuid.UUID(record.subject) for record in records
                   if record.type.startswith("user.")]
        new_agent = any(record.type == "agent.created" for record in records)
        if not (lost or changed or new_agent):
            return
        self._forgets += 1
        if lost or new_agent:
            self._known.clear()
        for user_id in changed:
            self._known.pop(user_id, None)
