"""The WhatsApp Cloud API webhook (verification and events) and the adapter that sends."""

from __future__ import annotations

import hmac
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.channels import registry
from omnidesk.channels.base import DeliveryError, OutboundMessage
from omnidesk.channels.models import Channel
from omnidesk.channels.provider_webhook import (
    accept_once,
    apply_status_once,
    load_channel,
    secret_from_env,
    settings_of,
    write_once,
)
from omnidesk.channels.whatsapp import client, mapping, signature
from omnidesk.channels.whatsapp.config import WhatsAppSettings
from omnidesk.clock import Clock, SystemClock
from omnidesk.customers.identities import PHONE
from omnidesk.deps import DbDep
from omnidesk.errors import Forbidden, InvalidInput, Unauthorized

KIND = "whatsapp"
WINDOW = timedelta(hours=24)
OUTSIDE_WINDOW = ("outside the 24-hour customer service window: only a template message may "
                  "be sent")
router = APIRouter(prefix="/channels/whatsapp", tags=["channels"])


@router.get("/{channel_id}/webhook", response_class=Response,
            responses={200: {"content": {"text/plain": {}}}, 401: {}, 403: {}, 404: {},
                       422: {}})
async def verify_webhook(
    channel_id: uuid.UUID, request: Request,
    hub_mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    hub_verify_token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    hub_challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
) -> Response:
    """Meta's verification request: echo hub.challenge when hub.verify_token is ours."""
    channel = await load_channel(request, channel_id, KIND, "WhatsApp")
    settings = settings_of(channel, WhatsAppSettings)
    if not hub_verify_token:
        raise Unauthorized("missing hub.verify_token", field="hub.verify_token")
    try:
        expected = secret_from_env(settings.verify_token_env, setting="verify_token_env")
    except DeliveryError as error:
        raise Forbidden(str(error), field="hub.verify_token") from error
    if not hmac.compare_digest(expected.encode(), hub_verify_token.encode()):
        raise Forbidden("hub.verify_token does not match", field="hub.verify_token")
    if hub_mode != "subscribe":
        raise InvalidInput("hub.mode must be 'subscribe'", field="hub.mode")
    if not hub_challenge:
        raise InvalidInput("hub.challenge is missing", field="hub.challenge")
    return Response(hub_challenge, media_type="text/plain")


async def _channels_by_number(session: AsyncSession, channel: Channel) -> dict[str, Channel]:
    """The tenant's WhatsApp channels by phone_number_id: one Meta app may serve several
    numbers through one webhook URL."""
    siblings = (await session.scalars(select(Channel).where(
        Channel.tenant_id == channel.tenant_id, Channel.kind == KIND,
        Channel.enabled.is_(True)))).all()
    numbers = {str((c.settings or {}).get("phone_number_id", "")): c for c in siblings}
    numbers.pop("", None)
    return numbers


def _target(numbers: dict[str, Channel], channel: Channel, number: str) -> Channel | None:
    """The channel of this business number: a sibling's, else the URL's (if not another's)."""
    own = str((channel.settings or {}).get("phone_number_id", ""))
    if number in numbers:
        return numbers[number]
    return channel if not own else None


@router.post("/{channel_id}/webhook", responses={401: {}, 403: {}, 404: {}, 422: {}})
async def receive_webhook(
    channel_id: uuid.UUID, request: Request, db: DbDep,
    x_hub_signature_256: Annotated[str | None, Header()] = None,
) -> dict[str, int]:
    """Messages and statuses from the Cloud API; answered 200 only after they are stored."""
    channel = await load_channel(request, channel_id, KIND, "WhatsApp")
    raw = await request.body()
    signature.verify(channel.secret, signature=x_hub_signature_256, body=raw)
    parsed = mapping.parse(raw)

    async def store(session: AsyncSession) -> dict[str, int]:
        numbers = await _channels_by_number(session, channel)
        counts = {"stored": 0, "duplicates": 0, "statuses": 0, "ignored": 0}
        for number, inbound in parsed.messages:
            target = _target(numbers, channel, number)
            if target is None:
                counts["ignored"] += 1
            elif await accept_once(session, target, inbound) is None:
                counts["duplicates"] += 1
            else:
                counts["stored"] += 1
        for number, status in parsed.statuses:
            target = _target(numbers, channel, number)
            if target is not None and await apply_status_once(session, target, status):
                counts["statuses"] += 1
        return counts

    return await write_once(db, store)


def template_payload(to: str, template: dict[str, Any]) -> dict[str, Any]:
    """A template message as the Cloud API takes it: the body's {{1}}, {{2}} … as text
    parameters (without messaging_product, which the client adds)."""
    content: dict[str, Any] = {"name": str(template["name"]),
                               "language": {"code": str(template["language"])}}
    parameters = [str(value) for value in template.get("parameters") or ()]
    if parameters:
        content["components"] = [{"type": "body", "parameters": [
            {"type": "text", "text": value} for value in parameters]}]
    return {"recipient_type": "individual", "to": to, "type": "template",
            "template": content}


class WhatsAppAdapter:
    """Sends agents' replies through the Cloud API, inside the 24-hour window only; a
    template message (approved by Meta) at any time."""

    kind: ClassVar[str] = KIND
    identity_kind: ClassVar[str] = PHONE
    sends_templates: ClassVar[bool] = True

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or SystemClock()

    def check_window(self, thread: dict[str, Any]) -> None:
        """Raise unless the customer wrote within the last 24 hours."""
        last = thread.get("last_inbound_at")
        try:
            last_inbound = datetime.fromisoformat(str(last)) if last else None
        except ValueError:
            last_inbound = None
        if last_inbound is None or self.clock.now() - last_inbound > WINDOW:
            raise DeliveryError(OUTSIDE_WINDOW)

    async def send(self, message: OutboundMessage) -> str:
        """Send the text (or each attachment with a url, the text as the first caption), or
        the template message, which needs no open window."""
        try:
            settings = settings_of(message.channel, WhatsAppSettings)
        except InvalidInput as error:
            raise DeliveryError(error.message) from error
        if message.template is None:
            self.check_window(message.thread)
        if not settings.phone_number_id:
            raise DeliveryError("the WhatsApp channel has no phone_number_id setting")
        token = secret_from_env(settings.access_token_env, setting="access_token_env")
        to = str(message.thread.get("wa_id") or message.recipient.removeprefix("+"))
        payloads = [template_payload(to, message.template)] if message.template is not None \
            else self._payloads(to, message)
        ids = [await client.send_message(base_url=settings.api_base_url,
                                         api_version=settings.api_version,
                                         phone_number_id=settings.phone_number_id,
                                         token=token, payload=payload)
               for payload in payloads]
        return ids[0]

    @staticmethod
    def _payloads(to: str, message: OutboundMessage) -> list[dict[str, Any]]:
        media = [a for a in message.attachments if a.get("url")]
        if not media:
            if not message.body:
                raise DeliveryError("nothing to send: no text and no attachment with a url")
            return [{"recipient_type": "individual", "to": to, "type": "text",
                     "text": {"preview_url": False, "body": message.body}}]
        payloads = []
        for index, attachment in enumerate(media):
            content_type = str(attachment.get("content_type", ""))
            kind = next((k for k in ("image", "video", "audio") if content_type.startswith(k)),
                        "document")
            content: dict[str, Any] = {"link": str(attachment["url"])}
            if index == 0 and message.body and kind != "audio":
                content["caption"] = message.body
            if kind == "document" and attachment.get("filename"):
                content["filename"] = str(attachment["filename"])
            payloads.append({"recipient_type": "individual", "to": to, "type": kind,
                             kind: content})
        if message.body and payloads[0]["type"] == "audio":
            payloads.insert(0, {"recipient_type": "individual", "to": to, "type": "text",
                                "text": {"preview_url": False, "body": message.body}})
        return payloads


adapter = WhatsAppAdapter()
registry.register(adapter, WhatsAppSettings)
