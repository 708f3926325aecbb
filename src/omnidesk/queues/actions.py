"""Writes of queues, each recording its event."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.agents.actions import rename_in_profiles
from omnidesk.agents.service import skill_ids_by_name, team_id_by_name
from omnidesk.errors import Conflict, InvalidInput
from omnidesk.events.log import record
from omnidesk.queues import service
from omnidesk.queues.models import Queue, QueueSkill
from omnidesk.queues.schemas import QueueCreate, QueueSettings, QueueUpdate


async def _check_escalation(session: AsyncSession, queue: Queue, data: QueueSettings) -> None:
    """Escalation steps may only name the tenant's skills, teams and other queues."""
    for index, step in enumerate(data.escalation or []):
        field = f"escalation[{index}]"
        await skill_ids_by_name(session, tenant_id=queue.tenant_id, names=step.drop_skills,
                                field=f"{field}.drop_skills")
        for team in step.add_teams:
            await team_id_by_name(session, tenant_id=queue.tenant_id, name=team)
        if step.overflow_to is not None:
            if step.overflow_to == (data.model_dump().get("name") or queue.name):
                raise InvalidInput("a queue cannot overflow to itself",
                                   field=f"{field}.overflow_to")
            await service.id_by_name(session, tenant_id=queue.tenant_id, name=step.overflow_to,
                                     field=f"{field}.overflow_to")


async def _apply_settings(session: AsyncSession, queue: Queue, data: QueueSettings) -> None:
    await _check_escalation(session, queue, data)
    values: dict[str, Any] = data.model_dump(exclude_none=True, exclude={"skills"}, mode="json")
    for field, value in values.items():
        setattr(queue, field, value)
    if data.skills is not None:
        ids = await skill_ids_by_name(session, tenant_id=queue.tenant_id,
                                      names=[s.skill for s in data.skills], field="skills")
        queue.required_skills = [
            QueueSkill(skill_id=ids[s.skill], min_proficiency=s.min_proficiency)
            for s in data.skills]


async def _carry_rename(session: AsyncSession, queue: Queue, old_name: str, *,
                        actor: str) -> None:
    """What names the queue follows its new name: other queues' overflow steps
    (`queue.updated`) and agents' routing profiles (`agent.updated`)."""
    for other in await service.list_queues(session, tenant_id=queue.tenant_id):
        if any(step.get("overflow_to") == old_name for step in other.escalation):
            other.escalation = [{**step, "overflow_to": queue.name}
                                if step.get("overflow_to") == old_name else step
                                for step in other.escalation]
            await record(session, tenant_id=queue.tenant_id, type="queue.updated",
                         subject=other.id, payload={"escalation": other.escalation}, actor=actor)
    await rename_in_profiles(session, tenant_id=queue.tenant_id, old=old_name, new=queue.name,
                             actor=actor)


def _payload(data: QueueSettings) -> dict[str, Any]:
    return data.model_dump(exclude_none=True, mode="json")


async def create_queue(session: AsyncSession, data: QueueCreate, *, tenant_id: uuid.UUID,
                       actor: str) -> Queue:
    """Create a queue; names are unique per tenant."""
    if await service.find_by_name(session, tenant_id=tenant_id, name=data.name):
        raise Conflict(f"queue {data.name!r} exists already", field="name")
    queue = Queue(tenant_id=tenant_id, name=data.name, business_hours={}, holidays=[],
                  required_skills=[], escalation=[], outcomes={})
    await _apply_settings(session, queue, data)
    session.add(queue)
    await session.flush()
    await record(session, tenant_id=tenant_id, type="queue.created", subject=queue.id,
                 payload=_payload(data), actor=actor)
    return queue


async def update_queue(session: AsyncSession, queue: Queue, data: QueueUpdate, *,
                       actor: str) -> Queue:
    """Change a queue's settings (a new name is carried into the routing profiles naming it)."""
    old_name = queue.name
    if data.name and data.name != old_name and await service.find_by_name(
            session, tenant_id=queue.tenant_id, name=data.name):
        raise Conflict(f"queue {data.name!r} exists already", field="name")
    await _apply_settings(session, queue, data)
    if queue.name != old_name:
        await _carry_rename(session, queue, old_name, actor=actor)
    await session.flush()
    await record(session, tenant_id=queue.tenant_id, type="queue.updated", subject=queue.id,
                 payload=_payload(data), actor=actor)
    return queue
