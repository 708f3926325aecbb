"""Signed survey links: the survey id and an HMAC-SHA256 of it under the server's key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

_PURPOSE = b"omnidesk-survey:"
_MAC_BYTES = 16


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: str, survey_id: uuid.UUID) -> bytes:
    return hmac.new(key.encode(), _PURPOSE + survey_id.bytes, hashlib.sha256).digest()[:_MAC_BYTES]


def sign(survey_id: uuid.UUID, *, key: str) -> str:
    """The token of a survey's link."""
    return f"{_b64(survey_id.bytes)}.{_b64(_mac(key, survey_id))}"


def verify(token: str, *, key: str) -> uuid.UUID | None:
    """The survey id of a genuine token, else None (never raises on garbage)."""
    head, _, signature = token.partition(".")
    try:
        survey_id = uuid.UUID(bytes=_unb64(head))
        given = _unb64(signature)
    except (ValueError, TypeError):
        return None
    return survey_id if hmac.compare_digest(given, _mac(key, survey_id)) else None
