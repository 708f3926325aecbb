"""SIP transactions (RFC 3261 §17): server and client, INVITE and non-INVITE.

The layer matches incoming messages to transactions (§17.2.3 / §17.1.3), absorbs and
answers retransmitted requests, retransmits over unreliable transports (Timers A, E, G) and
times transactions out (Timers B, D, F, H, I, J, K, and RFC 6026's L and M). Time comes
from a `Scheduler`.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from omnidesk.channels.voice.sip.message import (
    MAGIC_COOKIE,
    Headers,
    NameAddr,
    ParseError,
    Request,
    Response,
    make_response,
)
from omnidesk.channels.voice.sip.timers import Handle, Scheduler, TimerValues

log = logging.getLogger("omnidesk.voice.sip")


@dataclass(frozen=True)
class Peer:
    """Where a message came from / goes to: transport and address."""

    transport: str  # "UDP" or "TCP"
    host: str
    port: int

    @property
    def reliable(self) -> bool:
        """True on stream transports: no retransmissions, no waiting timers."""
        return self.transport != "UDP"


Send = Callable[[bytes, Peer], None]


class TxState(enum.Enum):
    """Transaction states (§17)."""

    TRYING = "trying"
    PROCEEDING = "proceeding"
    COMPLETED = "completed"
    CONFIRMED = "confirmed"
    ACCEPTED = "accepted"  # RFC 6026: a 2xx was sent; INVITE retransmissions are absorbed
    TERMINATED = "terminated"


class TransactionUser(Protocol):
    """The layer above (the UA core) that gets new requests and timeouts."""

    def on_request(self, transaction: ServerTransaction, request: Request) -> None:
        """A new request in a new server transaction."""

    def on_ack(self, request: Request, peer: Peer) -> None:
        """An ACK that matched no transaction (the ACK of a 2xx)."""

    def on_transaction_timeout(self, transaction: ServerTransaction) -> None:
        """Timer H fired: the ACK of our INVITE's error response never came."""


def request_key(request: Request) -> tuple[str, ...]:
    """The server-transaction key (§17.2.3): branch, sent-by, method (ACK → INVITE)."""
    via = request.vias[0]
    method = "INVITE" if request.method == "ACK" else request.method
    branch = via.branch
    if branch.startswith(MAGIC_COOKIE):
        return (branch, via.host, str(via.port or ""), method)
    from_tag = NameAddr.parse(request.headers.get("From") or "").tag
    number, _ = request.cseq
    return ("rfc2543", request.call_id, str(number), request.uri, via.host, method, from_tag)


def response_key(response: Response) -> tuple[str, str]:
    """The client-transaction key (§17.1.3): top Via branch and CSeq method."""
    return (response.vias[0].branch, response.cseq[1])


class TimerSet:
    """The timers one transaction armed, cancelled together when its state moves on."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler
        self.handles: list[Handle] = []

    def later(self, delay: float, callback: Callable[[], None]) -> None:
        """Call back after `delay` seconds unless cancelled first."""
        self.handles.append(self.scheduler.call_later(delay, callback))

    def cancel(self) -> None:
        """Cancel every armed timer."""
        for handle in self.handles:
            handle.cancel()
        self.handles.clear()


class ServerTransaction:
    """A server transaction; the TU answers through `respond`."""

    def __init__(self, layer: TransactionLayer, request: Request, peer: Peer) -> None:
        self.layer = layer
        self.request = request
        self.peer = peer
        self.key = request_key(request)
        self.invite = request.method == "INVITE"
        self.state = TxState.PROCEEDING if self.invite else TxState.TRYING
        self.last_response: Response | None = None
        self._wire: bytes | None = None
        self._timers = TimerSet(layer.scheduler)
        self._interval = layer.timers.t1

    def respond(self, response: Response) -> None:
        """Send a response and move the state machine; ignored once completed."""
        if self.state not in (TxState.TRYING, TxState.PROCEEDING):
            log.debug("response %d after the final one dropped", response.status)
            return
        self.last_response = response
        self._wire = response.serialize()
        self.layer.send(self._wire, self.peer)
        if response.status < 200:
            self.state = TxState.PROCEEDING
        elif self.invite and response.status < 300:
            self.state = TxState.ACCEPTED  # the UA core retransmits 2xx until the ACK
            self._timers.later(self.layer.timers.timeout, self._terminate)  # Timer L
        elif self.invite:
            self.state = TxState.COMPLETED
            if not self.peer.reliable:
                self._timers.later(self._interval, self._timer_g)
            self._timers.later(self.layer.timers.timeout, self._timer_h)
        else:
            self.state = TxState.COMPLETED
            self._timers.later(0 if self.peer.reliable else self.layer.timers.timeout,
                               self._terminate)

    def answer(self, status: int, reason: str | None = None, *, to_tag: str | None = None,
               extra: Mapping[str, str] | None = None) -> Response:
        """Build the response to our request (with `extra` headers), send it, and return it."""
        response = make_response(self.request, status, reason, to_tag=to_tag)
        for name, value in (extra or {}).items():
            response.headers.add(name, value)
        self.respond(response)
        return response

    def on_retransmission(self, request: Request) -> None:
        """The same request again: resend the last response, or take the ACK."""
        if request.method == "ACK":
            if self.state is TxState.ACCEPTED:
                self.layer.tu.on_ack(request, self.peer)
            elif self.invite and self.state is TxState.COMPLETED:
                self.state = TxState.CONFIRMED
                self._timers.cancel()
                self._timers.later(0 if self.peer.reliable else self.layer.timers.t4,
                                   self._terminate)
            return
        if self._wire is not None and self.state in (TxState.PROCEEDING, TxState.COMPLETED,
                                                     TxState.ACCEPTED):
            self.layer.send(self._wire, self.peer)

    def _timer_g(self) -> None:
        if self.state is not TxState.COMPLETED or self._wire is None:
            return
        self.layer.send(self._wire, self.peer)
        self._interval = min(2 * self._interval, self.layer.timers.t2)
        self._timers.later(self._interval, self._timer_g)

    def _timer_h(self) -> None:
        if self.state is TxState.COMPLETED:
            self._terminate()
            self.layer.tu.on_transaction_timeout(self)

    def _terminate(self) -> None:
        self.state = TxState.TERMINATED
        self._timers.cancel()
        self.layer.forget_server(self)


ResponseCallback = Callable[[Response | None], None]  # None: Timer F fired (timeout)


class ClientTransaction:
    """A non-INVITE client transaction (§17.1.2): BYE, OPTIONS, NOTIFY …"""

    def __init__(self, layer: TransactionLayer, request: Request, peer: Peer,
                 on_final: ResponseCallback) -> None:
        self.layer = layer
        self.request = request
        self.peer = peer
        self.on_final = on_final
        self.key = (request.vias[0].branch, request.method)
        self.state = TxState.TRYING
        self.final: Response | None = None
        self._wire = request.serialize()
        self._interval = layer.timers.t1
        self._timers = TimerSet(layer.scheduler)

    def start(self) -> None:
        """Send the request and arm Timers E and F."""
        self.layer.send(self._wire, self.peer)
        if not self.peer.reliable:
            self._timers.later(self._interval, self._timer_e)
        self._timers.later(self.layer.timers.timeout, self._timer_f)

    def on_response(self, response: Response) -> None:
        """A response matched this transaction."""
        if self.state in (TxState.COMPLETED, TxState.TERMINATED):
            return
        if response.status < 200:
            self.state = TxState.PROCEEDING
            return
        self.state = TxState.COMPLETED
        self.final = response
        self._timers.cancel()
        delay = 0 if self.peer.reliable else self.layer.timers.t4
        self._timers.later(delay, self._terminate)
        self.on_final(response)

    def _timer_e(self) -> None:
        if self.state not in (TxState.TRYING, TxState.PROCEEDING):
            return
        self.layer.send(self._wire, self.peer)
        t2 = self.layer.timers.t2
        self._interval = t2 if self.state is TxState.PROCEEDING else min(2 * self._interval, t2)
        self._timers.later(self._interval, self._timer_e)

    def _timer_f(self) -> None:
        if self.state in (TxState.TRYING, TxState.PROCEEDING):
            self._terminate()
            self.on_final(None)

    def _terminate(self) -> None:
        self.state = TxState.TERMINATED
        self._timers.cancel()
        self.layer.forget_client(self)


class ClientInviteTransaction:
    """An INVITE client transaction (§17.1.1, with RFC 6026's Accepted state): Timer A
    retransmits until a response, Timer B gives up, an error response is ACKed here (and again
    for its retransmissions until Timer D); 2xx responses go to the TU, which ACKs them."""

    def __init__(self, layer: TransactionLayer, request: Request, peer: Peer,
                 on_response: ResponseCallback) -> None:
        self.layer = layer
        self.request = request
        self.peer = peer
        self.on_response = on_response  # every provisional and final; None on Timer B
        self.key = (request.vias[0].branch, "INVITE")
        self.state = TxState.TRYING  # "Calling" in §17.1.1
        self.final: Response | None = None
        self._wire = request.serialize()
        self._ack: bytes | None = None
        self._interval = layer.timers.t1
        self._timers = TimerSet(layer.scheduler)
        self._cancel_wanted = False

    def start(self) -> None:
        """Send the INVITE and arm Timers A and B."""
        self.layer.send(self._wire, self.peer)
        if not self.peer.reliable:
            self._timers.later(self._interval, self._timer_a)
        self._timers.later(self.layer.timers.timeout, self._timer_b)

    def cancel(self) -> None:
        """Send CANCEL now if a provisional response came, else as soon as one does (§9.1)."""
        if self.state is TxState.PROCEEDING:
            self.layer.send_request(cancel_for(self.request), self.peer, lambda response: None)
        elif self.state is TxState.TRYING:
            self._cancel_wanted = True

    def on_response_received(self, response: Response) -> None:
        """A response matched this transaction."""
        if self.state in (TxState.TRYING, TxState.PROCEEDING):
            if response.status < 200:
                self._proceeding()
            elif response.status < 300:
                self._timers.cancel()
                self.state = TxState.ACCEPTED
                self._timers.later(self.layer.timers.timeout, self._terminate)  # Timer M
            else:
                self._completed(response)
            self.on_response(response)
        elif self.state is TxState.ACCEPTED and 200 <= response.status < 300:
            self.on_response(response)  # a retransmitted 2xx: the TU ACKs it again
        elif self.state is TxState.COMPLETED and response.status >= 300 and self._ack:
            self.layer.send(self._ack, self.peer)

    def _proceeding(self) -> None:
        if self.state is TxState.TRYING:
            self.state = TxState.PROCEEDING
            self._timers.cancel()
            self._timers.later(self.layer.timers.timeout, self._timer_b)
            if self._cancel_wanted:
                self.cancel()

    def _completed(self, response: Response) -> None:
        self._timers.cancel()
        self.state = TxState.COMPLETED
        self.final = response
        self._ack = ack_for_error(self.request, response).serialize()
        self.layer.send(self._ack, self.peer)
        self._timers.later(0 if self.peer.reliable else 32.0, self._terminate)  # Timer D

    def _timer_a(self) -> None:
        if self.state is not TxState.TRYING:
            return
        self.layer.send(self._wire, self.peer)
        self._interval *= 2
        self._timers.later(self._interval, self._timer_a)

    def _timer_b(self) -> None:
        if self.state in (TxState.TRYING, TxState.PROCEEDING):
            self._terminate()
            self.on_response(None)

    def _terminate(self) -> None:
        self.state = TxState.TERMINATED
        self._timers.cancel()
        self.layer.forget_client(self)


def _copy(request: Request, method: str, names: tuple[str, ...]) -> Request:
    headers = Headers()
    for name in names:
        for value in request.headers.get_all(name):
            headers.add(name, value)
    number, _ = request.cseq
    headers.add("CSeq", f"{number} {method}")
    headers.add("Max-Forwards", "70")
    return Request(headers=headers, method=method, uri=request.uri)


def cancel_for(invite: Request) -> Request:
    """The CANCEL of an INVITE (§9.1): same Request-URI, top Via, From, To, Call-ID, Route."""
    cancel = _copy(invite, "CANCEL", ("From", "To", "Call-ID", "Route"))
    cancel.headers.set("Via", invite.headers.get("Via") or "")
    return cancel


def ack_for_error(invite: Request, response: Response) -> Request:
    """The ACK of a 3xx–6xx, sent by the transaction (§17.1.1.3): the To of the response."""
    ack = _copy(invite, "ACK", ("From", "Call-ID", "Route"))
    ack.headers.set("Via", invite.headers.get("Via") or "")
    ack.headers.add("To", response.headers.get("To") or "")
    return ack


class TransactionLayer:
    """Matches messages to transactions and creates server transactions for new requests."""

    def __init__(self, send: Send, tu: TransactionUser, scheduler: Scheduler,
                 timers: TimerValues | None = None) -> None:
        self.send = send
        self.tu = tu
        self.scheduler = scheduler
        self.timers = timers or TimerValues()
        self.servers: dict[tuple[str, ...], ServerTransaction] = {}
        self.clients: dict[tuple[str, str], ClientTransaction | ClientInviteTransaction] = {}

    def receive(self, message: Request | Response, peer: Peer) -> None:
        """Dispatch a parsed message from the transport."""
        if isinstance(message, Response):
            self._response(message)
            return
        try:
            key = request_key(message)
        except ParseError:
            return  # parse() already checked Via and CSeq; nothing sane to do
        existing = self.servers.get(key)
        if existing is not None:
            existing.on_retransmission(message)
        elif message.method == "ACK":
            self.tu.on_ack(message, peer)
        else:
            transaction = ServerTransaction(self, message, peer)
            self.servers[key] = transaction
            if transaction.invite:
                transaction.answer(100)  # at once: stops the caller's Timer A retransmits
            self.tu.on_request(transaction, message)

    def _response(self, response: Response) -> None:
        client = self.clients.get(response_key(response))
        if isinstance(client, ClientInviteTransaction):
            client.on_response_received(response)
        elif client is not None:
            client.on_response(response)

    def send_request(self, request: Request, peer: Peer,
                     on_final: ResponseCallback) -> ClientTransaction:
        """Start a non-INVITE client transaction for a request that has its Via set."""
        transaction = ClientTransaction(self, request, peer, on_final)
        self.clients[transaction.key] = transaction
        transaction.start()
        return transaction

    def send_invite(self, request: Request, peer: Peer,
                    on_response: ResponseCallback) -> ClientInviteTransaction:
        """Start an INVITE client transaction for a request that has its Via set."""
        transaction = ClientInviteTransaction(self, request, peer, on_response)
        self.clients[transaction.key] = transaction
        transaction.start()
        return transaction

    def find_invite(self, cancel: Request) -> ServerTransaction | None:
        """The INVITE server transaction a CANCEL is for (§9.2)."""
        key = request_key(cancel)
        return self.servers.get((*key[:-1], "INVITE"))

    def forget_server(self, transaction: ServerTransaction) -> None:
        """Drop a terminated server transaction."""
        if self.servers.get(transaction.key) is transaction:
            del self.servers[transaction.key]

    def forget_client(self, transaction: ClientTransaction | ClientInviteTransaction) -> None:
        """Drop a terminated client transaction."""
        if self.clients.get(transaction.key) is transaction:
            del self.clients[transaction.key]
