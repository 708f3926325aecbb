"""Login, token refresh and "who am I"."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter

from omnidesk.auth.security import (
    TokenClaims,
    TokenKind,
    issue_token,
    read_token,
    verify_password,
)
from omnidesk.config import Settings
from omnidesk.deps import DbDep, PrincipalDep, SettingsDep
from omnidesk.errors import Forbidden, Unauthorized
from omnidesk.tenants import service as tenants
from omnidesk.users import service as users
from omnidesk.users.models import User
from omnidesk.users.schemas import LoginRequest, RefreshRequest, TokenPair, UserRead

router = APIRouter(prefix="/auth", tags=["auth"])

BAD_LOGIN = "wrong tenant, email or password"


def _claims(user: User, kind: TokenKind) -> TokenClaims:
    return TokenClaims(user_id=user.id, tenant_id=user.tenant_id, role=user.role,
                       platform_admin=user.is_platform_admin, kind=kind)


def token_pair(user: User, settings: Settings, now: datetime) -> TokenPair:
    """Issue an access and a refresh token for the user."""
    key = settings.resolved_secret_key.get_secret_value()
    access_lifetime = timedelta(minutes=settings.access_token_minutes)
    refresh_lifetime = timedelta(days=settings.refresh_token_days)
    return TokenPair(
        access_token=issue_token(_claims(user, "access"), key=key, now=now,
                                 lifetime=access_lifetime),
        refresh_token=issue_token(_claims(user, "refresh"), key=key, now=now,
                                  lifetime=refresh_lifetime),
        expires_in=int(access_lifetime.total_seconds()))


@router.post("/login", response_model=TokenPair)
async def login(data: LoginRequest, db: DbDep, settings: SettingsDep) -> TokenPair:
    """Password login; the same answer for an unknown tenant, user or wrong password."""
    async with db.read() as session:
        tenant = await tenants.find_by_slug(session, data.tenant)
        user = tenant and await users.find_by_email(session, tenant_id=tenant.id,
                                                     email=data.email)
    if not user or not user.active or not verify_password(user.password_hash, data.password):
        raise Unauthorized(BAD_LOGIN, field="password")
    return token_pair(user, settings, db.clock.now())


@router.post("/refresh", response_model=TokenPair)
async def refresh(data: RefreshRequest, db: DbDep, settings: SettingsDep) -> TokenPair:
    """A new token pair for a valid refresh token of an active user."""
    claims = read_token(data.refresh_token, key=settings.resolved_secret_key.get_secret_value(),
                        kind="refresh", now=db.clock.now())
    async with db.read() as session:
        user = await session.get(User, claims.user_id)
    if user is None or not user.active or user.tenant_id != claims.tenant_id:
        raise Unauthorized("user no longer active", field="refresh_token")
    return token_pair(user, settings, db.clock.now())


@router.get("/me", response_model=UserRead)
async def me(db: DbDep, principal: PrincipalDep) -> User:
    """The logged-in user (API keys have no user: 403)."""
    if principal.user_id is None:
        raise Forbidden("an API key has no user")
    async with db.read() as session:
        user = await session.get(User, principal.user_id)
    if user is None:
        raise Unauthorized("user no longer exists", field="authorization")
    return user
