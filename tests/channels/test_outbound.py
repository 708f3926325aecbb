"""Agents' messages go out through their channel's adapter, after the commit."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import ClassVar

import pytest

from omnidesk.channels import registry
from omnidesk.channels.actions import create_channel
from omnidesk.channels.base import DeliveryError, OutboundMessage
from omnidesk.channels.inbound import InboundMessage, accept_inbound
from omnidesk.channels.schemas import ChannelCreate
from tests.conftest import Api, eventually, make_tenant


class RecordingAdapter:
    """A channel kind that records what it was asked to send."""

    kind: ClassVar[str] = "recording"
    identity_kind: ClassVar[str] = "chat"

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []
        self.refuse = False

    async def send(self, message: OutboundMessage) -> str:
        if self.refuse:
            raise DeliveryError("provider said 400: invalid recipient")
        self.sent.append(message)
        return f"provider-{len(self.sent)}"


@pytest.fixture
def adapter() -> Iterator[RecordingAdapter]:
    recording = RecordingAdapter()
    registry.register(recording)
    yield recording
    registry._adapters.pop(RecordingAdapter.kind)


async def _conversation(api: Api) -> tuple[str, dict[str, str]]:
    tenant_id = await make_tenant(api.db, "acme", admin_email="admin@acme.example")
    async with api.db.write() as session:
        channel = await create_channel(session, ChannelCreate(kind="recording", name="rec"),
                                       tenant_id=tenant_id, actor="test")
        accepted = await accept_inbound(session, channel, InboundMessage(
            identity_kind="chat", identity_value="visitor-7", body="hi"), actor="test")
    return str(accepted.interaction.id), await api.login("acme", "admin@acme.example")


async def _events(api: Api, headers: dict[str, str], subject: str) -> list[dict[str, object]]:
    events = (await api.client.get("/api/v1/events", headers=headers)).json()
    return [e for e in events if e["subject"] == subject]


async def test_an_agent_reply_is_sent_to_the_customer_and_marked_delivered(
        api: Api, adapter: RecordingAdapter) -> None:
    interaction, admin = await _conversation(api)
    posted = await api.client.post(f"/api/v1/interactions/{interaction}/messages",
                                   headers=admin, json={"body": "Hello from support"})
    assert posted.status_code == 201

    async def delivered() -> bool:
        return any(e["type"] == "message.delivered"
                   for e in await _events(api, admin, interaction))

    await eventually(delivered, "the delivery")
    (sent,) = adapter.sent
    assert (sent.recipient, sent.body) == ("visitor-7", "Hello from support")
    messages = (await api.client.get(f"/api/v1/interactions/{interaction}/messages",
                                     headers=admin)).json()
    assert messages[-1]["external_id"] == "provider-1"
    assert uuid.UUID(sent.message_id) == uuid.UUID(messages[-1]["id"])


async def test_a_refused_delivery_is_recorded_as_failed(api: Api,
                                                       adapter: RecordingAdapter) -> None:
    adapter.refuse = True
    interaction, admin = await _conversation(api)
    await api.client.post(f"/api/v1/interactions/{interaction}/messages", headers=admin,
                          json={"body": "Hello"})

    async def failed() -> bool:
        return any(e["type"] == "message.failed" for e in await _events(api, admin, interaction))

    await eventually(failed, "the failure")
    (event,) = [e for e in await _events(api, admin, interaction) if e["type"] == "message.failed"]
    assert event["payload"]["error"] == "provider said 400: invalid recipient"  # type: ignore[index]
