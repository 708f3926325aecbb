"""Visitor tokens are bound to the key, the tenant, the channel and the visitor."""

from __future__ import annotations

import uuid

import pytest

from omnidesk.channels.webchat import tokens
from omnidesk.errors import Unauthorized

KEY = "a-server-secret-key"
TENANT, CHANNEL, VISITOR = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def test_a_token_names_its_visitor() -> None:
    token = tokens.issue(KEY, tenant_id=TENANT, channel_id=CHANNEL, visitor_id=VISITOR)
    assert tokens.verify(KEY, token, tenant_id=TENANT, channel_id=CHANNEL) == VISITOR


@pytest.mark.parametrize(("key", "tenant", "channel"), [
    ("another-key", TENANT, CHANNEL), (KEY, uuid.uuid4(), CHANNEL), (KEY, TENANT, uuid.uuid4())])
def test_a_token_is_refused_with_another_key_tenant_or_channel(
        key: str, tenant: uuid.UUID, channel: uuid.UUID) -> None:
    token = tokens.issue(KEY, tenant_id=TENANT, channel_id=CHANNEL, visitor_id=VISITOR)
    with pytest.raises(Unauthorized) as refused:
        tokens.verify(key, token, tenant_id=tenant, channel_id=channel)
    assert refused.value.field == "visitor_token"


@pytest.mark.parametrize("token", ["", "v1", "v1..", "v2.abc.def", "garbage",
                                   f"v1.{uuid.uuid4().hex}.AAAA"])
def test_a_malformed_or_unsigned_token_is_refused(token: str) -> None:
    with pytest.raises(Unauthorized):
        tokens.verify(KEY, token, tenant_id=TENANT, channel_id=CHANNEL)


def test_another_visitor_id_under_the_same_signature_is_refused() -> None:
    token = tokens.issue(KEY, tenant_id=TENANT, channel_id=CHANNEL, visitor_id=VISITOR)
    _, _, signature = token.split(".")
    with pytest.raises(Unauthorized):
        tokens.verify(KEY, f"v1.{uuid.uuid4().hex}.{signature}", tenant_id=TENANT,
                      channel_id=CHANNEL)
