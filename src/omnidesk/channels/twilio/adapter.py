"""Twilio's webhooks (messages and statuses) and the adapter that sends through Twilio."""

from __future__ import annotations

import uuid
from typing import Annotated, ClassVar

from fastapi import APIRouter, Header, Request, Response
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
from omnidesk.channels.twilio import client, mapping, signature
from omnidesk.channels.twilio.config import TwilioSettings
from omnidesk.customers.identities import PHONE
from omnidesk.deps import DbDep
from omnidesk.errors import InvalidInput

KIND = "twilio"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
router = APIRouter(prefix="/channels/twilio", tags=["channels"])
ANSWERS: dict[int | str, dict[str, object]] = {401: {}, 403: {}, 404: {}, 422: {}}


async def _verified(request: Request, channel: Channel, header: str | None,
                    public_url: str | None) -> list[tuple[str, str]]:
    """The POST parameters, once X-Twilio-Signature is proven to be Twilio's."""
    params = mapping.parse_form(await request.body())
    urls = [url for url in (public_url, str(request.url)) if url]
    signature.verify(channel.secret, signature=header, urls=urls, params=params)
    return params


@router.post("/{channel_id}/messages", status_code=200, responses=ANSWERS,
             response_class=Response)
async def receive_message(
    channel_id: uuid.UUID, request: Request, db: DbDep,
    x_twilio_signature: Annotated[str | None, Header()] = None,
) -> Response:
    """An incoming SMS or WhatsApp message; answered (empty TwiML) only after it is stored."""
    channel = await load_channel(request, channel_id, KIND, "Twilio")
    settings = settings_of(channel, TwilioSettings)
    params = await _verified(request, channel, x_twilio_signature, settings.public_url)
    inbound = mapping.to_inbound(params)

    async def store(session: AsyncSession) -> None:
        await accept_once(session, channel, inbound)

    await write_once(db, store)
    return Response(EMPTY_TWIML, media_type="text/xml")


@router.post("/{channel_id}/status", status_code=204, responses=ANSWERS,
             response_class=Response)
async def receive_status(
    channel_id: uuid.UUID, request: Request, db: DbDep,
    x_twilio_signature: Annotated[str | None, Header()] = None,
) -> Response:
    """A delivery status of a message sent through Twilio: message.delivered / failed / read."""
    channel = await load_channel(request, channel_id, KIND, "Twilio")
    settings = settings_of(channel, TwilioSettings)
    params = await _verified(request, channel, x_twilio_signature, settings.status_url())
    status = mapping.to_status(params)

    async def store(session: AsyncSession) -> None:
        await apply_status_once(session, channel, status)

    await write_once(db, store)
    return Response(status_code=204)


class TwilioAdapter:
    """Sends agents' replies as SMS or WhatsApp messages through Twilio's REST API."""

    kind: ClassVar[str] = KIND
    identity_kind: ClassVar[str] = PHONE

    async def send(self, message: OutboundMessage) -> str:
        """Create the message at Twilio (media by MediaUrl); return its sid."""
        try:
            settings = settings_of(message.channel, TwilioSettings)
        except InvalidInput as error:
            raise DeliveryError(error.message) from error
        if not settings.account_sid:
            raise DeliveryError("the Twilio channel has no account_sid setting")
        token = secret_from_env(settings.auth_token_env, setting="auth_token_env",
                                fallback=message.channel.secret)
        media = [("MediaUrl", str(attachment["url"])) for attachment in message.attachments
                 if attachment.get("url")]
        if not message.body and not media:
            raise DeliveryError("nothing to send: no text and no attachment with a url")
        fields = self._addresses(settings, message)
        if message.body:
            fields.append(("Body", message.body))
        fields += media
        if status_url := settings.status_url():
            fields.append(("StatusCallback", status_url))
        return await client.create_message(
            base_url=settings.api_base_url, account_sid=settings.account_sid,
            username=settings.api_key_sid or settings.account_sid, password=token, fields=fields)

    @staticmethod
    def _addresses(settings: TwilioSettings, message: OutboundMessage) -> list[tuple[str, str]]:
        """To and From: the customer's address and the number they wrote to, when known."""
        customer = message.thread.get("twilio_customer")
        number = message.thread.get("twilio_number")
        if number:
            sender = ("From", str(number))
        elif settings.messaging_service_sid:
            sender = ("MessagingServiceSid", settings.messaging_service_sid)
        elif settings.from_number:
            sender = ("From", settings.from_number)
        else:
            raise DeliveryError("the Twilio channel has no from_number or "
                                "messaging_service_sid setting")
        if not customer:
            whatsapp = sender[1].startswith(mapping.WHATSAPP_PREFIX)
            customer = (mapping.WHATSAPP_PREFIX if whatsapp else "") + message.recipient
        return [("To", str(customer)), sender]


adapter = TwilioAdapter()
registry.register(adapter, TwilioSettings)
