"""Interactions API: list, get, messages, state changes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import FileResponse

from omnidesk import files
from omnidesk.auth.principal import EVERYONE, STAFF
from omnidesk.channels.registry import check_template
from omnidesk.deps import DbDep, PrincipalDep, SettingsDep
from omnidesk.errors import Conflict, InvalidInput, NotFound
from omnidesk.interactions import actions, attachments, service
from omnidesk.interactions.acw import follow_wrap_up
from omnidesk.interactions.models import (
    Disposition,
    Interaction,
    InteractionNote,
    Message,
    MessageAttachment,
)
from omnidesk.interactions.schemas import (
    DispositionCreate,
    DispositionRead,
    InteractionContext,
    InteractionRead,
    MessageCreate,
    MessageRead,
    NoteCreate,
    NoteKind,
    NoteRead,
    StateChange,
)
from omnidesk.interactions.service import InteractionFilter
from omnidesk.interactions.states import InteractionState
from omnidesk.scoping import get_in_tenant
from omnidesk.users.models import User

router = APIRouter(prefix="/interactions", tags=["interactions"])
dispositions_router = APIRouter(prefix="/dispositions", tags=["interactions"])


@router.get("", response_model=list[InteractionRead])
async def list_interactions(
    db: DbDep, principal: PrincipalDep,
    state: InteractionState | None = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
    queue_id: uuid.UUID | None = None,
    agent_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    open: Annotated[bool | None, Query(
        description="true: not closed or abandoned yet; false: closed or abandoned")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[Interaction]:
    """The tenant's interactions, newest first, filtered."""
    principal.require(*EVERYONE)
    where = InteractionFilter(state=state, channel=channel, queue_id=queue_id, agent_id=agent_id,
                              customer_id=customer_id, open=open, limit=limit)
    async with db.read() as session:
        return list(await service.list_interactions(session, tenant_id=principal.tenant_id,
                                                    where=where))


@router.get("/{interaction_id}", response_model=InteractionRead)
async def get_interaction(
    interaction_id: uuid.UUID, db: DbDep, principal: PrincipalDep,
) -> Interaction:
    """One interaction."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        return await get_in_tenant(session, Interaction, interaction_id,
                                   tenant_id=principal.tenant_id, what="interaction")


@router.get("/{interaction_id}/messages", response_model=list[MessageRead])
async def list_messages(
    interaction_id: uuid.UUID, db: DbDep, principal: PrincipalDep,
) -> list[Message]:
    """The interaction's messages, oldest first."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        interaction = await get_in_tenant(session, Interaction, interaction_id,
                                          tenant_id=principal.tenant_id, what="interaction")
        return list(await service.list_messages(session, interaction))


@router.post("/{interaction_id}/messages", response_model=MessageRead,
             status_code=status.HTTP_201_CREATED)
async def post_message(
    interaction_id: uuid.UUID, data: MessageCreate, db: DbDep, principal: PrincipalDep,
) -> Message:
    """Post a message as the calling agent (or integration); an attachment is the `id` of a
    file uploaded to the interaction (sent with the email), or metadata of a file elsewhere."""
    principal.require(*EVERYONE)
    async with db.write() as session:
        interaction = await service.workable_by_caller(session, principal, interaction_id,
                                                       what="write in")
        if data.template is not None:
            check_template(interaction.channel, with_attachments=bool(data.attachments))
        uploads = await attachments.pending(session, interaction,
                                            [a.id for a in data.attachments])
        message = await actions.add_message(
            session, interaction, author_kind="agent", body=data.stored_body(),
            actor=principal.actor, author_id=principal.actor,
            template=data.template.model_dump() if data.template else None,
            attachments=[attachments.describe(uploads[index]) if index in uploads
                         else a.metadata() for index, a in enumerate(data.attachments)])
        for row in uploads.values():
            row.message_id = message.id
        return message


@router.post("/{interaction_id}/attachments", status_code=status.HTTP_201_CREATED,
             responses={404: {}, 413: {}, 415: {}, 422: {}})
async def upload_attachment(
    interaction_id: uuid.UUID, request: Request, db: DbDep, principal: PrincipalDep,
    settings: SettingsDep,
    filename: Annotated[str | None, Query(max_length=255)] = None,
) -> dict[str, object]:
    """Upload a file to attach to a reply (the raw body, its Content-Type, `?filename=`, at
    most OMNIDESK_ATTACHMENT_MAX_BYTES); answered with the `id` to name in the message's
    `attachments`, once the file and its row are stored."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        await service.workable_by_caller(session, principal, interaction_id,
                                         what="attach files to")
    content_type = files.check_content_type(files.content_type_of(request))
    chunks = await files.read_limited(request, settings.attachment_max_bytes,
                                      where="an attachment")
    with files.undo_on_error() as batch:
        async with db.write() as session:
            interaction = await get_in_tenant(session, Interaction, interaction_id,
                                              tenant_id=principal.tenant_id, what="interaction")
            row = await attachments.store(
                session, interaction, data_dir=settings.data_dir, batch=batch,
                filename=files.display_filename(filename, default="attachment"),
                content_type=content_type, chunks=chunks, uploaded_by=principal.actor[:64])
    return attachments.describe(row)


@router.get("/{interaction_id}/attachments/{attachment_id}",
            responses={200: {"content": {"application/octet-stream": {}}}, 404: {}})
async def download_attachment(
    interaction_id: uuid.UUID, attachment_id: uuid.UUID, db: DbDep, principal: PrincipalDep,
    settings: SettingsDep,
) -> Response:
    """The file of a message (or an upload) of the interaction, as a download."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        interaction = await get_in_tenant(session, Interaction, interaction_id,
                                          tenant_id=principal.tenant_id, what="interaction")
        row = await session.get(MessageAttachment, attachment_id)
    if row is None or row.interaction_id != interaction.id:
        raise NotFound(f"attachment {attachment_id} not found", field="attachment_id")
    path = attachments.storage_path(settings.data_dir, row)
    if not path.exists():
        raise NotFound(f"attachment {attachment_id} is no longer stored", field="attachment_id")
    return FileResponse(path, media_type=row.content_type, filename=row.filename,
                        content_disposition_type="attachment",
                        headers={"X-Content-Type-Options": "nosniff",
                                 "Cache-Control": "private, no-store"})


@router.post("/{interaction_id}/state", response_model=InteractionRead)
async def change_state(
    interaction_id: uuid.UUID, change: StateChange, db: DbDep, principal: PrincipalDep,
) -> Interaction:
    """Move the interaction to another state; an invalid transition is 409. Offers belong to
    the router: they are answered with /accept and /reject, not here."""
    principal.require(*EVERYONE)
    async with db.write() as session:
        interaction = await service.workable_by_caller(session, principal, interaction_id,
                                                       what="change the state of")
        if InteractionState.OFFERED in (change.state, interaction.state):
            raise Conflict("offers are made by the router and answered with "
                           "/accept or /reject", field="state")
        previous = interaction.state
        await actions.check_disposition(session, interaction, change)
        await actions.change_state(session, interaction, change, actor=principal.actor)
        await follow_wrap_up(session, interaction, previous, actor=principal.actor)
        return interaction


@router.get("/{interaction_id}/context", response_model=InteractionContext)
async def interaction_context(
    interaction_id: uuid.UUID, db: DbDep, principal: PrincipalDep,
) -> InteractionContext:
    """The screen pop: the customer with identities and attributes, their other open and past
    interactions, what self-service collected, and the staff notes."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        interaction = await get_in_tenant(session, Interaction, interaction_id,
                                          tenant_id=principal.tenant_id, what="interaction")
        return await service.context(session, interaction)


@router.get("/{interaction_id}/notes", response_model=list[NoteRead])
async def list_notes(
    interaction_id: uuid.UUID, db: DbDep, principal: PrincipalDep,
) -> list[InteractionNote]:
    """The interaction's internal notes and consults, oldest first (staff only: never sent)."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        interaction = await get_in_tenant(session, Interaction, interaction_id,
                                          tenant_id=principal.tenant_id, what="interaction")
        return list(await service.list_notes(session, interaction))


@router.post("/{interaction_id}/notes", response_model=NoteRead,
             status_code=status.HTTP_201_CREATED)
async def add_note(
    interaction_id: uuid.UUID, data: NoteCreate, db: DbDep, principal: PrincipalDep,
) -> InteractionNote:
    """Add an internal note, or (kind `consult`) ask a supervisor: `to_user_id` names one,
    empty asks every supervisor (they see it on their stream and answer with a note)."""
    principal.require(*EVERYONE)
    async with db.write() as session:
        interaction = await get_in_tenant(session, Interaction, interaction_id,
                                          tenant_id=principal.tenant_id, what="interaction")
        if data.to_user_id is not None:
            if data.kind is not NoteKind.CONSULT:
                raise InvalidInput("only a consult is addressed to someone", field="to_user_id")
            target = await get_in_tenant(session, User, data.to_user_id,
                                         tenant_id=principal.tenant_id, what="to_user")
            if target.role not in STAFF or not target.active:
                raise InvalidInput("a consult goes to an active supervisor or admin",
                                   field="to_user_id")
        author = await session.get(User, principal.user_id) if principal.user_id else None
        return await actions.add_note(
            session, interaction, body=data.body, kind=data.kind.value, actor=principal.actor,
            author_name=author.name if author else principal.actor, to_user_id=data.to_user_id)


@dispositions_router.get("", response_model=list[DispositionRead])
async def list_dispositions(db: DbDep, principal: PrincipalDep) -> list[Disposition]:
    """The tenant's wrap-up reason codes, in order (empty: any text is accepted)."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        return list(await service.list_dispositions(session, tenant_id=principal.tenant_id))


@dispositions_router.post("", response_model=DispositionRead,
                          status_code=status.HTTP_201_CREATED)
async def create_disposition(data: DispositionCreate, db: DbDep,
                             principal: PrincipalDep) -> Disposition:
    """Add a wrap-up reason code (supervisors and admins); a code used twice is 409."""
    principal.require(*STAFF)
    async with db.write() as session:
        return await actions.create_disposition(session, data, tenant_id=principal.tenant_id,
                                                actor=principal.actor)


@dispositions_router.delete("/{disposition_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_disposition(disposition_id: uuid.UUID, db: DbDep,
                             principal: PrincipalDep) -> Response:
    """Remove a wrap-up reason code (supervisors and admins)."""
    principal.require(*STAFF)
    async with db.write() as session:
        disposition = await get_in_tenant(session, Disposition, disposition_id,
                                          tenant_id=principal.tenant_id, what="disposition")
        await actions.delete_disposition(session, disposition, actor=principal.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
