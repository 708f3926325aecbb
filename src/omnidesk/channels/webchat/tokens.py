"""Visitor tokens: the visitor id signed with the server's secret, bound to tenant and channel.

`v1.<visitor id hex>.<base64url HMAC-SHA256>`; the widget keeps it in localStorage so the
same browser is the same visitor across page loads. A token for another channel or tenant, or
with a changed id or signature, is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

from omnidesk.errors import Unauthorized

VERSION = "v1"
FIELD = "visitor_token"


def _signature(key: str, tenant_id: uuid.UUID, channel_id: uuid.UUID,
               visitor_id: uuid.UUID) -> str:
    message = f"webchat-visitor|{tenant_id}|{channel_id}|{visitor_id}".encode()
    digest = hmac.new(key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issue(key: str, *, tenant_id: uuid.UUID, channel_id: uuid.UUID,
          visitor_id: uuid.UUID) -> str:
    """The token that proves a browser is this visitor of this channel."""
    return f"{VERSION}.{visitor_id.hex}.{_signature(key, tenant_id, channel_id, visitor_id)}"


def verify(key: str, token: str, *, tenant_id: uuid.UUID, channel_id: uuid.UUID) -> uuid.UUID:
    """The visitor id of a valid token; Unauthorized (naming visitor_token) otherwise."""
    version, _, rest = token.strip().partition(".")
    raw_id, _, signature = rest.partition(".")
    try:
        visitor_id = uuid.UUID(hex=raw_id)
    except ValueError:
        raise Unauthorized("the visitor token is malformed", field=FIELD) from None
    if version != VERSION or not signature or not hmac.compare_digest(
            signature, _signature(key, tenant_id, channel_id, visitor_id)):
        raise Unauthorized("the visitor token is not valid for this channel", field=FIELD)
    return visitor_id
