"""The agent desktop's browser phone: WebRTC signalling over the API (webrtc.py does the
media). One SDP offer / answer exchange, non-trickle, turns the phone on."""

from __future__ import annotations

import asyncio
import uuid
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from omnidesk.auth.principal import EVERYONE, Principal
from omnidesk.channels.voice.dialout import DialOut, check_number, open_interaction, trunk_of
from omnidesk.channels.voice.webrtc import SDP_ERRORS, BrowserPhones
from omnidesk.deps import DbDep, PrincipalDep
from omnidesk.errors import Conflict, Forbidden, InvalidInput

router = APIRouter(prefix="/voice/webrtc", tags=["voice"])


class SessionDescription(BaseModel):
    """An SDP offer (from the desktop) or answer (ours), with every ICE candidate in it."""

    type: Literal["offer", "answer"]
    sdp: str = Field(min_length=1, max_length=65_536)


class PhoneStatus(BaseModel):
    """Whether the browser phone can be used here, and whether the agent's is on."""

    available: bool
    online: bool
    on_call: uuid.UUID | None = None


class PlaceCall(BaseModel):
    """A number to call from your browser phone, and optionally the voice channel to call
    through (default: your first voice channel with a SIP trunk)."""

    number: str = Field(min_length=1, max_length=64)
    channel_id: uuid.UUID | None = None


class PlacedCall(BaseModel):
    """The call you placed: its interaction, and whether the callee answered (and is
    bridged to your browser phone) or why not (`busy`, `no_answer`, `declined`,
    `cancelled`, `failed`; the interaction is closed then)."""

    interaction_id: uuid.UUID
    answered: bool
    status: int | None = None
    reason: str | None = None


def _phones(request: Request) -> BrowserPhones | None:
    voice = getattr(request.app.state, "voice", None)
    phones = getattr(voice, "browser_phones", None)
    return phones if isinstance(phones, BrowserPhones) else None


def _my_agent_id(principal: Principal) -> uuid.UUID:
    principal.require(*EVERYONE)
    if principal.user_id is None:
        raise Forbidden("only an agent has a browser phone")
    agent_id = principal.agent_id
    if agent_id is None:
        raise Forbidden("only an agent has a browser phone")
    return agent_id


def _running(request: Request) -> BrowserPhones:
    phones = _phones(request)
    if phones is None:
        raise Conflict("the voice service is not running (OMNIDESK_SIP_ENABLED)",
                       field="voice")
    return phones


@router.get("", response_model=PhoneStatus)
async def phone_status(request: Request, db: DbDep, principal: PrincipalDep) -> PhoneStatus:
    """Is the browser phone available (the voice service runs), is yours on, on which call."""
    agent_id = _my_agent_id(principal)
    phones = _phones(request)
    phone = phones.online(agent_id) if phones is not None else None
    return PhoneStatus(available=phones is not None, online=phone is not None,
                       on_call=phone.interaction_id if phone is not None else None)


@router.post("/offer", response_model=SessionDescription)
async def phone_on(body: SessionDescription, request: Request, db: DbDep,
                   principal: PrincipalDep) -> SessionDescription:
    """Turn your browser phone on: your SDP offer in, our SDP answer out (G.711). A phone you
    had on elsewhere is turned off (a call on it is hung up)."""
    agent_id = _my_agent_id(principal)
    phones = _running(request)
    if body.type != "offer":
        raise InvalidInput("send an SDP offer", field="type")
    try:
        answer = await phones.connect(agent_id, body.sdp)
    except SDP_ERRORS as error:
        raise InvalidInput(f"the SDP offer cannot be answered: {error}", field="sdp") \
            from error
    return SessionDescription(type="answer", sdp=answer)


@router.delete("", status_code=204)
async def phone_off(request: Request, db: DbDep, principal: PrincipalDep) -> Response:
    """Turn your browser phone off (a call on it is hung up)."""
    agent_id = _my_agent_id(principal)
    phones = _phones(request)
    if phones is not None:
        await phones.disconnect(agent_id)
    return Response(status_code=204)


@router.post("/hangup", status_code=204)
async def phone_hang_up(request: Request, db: DbDep, principal: PrincipalDep) -> Response:
    """Hang up the call on your browser phone (409 when there is none): the caller is hung up
    (or asked the survey) and the interaction goes to wrap-up, as with a SIP phone."""
    agent_id = _my_agent_id(principal)
    phone = _running(request).online(agent_id)
    if phone is None or not phone.hang_up():
        raise Conflict("your browser phone is not on a call", field="phone")
    return Response(status_code=204)


@router.post("/call", response_model=PlacedCall)
async def phone_call(body: PlaceCall, request: Request, db: DbDep,
                     principal: PrincipalDep) -> PlacedCall:
    """Call a number from your browser phone (which must be on and free): an outbound voice
    interaction for the customer with that number, connected to you, dialled through the
    voice channel's trunk. Answers once the callee answers (bridged to your browser) or the
    attempt failed (`call.dial_failed`, the interaction closed); hang up with /hangup, also
    while it rings. 422 for a number that is not one, 409 when there is no trunk to call
    through or your phone is off or busy."""
    agent_id = _my_agent_id(principal)
    phones = _running(request)
    voice = request.app.state.voice
    number = check_number(body.number)
    phone = phones.online(agent_id)
    if phone is None:
        raise Conflict("turn your browser phone on first", field="phone")
    channel_id, trunk = await trunk_of(db, principal.tenant_id, body.channel_id)
    if voice.ua is None:
        raise Conflict("the voice service is not running (OMNIDESK_SIP_ENABLED)",
                       field="voice")
    if not phone.reserve():
        raise Conflict("your browser phone is on a call", field="phone")
    try:
        interaction_id = await open_interaction(db, tenant_id=principal.tenant_id,
                                                channel_id=channel_id, agent_id=agent_id,
                                                number=number)
        call = DialOut(db, voice.ua, phone, trunk, tenant_id=principal.tenant_id,
                       interaction_id=interaction_id, number=number)
    except BaseException:
        phone.reserved = False
        raise
    phones.keep(asyncio.get_running_loop().create_task(call.run()))
    result = await asyncio.shield(call.result)
    return PlacedCall(interaction_id=result.interaction_id, answered=result.answered,
                      status=result.status, reason=result.reason)
