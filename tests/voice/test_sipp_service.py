"""The service side with real peers: phones registering with digest, and garbage on the
wire never stopping the service."""

from __future__ import annotations

import asyncio
import os
import socket

from omnidesk.channels.voice.sip.message import Response, parse
from tests.voice.conftest import EXTENSION_PASSWORD, Phone


async def test_a_softphone_registers_with_digest_authentication(phone: Phone) -> None:
    result = await phone.sipp("register.xml", "-au", "201", "-ap", EXTENSION_PASSWORD)
    assert result.returncode == 0, phone.explain("register.xml")
    binding = phone.voice.ua.registrar.lookup("201") if phone.voice.ua else None
    assert binding is not None and binding.contact.startswith("sip:201@127.0.0.1:")


async def test_a_wrong_password_is_refused_and_nothing_is_bound(phone: Phone) -> None:
    result = await phone.sipp("register.xml", "-au", "201", "-ap", "guess")
    assert result.returncode != 0  # a second 401 instead of the 200
    assert "401" in phone.explain("register.xml")
    assert phone.voice.ua is not None and phone.voice.ua.registrar.lookup("201") is None


def _exchange(port: int, datagrams: list[bytes], *, wait: float = 1.0) -> list[bytes]:
    """Send datagrams from one socket and collect what comes back within `wait`."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(wait)
        for datagram in datagrams:
            sock.sendto(datagram, ("127.0.0.1", port))
        answers = []
        try:
            while True:
                answers.append(sock.recv(65535))
        except TimeoutError:
            return answers


async def test_garbage_on_udp_and_tcp_never_stops_the_service(phone: Phone) -> None:
    port = phone.voice.port
    junk = [os.urandom(n) for n in (1, 20, 300, 1400)] + [
        b"\r\n\r\n", b"INVITE\r\n\r\n", b"SIP/2.0 200 OK\r\n\r\n", b"\xff" * 65000,
        b"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKj\r\n"
        b"Call-ID: j\r\nCSeq: 1 OPTIONS\r\n\r\n"]  # no From/To: answerable → 400
    answers = await asyncio.to_thread(_exchange, port, junk)
    assert [parse(a).status for a in answers if isinstance(parse(a), Response)] == [400]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(os.urandom(5000) + b"\r\n\r\n")  # no Content-Length: the stream is closed
    await writer.drain()
    async with asyncio.timeout(5):
        assert await reader.read() == b""
    writer.close()
    result = await phone.sipp("options.xml")
    assert result.returncode == 0, phone.explain("options.xml")
    result = await phone.sipp("options.xml", transport="t1")
    assert result.returncode == 0, phone.explain("options.xml")
