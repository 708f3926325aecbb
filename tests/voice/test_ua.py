"""The user agent on a fake clock: 2xx retransmission and ACK, no ACK, hold, BYE early,
REGISTER challenges; and the IVR's digit collection."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from omnidesk.channels.voice.call import Call, CallState, EndReason
from omnidesk.channels.voice.ivr import Collected, collect
from omnidesk.channels.voice.registrar import Extension, Registrar
from omnidesk.channels.voice.rtp import MediaClock
from omnidesk.channels.voice.sdp import parse_sdp
from omnidesk.channels.voice.sip.message import (
    Headers,
    NameAddr,
    Request,
    Response,
    parse,
)
from omnidesk.channels.voice.sip.timers import FakeScheduler
from omnidesk.channels.voice.sip.transaction import Peer
from omnidesk.channels.voice.ua import UserAgent
from omnidesk.flows import HttpRequest, HttpResult, Output, Step, WaitForInput

PEER = Peer("UDP", "127.0.0.1", 5999)
OFFER = (b"v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
         b"m=audio 5998 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n")


@dataclass
class Harness:
    """A UA whose wire is a list and whose time is a FakeScheduler."""

    clock: FakeScheduler
    ua: UserAgent
    wire: list[Request | Response] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)

    def responses(self, status: int | None = None) -> list[Response]:
        return [m for m in self.wire if isinstance(m, Response)
                and (status is None or m.status == status)]

    def requests(self, method: str) -> list[Request]:
        return [m for m in self.wire if isinstance(m, Request) and m.method == method]


def request(method: str, *, branch: str, cseq: int = 1, to_tag: str = "",
            body: bytes = b"", headers: tuple[tuple[str, str], ...] = ()) -> Request:
    """A request from the caller in call `c1`."""
    to = "<sip:100@127.0.0.1>" + (f";tag={to_tag}" if to_tag else "")
    items = [("Via", f"SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK{branch}"),
             ("From", "<sip:+4915112345678@127.0.0.1>;tag=caller"), ("To", to),
             ("Call-ID", "c1"), ("CSeq", f"{cseq} {method}"), ("Max-Forwards", "70"),
             ("Contact", "<sip:caller@127.0.0.1:5999>"), *headers]
    if body:
        items.append(("Content-Type", "application/sdp"))
    return Request(headers=Headers(items), method=method, uri="sip:100@127.0.0.1", body=body)


def make_harness(handler: Callable[[Call], Awaitable[None]],
                 registrar: Registrar | None = None) -> Harness:
    clock = FakeScheduler()
    holder: list[Harness] = []

    def send(data: bytes, peer: Peer) -> None:
        holder[0].wire.append(parse(data))

    ua = UserAgent(send, clock, handler=handler, port=5060, media_clock=MediaClock(),
                   rtp_ports=range(41000, 41400), advertised="127.0.0.1", registrar=registrar,
                   now=lambda: clock.now + 1000)
    holder.append(Harness(clock, ua))
    return holder[0]


async def answering(call: Call) -> None:
    """A handler that answers at once and waits for the end."""
    call.ring()
    await call.answer()
    await call.ended.wait()


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)
    await asyncio.sleep(0.05)


def _send(h: Harness, message: Request) -> None:
    h.ua.layer.receive(parse(message.serialize()), PEER)


async def test_the_200_is_retransmitted_until_the_ack_confirms_the_call() -> None:
    h = make_harness(answering)
    _send(h, request("INVITE", branch="i1", body=OFFER))
    await settle()
    (ok,) = h.responses(200)
    assert [r.status for r in h.responses()] == [100, 180, 200]
    answer = parse_sdp(ok.body).audio()
    assert answer is not None and answer.formats == ["0", "101"]
    h.clock.advance(0.5)
    h.clock.advance(1.0)
    assert len(h.responses(200)) == 3
    tag = NameAddr.parse(ok.headers.get("To") or "").tag
    _send(h, request("ACK", branch="a1", to_tag=tag))
    h.clock.advance(10)
    assert len(h.responses(200)) == 3
    (call,) = h.ua.dialogs.values()
    assert call.state is CallState.CONFIRMED
    _send(h, request("BYE", branch="b1", cseq=2, to_tag=tag))
    await settle()
    assert h.responses(200)[-1].cseq == (2, "BYE")
    assert call.end_reason is EndReason.REMOTE_BYE and not h.ua.dialogs


async def test_an_invite_with_an_unreadable_contact_gets_400_not_a_crash() -> None:
    h = make_harness(answering)
    invite = request("INVITE", branch="i1", body=OFFER)
    invite.headers.set("Contact", "<>")
    _send(h, invite)
    await settle()
    assert [r.status for r in h.responses()] == [100, 400]
    assert not h.ua.dialogs and not h.calls


async def test_without_an_ack_the_call_is_hung_up_after_64_t1() -> None:
    h = make_harness(answering)
    _send(h, request("INVITE", branch="i1", body=OFFER))
    await settle()
    (call,) = h.ua.dialogs.values()
    h.clock.advance(31.9)
    assert not h.requests("BYE")
    h.clock.advance(0.2)
    (bye,) = h.requests("BYE")
    assert bye.uri == "sip:caller@127.0.0.1:5999"
    assert NameAddr.parse(bye.headers.get("From") or "").tag == call.dialog.local_tag
    assert call.end_reason is EndReason.NO_ACK
    await settle()


async def test_a_reinvite_with_sendonly_holds_and_sendrecv_resumes() -> None:
    h = make_harness(answering)
    _send(h, request("INVITE", branch="i1", body=OFFER))
    await settle()
    tag = NameAddr.parse(h.responses(200)[0].headers.get("To") or "").tag
    _send(h, request("ACK", branch="a1", to_tag=tag))
    (call,) = h.ua.dialogs.values()
    _send(h, request("INVITE", branch="i2", cseq=2, to_tag=tag,
                     body=OFFER + b"a=sendonly\r\n"))
    assert b"a=recvonly" in h.responses(200)[-1].body
    assert call.on_hold and call.media is not None and not call.media.sending
    _send(h, request("INVITE", branch="i3", cseq=3, to_tag=tag, body=OFFER))
    assert not call.on_hold and call.media.sending
    call.hangup()
    await settle()


async def test_a_bye_before_the_answer_gets_200_and_the_invite_487() -> None:
    async def slow(call: Call) -> None:
        call.ring()
        await call.ended.wait()

    h = make_harness(slow)
    _send(h, request("INVITE", branch="i1", body=OFFER))
    await settle()
    tag = NameAddr.parse(h.responses(180)[0].headers.get("To") or "").tag
    _send(h, request("BYE", branch="b1", cseq=2, to_tag=tag))
    await settle()
    assert [(r.status, r.cseq[1]) for r in h.responses()][-2:] == [(200, "BYE"),
                                                                   (487, "INVITE")]


async def test_register_is_challenged_then_bound() -> None:
    from omnidesk.channels.voice.digest import ha1, response_for
    registrar = Registrar({"201": Extension("201", ha1("201", "omnidesk", "pw"))},
                          now=lambda: 0.0)
    h = make_harness(answering, registrar)
    register = request("REGISTER", branch="r1")
    register.headers.set("To", "<sip:201@127.0.0.1>")
    _send(h, register)
    (challenge,) = h.responses(401)
    nonce = (challenge.headers.get("WWW-Authenticate") or "").split('nonce="')[1].split('"')[0]
    params = {"username": "201", "realm": "omnidesk", "nonce": nonce, "uri": "sip:127.0.0.1",
              "qop": "auth", "nc": "00000001", "cnonce": "x"}
    params["response"] = response_for(params, method="REGISTER",
                                      ha1_value=ha1("201", "omnidesk", "pw"))
    again = request("REGISTER", branch="r2", cseq=2, headers=(
        ("Authorization", "Digest " + ", ".join(f'{k}="{v}"' for k, v in params.items())),
        ("Expires", "120")))
    again.headers.set("To", "<sip:201@127.0.0.1>")
    _send(h, again)
    (ok,) = h.responses(200)
    assert ok.headers.get("Contact") == "<sip:caller@127.0.0.1:5999>;expires=120"
    assert registrar.lookup("201") is not None


@dataclass
class Keys:
    """An IvrPort that replays key presses (None: the caller waited)."""

    presses: list[str | None]

    async def say(self, outputs: tuple[Output, ...]) -> None:
        return None

    async def next_digit(self, wait_seconds: float) -> str | None:
        return self.presses.pop(0) if self.presses else None

    async def http(self, request: HttpRequest) -> HttpResult:
        return HttpResult(status=None, error="offline")

    async def step_done(self, step: Step) -> None:
        return None


@pytest.mark.parametrize(("presses", "wait", "expected"), [
    (["1", "2", "3", "4", "5"], WaitForInput("digits", 5, max_digits=4), Collected("1234", False)),
    (["4", "2", "#"], WaitForInput("digits", 5, max_digits=10), Collected("42", False)),
    (["4", None], WaitForInput("digits", 5, max_digits=10), Collected("4", False)),
    ([None], WaitForInput("digits", 5, max_digits=10), Collected("", True)),
])
async def test_digits_are_collected_until_the_limit_hash_or_a_pause(
        presses: list[str | None], wait: WaitForInput, expected: Collected) -> None:
    assert await collect(Keys(presses), wait) == expected
