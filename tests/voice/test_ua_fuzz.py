"""Whatever a parseable request carries, the UA answers it without failing (no 500s)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnidesk.channels.voice.call import Call
from omnidesk.channels.voice.registrar import Extension, Registrar
from omnidesk.channels.voice.rtp import MediaClock
from omnidesk.channels.voice.sip.message import ParseError, Response, parse
from omnidesk.channels.voice.sip.timers import FakeScheduler
from omnidesk.channels.voice.sip.transaction import Peer
from omnidesk.channels.voice.sip.transport import handle_datagram
from omnidesk.channels.voice.ua import UserAgent

PEER = Peer("UDP", "127.0.0.1", 5999)
TRICKY = ["", "*", "<>", "<sip:>", "garbage", "<sip:a@h>;expires=abc", "<sip:a@h>;tag=",
          '"unterminated <sip:a@h>', "sip:201@h;tag=x", "<sip:201@h>;expires=0", "0", "-1",
          "99999999999", "Digest username=", 'Digest username="201", realm="omnidesk"',
          "application/sdp", "application/dtmf-relay", "100rel", "<tel:+49301>", "²"]
SDP = [b"", b"v=0\r\n", b"v=0\r\nm=audio x RTP/AVP 0\r\n", b"v=0\r\nc=IN IP4\r\n",
       b"v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n", b"Signal=5\r\n",
       b"v=0\r\nm=audio 4000 RTP/AVP 96\r\na=rtpmap:96 PCMU/abc\r\n", b"\xff\xfe"]


async def _ignore(call: Call) -> None:
    call.reject(486)


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    """A request with random tricky values in the headers the UA reads."""
    method = draw(st.sampled_from(["INVITE", "REGISTER", "BYE", "CANCEL", "INFO", "OPTIONS",
                                   "ACK", "FOO", "REFER"]))
    uri = draw(st.sampled_from(["sip:100@h", "sips:100@h", "tel:+4930", "http://x", "sip:h"]))
    lines = [f"{method} {uri} SIP/2.0",
             f"Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK{draw(st.integers(0, 3))}",
             f"From: {draw(st.sampled_from(['<sip:a@h>;tag=1', 'sip:a@h', *TRICKY]))}",
             f"To: {draw(st.sampled_from(['<sip:201@h>', '<sip:100@h>;tag=t', *TRICKY]))}",
             "Call-ID: fuzz", f"CSeq: {draw(st.integers(1, 3))} {method}"]
    for name in draw(st.lists(st.sampled_from(
            ["Contact", "Expires", "Authorization", "Content-Type", "Require", "Max-Forwards",
             "Record-Route", "Refer-To"]), max_size=5)):
        lines.append(f"{name}: {draw(st.sampled_from(TRICKY))}")
    if method == "INVITE" and draw(st.booleans()):
        lines.append("Content-Type: application/sdp")
    body = draw(st.sampled_from(SDP))
    return ("\r\n".join(lines) + f"\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(messages(), min_size=1, max_size=4))
def test_no_request_makes_the_ua_fail(batch: list[bytes]) -> None:
    asyncio.run(_feed(batch))


async def _feed(batch: list[bytes]) -> None:
    sent: list[bytes] = []
    ua = UserAgent(lambda data, peer: sent.append(data), FakeScheduler(), handler=_ignore,
                   port=5060, media_clock=MediaClock(), rtp_ports=range(42000, 42100),
                   advertised="127.0.0.1",
                   registrar=Registrar({"201": Extension("201", "0" * 32)}, now=lambda: 0.0))
    failures: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            failures.append(record.getMessage())

    catcher = Catch(logging.ERROR)
    logging.getLogger("omnidesk").addHandler(catcher)
    try:
        for data in batch:
            handle_datagram(data, PEER, ua.layer.receive, lambda raw, peer: sent.append(raw))
        await asyncio.sleep(0)
        await ua.shutdown()
    finally:
        logging.getLogger("omnidesk").removeHandler(catcher)
    assert failures == []
    statuses = []
    for raw in sent:
        try:
            message = parse(raw)
        except ParseError as error:  # everything we send must parse
            pytest.fail(f"we sent an unparseable message: {error}: {raw[:200]!r}")
        if isinstance(message, Response):
            statuses.append(message.status)
    assert 500 not in statuses
