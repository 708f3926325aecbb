"""Transactions on a fake clock: 100 Trying, retransmissions, Timers E/F/G/H/I/J."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from omnidesk.channels.voice.sip.message import Headers, Request, Response, make_response, parse
from omnidesk.channels.voice.sip.timers import FakeScheduler
from omnidesk.channels.voice.sip.transaction import (
    Peer,
    ServerTransaction,
    TransactionLayer,
    TxState,
)

UDP = Peer("UDP", "127.0.0.1", 5062)
TCP = Peer("TCP", "127.0.0.1", 40000)


def request(method: str, *, branch: str = "z9hG4bKabc", cseq_method: str | None = None) -> Request:
    """A minimal valid request."""
    headers = Headers([
        ("Via", f"SIP/2.0/UDP 127.0.0.1:5062;branch={branch}"),
        ("From", "<sip:caller@127.0.0.1>;tag=f1"), ("To", "<sip:100@127.0.0.1>"),
        ("Call-ID", "call-1"), ("CSeq", f"1 {cseq_method or method}"), ("Max-Forwards", "70")])
    return Request(headers=headers, method=method, uri="sip:100@127.0.0.1")


@dataclass
class Recorder:
    """The TU and the wire: what was sent, and what the TU was told."""

    sent: list[tuple[int | str, Peer]] = field(default_factory=list)
    new: list[ServerTransaction] = field(default_factory=list)
    acks: list[Request] = field(default_factory=list)
    timeouts: list[ServerTransaction] = field(default_factory=list)

    def send(self, data: bytes, peer: Peer) -> None:
        message = parse(data)
        label = message.status if isinstance(message, Response) else message.method
        self.sent.append((label, peer))

    def on_request(self, transaction: ServerTransaction, request: Request) -> None:
        self.new.append(transaction)

    def on_ack(self, request: Request, peer: Peer) -> None:
        self.acks.append(request)

    def on_transaction_timeout(self, transaction: ServerTransaction) -> None:
        self.timeouts.append(transaction)

    def labels(self) -> list[int | str]:
        return [label for label, _ in self.sent]


@pytest.fixture
def wire() -> Recorder:
    return Recorder()


@pytest.fixture
def clock() -> FakeScheduler:
    return FakeScheduler()


@pytest.fixture
def layer(wire: Recorder, clock: FakeScheduler) -> TransactionLayer:
    return TransactionLayer(wire.send, wire, clock)


def test_an_invite_gets_100_at_once_and_its_retransmission_is_absorbed(
        layer: TransactionLayer, wire: Recorder) -> None:
    layer.receive(request("INVITE"), UDP)
    layer.receive(request("INVITE"), UDP)
    assert len(wire.new) == 1
    assert wire.labels() == [100, 100]  # the retransmission gets the last response again
    wire.new[0].answer(180, to_tag="t")
    layer.receive(request("INVITE"), UDP)
    assert wire.labels() == [100, 100, 180, 180]


def test_an_error_response_is_retransmitted_by_timer_g_until_the_ack(
        layer: TransactionLayer, wire: Recorder, clock: FakeScheduler) -> None:
    layer.receive(request("INVITE"), UDP)
    transaction = wire.new[0]
    transaction.answer(486, to_tag="t")
    clock.advance(0.5)   # G at T1
    clock.advance(1.0)   # then 2·T1
    assert wire.labels() == [100, 486, 486, 486]
    layer.receive(request("ACK", cseq_method="ACK"), UDP)
    assert transaction.state is TxState.CONFIRMED
    clock.advance(10)
    assert wire.labels() == [100, 486, 486, 486]  # no more after the ACK
    assert transaction.state is TxState.TERMINATED  # Timer I (T4)
    assert not layer.servers and not wire.acks


def test_timer_g_backs_off_to_t2_and_timer_h_gives_up_after_64_t1(
        layer: TransactionLayer, wire: Recorder, clock: FakeScheduler) -> None:
    layer.receive(request("INVITE"), UDP)
    wire.new[0].answer(480, to_tag="t")
    clock.advance(31.9)
    # G: 0.5, 1.5, 3.5, 7.5, 11.5, … every 4 s (T2) after reaching it
    retransmits = wire.labels().count(480) - 1
    assert retransmits == 10
    assert not wire.timeouts
    clock.advance(0.2)
    assert wire.timeouts == [wire.new[0]]
    assert not layer.servers


def test_after_a_2xx_retransmitted_invites_are_absorbed_and_the_ack_goes_to_the_tu(
        layer: TransactionLayer, wire: Recorder, clock: FakeScheduler) -> None:
    layer.receive(request("INVITE"), UDP)
    wire.new[0].answer(200, to_tag="t")
    assert wire.new[0].state is TxState.ACCEPTED  # RFC 6026
    layer.receive(request("INVITE"), UDP)
    assert len(wire.new) == 1 and wire.labels() == [100, 200, 200]
    layer.receive(request("ACK", branch="z9hG4bKother", cseq_method="ACK"), UDP)
    assert len(wire.acks) == 1
    clock.advance(32.1)  # Timer L
    assert wire.new[0].state is TxState.TERMINATED and not layer.servers


def test_no_retransmissions_over_tcp(layer: TransactionLayer, wire: Recorder,
                                     clock: FakeScheduler) -> None:
    layer.receive(request("INVITE"), TCP)
    wire.new[0].answer(486, to_tag="t")
    clock.advance(40)
    assert wire.labels() == [100, 486]


def test_non_invite_final_response_is_resent_for_retransmissions_until_timer_j(
        layer: TransactionLayer, wire: Recorder, clock: FakeScheduler) -> None:
    layer.receive(request("OPTIONS"), UDP)
    layer.receive(request("OPTIONS"), UDP)  # still trying: absorbed silently
    assert wire.labels() == []
    wire.new[0].answer(200)
    layer.receive(request("OPTIONS"), UDP)
    assert wire.labels() == [200, 200]
    assert len(wire.new) == 1
    clock.advance(31.9)
    assert layer.servers
    clock.advance(0.2)  # Timer J: 64·T1
    assert not layer.servers
    layer.receive(request("OPTIONS"), UDP)
    assert len(wire.new) == 2  # now it is a new request


def test_a_cancel_finds_its_invite(layer: TransactionLayer, wire: Recorder) -> None:
    layer.receive(request("INVITE"), UDP)
    cancel = request("CANCEL")
    layer.receive(cancel, UDP)
    assert layer.find_invite(cancel) is wire.new[0]
    assert wire.new[1].request.method == "CANCEL"


def bye_response(status: int) -> Response:
    response = make_response(request("BYE", branch="z9hG4bKbye"), status)
    return response


def test_client_bye_is_retransmitted_by_timer_e_until_a_final_response(
        layer: TransactionLayer, wire: Recorder, clock: FakeScheduler) -> None:
    finals: list[Response | None] = []
    layer.send_request(request("BYE", branch="z9hG4bKbye"), UDP, finals.append)
    clock.advance(0.5)
    clock.advance(1.0)
    assert wire.labels() == ["BYE", "BYE", "BYE"]
    layer.receive(bye_response(200), UDP)
    assert [f.status for f in finals if f] == [200]
    clock.advance(10)
    assert wire.labels() == ["BYE", "BYE", "BYE"]
    assert not layer.clients  # Timer K


def test_client_bye_times_out_with_timer_f(layer: TransactionLayer, wire: Recorder,
                                           clock: FakeScheduler) -> None:
    finals: list[Response | None] = []
    layer.send_request(request("BYE", branch="z9hG4bKbye"), UDP, finals.append)
    clock.advance(31.9)
    assert finals == []
    assert wire.labels().count("BYE") == 11  # 0, .5, 1.5, 3.5, 7.5, then every 4 s
    clock.advance(0.2)
    assert finals == [None]
    assert not layer.clients


def test_a_provisional_response_slows_timer_e_to_t2(layer: TransactionLayer, wire: Recorder,
                                                     clock: FakeScheduler) -> None:
    layer.send_request(request("BYE", branch="z9hG4bKbye"), UDP, lambda response: None)
    layer.receive(bye_response(100), UDP)
    clock.advance(0.5)  # E at T1 still fires once, then every T2
    clock.advance(4.0)
    assert wire.labels() == ["BYE", "BYE", "BYE"]


def invite_response(status: int, *, tag: str = "callee") -> Response:
    return make_response(request("INVITE", branch="z9hG4bKinv"), status, to_tag=tag)


def test_client_invite_is_retransmitted_by_timer_a_until_a_provisional(
        layer: TransactionLayer, wire: Recorder, clock: FakeScheduler) -> None:
    seen: list[Response | None] = []
    layer.send_invite(request("INVITE", branch="z9hG4bKinv"), UDP, seen.append)
    clock.advance(0.5)
    clock.advance(1.0)
    assert wire.labels() == ["INVITE"] * 3
    layer.receive(invite_response(180), UDP)
    clock.advance(20)
    assert wire.labels() == ["INVITE"] * 3 and [r.status for r in seen if r] == [180]


def test_client_invite_acks_an_error_itself_and_again_for_its_retransmission(
        layer: TransactionLayer, wire: Recorder, clock: FakeScheduler) -> None:
    seen: list[Response | None] = []
    transaction = layer.send_invite(request("INVITE", branch="z9hG4bKinv"), UDP, seen.append)
    layer.receive(invite_response(486), UDP)
    layer.receive(invite_response(486), UDP)
    assert wire.labels() == ["INVITE", "ACK", "ACK"]
    assert [r.status for r in seen if r] == [486]  # the TU hears it once
    ack = parse(transaction._ack or b"")
    assert isinstance(ack, Request) and ack.cseq == (1, "ACK")
    assert ack.vias[0].branch == "z9hG4bKinv"  # same branch as the INVITE (§17.1.1.3)
    assert "tag=callee" in (ack.headers.get("To") or "")
    clock.advance(32.1)  # Timer D
    assert transaction.state is TxState.TERMINATED and not layer.clients


def test_client_invite_hands_every_2xx_to_the_tu_and_times_out_with_timer_b(
        layer: TransactionLayer, wire: Recorder, clock: FakeScheduler) -> None:
    seen: list[Response | None] = []
    layer.send_invite(request("INVITE", branch="z9hG4bKinv"), UDP, seen.append)
    layer.receive(invite_response(200), UDP)
    layer.receive(invite_response(200), UDP)  # retransmitted: the TU ACKs it again
    assert [r.status for r in seen if r] == [200, 200]
    assert wire.labels() == ["INVITE"]  # no ACK from the transaction for a 2xx
    lost: list[Response | None] = []
    layer.send_invite(request("INVITE", branch="z9hG4bKnone"), UDP, lost.append)
    clock.advance(32.1)
    assert lost == [None]


def test_cancel_waits_for_a_provisional_response(layer: TransactionLayer, wire: Recorder,
                                                 clock: FakeScheduler) -> None:
    transaction = layer.send_invite(request("INVITE", branch="z9hG4bKinv"), UDP,
                                    lambda response: None)
    transaction.cancel()
    assert wire.labels() == ["INVITE"]
    layer.receive(invite_response(180), UDP)
    assert wire.labels() == ["INVITE", "CANCEL"]
    cancel = layer.clients[("z9hG4bKinv", "CANCEL")].request
    assert cancel.cseq == (1, "CANCEL") and cancel.uri == "sip:100@127.0.0.1"
