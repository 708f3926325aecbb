"""FastAPI dependencies shared by every router: the database and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from omnidesk.auth.known_users import KnownUsers
from omnidesk.auth.principal import Principal
from omnidesk.auth.security import read_token, secrets_match, split_api_key
from omnidesk.config import Settings
from omnidesk.db import Database
from omnidesk.errors import Unauthorized
from omnidesk.users.models import ApiKey


async def get_db(request: Request) -> Database:
    """The application's database."""
    db: Database = request.app.state.db
    return db


async def get_settings(request: Request) -> Settings:
    """The application's settings."""
    settings: Settings = request.app.state.settings
    return settings


async def principal_from_api_key(db: Database, api_key: str) -> Principal:
    """The caller behind an API key, or Unauthorized."""
    key_id, secret = split_api_key(api_key)
    async with db.read() as session:
        key = await session.get(ApiKey, key_id)
    if key is None or key.revoked_at is not None or not secrets_match(key.secret_hash, secret):
        raise Unauthorized("unknown or revoked API key", field="x-api-key")
    return Principal(tenant_id=key.tenant_id, role=key.role, api_key_id=key.id)


async def principal_from_token(db: Database, settings: Settings, users: KnownUsers,
                               token: str) -> Principal:
    """The caller behind an access token; the user must still exist and be active."""
    claims = read_token(token, key=settings.resolved_secret_key.get_secret_value(),
                        kind="access", now=db.clock.now())
    user = await users.get(claims.user_id)
    if user is None or not user.active or user.tenant_id != claims.tenant_id:
        raise Unauthorized("user no longer active", field="authorization")
    return Principal(tenant_id=user.tenant_id, role=user.role, user_id=claims.user_id,
                     platform_admin=user.platform_admin, agent_id=user.agent_id)


async def authenticate(db: Database, settings: Settings, users: KnownUsers,
                       credential: str) -> Principal:
    """A bearer credential: an API key (odk_…) or an access token."""
    if credential.startswith("odk_"):
        return await principal_from_api_key(db, credential)
    return await principal_from_token(db, settings, users, credential)


async def current_principal(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> Principal:
    """The authenticated caller: `Authorization: Bearer <token or API key>` or `X-API-Key`.

    It reads the database, settings and users from the application itself, not through
    sub-dependencies: every authenticated request solves this one, and each dependency
    FastAPI solves costs more than the attribute it returns."""
    state = request.app.state
    if x_api_key:
        return await principal_from_api_key(state.db, x_api_key)
    scheme, _, credential = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not credential:
        raise Unauthorized("send Authorization: Bearer <token> or X-API-Key",
                           field="authorization")
    return await authenticate(state.db, state.settings, state.known_users, credential.strip())


DbDep = Annotated[Database, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
