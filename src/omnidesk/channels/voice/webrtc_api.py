"""The agent desktop's browser phone: WebRTC signalling over the API (webrtc.py does the
media). One SDP offer / answer exchange, non-trickle, turns the phone on."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from omnidesk.agents.service import agent_for_user
from omnidesk.auth.principal import EVERYONE, Principal
from omnidesk.channels.voice.webrtc import SDP_ERRORS, BrowserPhones
from omnidesk.db import Database
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


def _phones(request: Request) -> BrowserPhones | None:
    voice = getattr(request.app.state, "voice", None)
    phones = getattr(voice, "browser_phones", None)
    return phones if isinstance(phones, BrowserPhones) else None


async def _my_agent_id(db: Database, principal: Principal) -> uuid.UUID:
    principal.require(*EVERYONE)
    if principal.user_id is None:
        raise Forbidden("only an agent has a browser phone")
    async with db.read() as session:
        agent = await agent_for_user(session, tenant_id=principal.tenant_id,
                                     user_id=principal.user_id)
    if agent is None:
        raise Forbidden("only an agent has a browser phone")
    return agent.id


def _running(request: Request) -> BrowserPhones:
    phones = _phones(request)
    if phones is None:
        raise Conflict("the voice service is not running (OMNIDESK_SIP_ENABLED)",
                       field="voice")
    return phones


@router.get("", response_model=PhoneStatus)
async def phone_status(request: Request, db: DbDep, principal: PrincipalDep) -> PhoneStatus:
    """Is the browser phone available (the voice service runs), is yours on, on which call."""
    agent_id = await _my_agent_id(db, principal)
    phones = _phones(request)
    phone = phones.online(agent_id) if phones is not None else None
    return PhoneStatus(available=phones is not None, online=phone is not None,
                       on_call=phone.interaction_id if phone is not None else None)


@router.post("/offer", response_model=SessionDescription)
async def phone_on(body: SessionDescription, request: Request, db: DbDep,
                   principal: PrincipalDep) -> SessionDescription:
    """Turn your browser phone on: your SDP offer in, our SDP answer out (G.711). A phone you
    had on elsewhere is turned off (a call on it is hung up)."""
    agent_id = await _my_agent_id(db, principal)
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
    agent_id = await _my_agent_id(db, principal)
    phones = _phones(request)
    if phones is not None:
        await phones.disconnect(agent_id)
    return Response(status_code=204)


@router.post("/hangup", status_code=204)
async def phone_hang_up(request: Request, db: DbDep, principal: PrincipalDep) -> Response:
    """Hang up the call on your browser phone (409 when there is none): the caller is hung up
    (or asked the survey) and the interaction goes to wrap-up, as with a SIP phone."""
    agent_id = await _my_agent_id(db, principal)
    phone = _running(request).online(agent_id)
    if phone is None or not phone.hang_up():
        raise Conflict("your browser phone is not on a call", field="phone")
    return Response(status_code=204)
