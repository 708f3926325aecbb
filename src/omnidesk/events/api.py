"""The event log over HTTP: everything since a sequence number."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from omnidesk.auth.principal import STAFF
from omnidesk.deps import DbDep, PrincipalDep
from omnidesk.events.log import events_since

router = APIRouter(prefix="/events", tags=["events"])


@router.get("")
async def list_events(
    db: DbDep, principal: PrincipalDep,
    since: Annotated[int, Query(ge=0, description="return events with seq > since")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> list[dict[str, Any]]:
    """The tenant's events after `since`, oldest first (the audit log too)."""
    principal.require(*STAFF)
    async with db.read() as session:
        records = await events_since(session, tenant_id=principal.tenant_id, since=since,
                                     limit=limit)
    return [record.to_json() for record in records]
