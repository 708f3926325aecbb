"""Writes of users and API keys, each recording its event (never a secret in it)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.auth.security import hash_password, new_api_key
from omnidesk.db import new_id, session_now
from omnidesk.errors import Conflict
from omnidesk.events.log import record
from omnidesk.users import service
from omnidesk.users.models import ApiKey, User
from omnidesk.users.schemas import ApiKeyCreate, UserCreate, UserUpdate


async def create_user(
    session: AsyncSession, data: UserCreate, *, tenant_id: uuid.UUID, actor: str,
    platform_admin: bool = False,
) -> User:
    """Create a user with an argon2-hashed password."""
    if await service.find_by_email(session, tenant_id=tenant_id, email=data.email):
        raise Conflict(f"a user with email {data.email} exists already", field="email")
    user = User(tenant_id=tenant_id, email=data.email, name=data.name, role=data.role,
                password_hash=hash_password(data.password), is_platform_admin=platform_admin,
                active=True, created_at=session_now(session))
    session.add(user)
    await session.flush()
    await record(session, tenant_id=tenant_id, type="user.created", subject=user.id,
                 payload={"email": user.email, "role": user.role.value,
                          "platform_admin": platform_admin}, actor=actor)
    return user


async def update_user(session: AsyncSession, user: User, data: UserUpdate, *, actor: str) -> User:
    """Change a user's name, role, password or active flag."""
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if "password" in changes:
        user.password_hash = hash_password(changes.pop("password"))
        changes["password_changed"] = True
    for field in ("name", "role", "active"):
        if field in changes:
            setattr(user, field, changes[field])
    await record(session, tenant_id=user.tenant_id, type="user.updated", subject=user.id,
                 payload={key: str(value) if key == "role" else value
                          for key, value in changes.items()}, actor=actor)
    return user


async def create_api_key(
    session: AsyncSession, data: ApiKeyCreate, *, tenant_id: uuid.UUID, actor: str,
) -> tuple[ApiKey, str]:
    """Create an API key; returns the row and the key, which is never shown again."""
    key_id = new_id()
    key, secret_hash = new_api_key(key_id)
    api_key = ApiKey(id=key_id, tenant_id=tenant_id, name=data.name, role=data.role,
                     secret_hash=secret_hash, created_at=session_now(session))
    session.add(api_key)
    await record(session, tenant_id=tenant_id, type="api_key.created", subject=key_id,
                 payload={"name": data.name, "role": data.role.value}, actor=actor)
    return api_key, key


async def revoke_api_key(session: AsyncSession, api_key: ApiKey, *, actor: str) -> ApiKey:
    """Revoke an API key; it stops working at once."""
    if api_key.revoked_at is None:
        api_key.revoked_at = session_now(session)
        await record(session, tenant_id=api_key.tenant_id, type="api_key.revoked",
                     subject=api_key.id, actor=actor)
    return api_key
