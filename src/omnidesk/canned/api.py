"""Canned responses API: agents read, supervisors and admins write."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from omnidesk.auth.principal import EVERYONE, STAFF
from omnidesk.canned import actions, service
from omnidesk.canned.models import CannedResponse
from omnidesk.canned.schemas import (
    CannedResponseCreate,
    CannedResponseRead,
    CannedResponseUpdate,
)
from omnidesk.deps import DbDep, PrincipalDep
from omnidesk.scoping import get_in_tenant

router = APIRouter(prefix="/canned-responses", tags=["canned responses"])


@router.get("", response_model=list[CannedResponseRead])
async def list_canned(db: DbDep, principal: PrincipalDep) -> list[CannedResponse]:
    """The tenant's canned responses, by shortcut."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        return list(await service.list_canned(session, tenant_id=principal.tenant_id))


@router.post("", response_model=CannedResponseRead, status_code=status.HTTP_201_CREATED)
async def create_canned(data: CannedResponseCreate, db: DbDep,
                        principal: PrincipalDep) -> CannedResponse:
    """Create a canned response; a shortcut already used is 409 naming `shortcut`."""
    principal.require(*STAFF)
    async with db.write() as session:
        return await actions.create_canned(session, data, tenant_id=principal.tenant_id,
                                           actor=principal.actor)


@router.patch("/{canned_response_id}", response_model=CannedResponseRead)
async def update_canned(canned_response_id: uuid.UUID, data: CannedResponseUpdate, db: DbDep,
                        principal: PrincipalDep) -> CannedResponse:
    """Change a canned response's shortcut, title or body."""
    principal.require(*STAFF)
    async with db.write() as session:
        canned = await get_in_tenant(session, CannedResponse, canned_response_id,
                                     tenant_id=principal.tenant_id, what="canned_response")
        return await actions.update_canned(session, canned, data, actor=principal.actor)


@router.delete("/{canned_response_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_canned(canned_response_id: uuid.UUID, db: DbDep,
                        principal: PrincipalDep) -> Response:
    """Delete a canned response."""
    principal.require(*STAFF)
    async with db.write() as session:
        canned = await get_in_tenant(session, CannedResponse, canned_response_id,
                                     tenant_id=principal.tenant_id, what="canned_response")
        await actions.delete_canned(session, canned, actor=principal.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
