"""Writes of canned responses; each records its event."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.canned.models import CannedResponse
from omnidesk.canned.schemas import CannedResponseCreate, CannedResponseUpdate
from omnidesk.canned.service import find_by_shortcut
from omnidesk.db import session_now
from omnidesk.errors import Conflict
from omnidesk.events.log import record


def _payload(canned: CannedResponse) -> dict[str, Any]:
    return {"shortcut": canned.shortcut, "title": canned.title, "body": canned.body}


async def _check_free(session: AsyncSession, tenant_id: uuid.UUID, shortcut: str,
                      own_id: uuid.UUID | None = None) -> None:
    existing = await find_by_shortcut(session, tenant_id=tenant_id, shortcut=shortcut)
    if existing is not None and existing.id != own_id:
        raise Conflict(f"shortcut /{shortcut} is already used by {existing.title!r}",
                       field="shortcut")


async def create_canned(session: AsyncSession, data: CannedResponseCreate, *,
                        tenant_id: uuid.UUID, actor: str) -> CannedResponse:
    """A new canned response (its shortcut unique in the tenant: 409 naming `shortcut`)."""
    await _check_free(session, tenant_id, data.shortcut)
    now = session_now(session)
    canned = CannedResponse(tenant_id=tenant_id, shortcut=data.shortcut, title=data.title,
                            body=data.body, created_at=now, updated_at=now)
    session.add(canned)
    await session.flush()
    await record(session, tenant_id=tenant_id, type="canned_response.created",
                 subject=canned.id, payload=_payload(canned), actor=actor)
    return canned


async def update_canned(session: AsyncSession, canned: CannedResponse,
                        data: CannedResponseUpdate, *, actor: str) -> CannedResponse:
    """Change the given fields; a no-op change records nothing."""
    changes = {key: value for key, value in data.model_dump(exclude_unset=True).items()
               if value is not None and getattr(canned, key) != value}
    if not changes:
        return canned
    if "shortcut" in changes:
        await _check_free(session, canned.tenant_id, changes["shortcut"], canned.id)
    for key, value in changes.items():
        setattr(canned, key, value)
    canned.updated_at = session_now(session)
    await session.flush()
    await record(session, tenant_id=canned.tenant_id, type="canned_response.updated",
                 subject=canned.id, payload=changes, actor=actor)
    return canned


async def delete_canned(session: AsyncSession, canned: CannedResponse, *, actor: str) -> None:
    """Remove a canned response."""
    await record(session, tenant_id=canned.tenant_id, type="canned_response.deleted",
                 subject=canned.id, payload={"shortcut": canned.shortcut}, actor=actor)
    await session.delete(canned)
    await session.flush()
