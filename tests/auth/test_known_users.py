"""The users behind tokens are read once and kept until an event says they changed."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, update

from omnidesk.agents.actions import create_agent
from omnidesk.agents.schemas import AgentCreate
from omnidesk.auth.known_users import KnownUsers
from omnidesk.db import Database
from omnidesk.users.actions import update_user
from omnidesk.users.models import Role, User
from omnidesk.users.schemas import UserUpdate
from tests.conftest import make_tenant


@pytest.fixture
async def admin_id(db: Database) -> uuid.UUID:
    await make_tenant(db, "acme", admin_email="admin@acme.example")
    async with db.read() as session:
        return (await session.scalars(
            select(User.id).where(User.email == "admin@acme.example"))).one()


async def _quietly_demote(db: Database, user_id: uuid.UUID) -> None:
    """Change the row behind the cache's back: no event, as if the event went astray."""
    async with db.write() as session:
        await session.execute(update(User).where(User.id == user_id).values(role=Role.AGENT))


@pytest.fixture
async def known(db: Database) -> AsyncIterator[KnownUsers]:
    users = KnownUsers(db)
    await users.start()
    yield users
    await users.stop()


async def test_a_user_read_once_is_served_from_memory(db: Database, known: KnownUsers,
                                                      admin_id: uuid.UUID) -> None:
    assert (await known.get(admin_id)).role is Role.ADMIN  # type: ignore[union-attr]
    await _quietly_demote(db, admin_id)
    assert (await known.get(admin_id)).role is Role.ADMIN  # type: ignore[union-attr]


async def test_a_user_event_forgets_that_user(db: Database, known: KnownUsers,
                                              admin_id: uuid.UUID) -> None:
    await known.get(admin_id)
    async with db.write() as session:
        user = await session.get(User, admin_id)
        assert user is not None
        await update_user(session, user, UserUpdate(active=False), actor="test")
    assert (await known.get(admin_id)).active is False  # type: ignore[union-attr]


async def test_a_user_made_an_agent_is_known_with_their_agent_record(
        db: Database, known: KnownUsers, admin_id: uuid.UUID) -> None:
    assert (await known.get(admin_id)).agent_id is None  # type: ignore[union-attr]
    async with db.write() as session:
        user = await session.get(User, admin_id)
        assert user is not None
        agent = await create_agent(session, AgentCreate(user_id=admin_id),
                                   tenant_id=user.tenant_id, actor="test")
    assert (await known.get(admin_id)).agent_id == agent.id  # type: ignore[union-attr]


async def test_a_gap_in_the_bus_forgets_everyone(db: Database, known: KnownUsers,
                                                 admin_id: uuid.UUID) -> None:
    await known.get(admin_id)
    await _quietly_demote(db, admin_id)
    assert known._changes is not None
    known._changes.mark_gap()
    assert (await known.get(admin_id)).role is Role.AGENT  # type: ignore[union-attr]


async def test_an_entry_is_trusted_for_its_ttl_only(db: Database, admin_id: uuid.UUID) -> None:
    users = KnownUsers(db, ttl_s=0.0)
    await users.start()
    try:
        await users.get(admin_id)
        await _quietly_demote(db, admin_id)
        assert (await users.get(admin_id)).role is Role.AGENT  # type: ignore[union-attr]
    finally:
        await users.stop()


async def test_an_unknown_user_is_none(known: KnownUsers) -> None:
    assert await known.get(uuid.uuid4()) is None
