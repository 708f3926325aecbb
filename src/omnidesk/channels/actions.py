"""Writes of channel instances."""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.channels import service
from omnidesk.channels.models import Channel
from omnidesk.channels.registry import validate_settings
from omnidesk.channels.schemas import ChannelCreate
from omnidesk.errors import Conflict
from omnidesk.events.log import record
from omnidesk.queues.service import id_by_name


async def create_channel(session: AsyncSession, data: ChannelCreate, *, tenant_id: uuid.UUID,
                         actor: str) -> Channel:
    """Create a channel instance with its secret and default queue; its kind must be known
    and its settings must meet the kind's settings model (InvalidInput naming the field)."""
    settings = validate_settings(data.kind, data.settings)
    if await service.find_by_name(session, tenant_id=tenant_id, name=data.name):
        raise Conflict(f"channel {data.name!r} exists already", field="name")
    channel = Channel(
        tenant_id=tenant_id, kind=data.kind, name=data.name,
        secret=data.secret or secrets.token_urlsafe(32), settings=settings, enabled=True,
        default_queue_id=await id_by_name(session, tenant_id=tenant_id, name=data.default_queue,
                                          field="default_queue"))
    session.add(channel)
    await session.flush()
    await record(session, tenant_id=tenant_id, type="channel.created", subject=channel.id,
                 payload={"kind": data.kind, "name": data.name,
                          "default_queue": data.default_queue}, actor=actor)
    return channel


async def update_channel(session: AsyncSession, channel: Channel, *, default_queue: str | None,
                         settings: dict[str, object], secret: str | None, actor: str) -> Channel:
    """Change a channel's default queue, settings or secret (the secret is never recorded);
    changed settings must meet the kind's settings model (InvalidInput naming the field)."""
    if settings != channel.settings:
        settings = validate_settings(channel.kind, dict(settings))
    channel.default_queue_id = await id_by_name(session, tenant_id=channel.tenant_id,
                                                name=default_queue, field="default_queue")
    channel.settings = settings
    if secret is not None:
        channel.secret = secret
    await record(session, tenant_id=channel.tenant_id, type="channel.updated", subject=channel.id,
                 payload={"default_queue": default_queue, "secret_changed": secret is not None},
                 actor=actor)
    return channel
