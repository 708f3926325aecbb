"""Outbound calls through a voice channel's SIP trunk (RFC 3261 UAC): the INVITE goes to
`sip:<number>@<trunk host>:<port>;transport=…` with our caller id in From; a 401 / 407 is
answered once with the trunk's digest credentials (the password read from the environment
variable the settings name). Used by transfers to numbers, by callbacks and by the calls
agents place from the browser phone (dialout.py)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.channels.voice.call import OutgoingCall, first
from omnidesk.channels.voice.config import ACTOR, Trunk, dialled, normalise_number
from omnidesk.customers.identities import e164
from omnidesk.errors import InvalidInput
from omnidesk.events.log import record
from omnidesk.interactions.actions import change_state
from omnidesk.interactions.models import Interaction
from omnidesk.interactions.schemas import StateChange
from omnidesk.interactions.states import InteractionState as S

if TYPE_CHECKING:
    from omnidesk.channels.voice.ua import UserAgent

log = logging.getLogger("omnidesk.voice")
MIN_NUMBER_DIGITS = 7  # shorter user parts are extensions or queues, never dialled out


def is_phone_number(text: str) -> bool:
    """True for what we dial through a trunk: a possible E.164 number of 7+ digits."""
    digits = normalise_number(text)
    if len(digits) < MIN_NUMBER_DIGITS or not digits.isdigit():
        return False
    try:
        e164(text if text.strip().startswith("+") else "+" + digits, field="number")
    except InvalidInput:
        return False
    return True


async def _address(host: str) -> str:
    """An IP literal as is; a host name resolved once (A / AAAA, no SRV / NAPTR)."""
    with contextlib.suppress(ValueError):
        return str(ipaddress.ip_address(host.strip("[]")))
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    return str(infos[0][4][0])


async def dial(ua: UserAgent, trunk: Trunk, number: str, *, caller: str = "",
               display: str = "") -> OutgoingCall:
    """INVITE `number` through the trunk; the call rings until `confirmed`, or ends with
    `failure` (the trunk's final status, 408 when nobody answered)."""
    host = await _address(trunk.host)
    target = Trunk(host=host, port=trunk.port, transport=trunk.transport).uri(number)
    credentials = None
    if trunk.username:
        if not trunk.password:
            log.warning("trunk %s: %s is not set; calling without a password", trunk.host,
                        trunk.password_env or "no password_env")
        credentials = (trunk.username, trunk.password)
    log.info("dialling %s through trunk %s", dialled(number), trunk.host)
    return await ua.call_out(target, caller=dialled(trunk.from_number or caller) or caller,
                             display=display, credentials=credentials)


async def answered(call: OutgoingCall, ring_seconds: float, *also: asyncio.Event) -> bool:
    """Wait for the callee to answer within `ring_seconds` (CANCELled after, `failure` 408)
    or until one of `also` is set (CANCELled, `failure` 487); True when it answered."""
    outcome = await first(call.confirmed, call.ended, *also, within=ring_seconds)
    if outcome is call.confirmed:
        return True
    if call.live:
        call.failure = 408 if outcome is None else 487
        call.hangup()
    return False


FAILURE_REASONS = {486: "busy", 600: "busy", 603: "declined", 408: "no_answer",
                   480: "no_answer", 487: "cancelled"}


async def close_unanswered(session: AsyncSession, interaction: Interaction, *, event_type: str,
                           payload: dict[str, Any], disposition: str, reason: str) -> None:
    """An outbound call nobody answered: record why, and close the interaction unresolved
    (through wrap-up when it was connected to the agent)."""
    await record(session, tenant_id=interaction.tenant_id, type=event_type,
                 subject=interaction.id, payload={**payload, "reason": reason}, actor=ACTOR)
    if interaction.state in (S.CONNECTED, S.ON_HOLD):
        await change_state(session, interaction, StateChange(state=S.WRAP_UP), actor=ACTOR)
    if interaction.state is S.WRAP_UP:
        await change_state(session, interaction, StateChange(
            state=S.CLOSED, resolved=False, disposition=disposition),
            actor=ACTOR, details={"reason": reason})
