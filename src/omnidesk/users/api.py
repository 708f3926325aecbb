"""Users and API keys API: tenant administrators."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from omnidesk.deps import DbDep, PrincipalDep
from omnidesk.scoping import get_in_tenant
from omnidesk.users import actions, service
from omnidesk.users.models import ApiKey, Role, User
from omnidesk.users.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    UserCreate,
    UserRead,
    UserUpdate,
)

router = APIRouter(tags=["users"])


@router.get("/users", response_model=list[UserRead])
async def list_users(db: DbDep, principal: PrincipalDep) -> list[User]:
    """The tenant's users."""
    principal.require(Role.ADMIN, Role.SUPERVISOR)
    async with db.read() as session:
        return list(await service.list_users(session, tenant_id=principal.tenant_id))


@router.post("/users", response_model=UserRead, status_code=status.HTTP_201_CREATED)
async def create_user(data: UserCreate, db: DbDep, principal: PrincipalDep) -> User:
    """Create a user in the caller's tenant."""
    principal.require(Role.ADMIN)
    async with db.write() as session:
        return await actions.create_user(session, data, tenant_id=principal.tenant_id,
                                         actor=principal.actor)


@router.get("/users/{user_id}", response_model=UserRead)
async def get_user(user_id: uuid.UUID, db: DbDep, principal: PrincipalDep) -> User:
    """One user."""
    principal.require(Role.ADMIN, Role.SUPERVISOR)
    async with db.read() as session:
        return await get_in_tenant(session, User, user_id, tenant_id=principal.tenant_id,
                                   what="user")


@router.patch("/users/{user_id}", response_model=UserRead)
async def update_user(
    user_id: uuid.UUID, data: UserUpdate, db: DbDep, principal: PrincipalDep,
) -> User:
    """Change a user's name, role, password or active flag."""
    principal.require(Role.ADMIN)
    async with db.write() as session:
        user = await get_in_tenant(session, User, user_id, tenant_id=principal.tenant_id,
                                   what="user")
        return await actions.update_user(session, user, data, actor=principal.actor)


@router.get("/api-keys", response_model=list[ApiKeyRead])
async def list_api_keys(db: DbDep, principal: PrincipalDep) -> list[ApiKey]:
    """The tenant's API keys (metadata only)."""
    principal.require(Role.ADMIN)
    async with db.read() as session:
        return list(await service.list_api_keys(session, tenant_id=principal.tenant_id))


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED)
async def create_api_key(data: ApiKeyCreate, db: DbDep, principal: PrincipalDep) -> ApiKeyCreated:
    """Create an API key; the response is the only time the key is shown."""
    principal.require(Role.ADMIN)
    async with db.write() as session:
        api_key, key = await actions.create_api_key(
            session, data, tenant_id=principal.tenant_id, actor=principal.actor)
        return ApiKeyCreated(key=key, **ApiKeyRead.model_validate(api_key).model_dump())


@router.delete("/api-keys/{api_key_id}", response_model=ApiKeyRead)
async def revoke_api_key(api_key_id: uuid.UUID, db: DbDep, principal: PrincipalDep) -> ApiKey:
    """Revoke an API key."""
    principal.require(Role.ADMIN)
    async with db.write() as session:
        api_key = await get_in_tenant(session, ApiKey, api_key_id,
                                      tenant_id=principal.tenant_id, what="api_key")
        return await actions.revoke_api_key(session, api_key, actor=principal.actor)
