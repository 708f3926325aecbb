"""A call leg as the application sees it: ring, answer, play, collect digits, hang up.

The state machine is explicit (`CallState`): ringing → answering → confirmed → ended;
a CANCEL, a BYE, a missing ACK or our own hang-up end it from any live state.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import secrets
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from omnidesk.channels.voice.rtp import RtpSession
from omnidesk.channels.voice.sdp import Negotiated, Session
from omnidesk.channels.voice.sip.message import NameAddr, ParseError, Request, SipUri
from omnidesk.channels.voice.sip.transaction import (
    ClientInviteTransaction,
    Peer,
    ServerTransaction,
)

if TYPE_CHECKING:
    from omnidesk.channels.voice.refer import Referral
    from omnidesk.channels.voice.ua import UserAgent


class CallState(enum.Enum):
    """Where a call leg is."""

    RINGING = "ringing"
    ANSWERING = "answering"  # 200 sent, waiting for the ACK
    CONFIRMED = "confirmed"
    ENDED = "ended"


class EndReason(enum.StrEnum):
    """Why a call ended."""

    CANCELLED = "cancelled"  # the caller gave up while it rang
    REMOTE_BYE = "remote_bye"  # the caller hung up
    LOCAL_BYE = "local_bye"  # we hung up
    REJECTED = "rejected"  # we refused it (4xx/5xx)
    NO_ACK = "no_ack"  # our 200 was never acknowledged


class CallEnded(Exception):
    """The call is over; raised by waits on an ended call."""


class InvalidCallTransition(RuntimeError):
    """A call state change the machine does not allow."""


TRANSITIONS = {
    CallState.RINGING: {CallState.ANSWERING, CallState.ENDED},
    CallState.ANSWERING: {CallState.CONFIRMED, CallState.ENDED},
    CallState.CONFIRMED: {CallState.ENDED},
    CallState.ENDED: set(),
}


def user_of(address: str) -> str:
    """The user part of a name-addr or URI ('' when there is none)."""
    try:
        return SipUri.parse(NameAddr.parse(address).uri).user
    except ParseError:
        return ""


@dataclass
class Dialog:
    """The UAS side of a dialog (§12.1.1)."""

    call_id: str
    local_tag: str
    remote_tag: str
    local_uri: str  # the To of the INVITE, with our tag
    remote_uri: str  # the From of the INVITE
    remote_target: str  # the Contact of the INVITE
    route_set: list[str] = field(default_factory=list)
    remote_cseq: int = 0
    local_cseq: int = field(default_factory=lambda: secrets.randbelow(10_000) + 1)

    @property
    def key(self) -> tuple[str, str, str]:
        """How in-dialog requests find it: Call-ID, our tag, their tag."""
        return (self.call_id, self.local_tag, self.remote_tag)


class Call:
    """One call leg; this class is the inbound leg (a caller's INVITE to us)."""

    TRANSITIONS = TRANSITIONS

    def __init__(self, ua: UserAgent, transaction: ServerTransaction, request: Request,
                 offer: Session) -> None:
        from_ = NameAddr.parse(request.headers.get("From") or "")
        contact = request.headers.get("Contact")
        self._setup(ua, transaction.peer, Dialog(
            call_id=request.call_id, local_tag=secrets.token_hex(6), remote_tag=from_.tag,
            local_uri=str(NameAddr.parse(request.headers.get("To") or "")),
            remote_uri=str(from_), remote_target=NameAddr.parse(contact).uri if contact
            else from_.uri, route_set=request.headers.get_all("Record-Route"),
            remote_cseq=request.cseq[0]))
        self.transaction = transaction
        self.request = request
        self.offer = offer
        self.caller = user_of(request.headers.get("From") or "")
        self.caller_display = from_.display
        self.callee = _callee(request)

    def _setup(self, ua: UserAgent, peer: Peer, dialog: Dialog) -> None:
        self.ua = ua
        self.id = uuid.uuid4()
        self.peer = peer
        self.dialog = dialog
        self.state = CallState.RINGING
        self.end_reason: EndReason | None = None
        self.ended = asyncio.Event()
        self.confirmed = asyncio.Event()
        self.digits: asyncio.Queue[str] = asyncio.Queue()
        self.media: RtpSession | None = None
        self.negotiated: Negotiated | None = None
        self.on_hold = False  # the other side put us on hold (re-INVITE sendonly / inactive)
        self.on_hold_change: Callable[[bool], None] | None = None
        self.on_refer: Callable[[Referral], None] | None = None  # a REFER in this dialog
        self.listeners: list[Callable[[Call], None]] = []  # told when the call ends

    def _move(self, target: CallState) -> None:
        if target not in self.TRANSITIONS[self.state]:
            raise InvalidCallTransition(f"call {self.id}: {self.state.value} → {target.value}")
        self.state = target

    @property
    def live(self) -> bool:
        """True until the call ended."""
        return self.state is not CallState.ENDED

    def ring(self) -> None:
        """Send 180 Ringing (only while ringing)."""
        if self.state is CallState.RINGING:
            self.transaction.answer(180, to_tag=self.dialog.local_tag)

    def reject(self, status: int, reason: str | None = None, *,
               extra: Mapping[str, str] | None = None) -> None:
        """Refuse the call with a final error response (with `extra` headers)."""
        if self.state is CallState.RINGING:
            self.transaction.answer(status, reason, to_tag=self.dialog.local_tag, extra=extra)
            self.end(EndReason.REJECTED)

    async def answer(self) -> None:
        """Open media, send 200 with the SDP answer, and wait for the ACK (CallEnded if the
        caller cancelled, or never acknowledged)."""
        if self.state is not CallState.RINGING:
            raise CallEnded(f"call {self.id} is {self.state.value}")
        await self.ua.answer(self)
        await self.wait(self.confirmed)

    async def wait(self, event: asyncio.Event) -> None:
        """Wait for an event of this call; CallEnded if the call ends first."""
        if not self.live:
            raise CallEnded(str(self.end_reason))
        waiter = asyncio.ensure_future(event.wait())
        ender = asyncio.ensure_future(self.ended.wait())
        try:
            await asyncio.wait({waiter, ender}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            ender.cancel()
        if not event.is_set():
            raise CallEnded(str(self.end_reason))

    async def play(self, pcm: bytes) -> None:
        """Play audio to the caller; returns when played or cut (CallEnded if it ended)."""
        if self.media is None or not self.live:
            raise CallEnded(str(self.end_reason))
        done = asyncio.Event()
        future = self.media.play(pcm)
        future.add_done_callback(lambda _: done.set())
        await self.wait(done)

    def digit(self, digit: str) -> None:
        """A DTMF digit from the caller (RTP event or SIP INFO)."""
        if self.live:
            self.digits.put_nowait(digit)

    async def next_digit(self, wait_seconds: float) -> str | None:
        """The next digit, or None after `wait_seconds` (CallEnded if the call ends)."""
        if not self.live:
            raise CallEnded(str(self.end_reason))
        getter = asyncio.ensure_future(self.digits.get())
        ender = asyncio.ensure_future(self.ended.wait())
        try:
            await asyncio.wait({getter, ender}, timeout=wait_seconds,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            ender.cancel()
            if not getter.done():
                getter.cancel()
        if getter.done() and not getter.cancelled():
            return getter.result()
        if not self.live:
            raise CallEnded(str(self.end_reason))
        return None

    def hangup(self) -> None:
        """End the call from our side: BYE once confirmed, else 480 / nothing."""
        if self.state is CallState.RINGING:
            self.reject(480)
        elif self.state in (CallState.ANSWERING, CallState.CONFIRMED):
            self.ua.send_bye(self)
            self.end(EndReason.LOCAL_BYE)

    def end(self, reason: EndReason) -> None:
        """Mark the call ended (once), release its media, tell the listeners."""
        if not self.live:
            return
        self._move(CallState.ENDED)
        self.end_reason = reason
        if self.media is not None:
            self.media.close()
        self.ended.set()
        self.ua.forget(self)
        for listener in self.listeners:
            with contextlib.suppress(Exception):
                listener(self)

    def confirm(self) -> None:
        """The ACK of our 200 arrived."""
        if self.state is CallState.ANSWERING:
            self._move(CallState.CONFIRMED)
            self.confirmed.set()

    def answering(self) -> None:
        """Our 200 is on its way."""
        self._move(CallState.ANSWERING)


OUTGOING_TRANSITIONS = {
    CallState.RINGING: {CallState.CONFIRMED, CallState.ENDED},  # INVITE sent → 2xx ACKed
    CallState.ANSWERING: set(),
    CallState.CONFIRMED: {CallState.ENDED},
    CallState.ENDED: set(),
}


class OutgoingCall(Call):
    """A leg we place (to an agent's registered phone): ringing until the 2xx is ACKed."""

    TRANSITIONS = OUTGOING_TRANSITIONS

    def __init__(self, ua: UserAgent, peer: Peer, *, target: str, local_uri: str) -> None:
        self._setup(ua, peer, Dialog(
            call_id=f"{secrets.token_hex(12)}@omnidesk", local_tag=secrets.token_hex(6),
            remote_tag="", local_uri=local_uri, remote_uri=f"<{target}>",
            remote_target=target, remote_cseq=0, local_cseq=1))
        self.invite: ClientInviteTransaction | None = None
        self.failure: int | None = None  # the final error status, 408 on no answer
        self.ringing = asyncio.Event()
        self.ack: bytes | None = None  # our ACK of the 2xx, re-sent for its retransmissions
        self.credentials: tuple[str, str] | None = None  # (user, password) for a 401 / 407
        self.authenticated = False  # the INVITE was re-sent with credentials once
        self.caller = self.callee = ""
        self.caller_display = ""

    def hangup(self) -> None:
        """CANCEL while it rings, BYE once answered."""
        if self.state is CallState.RINGING:
            if self.invite is not None:
                self.invite.cancel()
            self.end(EndReason.LOCAL_BYE)
        elif self.state is CallState.CONFIRMED:
            self.ua.send_bye(self)
            self.end(EndReason.LOCAL_BYE)

    def fail(self, status: int) -> None:
        """The callee refused, or never answered."""
        self.failure = status
        self.end(EndReason.REJECTED)

    def connected(self) -> None:
        """Our ACK of the 2xx is sent: the leg is up."""
        self._move(CallState.CONFIRMED)
        self.confirmed.set()


def _callee(request: Request) -> str:
    try:
        return SipUri.parse(request.uri).user or user_of(request.headers.get("To") or "")
    except ParseError:
        return user_of(request.headers.get("To") or "")


CallHandler = Callable[[Call], Awaitable[None]]


async def first(*events: asyncio.Event, within: float | None = None) -> asyncio.Event | None:
    """Wait until one of the events is set: it (the first set, in order given), or None when
    `within` seconds passed first."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=within, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    return next((event for event in events if event.is_set()), None)
