"""HMAC-SHA256 request signatures of the API channel."""

from __future__ import annotations

import hashlib
import hmac

from omnidesk.errors import Forbidden, Unauthorized

SIGNATURE_HEADER = "X-Omnidesk-Signature"
TIMESTAMP_HEADER = "X-Omnidesk-Timestamp"
TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value: sha256=HEX(HMAC(secret, timestamp + "." + body))."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, *, signature: str | None, timestamp: str | None, body: bytes,
           now: float) -> None:
    """Raise unless the signature is valid and the timestamp within five minutes of now."""
    if not signature or not timestamp:
        raise Unauthorized(f"missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER} header",
                           field=SIGNATURE_HEADER.lower())
    try:
        sent_at = int(timestamp)
    except ValueError as error:
        raise Forbidden("timestamp is not unix seconds", field=TIMESTAMP_HEADER.lower()) \
            from error
    if abs(now - sent_at) > TOLERANCE_SECONDS:
        raise Forbidden("timestamp too far from now (replay?)", field=TIMESTAMP_HEADER.lower())
    if not hmac.compare_digest(sign(secret, timestamp, body), signature.strip()):
        raise Forbidden("signature does not match", field=SIGNATURE_HEADER.lower())
