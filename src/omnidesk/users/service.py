"""Reads of users and API keys."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.users.models import ApiKey, User


async def find_by_email(session: AsyncSession, *, tenant_id: uuid.UUID, email: str) -> User | None:
    """The tenant's user with this (lower-cased) email, if any."""
    return await session.scalar(
        select(User).where(User.tenant_id == tenant_id, User.email == email.lower()))


async def list_users(session: AsyncSession, *, tenant_id: uuid.UUID) -> Sequence[User]:
    """The tenant's users by email."""
    return (await session.scalars(
        select(User).where(User.tenant_id == tenant_id).order_by(User.email))).all()


async def list_api_keys(session: AsyncSession, *, tenant_id: uuid.UUID) -> Sequence[ApiKey]:
    """The tenant's API keys, newest first."""
    return (await session.scalars(
        select(ApiKey).where(ApiKey.tenant_id == tenant_id)
        .order_by(ApiKey.created_at.desc()))).all()
