"""Telegram's Update objects → omnidesk inbound messages."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from omnidesk.channels.inbound import InboundMessage
from omnidesk.channels.provider_webhook import ProviderInbound, parse_model

IDENTITY_KIND = "telegram"


class User(BaseModel):
    """A Telegram user."""

    id: int
    first_name: str = ""
    last_name: str = ""
    username: str = ""


class Chat(BaseModel):
    """The chat a message belongs to (for a private chat, the user's id)."""

    id: int
    type: str = "private"


class PhotoSize(BaseModel):
    """One size of a photo."""

    file_id: str
    file_unique_id: str = ""
    width: int = 0
    height: int = 0
    file_size: int | None = None


class File(BaseModel):
    """A document, audio, video or voice note."""

    file_id: str
    file_unique_id: str = ""
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None


class TgMessage(BaseModel):
    """A message in an update."""

    message_id: int
    from_: User | None = Field(default=None, alias="from")
    chat: Chat
    date: int
    text: str = ""
    caption: str = ""
    photo: list[PhotoSize] = []
    document: File | None = None
    audio: File | None = None
    video: File | None = None
    voice: File | None = None


class Update(BaseModel):
    """What Telegram posts to the webhook: one update, of which we use new messages."""

    update_id: int
    message: TgMessage | None = None


def _attachments(message: TgMessage) -> list[dict[str, Any]]:
    """Attachment metadata; the file is fetched later with getFile by its file_id."""
    found: list[dict[str, Any]] = []
    if message.photo:
        largest = message.photo[-1]
        found.append({"filename": f"photo-{largest.file_unique_id or largest.file_id}.jpg",
                      "content_type": "image/jpeg", "size": largest.file_size, "url": None,
                      "provider_media_id": largest.file_id})
    for kind, default_type in (("document", "application/octet-stream"),
                               ("audio", "audio/mpeg"), ("video", "video/mp4"),
                               ("voice", "audio/ogg")):
        file: File | None = getattr(message, kind)
        if file is not None:
            found.append({"filename": file.file_name or f"{kind}-{file.file_unique_id}",
                          "content_type": file.mime_type or default_type,
                          "size": file.file_size, "url": None,
                          "provider_media_id": file.file_id})
    return found


def parse(raw: bytes) -> Update:
    """The update; 422 naming the first bad field."""
    return parse_model(Update, raw)


def to_inbound(update: Update) -> ProviderInbound | None:
    """The customer's message of an update, or None (edits, bot events … are not messages)."""
    message = update.message
    if message is None:
        return None
    sender = message.from_
    name = " ".join(part for part in (sender.first_name, sender.last_name) if part) \
        if sender else ""
    customer_id = str(sender.id if sender else message.chat.id)
    return ProviderInbound(
        key=f"{message.chat.id}:{message.message_id}",
        message=InboundMessage(identity_kind=IDENTITY_KIND, identity_value=customer_id,
                               body=message.text or message.caption,
                               display_name=name or (sender.username if sender else ""),
                               external_id=str(message.message_id),
                               attachments=_attachments(message)),
        thread={"chat_id": message.chat.id})
