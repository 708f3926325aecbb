"""The user agent core (RFC 3261 §8.2, §12–§15): requests in, calls out to the application.

OPTIONS → 200; REGISTER → the registrar, behind digest authentication; INVITE → a `Call`
handed to the application (which rings, answers or rejects it); ACK, BYE, CANCEL and INFO
(DTMF) within dialogs; in-dialog INVITEs (hold / resume) answered from the same media;
REFER (RFC 3515) handed to the call's `on_refer`. Our INVITEs answer a 401 / 407 with
digest credentials once.
Unknown methods get 501, known but unsupported ones 405, both with Allow.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import time
from collections.abc import Callable
from typing import Any

from omnidesk.channels.voice.call import (
    Call,
    CallEnded,
    CallHandler,
    CallState,
    EndReason,
    OutgoingCall,
)
from omnidesk.channels.voice.digest import DigestAuthenticator, authorization
from omnidesk.channels.voice.dtmf import parse_info_dtmf
from omnidesk.channels.voice.g711 import PCMU
from omnidesk.channels.voice.refer import ReferError, Referral, parse_refer_to
from omnidesk.channels.voice.registrar import (
    DEFAULT_EXPIRES,
    MAX_EXPIRES,
    MIN_EXPIRES,
    Registrar,
)
from omnidesk.channels.voice.rtp import MediaClock, RtpSession
from omnidesk.channels.voice.sdp import (
    Negotiated,
    SdpError,
    accept_answer,
    answer,
    parse_sdp,
)
from omnidesk.channels.voice.sdp import offer as sdp_offer
from omnidesk.channels.voice.sip.message import (
    Headers,
    NameAddr,
    ParseError,
    Request,
    Response,
    SipUri,
    is_digits,
    make_response,
)
from omnidesk.channels.voice.sip.timers import Handle, Scheduler
from omnidesk.channels.voice.sip.transaction import (
    Peer,
    ServerTransaction,
    TransactionLayer,
)

log = logging.getLogger("omnidesk.voice")
ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, INFO, REFER"
KNOWN_UNSUPPORTED = frozenset({"SUBSCRIBE", "NOTIFY", "PUBLISH", "MESSAGE", "UPDATE", "PRACK"})
USER_AGENT = "omnidesk"


def local_address_for(host: str) -> str:
    """The local IP address the kernel would use to reach `host`."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((host, 9))
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"


class UserAgent:
    """The transaction user: one per voice service."""

    def __init__(self, send: Callable[[bytes, Peer], None], scheduler: Scheduler, *,
                 handler: CallHandler, port: int, media_clock: MediaClock,
                 rtp_host: str = "127.0.0.1", rtp_ports: range = range(20000, 30000),
                 advertised: str | None = None, registrar: Registrar | None = None,
                 realm: str = "omnidesk", now: Callable[[], float] = time.time) -> None:
        self.layer = TransactionLayer(send, self, scheduler)
        self.scheduler = scheduler
        self.handler = handler
        self.port = port
        self.media_clock = media_clock
        self.rtp_host, self.rtp_ports = rtp_host, rtp_ports
        self.advertised = advertised
        self.registrar = registrar or Registrar({}, now)
        self.auth = DigestAuthenticator(realm, self.registrar.ha1_of, now=now)
        self.dialogs: dict[tuple[str, str, str], Call] = {}
        self.ringing: dict[int, Call] = {}  # id(INVITE transaction) → call, until answered
        self.tasks: set[asyncio.Task[None]] = set()
        self._retransmits: dict[tuple[str, str, str], tuple[int, list[Handle]]] = {}

    # ---- dispatch -------------------------------------------------------------------

    def on_request(self, transaction: ServerTransaction, request: Request) -> None:
        """A new request: check the generic rules, then route it by method."""
        status = _precheck(request)
        if status is not None:
            extra = {"Unsupported": request.headers.get("Require") or ""} if status == 420 \
                else {}
            self._answer(transaction, status, extra=extra)
            return
        handler = self._METHODS.get(request.method)
        if handler is not None:
            handler(self, transaction, request)
        elif request.method in KNOWN_UNSUPPORTED:
            self._answer(transaction, 405, extra={"Allow": ALLOW})
        else:
            self._answer(transaction, 501, extra={"Allow": ALLOW})

    def on_ack(self, request: Request, peer: Peer) -> None:
        """The ACK of one of our 2xx: stop retransmitting it, confirm the call."""
        call = self._dialog_of(request)
        if call is None:
            return
        pending = self._retransmits.pop(call.dialog.key, None)
        if pending is not None:
            for handle in pending[1]:
                handle.cancel()
        call.confirm()

    def on_transaction_timeout(self, transaction: ServerTransaction) -> None:
        """Timer H: nothing to do but log."""
        log.info("no ACK for %d to %s", transaction.last_response.status
                 if transaction.last_response else 0, transaction.request.call_id)

    def _answer(self, transaction: ServerTransaction, status: int, *,
                extra: dict[str, str] | None = None, to_tag: str | None = None) -> None:
        response = _response(transaction.request, status, to_tag=to_tag)
        for name, value in (extra or {}).items():
            response.headers.add(name, value)
        transaction.respond(response)

    def _dialog_of(self, request: Request) -> Call | None:
        try:
            local = NameAddr.parse(request.headers.get("To") or "").tag
            remote = NameAddr.parse(request.headers.get("From") or "").tag
        except ParseError:
            return None
        return self.dialogs.get((request.call_id, local, remote))

    # ---- methods --------------------------------------------------------------------

    def _options(self, transaction: ServerTransaction, request: Request) -> None:
        self._answer(transaction, 200, extra={"Allow": ALLOW, "Accept": "application/sdp",
                                              "Supported": "", "User-Agent": USER_AGENT})

    def _register(self, transaction: ServerTransaction, request: Request) -> None:
        verdict = self.auth.verify(request.headers.get("Authorization"), "REGISTER")
        if not verdict.ok:
            self._answer(transaction, 401, extra={
                "WWW-Authenticate": self.auth.challenge(stale=verdict.stale)})
            return
        aor = _user(request.headers.get("To") or "")
        if aor != verdict.username:
            self._answer(transaction, 403)
            return
        contacts = request.headers.get_all("Contact")
        default = request.headers.get("Expires") or str(DEFAULT_EXPIRES)
        if contacts == ["*"]:
            self.registrar.bind(aor, "", transaction.peer, 0)
            self._answer(transaction, 200)
            return
        extra: dict[str, str] = {}
        for value in contacts:
            address = NameAddr.parse(value)
            expires_text = address.param("expires") or default
            expires = min(int(expires_text), MAX_EXPIRES) if is_digits(expires_text) \
                else DEFAULT_EXPIRES
            if 0 < expires < MIN_EXPIRES:
                self._answer(transaction, 423, extra={"Min-Expires": str(MIN_EXPIRES)})
                return
            self.registrar.bind(aor, address.uri, transaction.peer, expires)
            if expires:
                extra["Contact"] = f"<{address.uri}>;expires={expires}"
        self._answer(transaction, 200, extra=extra)

    def _invite(self, transaction: ServerTransaction, request: Request) -> None:
        if NameAddr.parse(request.headers.get("To") or "").tag:
            self._reinvite(transaction, request)
            return
        content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if not request.body or content_type != "application/sdp":
            self._answer(transaction, 488, extra={"Warning": '399 omnidesk "an SDP offer is '
                                                             'required"'})
            return
        try:
            offer = parse_sdp(request.body)
            answer(offer, address="0.0.0.0", port=9, session_id=0)  # noqa: S104 - a dry run
        except SdpError as error:
            self._answer(transaction, error.status, extra={"Warning": f'399 omnidesk "{error}"'})
            return
        try:
            call = Call(self, transaction, request, offer)
        except ParseError as error:  # e.g. an empty Contact: a bad request, not a crash
            self._answer(transaction, 400, extra={"Warning": f'399 omnidesk "{error}"'})
            return
        self.ringing[id(transaction)] = call
        self.dialogs[call.dialog.key] = call
        task = asyncio.get_running_loop().create_task(self._run(call))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(self, call: Call) -> None:
        try:
            await self.handler(call)
        except CallEnded:
            pass
        except Exception:
            log.exception("the call handler failed for %s", call.dialog.call_id)
            if call.state is CallState.RINGING:
                call.reject(500)
        finally:
            if call.live:
                call.hangup()

    def _reinvite(self, transaction: ServerTransaction, request: Request) -> None:
        call = self._dialog_of(request)
        if call is None or call.media is None or not call.live:
            self._answer(transaction, 481)
            return
        if request.cseq[0] <= call.dialog.remote_cseq:
            self._answer(transaction, 500, extra={"Retry-After": "1"})
            return
        call.dialog.remote_cseq = request.cseq[0]
        try:
            negotiated = self._negotiate(call, request.body, version=2 + request.cseq[0])
        except SdpError as error:
            self._answer(transaction, error.status)
            return
        media = call.media
        media.remote = (negotiated.remote_host, negotiated.remote_port)
        media.remote_rtcp = negotiated.rtcp or (negotiated.remote_host,
                                                negotiated.remote_port + 1)
        media.codec, media.payload_type = negotiated.codec, negotiated.payload_type
        media.dtmf_payload_type = negotiated.dtmf
        media.sending = negotiated.direction in ("sendrecv", "sendonly")
        was_held, call.on_hold = call.on_hold, negotiated.on_hold
        self._send_2xx(call, transaction, negotiated)
        if call.on_hold != was_held and call.on_hold_change is not None:
            call.on_hold_change(call.on_hold)

    def _bye(self, transaction: ServerTransaction, request: Request) -> None:
        call = self._dialog_of(request)
        if call is None:
            self._answer(transaction, 481)
            return
        self._answer(transaction, 200)
        if call.state is CallState.RINGING:  # a BYE before our final response (§15.1.2)
            call.transaction.answer(487, to_tag=call.dialog.local_tag)
        call.end(EndReason.REMOTE_BYE)

    def _cancel(self, transaction: ServerTransaction, request: Request) -> None:
        invite = self.layer.find_invite(request)
        if invite is None:
            self._answer(transaction, 481)
            return
        self._answer(transaction, 200)
        call = self.ringing.get(id(invite))
        if call is not None and call.state is CallState.RINGING:
            invite.answer(487, to_tag=call.dialog.local_tag)
            call.end(EndReason.CANCELLED)

    def _info(self, transaction: ServerTransaction, request: Request) -> None:
        call = self._dialog_of(request)
        if call is None:
            self._answer(transaction, 481)
            return
        digit = parse_info_dtmf(request.headers.get("Content-Type") or "", request.body)
        if digit is None and request.body:
            self._answer(transaction, 415, extra={
                "Accept": "application/dtmf-relay, application/dtmf"})
            return
        self._answer(transaction, 200)
        if digit is not None:
            call.digit(digit)

    def _refer(self, transaction: ServerTransaction, request: Request) -> None:
        """A transfer request in a dialog (RFC 3515): checked here, decided by the call's
        `on_refer` (which answers 202 or an error); no handler (a caller's REFER) → 403."""
        call = self._dialog_of(request)
        if call is None or not call.live:
            self._answer(transaction, 481)
            return
        try:
            target = parse_refer_to(request.headers.get_all("Refer-To"))
        except ReferError as error:
            self._answer(transaction, error.status, to_tag=call.dialog.local_tag,
                         extra={"Warning": f'399 omnidesk "{error.reason}"'})
            return
        if call.on_refer is None:
            self._answer(transaction, 403, to_tag=call.dialog.local_tag,
                         extra={"Warning": '399 omnidesk "this call cannot be transferred"'})
            return
        call.on_refer(Referral(self, call, transaction, request, target))

    _METHODS: dict[str, Callable[[UserAgent, ServerTransaction, Request], None]] = {
        "OPTIONS": _options, "REGISTER": _register, "INVITE": _invite, "BYE": _bye,
        "CANCEL": _cancel, "INFO": _info, "REFER": _refer,
    }

    def answer_request(self, transaction: ServerTransaction, status: int, *,
                       extra: dict[str, str] | None = None, to_tag: str | None = None) -> None:
        """Answer a request the application decided on (a REFER)."""
        self._answer(transaction, status, extra=extra, to_tag=to_tag)

    # ---- answering and media ---------------------------------------------------------

    def local_host(self, peer: Peer) -> str:
        """Our address as the peer should see it (Contact, Via, SDP)."""
        return self.advertised or local_address_for(peer.host)

    async def answer(self, call: Call) -> None:
        """Open the RTP session and send 200 with the SDP answer (retransmitted until ACK)."""
        media = RtpSession(self.media_clock, codec=PCMU, payload_type=PCMU,
                           dtmf_payload_type=None, on_digit=call.digit)
        await media.open(self.rtp_host, self.rtp_ports)
        if not call.live:  # cancelled while the port opened
            media.close()
            raise CallEnded(str(call.end_reason))
        call.media = media
        try:
            negotiated = self._negotiate(call, call.request.body, version=1)
        except SdpError as error:
            call.reject(error.status)
            raise CallEnded("no common codec") from error
        media.codec, media.payload_type = negotiated.codec, negotiated.payload_type
        media.dtmf_payload_type = negotiated.dtmf
        media.sending = negotiated.direction in ("sendrecv", "sendonly")
        self.ringing.pop(id(call.transaction), None)
        call.answering()
        self._send_2xx(call, call.transaction, negotiated)
        media.start((negotiated.remote_host, negotiated.remote_port), negotiated.rtcp)

    def _negotiate(self, call: Call, body: bytes, *, version: int) -> Negotiated:
        assert call.media is not None
        negotiated = answer(parse_sdp(body), address=self.local_host(call.peer),
                            port=call.media.local_port, session_id=call.id.int % 10**12,
                            version=version)
        call.negotiated = negotiated
        return negotiated

    def _contact(self, peer: Peer) -> str:
        host = self.local_host(peer)
        host = f"[{host}]" if ":" in host else host
        return f"<sip:omnidesk@{host}:{self.port};transport={peer.transport.lower()}>"

    def _send_2xx(self, call: Call, transaction: ServerTransaction,
                  negotiated: Negotiated) -> None:
        response = _response(transaction.request, 200, to_tag=call.dialog.local_tag)
        for route in transaction.request.headers.get_all("Record-Route"):
            response.headers.add("Record-Route", route)
        response.headers.add("Contact", self._contact(call.peer))
        response.headers.add("Allow", ALLOW)
        response.headers.add("Content-Type", "application/sdp")
        response.body = negotiated.body
        transaction.respond(response)
        if not call.peer.reliable:
            self._retransmit_2xx(call, transaction, response)
        elif call.state is CallState.ANSWERING:
            self._later_no_ack(call, transaction)

    def _retransmit_2xx(self, call: Call, transaction: ServerTransaction,
                        response: Response) -> None:
        """§13.3.1.4: resend the 2xx at T1, 2·T1 … T2 until the ACK; give up at 64·T1."""
        wire = response.serialize()
        timers = self.layer.timers
        handles: list[Handle] = []
        cseq = transaction.request.cseq[0]
        self._retransmits[call.dialog.key] = (cseq, handles)

        def resend(interval: float) -> None:
            if self._retransmits.get(call.dialog.key, (None,))[0] != cseq or not call.live:
                return
            self.layer.send(wire, call.peer)
            next_interval = min(2 * interval, timers.t2)
            handles.append(self.scheduler.call_later(next_interval,
                                                     lambda: resend(next_interval)))

        handles.append(self.scheduler.call_later(timers.t1, lambda: resend(timers.t1)))
        self._later_no_ack(call, transaction, handles)

    def _later_no_ack(self, call: Call, transaction: ServerTransaction,
                      handles: list[Handle] | None = None) -> None:
        def give_up() -> None:
            if call.state is CallState.ANSWERING:
                log.info("no ACK for the 200 of %s; hanging up", call.dialog.call_id)
                self._retransmits.pop(call.dialog.key, None)
                self.send_bye(call)
                call.end(EndReason.NO_ACK)

        handle = self.scheduler.call_later(self.layer.timers.timeout, give_up)
        if handles is not None:
            handles.append(handle)

    # ---- calls we place ----------------------------------------------------------------

    async def call_out(self, target: str, *, caller: str, display: str = "",
                       credentials: tuple[str, str] | None = None) -> OutgoingCall:
        """INVITE `target` (a registered contact or a trunk: an IP literal, no DNS) with our
        offer; the call rings until `confirmed` is set, or ends (`failure` says why). With
        `credentials` (user, password) a 401 / 407 is answered once."""
        uri = SipUri.parse(target)
        transport = (uri.param("transport") or "udp").upper()
        peer = Peer("TCP" if transport == "TCP" else "UDP", uri.host, uri.port or 5060)
        host = self.local_host(peer)
        caller_uri = f"sip:{caller or 'anonymous'}@{host}"
        shown = f'"{display}" ' if display and '"' not in display else ""
        call = OutgoingCall(self, peer, target=target, local_uri=f"{shown}<{caller_uri}>")
        media = RtpSession(self.media_clock, codec=PCMU, payload_type=PCMU,
                           dtmf_payload_type=None, on_digit=call.digit)
        await media.open(self.rtp_host, self.rtp_ports)
        call.media = media
        dialog = call.dialog
        headers = Headers([
            ("Via", f"SIP/2.0/{peer.transport} {host}:{self.port}"
                    f";branch=z9hG4bK{secrets.token_hex(8)};rport"),
            ("Max-Forwards", "70"),
            ("From", str(NameAddr.parse(dialog.local_uri).with_tag(dialog.local_tag))),
            ("To", dialog.remote_uri), ("Call-ID", dialog.call_id),
            ("CSeq", f"{dialog.local_cseq} INVITE"), ("Contact", self._contact(peer)),
            ("Allow", ALLOW), ("User-Agent", USER_AGENT), ("Content-Type", "application/sdp")])
        body = sdp_offer(address=host, port=media.local_port, session_id=call.id.int % 10**12)
        request = Request(headers=headers, method="INVITE", uri=target, body=body)
        call.credentials = credentials
        call.invite = self.layer.send_invite(
            request, peer, lambda response: self._outgoing(call, response))
        return call

    def _authenticate(self, call: OutgoingCall, response: Response) -> bool:
        """§22.2: send the INVITE again (same Call-ID and tags, next CSeq, new branch) with
        an answer to the challenge; False when we have no credentials or already tried."""
        if call.credentials is None or call.authenticated or call.invite is None:
            return False
        header = "WWW-Authenticate" if response.status == 401 else "Proxy-Authenticate"
        challenge = response.headers.get(header) or ""
        previous = call.invite.request
        user, password = call.credentials
        try:
            answer_value = authorization(challenge, method="INVITE", uri=previous.uri,
                                         username=user, password=password)
        except ValueError as error:
            log.info("cannot answer the challenge of %s: %s", previous.uri, error)
            return False
        call.authenticated = True
        call.dialog.local_cseq += 1
        headers = previous.headers.copy()
        via = headers.get("Via") or ""
        headers.set("Via", via.split(";branch=")[0] + f";branch=z9hG4bK{secrets.token_hex(8)}"
                    ";rport")
        headers.set("CSeq", f"{call.dialog.local_cseq} INVITE")
        headers.set("Authorization" if response.status == 401 else "Proxy-Authorization",
                    answer_value)
        request = Request(headers=headers, method="INVITE", uri=previous.uri,
                          body=previous.body)
        call.invite = self.layer.send_invite(
            request, call.peer, lambda answer_: self._outgoing(call, answer_))
        return True

    def _outgoing(self, call: OutgoingCall, response: Response | None) -> None:
        """Responses to our INVITE: ringing, answered (ACK, media), challenged (once: the
        INVITE again with credentials), or refused."""
        if response is None:
            call.fail(408)
        elif response.status in (401, 407) and call.live and self._authenticate(call, response):
            return
        elif response.status < 200:
            if response.status in (180, 183):
                call.ringing.set()
        elif response.status >= 300:
            call.fail(response.status)
        elif call.ack is not None:
            self.layer.send(call.ack, call.peer)  # a retransmitted 2xx
        else:
            self._answered(call, response)

    def _answered(self, call: OutgoingCall, response: Response) -> None:
        dialog = call.dialog
        to = NameAddr.parse(response.headers.get("To") or "")
        dialog.remote_tag, dialog.remote_uri = to.tag, str(to)
        contact = response.headers.get("Contact")
        if contact:
            dialog.remote_target = NameAddr.parse(contact).uri
        dialog.route_set = list(reversed(response.headers.get_all("Record-Route")))
        call.ack = self._ack_2xx(call).serialize()
        self.layer.send(call.ack, call.peer)
        if not call.live:  # we gave up while the 200 was on its way: hang up properly
            self.send_bye(call)
            return
        try:
            negotiated = accept_answer(parse_sdp(response.body))
        except SdpError:
            log.info("no usable SDP answer from %s; hanging up", dialog.remote_target)
            self.send_bye(call)
            call.fail(488)
            return
        self.dialogs[dialog.key] = call
        media = call.media
        assert media is not None
        media.codec, media.payload_type = negotiated.codec, negotiated.payload_type
        media.dtmf_payload_type = negotiated.dtmf
        media.start((negotiated.remote_host, negotiated.remote_port), negotiated.rtcp)
        call.negotiated = negotiated
        call.connected()

    def _ack_2xx(self, call: OutgoingCall) -> Request:
        """The ACK of a 2xx (§13.2.2.4): a new transaction, to the remote target."""
        dialog = call.dialog
        headers = Headers([
            ("Via", f"SIP/2.0/{call.peer.transport} {self.local_host(call.peer)}:{self.port}"
                    f";branch=z9hG4bK{secrets.token_hex(8)};rport"),
            ("Max-Forwards", "70"),
            ("From", str(NameAddr.parse(dialog.local_uri).with_tag(dialog.local_tag))),
            ("To", dialog.remote_uri), ("Call-ID", dialog.call_id),
            ("CSeq", f"{dialog.local_cseq} ACK")])
        for route in dialog.route_set:
            headers.add("Route", route)
        return Request(headers=headers, method="ACK", uri=dialog.remote_target)

    # ---- requests we send -------------------------------------------------------------

    def send_bye(self, call: Call) -> None:
        """Send BYE in the call's dialog (a non-INVITE client transaction)."""
        request = self._in_dialog_request(call, "BYE", contact=False)
        self.layer.send_request(request, call.peer, lambda response: _log_bye(call, response))

    def send_in_dialog(self, call: Call, method: str, *, headers: dict[str, str],
                       body: bytes = b"") -> None:
        """Send a request (NOTIFY …) in the call's dialog; the answer is only logged."""
        request = self._in_dialog_request(call, method, headers=headers, body=body)

        def answered(response: Response | None) -> None:
            if response is None or response.status >= 300:
                log.info("%s in %s: %s", method, call.dialog.call_id,
                         "no answer" if response is None else response.status)

        self.layer.send_request(request, call.peer, answered)

    def _in_dialog_request(self, call: Call, method: str, *,
                           headers: dict[str, str] | None = None, body: bytes = b"",
                           contact: bool = True) -> Request:
        """A request in the call's dialog: the next CSeq, its route set, to its remote
        target."""
        dialog = call.dialog
        dialog.local_cseq += 1
        host = self.local_host(call.peer)
        request_headers = Headers([
            ("Via", f"SIP/2.0/{call.peer.transport} {host}:{self.port}"
                    f";branch=z9hG4bK{secrets.token_hex(8)};rport"),
            ("Max-Forwards", "70"),
            ("From", str(NameAddr.parse(dialog.local_uri).with_tag(dialog.local_tag))),
            ("To", dialog.remote_uri), ("Call-ID", dialog.call_id),
            ("CSeq", f"{dialog.local_cseq} {method}"), ("User-Agent", USER_AGENT)])
        if contact:
            request_headers.add("Contact", self._contact(call.peer))
        routes = dialog.route_set if isinstance(call, OutgoingCall) else \
            list(reversed(dialog.route_set))  # the UAS reverses the Record-Route (§12.1.1)
        for route in routes:
            request_headers.add("Route", route)
        for name, value in (headers or {}).items():
            request_headers.add(name, value)
        return Request(headers=request_headers, method=method, uri=dialog.remote_target,
                       body=body)

    def forget(self, call: Call) -> None:
        """Drop an ended call from the tables."""
        self.dialogs.pop(call.dialog.key, None)
        transaction = getattr(call, "transaction", None)  # outgoing legs have none
        if transaction is not None:
            self.ringing.pop(id(transaction), None)
        pending = self._retransmits.pop(call.dialog.key, None)
        for handle in pending[1] if pending else []:
            handle.cancel()

    async def shutdown(self) -> None:
        """Hang up every call and wait for their handlers."""
        for call in list(self.dialogs.values()):
            call.hangup()
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


def _log_bye(call: Call, response: Response | None) -> None:
    if response is None or response.status >= 300:
        log.info("BYE for %s: %s", call.dialog.call_id,
                 "no answer" if response is None else response.status)


def _response(request: Request, status: int, *, to_tag: str | None = None) -> Response:
    response = make_response(request, status, to_tag=to_tag or (
        secrets.token_hex(6) if status >= 200 else None))
    response.headers.add("Server", USER_AGENT)
    return response


def _user(address: str) -> str:
    try:
        return SipUri.parse(NameAddr.parse(address).uri).user
    except ParseError:
        return ""


def _precheck(request: Request) -> int | None:
    """§8.2: URI scheme (416), loops (483), required extensions (420)."""
    scheme = request.uri.split(":", 1)[0].lower()
    if scheme not in ("sip", "sips", "tel"):
        return 416
    max_forwards = request.headers.get("Max-Forwards")
    if max_forwards is not None and int(max_forwards) == 0 and request.method != "OPTIONS":
        return 483
    require = request.headers.get("Require")
    if require and request.method not in ("ACK", "CANCEL"):
        return 420
    return None


def describe(call: Call) -> dict[str, Any]:
    """A call's facts for logs and interaction attributes."""
    return {"call_id": call.dialog.call_id, "from": call.caller, "to": call.callee,
            "peer": f"{call.peer.host}:{call.peer.port}", "transport": call.peer.transport}
