"""A visitor's upload made without a browser (for tests that need one to exist)."""

from __future__ import annotations

import uuid

from omnidesk.channels.models import Channel
from omnidesk.channels.webchat import actions, tokens
from omnidesk.config import Settings
from tests.conftest import Api


async def visitor_token(api: Api, channel_id: str) -> str:
    """A new visitor of the channel, and their token."""
    async with api.db.write() as session:
        channel = await session.get(Channel, uuid.UUID(channel_id))
        assert channel is not None
        visitor = await actions.new_visitor(session, channel)
    settings: Settings = api.app.state.settings
    return tokens.issue(settings.resolved_secret_key.get_secret_value(),
                        tenant_id=visitor.tenant_id, channel_id=visitor.channel_id,
                        visitor_id=visitor.id)


async def seed_upload(api: Api, channel_id: str) -> str:
    """A small PNG uploaded by a new visitor of the channel; its id."""
    response = await api.client.post(
        f"/api/v1/channels/webchat/{channel_id}/uploads", content=b"\x89PNG\r\n\x1a\n",
        headers={"Content-Type": "image/png",
                 "X-Visitor-Token": await visitor_token(api, channel_id)})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])
