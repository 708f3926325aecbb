"""API shapes of users, API keys and tokens."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import StringConstraints

from omnidesk.schemas import Name, ReadModel, Slug, WriteModel
from omnidesk.users.models import Role

Email = Annotated[str, StringConstraints(
    pattern=r"^[^@\s]+@[^@\s]+$", max_length=254, to_lower=True)]
Password = Annotated[str, StringConstraints(min_length=8, max_length=200)]


class UserCreate(WriteModel):
    """A new user of the caller's tenant."""

    email: Email
    name: Name
    role: Role
    password: Password


class UserUpdate(WriteModel):
    """Changes to a user."""

    name: Name | None = None
    role: Role | None = None
    password: Password | None = None
    active: bool | None = None


class UserRead(ReadModel):
    """A user as the API shows it (never the password hash)."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    email: str
    name: str
    role: Role
    is_platform_admin: bool
    active: bool
    created_at: datetime


class LoginRequest(WriteModel):
    """Password login into one tenant."""

    tenant: Slug
    email: Email
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class RefreshRequest(WriteModel):
    """Trade a refresh token for a new pair."""

    refresh_token: str


class TokenPair(ReadModel):
    """A short-lived access token and a longer-lived refresh token."""

    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int


class ApiKeyCreate(WriteModel):
    """A new API key for an integration."""

    name: Name
    role: Role = Role.AGENT


class ApiKeyRead(ReadModel):
    """An API key's metadata (never its secret)."""

    id: uuid.UUID
    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    """The one response that shows the key itself."""

    key: str
