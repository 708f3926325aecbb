"""Messages' files: stored under `<data_dir>/attachments/<tenant>/<id>`, a `message_attachments`
row each, downloaded by the tenant's staff through the interaction's API.

An inbound channel stores the files of a message it has just added (inside its transaction;
the caller's `FileBatch` removes them again if that does not commit). An agent uploads a file
first (a row without a message), then names its id in the message it posts.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.db import session_now
from omnidesk.errors import InvalidInput
from omnidesk.files import FileBatch
from omnidesk.interactions.models import Interaction, Message, MessageAttachment

FOLDER = "attachments"
FILE_CHANNELS = frozenset({"email"})
"""The channels whose adapters send stored files to the customer (others only send links)."""


def storage_path(data_dir: Path, row: MessageAttachment) -> Path:
    """Where a stored attachment's bytes live."""
    return data_dir / FOLDER / str(row.tenant_id) / str(row.id)


def attachment_url(interaction_id: uuid.UUID, attachment_id: uuid.UUID) -> str:
    """Where the tenant's staff download it (with their token or API key)."""
    return f"/api/v1/interactions/{interaction_id}/attachments/{attachment_id}"


def describe(row: MessageAttachment) -> dict[str, Any]:
    """The attachment as a message's `attachments` entry (and the upload's answer)."""
    return {"id": str(row.id), "filename": row.filename, "content_type": row.content_type,
            "size": row.size, "url": attachment_url(row.interaction_id, row.id)}


async def store(session: AsyncSession, interaction: Interaction, *, data_dir: Path,
                batch: FileBatch, filename: str, content_type: str,
                chunks: Sequence[bytes], message: Message | None = None,
                uploaded_by: str | None = None) -> MessageAttachment:
    """Write the file (fsynced) and add its row to the session."""
    row = MessageAttachment(id=uuid.uuid4(), tenant_id=interaction.tenant_id,
                            interaction_id=interaction.id,
                            message_id=message.id if message is not None else None,
                            filename=filename, content_type=content_type, size=0, sha256="",
                            uploaded_by=uploaded_by, created_at=session_now(session))
    written = await batch.save(storage_path(data_dir, row), chunks)
    row.size, row.sha256 = written.size, written.sha256
    session.add(row)
    return row


async def store_for_message(session: AsyncSession, interaction: Interaction, message: Message,
                            contents: Sequence[bytes], *, data_dir: Path,
                            batch: FileBatch) -> None:
    """Store the files of a message just added, in the order of its `attachments` metadata,
    which gain their `id` and `url`."""
    described = []
    for meta, content in zip(message.attachments, contents, strict=True):
        row = await store(session, interaction, data_dir=data_dir, batch=batch,
                          filename=str(meta["filename"]), content_type=str(meta["content_type"]),
                          chunks=[content], message=message)
        described.append({**meta, **describe(row)})
    message.attachments = described
    await session.flush()


async def pending(session: AsyncSession, interaction: Interaction,
                  ids: Sequence[uuid.UUID | None]) -> dict[int, MessageAttachment]:
    """The agent's uploads a new message names (by index into its attachments), each on this
    interaction and not sent yet; any other id is InvalidInput naming `attachments[i].id`."""
    found: dict[int, MessageAttachment] = {}
    for index, attachment_id in enumerate(ids):
        if attachment_id is None:
            continue
        field = f"attachments[{index}].id"
        row = await session.get(MessageAttachment, attachment_id)
        if row is None or row.tenant_id != interaction.tenant_id or \
                row.interaction_id != interaction.id or row in found.values():
            raise InvalidInput(f"unknown attachment {attachment_id}", field=field)
        if row.message_id is not None:
            raise InvalidInput(f"attachment {attachment_id} was sent already", field=field)
        if interaction.channel not in FILE_CHANNELS:
            raise InvalidInput(f"files cannot be sent on the {interaction.channel} channel",
                               field=field)
        found[index] = row
    return found


async def of_message(session: AsyncSession, message_id: uuid.UUID) -> list[MessageAttachment]:
    """A message's stored files, in the order of its `attachments`."""
    message = await session.get(Message, message_id)
    rows = {row.id: row for row in await session.scalars(
        select(MessageAttachment).where(MessageAttachment.message_id == message_id))}
    order = [str(entry.get("id")) for entry in (message.attachments if message else [])]
    return sorted(rows.values(), key=lambda row: order.index(str(row.id))
                  if str(row.id) in order else len(order))
