"""RTCP (RFC 3550 §6): SR / RR / SDES / BYE byte for byte against layouts written out by hand,
the NTP split, fraction lost (A.3) and jitter (A.8) on synthetic series, malformed datagrams
(nothing raises), a session's reports (SR or RR, LSR / DLSR, the peer's report on our stream)
and the BYE on close over loopback."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnidesk.channels.voice.g711 import PCMU
from omnidesk.channels.voice.rtcp import (
    CNAME,
    Bye,
    ReceiverReport,
    ReportBlock,
    RtcpError,
    SenderReport,
    SourceDescription,
    compound,
    ntp_middle,
    ntp_now,
    parse,
    report_interval,
)
from omnidesk.channels.voice.rtp import MediaClock, ReceiveStats, RtpPacket, RtpSession
from omnidesk.channels.voice.sdp import answer, parse_sdp

BLOCK = ReportBlock(ssrc=0xAABBCCDD, fraction_lost=64, cumulative_lost=5,
                    highest_sequence=0x00010010, jitter=12, lsr=0x45678000, dlsr=0x00010000)
BLOCK_HEX = "aabbccdd" "40000005" "00010010" "0000000c" "45678000" "00010000"


def test_a_sender_report_with_one_block_is_the_rfc_layout() -> None:
    report = SenderReport(0x11223344, 0xE1234567, 0x80000000, 0x1000, 50, 8000, (BLOCK,))
    expected = bytes.fromhex(
        "81c8000c"  # V=2 P=0 RC=1, PT=200, length (4+4+20+24)/4 - 1 = 12
        "11223344"  # SSRC of the sender
        "e1234567" "80000000"  # NTP seconds, fraction (.5 s)
        "00001000" "00000032" "00001f40"  # RTP timestamp, 50 packets, 8000 octets
        + BLOCK_HEX)
    assert report.pack() == expected
    assert parse(expected) == [report]


def test_receiver_reports_empty_and_with_a_negative_cumulative_loss() -> None:
    assert ReceiverReport(0x01020304).pack() == bytes.fromhex("80c90001" "01020304")
    duplicated = ReportBlock(7, 0, -1, 100, 0)  # more received than expected: -1 in 24 bits
    packed = ReceiverReport(9, (duplicated,)).pack()
    assert packed == bytes.fromhex("81c90007" "00000009" "00000007" "00ffffff" "00000064"
                                   + "00" * 12)
    assert parse(packed) == [ReceiverReport(9, (duplicated,))]
    clamped = ReportBlock(7, 0, 10**9, 0, 0).pack()  # clamped to the 24-bit maximum
    assert clamped[4:8] == bytes.fromhex("007fffff")


@pytest.mark.parametrize(("cname", "expected"), [
    # 4 (SSRC) + 2 + 3 = 9 octets: a null ends the items, two more pad to 12
    (b"abc", "81ca0003" "00000001" "0103" "616263" "000000"),
    # 4 + 2 + 2 = 8 octets, already aligned: a whole word of nulls ends the items
    (b"ab", "81ca0003" "00000001" "0102" "6162" "00000000"),
])
def test_sdes_cname_ends_with_a_null_and_pads_to_32_bits(cname: bytes, expected: str) -> None:
    packet = SourceDescription(((1, {CNAME: cname}),))
    assert packet.pack() == bytes.fromhex(expected)
    (parsed,) = parse(bytes.fromhex(expected))
    assert isinstance(parsed, SourceDescription)
    assert parsed.cname(1) == cname.decode() and parsed.cname(2) is None


def test_bye_with_and_without_a_reason() -> None:
    assert Bye((0x0A0B0C0D,)).pack() == bytes.fromhex("81cb0001" "0a0b0c0d")
    with_reason = bytes.fromhex("81cb0003" "00000001" "04" "676f6e65" "000000")  # "gone"
    assert Bye((1,), "gone").pack() == with_reason
    assert parse(with_reason) == [Bye((1,), "gone")]


def test_a_compound_packet_reads_back_in_order_and_skips_unknown_types() -> None:
    app = bytes.fromhex("80cc0002" "00000001" "74657374")  # APP (204): skipped
    data = compound(ReceiverReport(5, (BLOCK,)), SourceDescription(((5, {CNAME: b"x"}),)),
                    Bye((5,))) + app
    packets = parse(data)
    assert [type(packet) for packet in packets] == [ReceiverReport, SourceDescription, Bye]


def test_the_ntp_timestamp_split_and_its_middle_32_bits() -> None:
    # 1970 + 1.7e9 s + a quarter second: seconds since 1900, fraction 0.25 * 2^32
    assert ntp_now(1_700_000_000.25) == (1_700_000_000 + 2_208_988_800, 0x40000000)
    assert ntp_middle(0xE1234567, 0x89ABCDEF) == 0x456789AB  # low 16 s bits, high 16 frac


def test_the_report_interval_is_the_5_s_minimum_randomised() -> None:
    intervals = [report_interval() for _ in range(2000)]
    assert 2.5 <= min(intervals) < 2.7 and 7.3 < max(intervals) <= 7.5
    assert 4.8 < sum(intervals) / len(intervals) < 5.2
    assert all(1.25 <= report_interval(initial=True) <= 3.75 for _ in range(200))


def receive(stats: ReceiveStats, sequences: list[int]) -> None:
    for sequence in sequences:
        stats.update(sequence & 0xFFFF)
        stats.arrived(0xFEED, 160 * sequence, 160 * sequence)


def test_fraction_lost_is_256_times_lost_over_expected_per_interval() -> None:
    stats = ReceiveStats()
    assert stats.report() is None  # nothing received: no block (an RR with RC=0)
    receive(stats, [n for n in range(100) if not 20 <= n < 30])  # 10 of 100 lost
    block = stats.report()
    assert block is not None
    assert block.ssrc == 0xFEED
    assert block.fraction_lost == 256 * 10 // 100 == 25
    assert block.cumulative_lost == 10 and block.highest_sequence == 99
    receive(stats, list(range(100, 200)))  # the next interval loses nothing
    block = stats.report()
    assert block is not None
    assert block.fraction_lost == 0 and block.cumulative_lost == 10
    receive(stats, [200, 201, 201, 202])  # a duplicate: the interval's loss is negative → 0
    block = stats.report()
    assert block is not None
    assert block.fraction_lost == 0 and block.cumulative_lost == 9


def test_the_extended_highest_sequence_counts_the_cycles() -> None:
    stats = ReceiveStats()
    receive(stats, [*range(65530, 65536), 0, 1, 3])  # wraps; 2 lost
    block = stats.report()
    assert block is not None
    assert block.highest_sequence == 0x10000 + 3
    assert block.cumulative_lost == 1 and block.fraction_lost == 256 * 1 // 10


def test_jitter_follows_the_a8_formula_on_a_synthetic_arrival_series() -> None:
    stats = ReceiveStats()
    delays = [0, 40, 10, 80, 0, 30, 30, 200, 5, 0, 60, 15] * 5  # network delay, samples
    expected = 0.0
    previous: int | None = None
    for index, delay in enumerate(delays):
        timestamp = 160 * index
        arrival = 1_000_000 + timestamp + delay
        stats.arrived(0xFEED, timestamp, arrival)
        transit = arrival - timestamp
        if previous is not None:
            expected += (abs(transit - previous) - expected) / 16  # J += (|D| - J) / 16
        previous = transit
    assert expected > 20
    assert abs(stats.jitter - expected) <= 1  # the integer form of A.8 rounds


def test_jitter_survives_the_timestamp_wrapping_and_restarts_on_a_new_source() -> None:
    stats = ReceiveStats()
    for index in range(50):  # constant delay across the 2^32 wrap: no jitter
        stats.arrived(1, (0xFFFFF000 + 160 * index) & 0xFFFFFFFF, 5_000_000 + 160 * index)
    assert stats.jitter == 0
    stats.arrived(1, 0x500, 0)  # a big jump, then a new source restarts the estimate
    assert stats.jitter > 0
    stats.arrived(2, 0, 7)
    assert stats.jitter == 0 and stats.ssrc == 2


MALFORMED = [
    b"",
    b"\x80",
    bytes.fromhex("81c8000c11223344e1234567"),  # SR cut short
    bytes.fromhex("40c9000100000001"),  # version 1
    bytes.fromhex("00c9000100000001"),  # version 0
    bytes.fromhex("80c9000500000001"),  # length 5 words beyond the datagram
    bytes.fromhex("80c9000100000001" "0000"),  # two stray bytes after a packet
    bytes.fromhex("82c9000100000001"),  # RR claims two blocks, has none
    bytes.fromhex("81c8000600000001" + "00" * 20),  # SR claims a block, has none
    bytes.fromhex("81ca000200000001" "01056162"),  # SDES item longer than the packet
    bytes.fromhex("81ca000200000001" "01026162"),  # SDES chunk without its null end
    bytes.fromhex("82ca000200000001" "00000000"),  # SDES claims two chunks
    bytes.fromhex("83cb000200000001" "00000002"),  # BYE claims three sources
    bytes.fromhex("81cb000200000001" "09676f6e"),  # BYE reason longer than it is
    bytes.fromhex("a0c9000100000000"),  # padding bit with a zero pad count
    bytes.fromhex("a0c9000100000009"),  # pad count beyond the packet
]


@pytest.mark.parametrize("data", MALFORMED)
def test_malformed_rtcp_is_an_rtcp_error_and_a_session_ignores_it(data: bytes) -> None:
    with pytest.raises(RtcpError):
        parse(data)
    session = socketless()
    session.receive_rtcp(data)  # never raises
    assert session.rtcp_received == 0 and session.peer_report is None


@given(st.binary(max_size=200))
def test_random_bytes_never_raise_anything_but_rtcp_error(data: bytes) -> None:
    with contextlib.suppress(RtcpError):
        parse(data)
    socketless().receive_rtcp(data)


@given(st.binary(max_size=120))
def test_random_bytes_after_a_valid_header_never_raise_anything_else(data: bytes) -> None:
    for first in (0x80, 0x81, 0x9F, 0xA1):
        for packet_type in (200, 201, 202, 203):
            body = data[:len(data) // 4 * 4]
            header = bytes([first, packet_type]) + (len(body) // 4 - 1 if body else 0) \
                .to_bytes(2, "big")
            with contextlib.suppress(RtcpError):
                parse(header + body)


def socketless() -> RtpSession:
    return RtpSession(MediaClock(), codec=PCMU, payload_type=PCMU, dtmf_payload_type=None,
                      on_digit=lambda digit: None)


def feed(session: RtpSession, sequences: list[int], ssrc: int = 0xFEED) -> None:
    for sequence in sequences:
        session.datagram_received(
            RtpPacket(PCMU, sequence, 160 * sequence, ssrc, bytes(160)).pack(), ("x", 1))


def test_a_session_reports_rr_until_it_sends_then_sr_with_its_counts() -> None:
    session = socketless()
    (first, sdes) = parse(session.rtcp_report())
    assert first == ReceiverReport(session.ssrc)  # nothing received yet: no block
    assert isinstance(sdes, SourceDescription)
    assert sdes.cname(session.ssrc) == session.cname.decode()
    feed(session, [n for n in range(50) if n not in (7, 8)])
    (report, _) = parse(session.rtcp_report())
    assert isinstance(report, ReceiverReport)
    (block,) = report.reports
    assert (block.ssrc, block.cumulative_lost, block.highest_sequence) == (0xFEED, 2, 49)
    assert block.fraction_lost == 256 * 2 // 50
    assert (block.lsr, block.dlsr) == (0, 0)  # no SR from the peer yet
    session.sent_packets, session.sent_octets = 250, 40000  # as ticks would
    (report, _) = parse(session.rtcp_report())
    assert isinstance(report, SenderReport)
    assert (report.ssrc, report.packet_count, report.octet_count) == (session.ssrc, 250,
                                                                      40000)
    assert report.rtp_timestamp == session.timestamp
    assert abs(report.ntp_seconds - ntp_now()[0]) <= 1
    assert isinstance(parse(session.rtcp_report())[0], ReceiverReport)  # nothing sent since
    *_, bye = parse(session.rtcp_report(bye=True))
    assert bye == Bye((session.ssrc,))


def test_a_session_keeps_the_peer_sr_for_lsr_dlsr_and_the_peers_report_on_us() -> None:
    session = socketless()
    feed(session, list(range(10)))
    seconds, fraction = ntp_now()
    ours = ReportBlock(session.ssrc, 51, 3, 1234, 160, 0, 0)
    session.receive_rtcp(compound(SenderReport(0xFEED, seconds, fraction, 1600, 10, 1600,
                                               (ours,)),
                                  SourceDescription(((0xFEED, {CNAME: b"peer"}),))))
    assert session.rtcp_received == 1 and session.peer_report == ours
    assert session.rtt_ms is None  # LSR 0: no round trip yet
    (report, _) = parse(session.rtcp_report())
    assert isinstance(report, ReceiverReport)
    (block,) = report.reports
    assert block.lsr == ntp_middle(seconds, fraction)
    assert 0 <= block.dlsr < 65536 // 10  # under 0.1 s since the SR arrived
    quality = session.quality()
    assert quality["rtcp_peer_lost"] == 3
    assert quality["rtcp_peer_fraction_lost"] == round(51 / 256, 4)
    assert quality["rtcp_peer_jitter_ms"] == 20.0  # 160 samples at 8 kHz
    # the peer echoes an SR of ours sent 1 s ago, which it held for 0.25 s: RTT ~0.75 s
    now_seconds, now_fraction = ntp_now()
    lsr = ntp_middle(now_seconds - 1, now_fraction)
    session.receive_rtcp(ReceiverReport(0xFEED, (ReportBlock(session.ssrc, 0, 3, 1300, 8,
                                                             lsr, 65536 // 4),)).pack())
    assert session.rtt_ms is not None and 740 < session.rtt_ms < 800
    session.receive_rtcp(Bye((0xFEED,)).pack())
    assert session.peer_left
    assert session.quality()["rtcp_received"] == 3


def test_sdp_a_rtcp_names_the_rtcp_address_else_rtp_port_plus_one() -> None:
    base = ("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
            "m=audio 4000 RTP/AVP 0\r\n")
    plain = answer(parse_sdp(base.encode()), address="127.0.0.1", port=20000, session_id=1)
    assert plain.rtcp == ("10.0.0.1", 4001)
    port_only = answer(parse_sdp((base + "a=rtcp:5005\r\n").encode()), address="127.0.0.1",
                       port=20000, session_id=1)
    assert port_only.rtcp == ("10.0.0.1", 5005)
    elsewhere = answer(parse_sdp((base + "a=rtcp:5007 IN IP4 10.0.0.9\r\n").encode()),
                       address="127.0.0.1", port=20000, session_id=1)
    assert elsewhere.rtcp == ("10.0.0.9", 5007)
    garbage = answer(parse_sdp((base + "a=rtcp:x\r\n").encode()), address="127.0.0.1",
                     port=20000, session_id=1)
    assert garbage.rtcp == ("10.0.0.1", 4001)


async def test_closing_a_session_sends_rr_sdes_bye_to_the_peers_rtcp_address() -> None:
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.setblocking(False)
    clock = MediaClock()
    session = RtpSession(clock, codec=PCMU, payload_type=PCMU, dtmf_payload_type=None,
                         on_digit=lambda digit: None)
    try:
        base = 40000 + (peer.getsockname()[1] % 10000) // 2 * 2
        await session.open("127.0.0.1", range(base, base + 200))
        session.start(("127.0.0.1", 9), rtcp=peer.getsockname())  # RTP to the discard port
        session.close()
        loop = asyncio.get_running_loop()
        data = await asyncio.wait_for(loop.sock_recv(peer, 2048), 2)
        packets = parse(data)
        assert isinstance(packets[0], SenderReport | ReceiverReport)
        assert packets[-1] == Bye((session.ssrc,))
    finally:
        await clock.stop()
        peer.close()
