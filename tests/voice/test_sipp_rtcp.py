"""RTCP end to end: a SIPp caller (SIPp sends no RTCP) whose SDP names the test's RTP peer and,
by `a=rtcp:`, a separate RTCP socket of the test. The peer skips every tenth sequence number
and sends one SR reporting on our stream; our compound reports (SR + report block, SDES
CNAME) reach its RTCP socket within 7 s, their block reflects exactly the sequence numbers it
skipped and echoes its SR (LSR / DLSR), our BYE comes when the call ends, and `call.ended`
carries what the peer reported (`rtcp_peer_lost`, `rtcp_peer_jitter_ms`) and our jitter."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass, field

from omnidesk.channels.voice.g711 import PCMU
from omnidesk.channels.voice.rtcp import (
    Bye,
    ReportBlock,
    RtcpPacket,
    SenderReport,
    SourceDescription,
    compound,
    ntp_middle,
    ntp_now,
    parse,
)
from omnidesk.channels.voice.rtp import FRAME_SAMPLES, RtpPacket
from tests.voice.conftest import Phone

PEER_SSRC = 0xFEED
SKIP_EVERY = 10  # sequence numbers n with n % 10 == 5 are never sent
REPORTED_LOST, REPORTED_JITTER = 3, 80  # what the peer's SR says of our stream (80 = 10 ms)


@dataclass
class Received:
    """One RTCP datagram the peer got: seconds after our first RTP packet, its packets."""

    at: float
    packets: list[RtcpPacket]


@dataclass
class RtcpPeer:
    """The caller's media: RTP with gaps in its sequence numbers, one SR on our stream, and
    every RTCP datagram we send kept (parsed)."""

    rtp_port: int = 0
    rtcp_port: int = 0
    our_ssrc: int | None = None
    our_rtp: tuple[str, int] | None = None
    started: float = 0.0
    sent_sr: tuple[int, int] | None = None  # the NTP time of the SR the peer sent
    skipped: int = 0
    reports: list[Received] = field(default_factory=list)
    bye: asyncio.Event = field(default_factory=asyncio.Event)
    _rtp: asyncio.DatagramTransport | None = None
    _rtcp: asyncio.DatagramTransport | None = None
    _sender: asyncio.Task[None] | None = None

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        self._rtp, _ = await loop.create_datagram_endpoint(
            lambda: _Socket(self._on_rtp), local_addr=("127.0.0.1", 0))
        self._rtcp, _ = await loop.create_datagram_endpoint(
            lambda: _Socket(self._on_rtcp), local_addr=("127.0.0.1", 0))
        self.rtp_port = self._rtp.get_extra_info("sockname")[1]
        self.rtcp_port = self._rtcp.get_extra_info("sockname")[1]
        assert self.rtcp_port != self.rtp_port + 1  # so only a=rtcp: can lead us there

    def _on_rtp(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.our_rtp is not None:
            return
        loop = asyncio.get_running_loop()
        self.our_rtp, self.our_ssrc, self.started = addr, RtpPacket.unpack(data).ssrc, \
            loop.time()
        self._sender = loop.create_task(self._send())
        self.sent_sr = ntp_now()
        ours = ReportBlock(self.our_ssrc, 0, REPORTED_LOST, 0, REPORTED_JITTER)
        assert self._rtcp is not None
        self._rtcp.sendto(compound(SenderReport(PEER_SSRC, *self.sent_sr, 0, 0, 0, (ours,)),
                                   SourceDescription(((PEER_SSRC, {1: b"peer@test"}),))),
                          (addr[0], addr[1] + 1))  # our RTCP port: RTP + 1

    def _on_rtcp(self, data: bytes, addr: tuple[str, int]) -> None:
        at = asyncio.get_running_loop().time() - self.started
        self.reports.append(Received(at, parse(data)))
        if any(isinstance(packet, Bye) for packet in self.reports[-1].packets):
            self.bye.set()

    async def _send(self) -> None:
        loop = asyncio.get_running_loop()
        start, index = loop.time(), 0
        while self._rtp is not None and self.our_rtp is not None:
            if index % SKIP_EVERY == SKIP_EVERY // 2:
                self.skipped += 1
            else:
                self._rtp.sendto(RtpPacket(PCMU, index, index * FRAME_SAMPLES, PEER_SSRC,
                                           bytes([0xFF]) * FRAME_SAMPLES).pack(),
                                 self.our_rtp)
            index += 1
            await asyncio.sleep(max(0.0, start + index * 0.02 - loop.time()))

    async def close(self) -> None:
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
        for transport in (self._rtp, self._rtcp):
            if transport is not None:
                transport.close()
        self._rtp = self._rtcp = None


class _Socket(asyncio.DatagramProtocol):
    def __init__(self, handler: object) -> None:
        self.handler = handler

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        handler = self.handler
        assert callable(handler)
        handler(data, (str(addr[0]), int(addr[1])))


async def test_rtcp_reports_reach_the_peer_and_reflect_the_sequence_numbers_it_skipped(
        phone: Phone) -> None:
    peer = RtcpPeer()
    await peer.open()
    try:
        result = await phone.sipp("call_rtcp.xml", "-s", "100", "-d", "9000",
                                  "-set", "rtp_port", str(peer.rtp_port),
                                  "-set", "rtcp_port", str(peer.rtcp_port))
        assert result.returncode == 0, phone.explain("call_rtcp.xml")
        ended = await phone.wait_for_event("call.ended")
        await asyncio.wait_for(peer.bye.wait(), 3)  # our BYE, sent as the media closes
    finally:
        await peer.close()

    assert peer.our_ssrc is not None and peer.sent_sr is not None
    *reports, last = peer.reports
    assert reports, "no RTCP report before the BYE"
    first = reports[0]
    assert first.at < 7.0  # §6.2: half the 5 s minimum, randomised: at most 3.75 s
    for earlier, later in itertools.pairwise(reports):
        assert 2.4 < later.at - earlier.at < 7.6  # 5 s randomised 0.5-1.5x
    for received in peer.reports:  # every one compound: SR first (we always send), CNAME
        report, sdes, *rest = received.packets
        assert isinstance(report, SenderReport) and report.ssrc == peer.our_ssrc
        assert isinstance(sdes, SourceDescription) and sdes.cname(peer.our_ssrc)
        assert rest == ([Bye((peer.our_ssrc,))] if received is last else [])
        assert report.packet_count > 0 and report.octet_count == 160 * report.packet_count
        (block,) = report.reports
        assert block.ssrc == PEER_SSRC
        highest = block.highest_sequence
        skipped = sum(1 for n in range(highest + 1) if n % SKIP_EVERY == SKIP_EVERY // 2)
        assert block.cumulative_lost == skipped > 0
        assert block.lsr == ntp_middle(*peer.sent_sr)  # our echo of the peer's SR
        assert 0 < block.dlsr < 65536 * (received.at + 1)
    first_report = first.packets[0]
    assert isinstance(first_report, SenderReport)
    assert 256 * 8 // 100 <= first_report.reports[0].fraction_lost <= 256 * 12 // 100  # ~10 %
    last_report = last.packets[0]
    assert isinstance(last_report, SenderReport)

    payload = ended.payload
    assert payload["rtcp_peer_lost"] == REPORTED_LOST
    assert payload["rtcp_peer_jitter_ms"] == 10.0
    assert payload["rtcp_received"] == 1 and payload["rtcp_sent"] == len(peer.reports)
    assert 0 <= payload["jitter_ms"] < 40  # the peer paces on asyncio's loop: small
    assert payload["rtp_lost"] == last_report.reports[0].cumulative_lost  # BYE: the end
