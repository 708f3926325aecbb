"""Visitors' file uploads: size and type limits from the channel's settings, files kept under
the data directory, served back only to the visitor who sent them and the tenant's staff."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from omnidesk import files
from omnidesk.auth.principal import EVERYONE
from omnidesk.channels.models import Channel
from omnidesk.channels.webchat import actions, service, tokens
from omnidesk.channels.webchat.config import WebchatSettings
from omnidesk.channels.webchat.models import WebchatUpload, WebchatVisitor
from omnidesk.config import Settings
from omnidesk.db import Database, session_now
from omnidesk.deps import DbDep, SettingsDep, current_principal
from omnidesk.errors import NotFound, OmnideskError, Unauthorized
from omnidesk.files import UnsupportedType
from omnidesk.http_errors import error_body

router = APIRouter(prefix="/channels/webchat", tags=["channels"])


def _cors(request: Request, chat: WebchatSettings | None) -> dict[str, str]:
    """CORS headers for the widget on another site's page (only for allowed origins)."""
    origin = request.headers.get("origin")
    if not origin or (chat is not None and chat.allowed_origins
                      and origin not in chat.allowed_origins):
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin",
            "Access-Control-Allow-Headers": "content-type, x-visitor-token",
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Max-Age": "600"}


def storage_dir(settings: Settings, tenant_id: uuid.UUID) -> Path:
    """Where a tenant's web chat uploads live."""
    return settings.data_dir / "webchat" / str(tenant_id)


async def visitor_from_token(db: Database, settings: Settings, channel: Channel,
                             token: str | None) -> WebchatVisitor:
    """The visitor whose token this is (401 naming visitor_token otherwise)."""
    if not token:
        raise Unauthorized("send the visitor token in X-Visitor-Token", field=tokens.FIELD)
    visitor_id = tokens.verify(settings.resolved_secret_key.get_secret_value(), token,
                               tenant_id=channel.tenant_id, channel_id=channel.id)
    async with db.read() as session:
        visitor = await session.get(WebchatVisitor, visitor_id)
    if visitor is None or visitor.channel_id != channel.id:
        raise Unauthorized("unknown visitor", field=tokens.FIELD)
    return visitor


async def _store(db: Database, settings: Settings, channel: Channel, visitor: WebchatVisitor,
                 *, filename: str, content_type: str, chunks: list[bytes]) -> dict[str, Any]:
    upload_id = uuid.uuid4()
    path = storage_dir(settings, channel.tenant_id) / str(upload_id)
    with files.undo_on_error() as batch:
        written = await batch.save(path, chunks)
        size = written.size
        async with db.write() as session:
            session.add(WebchatUpload(id=upload_id, tenant_id=channel.tenant_id,
                                      channel_id=channel.id, visitor_id=visitor.id,
                                      filename=filename, content_type=content_type, size=size,
                                      sha256=written.sha256,
                                      created_at=session_now(session)))
    return {"id": str(upload_id), "filename": filename, "content_type": content_type,
            "size": size, "url": actions.upload_url(channel.id, upload_id)}


@router.post("/{channel_id}/uploads", status_code=201,
             responses={401: {}, 404: {}, 413: {}, 415: {}, 422: {}})
async def upload(
    channel_id: uuid.UUID, request: Request, db: DbDep, settings: SettingsDep,
    filename: Annotated[str | None, Query(max_length=255)] = None,
    x_visitor_token: Annotated[str | None, Header()] = None,
) -> Response:
    """A visitor uploads a file (the raw body, its Content-Type, `?filename=`); answered 201
    with the id to put in a message's `attachments`, only after the file and row are stored."""
    chat: WebchatSettings | None = None
    try:
        channel = await service.load_channel(request, channel_id)
        chat = service.settings(channel)
        visitor = await visitor_from_token(db, settings, channel, x_visitor_token)
        content_type = files.content_type_of(request)
        if not content_type or not chat.allows(content_type):
            raise UnsupportedType(
                f"content type {content_type or '(none)'!r} is not accepted; accepted: "
                f"{', '.join(chat.allowed_content_types)}", field="content_type")
        chunks = await files.read_limited(request, chat.max_upload_bytes, where="this chat")
        name = files.display_filename(filename, default="upload")
        stored = await _store(db, settings, channel, visitor, filename=name,
                              content_type=content_type, chunks=chunks)
    except OmnideskError as error:
        return JSONResponse(error_body(error.code, error.message, error.field),
                            status_code=error.status_code, headers=_cors(request, chat))
    return JSONResponse(stored, status_code=201, headers=_cors(request, chat))


@router.options("/{channel_id}/uploads", include_in_schema=False)
@router.options("/{channel_id}/uploads/{upload_id}", include_in_schema=False)
async def preflight(request: Request) -> Response:
    """CORS preflight for the widget on another site's page."""
    return Response(status_code=204, headers=_cors(request, None))


@router.get("/{channel_id}/uploads/{upload_id}", responses={401: {}, 403: {}, 404: {}})
async def download(
    channel_id: uuid.UUID, upload_id: uuid.UUID, request: Request, db: DbDep,
    settings: SettingsDep, x_visitor_token: Annotated[str | None, Header()] = None,
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> Response:
    """The file, to the visitor who uploaded it (X-Visitor-Token) or the tenant's staff
    (Authorization / X-API-Key); anyone else gets 401 or 404."""
    channel = await service.load_channel(request, channel_id)
    visitor_id: uuid.UUID | None = None
    if x_visitor_token and not authorization and not x_api_key:
        visitor_id = (await visitor_from_token(db, settings, channel, x_visitor_token)).id
    else:
        principal = await current_principal(request, authorization, x_api_key)
        principal.require(*EVERYONE)
        if principal.tenant_id != channel.tenant_id:
            raise NotFound(f"web chat channel {channel_id} not found", field="channel_id")
    async with db.read() as session:
        row = await session.get(WebchatUpload, upload_id)
    if row is None or row.channel_id != channel.id or (
            visitor_id is not None and row.visitor_id != visitor_id):
        raise NotFound(f"upload {upload_id} not found", field="upload_id")
    path = storage_dir(settings, row.tenant_id) / str(row.id)
    if not path.exists():
        raise NotFound(f"upload {upload_id} is no longer stored", field="upload_id")
    return FileResponse(path, media_type=row.content_type, filename=row.filename,
                        content_disposition_type="attachment",
                        headers={"X-Content-Type-Options": "nosniff",
                                 "Cache-Control": "private, no-store", **_cors(request, None)})
