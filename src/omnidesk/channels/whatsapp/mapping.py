"""The WhatsApp Cloud API webhook ⇄ omnidesk: messages (text, media, interactive replies …)
and the statuses of messages agents sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from omnidesk.channels.inbound import InboundMessage
from omnidesk.channels.provider_webhook import (
    DELIVERED,
    FAILED,
    READ,
    ProviderInbound,
    ProviderStatus,
    parse_model,
)
from omnidesk.customers.identities import PHONE, e164
from omnidesk.errors import InvalidInput

OBJECT = "whatsapp_business_account"
MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
STATUS_EVENTS = {"delivered": DELIVERED, "read": READ, "failed": FAILED}


class Profile(BaseModel):
    """A contact's WhatsApp profile."""

    name: str = ""


class Contact(BaseModel):
    """Who wrote: their WhatsApp id (their phone number's digits) and profile."""

    wa_id: str
    profile: Profile = Profile()


class Text(BaseModel):
    """A text message's content."""

    body: str


class Reply(BaseModel):
    """The button or list row a customer tapped."""

    id: str
    title: str


class Interactive(BaseModel):
    """An answer to an interactive message."""

    type: str
    button_reply: Reply | None = None
    list_reply: Reply | None = None


class Button(BaseModel):
    """A quick-reply button of a template, tapped."""

    text: str
    payload: str = ""


class Media(BaseModel):
    """An image, video, audio, document or sticker (fetched later from the Graph API by id)."""

    id: str
    mime_type: str = "application/octet-stream"
    caption: str = ""
    filename: str | None = None


class Location(BaseModel):
    """A shared location."""

    latitude: float
    longitude: float
    name: str = ""
    address: str = ""


class Reaction(BaseModel):
    """An emoji reaction to an earlier message."""

    emoji: str = ""


class WaMessage(BaseModel):
    """One message in the webhook."""

    from_: str = Field(alias="from")
    id: str
    timestamp: int
    type: str
    text: Text | None = None
    interactive: Interactive | None = None
    button: Button | None = None
    image: Media | None = None
    video: Media | None = None
    audio: Media | None = None
    document: Media | None = None
    sticker: Media | None = None
    location: Location | None = None
    reaction: Reaction | None = None


class StatusError(BaseModel):
    """Why a message failed."""

    code: int | None = None
    title: str = ""
    message: str = ""


class WaStatus(BaseModel):
    """The delivery status of a message the business sent."""

    id: str
    status: str
    timestamp: int | None = None
    recipient_id: str = ""
    errors: list[StatusError] = []


class Metadata(BaseModel):
    """Which business number the change is about."""

    display_phone_number: str = ""
    phone_number_id: str


class Value(BaseModel):
    """The content of a `messages` change."""

    messaging_product: str
    metadata: Metadata
    contacts: list[Contact] = []
    messages: list[WaMessage] = []
    statuses: list[WaStatus] = []


class Change(BaseModel):
    """A change of a subscribed field; only `messages` carries messages and statuses."""

    field: str
    value: dict[str, Any]


class Entry(BaseModel):
    """The changes of one WhatsApp Business Account."""

    id: str
    changes: list[Change]


class Webhook(BaseModel):
    """The body of a POST to the webhook."""

    object: str
    entry: list[Entry]


@dataclass(frozen=True, slots=True)
class Parsed:
    """What one webhook carries, each item with the business number it was for."""

    messages: list[tuple[str, ProviderInbound]]
    statuses: list[tuple[str, ProviderStatus]]


def _body_and_media(message: WaMessage) -> tuple[str, list[dict[str, Any]]]:
    """The text an agent reads, and attachment metadata."""
    if message.type == "text" and message.text:
        return message.text.body, []
    if message.type == "interactive" and message.interactive:
        reply = message.interactive.button_reply or message.interactive.list_reply
        return (reply.title if reply else f"[{message.interactive.type}]"), []
    if message.type == "button" and message.button:
        return message.button.text, []
    media: Media | None = getattr(message, message.type, None) \
        if message.type in MEDIA_TYPES else None
    if media is not None:
        return media.caption, [{
            "filename": media.filename or f"{message.type}-{media.id}",
            "content_type": media.mime_type, "size": None, "url": None,
            "provider_media_id": media.id}]
    if message.type == "location" and message.location:
        place = ", ".join(part for part in (message.location.name, message.location.address)
                          if part)
        where = f"{message.location.latitude}, {message.location.longitude}"
        return f"Location: {place} ({where})" if place else f"Location: {where}", []
    if message.type == "reaction" and message.reaction:
        return f"Reacted {message.reaction.emoji}".strip(), []
    return f"[{message.type} message]", []


def _inbound(value: Value, message: WaMessage, where: str) -> ProviderInbound:
    phone = e164(message.from_, field=f"{where}.from")
    name = next((contact.profile.name for contact in value.contacts
                 if contact.wa_id == message.from_), "")
    body, attachments = _body_and_media(message)
    sent_at = datetime.fromtimestamp(message.timestamp, UTC)
    return ProviderInbound(
        key=message.id,
        message=InboundMessage(identity_kind=PHONE, identity_value=phone, body=body,
                               display_name=name, external_id=message.id,
                               attachments=attachments),
        thread={"wa_id": message.from_, "last_inbound_at": sent_at.isoformat()})


def _status(status: WaStatus) -> ProviderStatus:
    error = ""
    if status.errors:
        first = status.errors[0]
        error = f"WhatsApp error {first.code}: {first.title or first.message}".strip()
    return ProviderStatus(provider_message_id=status.id, status=status.status,
                          event=STATUS_EVENTS.get(status.status), error=error)


def parse(raw: bytes) -> Parsed:
    """The messages and statuses of a webhook body; 422 naming the first bad field."""
    webhook = parse_model(Webhook, raw)
    if webhook.object != OBJECT:
        raise InvalidInput(f"object must be {OBJECT!r}", field="object")
    parsed = Parsed(messages=[], statuses=[])
    for e_index, entry in enumerate(webhook.entry):
        for c_index, change in enumerate(entry.changes):
            if change.field != "messages":
                continue
            where = f"entry.{e_index}.changes.{c_index}.value"
            try:
                value = Value.model_validate(change.value)
            except ValidationError as error:
                first = error.errors()[0]
                name = ".".join([where, *(str(part) for part in first["loc"])])
                raise InvalidInput(f"{name}: {first['msg']}", field=name) from error
            number = value.metadata.phone_number_id
            parsed.messages.extend(
                (number, _inbound(value, message, f"{where}.messages.{m_index}"))
                for m_index, message in enumerate(value.messages))
            parsed.statuses.extend((number, _status(status)) for status in value.statuses)
    return parsed
