"""Queues API."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from omnidesk.auth.principal import EVERYONE
from omnidesk.deps import DbDep, PrincipalDep
from omnidesk.queues import actions, service
from omnidesk.queues.models import Queue
from omnidesk.queues.schemas import QueueCreate, QueueRead, QueueUpdate
from omnidesk.scoping import get_in_tenant
from omnidesk.users.models import Role

router = APIRouter(prefix="/queues", tags=["queues"])


@router.get("", response_model=list[QueueRead])
async def list_queues(db: DbDep, principal: PrincipalDep) -> list[Queue]:
    """The tenant's queues."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        return list(await service.list_queues(session, tenant_id=principal.tenant_id))


@router.post("", response_model=QueueRead, status_code=status.HTTP_201_CREATED)
async def create_queue(data: QueueCreate, db: DbDep, principal: PrincipalDep) -> Queue:
    """Create a queue."""
    principal.require(Role.ADMIN)
    async with db.write() as session:
        return await actions.create_queue(session, data, tenant_id=principal.tenant_id,
                                          actor=principal.actor)


@router.get("/{queue_id}", response_model=QueueRead)
async def get_queue(queue_id: uuid.UUID, db: DbDep, principal: PrincipalDep) -> Queue:
    """One queue."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        return await get_in_tenant(session, Queue, queue_id, tenant_id=principal.tenant_id,
                                   what="queue")


@router.patch("/{queue_id}", response_model=QueueRead)
async def update_queue(
    queue_id: uuid.UUID, data: QueueUpdate, db: DbDep, principal: PrincipalDep,
) -> Queue:
    """Change a queue's settings."""
    principal.require(Role.ADMIN)
    async with db.write() as session:
        queue = await get_in_tenant(session, Queue, queue_id, tenant_id=principal.tenant_id,
                                    what="queue")
        return await actions.update_queue(session, queue, data, actor=principal.actor)
