"""Configuration as code over HTTP: apply a center file, export the running configuration."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from omnidesk.configuration.apply import apply_center, load_center
from omnidesk.configuration.export import export_center, to_yaml
from omnidesk.deps import DbDep, PrincipalDep
from omnidesk.errors import InvalidInput
from omnidesk.tenants import service as tenants
from omnidesk.users.models import Role

router = APIRouter(prefix="/config", tags=["configuration"])
MAX_FILE_BYTES = 2_000_000

YAML_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/yaml": {"schema": {"type": "string"}}}}}


@router.post("/apply", openapi_extra=YAML_BODY)
async def apply(request: Request, db: DbDep, principal: PrincipalDep) -> dict[str, list[str]]:
    """Apply a center file (YAML body); admins their own tenant, platform admins any."""
    principal.require(Role.ADMIN)
    body = await request.body()
    if len(body) > MAX_FILE_BYTES:
        raise InvalidInput("center file larger than 2 MB", field="body")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput("center file is not UTF-8", field="body") from error
    center = load_center(text, "request body")
    async with db.write() as session:
        own_slug = None
        if not principal.platform_admin:
            own_slug = (await tenants.get(session, principal.tenant_id)).slug
        report = await apply_center(session, center, actor=principal.actor, tenant_slug=own_slug)
    return {"changes": report.changes}


@router.get("/export", response_class=PlainTextResponse,
            responses={200: {"content": {"application/yaml": {}}}})
async def export(db: DbDep, principal: PrincipalDep) -> PlainTextResponse:
    """The running configuration as YAML (the caller's tenant; platform admins: all)."""
    principal.require(Role.ADMIN)
    async with db.read() as session:
        center = await export_center(
            session, tenant_id=None if principal.platform_admin else principal.tenant_id)
    return PlainTextResponse(to_yaml(center), media_type="application/yaml")
