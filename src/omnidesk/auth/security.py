"""Password hashing (argon2), short-lived JWTs, API key secrets."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Literal

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from omnidesk.errors import Unauthorized
from omnidesk.users.models import Role

JWT_ALGORITHM = "HS256"
API_KEY_PREFIX = "odk"
TokenKind = Literal["access", "refresh"]

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches the stored hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a verified token says about its holder."""

    user_id: uuid.UUID
    tenant_id: uuid.UUID
    role: Role
    platform_admin: bool
    kind: TokenKind


def issue_token(claims: TokenClaims, *, key: str, now: datetime, lifetime: timedelta) -> str:
    """Sign a JWT carrying the claims, valid for `lifetime` from `now`."""
    body = {
        "sub": str(claims.user_id), "tid": str(claims.tenant_id), "role": claims.role.value,
        "pa": claims.platform_admin, "typ": claims.kind,
        "iat": int(now.timestamp()), "exp": int((now + lifetime).timestamp()),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(body, key, algorithm=JWT_ALGORITHM)


def read_token(token: str, *, key: str, kind: TokenKind, now: datetime) -> TokenClaims:
    """Verify signature, expiry and kind; raise Unauthorized otherwise."""
    try:
        body = _verified_body(token, key)
    except jwt.PyJWTError as error:
        raise Unauthorized("invalid token", field="authorization") from error
    if body["exp"] <= now.timestamp():
        raise Unauthorized("token expired", field="authorization")
    if body.get("typ") != kind:
        raise Unauthorized(f"a {kind} token is needed", field="authorization")
    try:
        return TokenClaims(user_id=uuid.UUID(body["sub"]), tenant_id=uuid.UUID(body["tid"]),
                           role=Role(body["role"]), platform_admin=bool(body.get("pa")),
                           kind=kind)
    except (ValueError, KeyError) as error:
        raise Unauthorized("invalid token", field="authorization") from error


@functools.lru_cache(maxsize=4096)
def _verified_body(token: str, key: str) -> Mapping[str, Any]:
    """The claims of a token whose signature `key` verifies (PyJWTError otherwise).

    A desktop sends the same access token with every request until it refreshes it, so a
    token's signature is checked once (≈ 75 µs) and its claims kept; only tokens that verified
    are kept, and `read_token` checks expiry and kind on every use."""
    return MappingProxyType(jwt.decode(
        token, key, algorithms=[JWT_ALGORITHM],
        options={"verify_exp": False, "require": ["exp", "sub", "tid"]}))


def new_api_key(key_id: uuid.UUID) -> tuple[str, str]:
    """A fresh API key for `key_id` and the hash to store: (shown once, stored)."""
    secret = secrets.token_urlsafe(32)
    return f"{API_KEY_PREFIX}_{key_id.hex}_{secret}", hash_secret(secret)


def hash_secret(secret: str) -> str:
    """SHA-256 of a high-entropy secret (API keys need no slow hash)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def split_api_key(api_key: str) -> tuple[uuid.UUID, str]:
    """The key id and secret of an API key, or Unauthorized if it is not one."""
    prefix, _, rest = api_key.partition("_")
    key_hex, _, secret = rest.partition("_")
    try:
        if prefix != API_KEY_PREFIX or not secret:
            raise ValueError(api_key[:4])
        return uuid.UUID(hex=key_hex), secret
    except ValueError as error:
        raise Unauthorized("malformed API key", field="x-api-key") from error


def secrets_match(stored_hash: str, secret: str) -> bool:
    """Constant-time comparison of a presented secret with its stored hash."""
    return hmac.compare_digest(stored_hash, hash_secret(secret))
