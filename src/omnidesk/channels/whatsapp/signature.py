"""Meta's webhook signature: X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256(app secret,
raw body)."""

from __future__ import annotations

import hashlib
import hmac

from omnidesk.errors import Forbidden, Unauthorized

SIGNATURE_HEADER = "X-Hub-Signature-256"


def sign(app_secret: str, body: bytes) -> str:
    """The header value Meta sends with this body."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify(app_secret: str, *, signature: str | None, body: bytes) -> None:
    """Raise unless the header is the body's signature with the app secret."""
    if not signature:
        raise Unauthorized(f"missing {SIGNATURE_HEADER} header", field=SIGNATURE_HEADER.lower())
    if not hmac.compare_digest(sign(app_secret, body), signature.strip().lower()):
        raise Forbidden("X-Hub-Signature-256 does not match (is the channel secret the Meta "
                        "app secret?)", field=SIGNATURE_HEADER.lower())
