"""Writes of queues, each recording its event."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.agents.service import skill_ids_by_name
from omnidesk.errors import Conflict
from omnidesk.events.log import record
from omnidesk.queues import service
from omnidesk.queues.models import Queue, QueueSkill
from omnidesk.queues.schemas import QueueCreate, QueueSettings, QueueUpdate


async def _apply_settings(session: AsyncSession, queue: Queue, data: QueueSettings) -> None:
    values: dict[str, Any] = data.model_dump(exclude_none=True, exclude={"skills"}, mode="json")
    for field, value in values.items():
        setattr(queue, field, value)
    if data.skills is not None:
        ids = await skill_ids_by_name(session, tenant_id=queue.tenant_id,
                                      names=[s.skill for s in data.skills], field="skills")
        queue.required_skills = [
            QueueSkill(skill_id=ids[s.skill], min_proficiency=s.min_proficiency)
            for s in data.skills]


def _payload(data: QueueSettings) -> dict[str, Any]:
    return data.model_dump(exclude_none=True, mode="json")


async def create_queue(session: AsyncSession, data: QueueCreate, *, tenant_id: uuid.UUID,
                       actor: str) -> Queue:
    """Create a queue; names are unique per tenant."""
    if await service.find_by_name(session, tenant_id=tenant_id, name=data.name):
        raise Conflict(f"queue {data.name!r} exists already", field="name")
    queue = Queue(tenant_id=tenant_id, business_hours={}, holidays=[], required_skills=[])
    session.add(queue)
    await _apply_settings(session, queue, data)
    await session.flush()
    await record(session, tenant_id=tenant_id, type="queue.created", subject=queue.id,
                 payload=_payload(data), actor=actor)
    return queue


async def update_queue(session: AsyncSession, queue: Queue, data: QueueUpdate, *,
                       actor: str) -> Queue:
    """Change a queue's settings."""
    if data.name and data.name != queue.name and await service.find_by_name(
            session, tenant_id=queue.tenant_id, name=data.name):
        raise Conflict(f"queue {data.name!r} exists already", field="name")
    await _apply_settings(session, queue, data)
    await session.flush()
    await record(session, tenant_id=queue.tenant_id, type="queue.updated", subject=queue.id,
                 payload=_payload(data), actor=actor)
    return queue
