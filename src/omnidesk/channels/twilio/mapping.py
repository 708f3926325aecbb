"""Twilio's form-encoded webhooks ⇄ omnidesk: inbound messages and delivery statuses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl

from omnidesk.channels.inbound import InboundMessage
from omnidesk.channels.provider_webhook import (
    DELIVERED,
    FAILED,
    READ,
    ProviderInbound,
    ProviderStatus,
)
from omnidesk.customers.identities import PHONE, e164
from omnidesk.errors import InvalidInput

WHATSAPP_PREFIX = "whatsapp:"
MAX_MEDIA = 10  # Twilio sends at most ten media per message
STATUS_EVENTS = {"delivered": DELIVERED, "read": READ, "undelivered": FAILED,
                 "failed": FAILED, "canceled": FAILED}


def parse_form(body: bytes) -> list[tuple[str, str]]:
    """The POST parameters, in order, repeated names kept (the signature needs them all)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput("the body is not UTF-8 form data", field="body") from error
    return parse_qsl(text, keep_blank_values=True)


def _required(params: dict[str, str], name: str) -> str:
    value = params.get(name, "").strip()
    if not value:
        raise InvalidInput(f"{name} is missing", field=name)
    return value


def _media(params: dict[str, str]) -> list[dict[str, Any]]:
    try:
        count = int(params.get("NumMedia") or 0)
    except ValueError as error:
        raise InvalidInput("NumMedia is not a number", field="NumMedia") from error
    if not 0 <= count <= MAX_MEDIA:
        raise InvalidInput(f"NumMedia must be 0 to {MAX_MEDIA}", field="NumMedia")
    return [{"filename": f"media-{index}",
             "content_type": params.get(f"MediaContentType{index}") or
             "application/octet-stream",
             "size": None, "url": _required(params, f"MediaUrl{index}")}
            for index in range(count)]


def to_inbound(pairs: Sequence[tuple[str, str]]) -> ProviderInbound:
    """An incoming SMS or WhatsApp message (From "+1…" or "whatsapp:+1…")."""
    params = dict(pairs)
    sid = params.get("MessageSid") or params.get("SmsMessageSid") or ""
    if not sid:
        raise InvalidInput("MessageSid is missing", field="MessageSid")
    sender, recipient = _required(params, "From"), _required(params, "To")
    phone = e164(sender, field="From")
    via = "whatsapp" if sender.startswith(WHATSAPP_PREFIX) else "sms"
    message = InboundMessage(
        identity_kind=PHONE, identity_value=phone, body=params.get("Body", ""),
        display_name=params.get("ProfileName", ""), external_id=sid,
        attachments=_media(params), attributes={"twilio": {"via": via}})
    return ProviderInbound(key=sid, message=message,
                           thread={"twilio_customer": sender, "twilio_number": recipient})


def to_status(pairs: Sequence[tuple[str, str]]) -> ProviderStatus:
    """A status callback of a message sent through Twilio."""
    params = dict(pairs)
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    if not sid:
        raise InvalidInput("MessageSid is missing", field="MessageSid")
    status = (params.get("MessageStatus") or params.get("SmsStatus") or "").strip().lower()
    if not status:
        raise InvalidInput("MessageStatus is missing", field="MessageStatus")
    error = ""
    if params.get("ErrorCode"):
        error = f"Twilio error {params['ErrorCode']}"
        if params.get("ErrorMessage"):
            error += f": {params['ErrorMessage']}"
    return ProviderStatus(provider_message_id=sid, status=status,
                          event=STATUS_EVENTS.get(status), error=error)
