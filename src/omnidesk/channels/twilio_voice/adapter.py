"""Twilio Programmable Voice webhooks (the call, <Gather> answers, the queue's wait URL, call
statuses), each signed with X-Twilio-Signature, and the channel kind `twilio_voice`."""

from __future__ import annotations

import uuid
from typing import Annotated, ClassVar

from fastapi import APIRouter, Header, Request, Response

from omnidesk.channels import registry
from omnidesk.channels.base import DeliveryError, OutboundMessage
from omnidesk.channels.provider_webhook import load_channel, settings_of
from omnidesk.channels.twilio import signature
from omnidesk.channels.twilio.mapping import parse_form
from omnidesk.channels.twilio_voice import mapping
from omnidesk.channels.twilio_voice.calls import Webhook
from omnidesk.channels.twilio_voice.config import (
    GATHER_PATH,
    KIND,
    STATUS_PATH,
    VOICE_PATH,
    WAIT_PATH,
    TwilioVoiceSettings,
)
from omnidesk.channels.twilio_voice.service import TwilioVoiceService
from omnidesk.customers.identities import PHONE

router = APIRouter(prefix=f"/channels/{KIND}", tags=["channels"])
ANSWERS: dict[int | str, dict[str, object]] = {401: {}, 403: {}, 404: {}, 422: {}}
TWIML = "text/xml"
Signature = Annotated[str | None, Header()]


async def _verified(request: Request, channel_id: uuid.UUID, header: str | None,
                    endpoint: str) -> tuple[Webhook, list[tuple[str, str]]]:
    """The channel and the POST parameters, once X-Twilio-Signature is proven Twilio's (over
    the URL as pasted into Twilio / put into our TwiML, or as this server received it)."""
    channel = await load_channel(request, channel_id, KIND, "Twilio voice")
    settings = settings_of(channel, TwilioVoiceSettings)
    params = parse_form(await request.body())
    received = str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    public = settings.base_url()
    urls = [f"{public}/{endpoint}{query}"] if public else []
    if endpoint == STATUS_PATH and settings.status_callback_url:
        urls.append(settings.status_callback_url + query)
    signature.verify(channel.secret, signature=header, urls=[*urls, received], params=params)
    base = public or str(request.url.replace(query="")).rstrip("/").rsplit("/", 1)[0]
    return Webhook(channel=channel, settings=settings, base_url=base), params


def _service(request: Request) -> TwilioVoiceService:
    service: TwilioVoiceService = request.app.state.twilio_voice
    return service


@router.post(f"/{{channel_id}}/{VOICE_PATH}", status_code=200, responses=ANSWERS,
             response_class=Response)
async def incoming_call(channel_id: uuid.UUID, request: Request,
                        x_twilio_signature: Signature = None) -> Response:
    """Twilio's "A call comes in" webhook: the IVR's first TwiML (or the queue's)."""
    hook, params = await _verified(request, channel_id, x_twilio_signature, VOICE_PATH)
    answer = await _service(request).calls.answer(hook, mapping.to_call(params))
    return Response(answer, media_type=TWIML)


@router.post(f"/{{channel_id}}/{GATHER_PATH}", status_code=200, responses=ANSWERS,
             response_class=Response)
async def gathered(channel_id: uuid.UUID, request: Request, turn: int = 0,
                   x_twilio_signature: Signature = None) -> Response:
    """A <Gather>'s action: the caller's keys (Digits) or words (SpeechResult), or nothing;
    the flow goes on and answers with its next TwiML."""
    hook, params = await _verified(request, channel_id, x_twilio_signature, GATHER_PATH)
    answer = await _service(request).calls.gather(hook, mapping.to_call(params), turn)
    return Response(answer, media_type=TWIML)


@router.post(f"/{{channel_id}}/{WAIT_PATH}", status_code=200, responses=ANSWERS,
             response_class=Response)
async def waiting(channel_id: uuid.UUID, request: Request,
                  x_twilio_signature: Signature = None) -> Response:
    """The <Enqueue> waitUrl: position, estimated wait and hold music, fetched in a loop."""
    hook, params = await _verified(request, channel_id, x_twilio_signature, WAIT_PATH)
    answer = await _service(request).calls.wait(hook, mapping.to_call(params))
    return Response(answer, media_type=TWIML)


@router.post(f"/{{channel_id}}/{STATUS_PATH}", status_code=204, responses=ANSWERS,
             response_class=Response)
async def call_status(channel_id: uuid.UUID, request: Request,
                      x_twilio_signature: Signature = None) -> Response:
    """A call status callback (ringing … completed, busy, no-answer, failed, canceled);
    acknowledged only after it is recorded, once per CallSid, CallStatus and SequenceNumber."""
    hook, params = await _verified(request, channel_id, x_twilio_signature, STATUS_PATH)
    await _service(request).calls.status(hook, mapping.to_status(params))
    return Response(status_code=204)


class TwilioVoiceAdapter:
    """Registered so the platform knows the kind; an agent's text on a call is refused."""

    kind: ClassVar[str] = KIND
    identity_kind: ClassVar[str] = PHONE

    async def send(self, message: OutboundMessage) -> str:
        """Always DeliveryError: there is no text path to a caller (the message is failed)."""
        raise DeliveryError("a phone call carries no text messages")


adapter = TwilioVoiceAdapter()
registry.register(adapter, TwilioVoiceSettings)
