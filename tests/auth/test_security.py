"""Access tokens: a signature verified once is remembered, never trusted beyond its key."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from omnidesk.auth.security import TokenClaims, issue_token, read_token
from omnidesk.errors import Unauthorized
from omnidesk.users.models import Role

KEY = "k" * 40
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CLAIMS = TokenClaims(user_id=uuid.uuid4(), tenant_id=uuid.uuid4(), role=Role.AGENT,
                     platform_admin=False, kind="access")


def _token() -> str:
    return issue_token(CLAIMS, key=KEY, now=NOW, lifetime=timedelta(minutes=15))


def test_a_token_read_twice_gives_the_same_claims() -> None:
    token = _token()
    assert read_token(token, key=KEY, kind="access", now=NOW) == CLAIMS
    assert read_token(token, key=KEY, kind="access", now=NOW) == CLAIMS


def test_a_token_accepted_under_its_key_is_refused_under_another() -> None:
    token = _token()
    read_token(token, key=KEY, kind="access", now=NOW)
    with pytest.raises(Unauthorized, match="invalid token"):
        read_token(token, key="another-key-" + "x" * 30, kind="access", now=NOW)


def test_a_forged_signature_is_refused_after_the_genuine_token_was_accepted() -> None:
    token = _token()
    read_token(token, key=KEY, kind="access", now=NOW)
    head, body, signature = token.split(".")
    forged = f"{head}.{body}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    with pytest.raises(Unauthorized, match="invalid token"):
        read_token(forged, key=KEY, kind="access", now=NOW)


def test_a_remembered_token_still_expires_and_keeps_its_kind() -> None:
    token = _token()
    read_token(token, key=KEY, kind="access", now=NOW)
    with pytest.raises(Unauthorized, match="token expired"):
        read_token(token, key=KEY, kind="access", now=NOW + timedelta(minutes=15))
    with pytest.raises(Unauthorized, match="a refresh token is needed"):
        read_token(token, key=KEY, kind="refresh", now=NOW)
