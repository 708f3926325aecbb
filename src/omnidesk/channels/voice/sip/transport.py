"""SIP over UDP and TCP on asyncio: framing, parsing, and a 400 for what cannot be read.

A bad packet never reaches the layers above: parse errors are answered with 400 when the
request is readable enough to route a response (`ParseError.partial`), else dropped; any
error in the layers above is logged and the endpoint keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from omnidesk.channels.voice.sip.message import (
    ParseError,
    Request,
    Response,
    frame_stream,
    make_response,
    parse,
)
from omnidesk.channels.voice.sip.transaction import Peer

log = logging.getLogger("omnidesk.voice.sip")
Receive = Callable[[Request | Response, Peer], None]
IDLE_TCP_SECONDS = 300


def handle_datagram(data: bytes, peer: Peer, receive: Receive,
                    send: Callable[[bytes, Peer], None]) -> None:
    """Parse one message and hand it on; answer 400 to a readable bad request; never raise."""
    if not data.strip(b"\r\n\x00 "):
        return  # keep-alive (RFC 5626 CRLF pings)
    try:
        message = parse(data)
    except ParseError as error:
        log.info("bad SIP message from %s:%d: %s", peer.host, peer.port, error.reason)
        if error.partial is not None and error.partial.method != "ACK":
            with contextlib.suppress(Exception):
                reason = "Version Not Supported" if error.status == 505 \
                    else f"Bad Request ({error.reason[:60]})"
                send(make_response(error.partial, error.status, reason).serialize(), peer)
        return
    try:
        receive(message, peer)
    except Exception:
        log.exception("handling a SIP message from %s:%d failed", peer.host, peer.port)
        if isinstance(message, Request) and message.method != "ACK":
            with contextlib.suppress(Exception):
                send(make_response(message, 500).serialize(), peer)


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, endpoint: SipEndpoint) -> None:
        self.endpoint = endpoint

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        """One UDP datagram: one SIP message (or a keep-alive)."""
        peer = Peer("UDP", str(addr[0]), int(addr[1]))
        handle_datagram(data, peer, self.endpoint.receive, self.endpoint.send)

    def error_received(self, exc: Exception) -> None:
        """ICMP errors (port unreachable …) are logged, never fatal."""
        log.debug("UDP error: %s", exc)


class _TcpProtocol(asyncio.Protocol):
    def __init__(self, endpoint: SipEndpoint) -> None:
        self.endpoint = endpoint
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.peer: Peer | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Remember the connection so responses go back over it."""
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        host, port = transport.get_extra_info("peername")[:2]
        self.peer = Peer("TCP", str(host), int(port))
        self.endpoint.connections[self.peer] = transport

    def data_received(self, data: bytes) -> None:
        """Frame whole messages off the stream by Content-Length."""
        assert self.peer is not None and self.transport is not None
        self.buffer.extend(data)
        while True:
            try:
                message = frame_stream(self.buffer)
            except ParseError as error:
                log.info("unframeable SIP stream from %s: %s", self.peer, error.reason)
                self.transport.close()  # the stream cannot be resynchronised
                return
            if message is None:
                return
            handle_datagram(message, self.peer, self.endpoint.receive, self.endpoint.send)

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the connection."""
        if self.peer is not None:
            self.endpoint.connections.pop(self.peer, None)


class SipEndpoint:
    """One UDP socket and one TCP listener on the same port; `receive` gets every message."""

    def __init__(self, host: str, port: int, receive: Receive | None = None) -> None:
        self.host, self.port = host, port
        self.receive: Receive = receive or (lambda message, peer: None)
        self.connections: dict[Peer, asyncio.Transport] = {}
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None

    async def start(self) -> None:
        """Bind UDP (port 0 picks one) and listen on TCP on the same port number."""
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _UdpProtocol(self), local_addr=(self.host, self.port))
        self._udp = transport
        self.port = transport.get_extra_info("sockname")[1]
        try:
            self._tcp = await loop.create_server(lambda: _TcpProtocol(self), self.host,
                                                 self.port)
        except OSError as error:
            log.warning("SIP over TCP not available on %s:%d: %s", self.host, self.port, error)
        log.info("SIP listening on %s:%d (UDP%s)", self.host, self.port,
                 ", TCP" if self._tcp else "")

    def send(self, data: bytes, peer: Peer) -> None:
        """Send a message to a peer (over its TCP connection when it came that way)."""
        if peer.transport == "TCP":
            connection = self.connections.get(peer)
            if connection is None or connection.is_closing():
                log.info("no TCP connection to %s:%d any more; message dropped",
                         peer.host, peer.port)
                return
            connection.write(data)
        elif self._udp is not None:
            self._udp.sendto(data, (peer.host, peer.port))

    async def stop(self) -> None:
        """Close the sockets and every TCP connection."""
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._tcp is not None:
            self._tcp.close()
            for connection in list(self.connections.values()):
                connection.close()
            await self._tcp.wait_closed()
            self._tcp = None
