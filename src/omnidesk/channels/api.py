"""Channel instances API: administrators configure, everyone may list."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from omnidesk.auth.principal import EVERYONE
from omnidesk.channels import actions, service
from omnidesk.channels.models import Channel
from omnidesk.channels.schemas import ChannelCreate, ChannelCreated, ChannelRead, ChannelUpdate
from omnidesk.deps import DbDep, PrincipalDep
from omnidesk.queues.models import Queue
from omnidesk.scoping import get_in_tenant
from omnidesk.users.models import Role

router = APIRouter(prefix="/channels", tags=["channels"])


@router.get("", response_model=list[ChannelRead])
async def list_channels(db: DbDep, principal: PrincipalDep) -> list[Channel]:
    """The tenant's channel instances."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        return list(await service.list_channels(session, tenant_id=principal.tenant_id))


@router.post("", response_model=ChannelCreated, status_code=status.HTTP_201_CREATED)
async def create_channel(data: ChannelCreate, db: DbDep, principal: PrincipalDep) -> Channel:
    """Create a channel instance; the response is the only time its secret is shown."""
    principal.require(Role.ADMIN)
    async with db.write() as session:
        return await actions.create_channel(session, data, tenant_id=principal.tenant_id,
                                            actor=principal.actor)


@router.get("/{channel_id}", response_model=ChannelRead)
async def get_channel(channel_id: uuid.UUID, db: DbDep, principal: PrincipalDep) -> Channel:
    """One channel instance."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        return await get_in_tenant(session, Channel, channel_id, tenant_id=principal.tenant_id,
                                   what="channel")


@router.patch("/{channel_id}", response_model=ChannelRead)
async def update_channel(channel_id: uuid.UUID, data: ChannelUpdate, db: DbDep,
                         principal: PrincipalDep) -> Channel:
    """Change a channel's default queue, settings or secret (admins)."""
    principal.require(Role.ADMIN)
    async with db.write() as session:
        channel = await get_in_tenant(session, Channel, channel_id, tenant_id=principal.tenant_id,
                                      what="channel")
        fields = data.model_fields_set
        if "default_queue" in fields:
            default_queue = data.default_queue
        else:
            queue = await session.get(Queue, channel.default_queue_id) \
                if channel.default_queue_id else None
            default_queue = queue.name if queue else None
        settings = data.settings if data.settings is not None else dict(channel.settings)
        return await actions.update_channel(session, channel, default_queue=default_queue,
                                            settings=settings, secret=data.secret,
                                            actor=principal.actor)
