"""RTCP (RFC 3550 §6): sender and receiver reports, SDES CNAME and BYE packets, built and
parsed; the report interval (§6.2) and the wall-clock NTP timestamps they carry.

Parsing is strict about lengths (a packet whose length field does not fit the datagram makes
the whole datagram `RtcpError`) and lenient about order (RFC 5506 reduced-size packets are
read too); packet types we do not use (APP, feedback, XR) are skipped.
"""

from __future__ import annotations

import random
import struct
import time
from dataclasses import dataclass, field

SR, RR, SDES, BYE = 200, 201, 202, 203
CNAME = 1  # the SDES item type
NTP_OFFSET = 2208988800  # seconds from 1900 to 1970
MIN_INTERVAL = 5.0  # §6.2: the minimum, which two G.711 participants never exceed
HEADER = struct.Struct("!BBH")
BLOCK = struct.Struct("!IIIIII")
SENDER_INFO = struct.Struct("!IIIII")
MAX_COUNT = 31  # the 5-bit report / source count


class RtcpError(ValueError):
    """Not a valid RTCP packet."""


def ntp_now(now: float | None = None) -> tuple[int, int]:
    """(seconds since 1900, fraction in 1/2^32 s) of a Unix time (default: now)."""
    unix = time.time() if now is None else now
    seconds = int(unix) + NTP_OFFSET
    fraction = int((unix - int(unix)) * (1 << 32)) & 0xFFFFFFFF
    return seconds & 0xFFFFFFFF, fraction


def ntp_middle(seconds: int, fraction: int) -> int:
    """The middle 32 bits of an NTP timestamp (the LSR field, §6.4.1)."""
    return ((seconds & 0xFFFF) << 16) | (fraction >> 16)


def report_interval(*, initial: bool = False, rng: random.Random | None = None) -> float:
    """Seconds to the next report: §6.2's 5 s minimum (halved before the first report),
    randomised 0.5-1.5x. With two participants at G.711 rates the bandwidth-derived interval
    is far below the minimum, so the minimum is the interval; no timer reconsideration."""
    base = MIN_INTERVAL / 2 if initial else MIN_INTERVAL
    return base * (rng or random).uniform(0.5, 1.5)


def _header(count: int, packet_type: int, body_length: int) -> bytes:
    """The common header: version 2, no padding, the count, length in words minus one."""
    return HEADER.pack(0x80 | count, packet_type, (4 + body_length) // 4 - 1)


@dataclass(frozen=True)
class ReportBlock:
    """One reception report (§6.4.1) about one source."""

    ssrc: int
    fraction_lost: int  # 8-bit fixed point: 256 * lost / expected in the interval
    cumulative_lost: int  # 24-bit signed
    highest_sequence: int  # extended: cycles << 16 | highest sequence number
    jitter: int  # interarrival jitter in timestamp units
    lsr: int = 0  # middle 32 bits of the NTP timestamp of the last SR from this source
    dlsr: int = 0  # delay since that SR, in 1/65536 s

    def pack(self) -> bytes:
        """The 24 bytes on the wire (cumulative loss clamped to 24-bit signed)."""
        lost = max(-0x800000, min(0x7FFFFF, self.cumulative_lost)) & 0xFFFFFF
        return BLOCK.pack(self.ssrc & 0xFFFFFFFF, ((self.fraction_lost & 0xFF) << 24) | lost,
                          self.highest_sequence & 0xFFFFFFFF, self.jitter & 0xFFFFFFFF,
                          self.lsr & 0xFFFFFFFF, self.dlsr & 0xFFFFFFFF)

    @classmethod
    def unpack_from(cls, data: bytes, offset: int) -> ReportBlock:
        """Read a block at an offset (the caller checked the length)."""
        ssrc, loss, highest, jitter, lsr, dlsr = BLOCK.unpack_from(data, offset)
        lost = loss & 0xFFFFFF
        if lost & 0x800000:
            lost -= 0x1000000
        return cls(ssrc, loss >> 24, lost, highest, jitter, lsr, dlsr)


@dataclass(frozen=True)
class SenderReport:
    """SR (PT 200): the sender's NTP and RTP time and counts, then report blocks."""

    ssrc: int
    ntp_seconds: int
    ntp_fraction: int
    rtp_timestamp: int
    packet_count: int
    octet_count: int
    reports: tuple[ReportBlock, ...] = ()

    def pack(self) -> bytes:
        """The packet on the wire."""
        blocks = b"".join(block.pack() for block in self.reports[:MAX_COUNT])
        body = struct.pack("!I", self.ssrc) + SENDER_INFO.pack(
            self.ntp_seconds & 0xFFFFFFFF, self.ntp_fraction & 0xFFFFFFFF,
            self.rtp_timestamp & 0xFFFFFFFF, self.packet_count & 0xFFFFFFFF,
            self.octet_count & 0xFFFFFFFF) + blocks
        return _header(min(len(self.reports), MAX_COUNT), SR, len(body)) + body


@dataclass(frozen=True)
class ReceiverReport:
    """RR (PT 201): report blocks from a participant that has not sent lately."""

    ssrc: int
    reports: tuple[ReportBlock, ...] = ()

    def pack(self) -> bytes:
        """The packet on the wire."""
        body = struct.pack("!I", self.ssrc) + b"".join(
            block.pack() for block in self.reports[:MAX_COUNT])
        return _header(min(len(self.reports), MAX_COUNT), RR, len(body)) + body


@dataclass(frozen=True)
class SourceDescription:
    """SDES (PT 202): items per source; we send one chunk with the CNAME."""

    chunks: tuple[tuple[int, dict[int, bytes]], ...] = field(default=())

    def cname(self, ssrc: int) -> str | None:
        """The CNAME a source gave, if any."""
        for source, items in self.chunks:
            if source == ssrc and CNAME in items:
                return items[CNAME].decode("utf-8", "replace")
        return None

    def pack(self) -> bytes:
        """The packet on the wire: each chunk's items, a null octet, padded to 32 bits."""
        body = b""
        for ssrc, items in self.chunks[:MAX_COUNT]:
            chunk = struct.pack("!I", ssrc) + b"".join(
                bytes([kind, len(value[:255])]) + value[:255] for kind, value in items.items())
            chunk += bytes(4 - len(chunk) % 4)  # one to four null octets: the end marker
            body += chunk
        return _header(min(len(self.chunks), MAX_COUNT), SDES, len(body)) + body


@dataclass(frozen=True)
class Bye:
    """BYE (PT 203): these sources leave, with an optional reason."""

    sources: tuple[int, ...]
    reason: str | None = None

    def pack(self) -> bytes:
        """The packet on the wire."""
        body = b"".join(struct.pack("!I", ssrc) for ssrc in self.sources[:MAX_COUNT])
        if self.reason:
            text = self.reason.encode()[:255]
            body += bytes([len(text)]) + text
            body += bytes(-len(body) % 4)
        return _header(min(len(self.sources), MAX_COUNT), BYE, len(body)) + body


RtcpPacket = SenderReport | ReceiverReport | SourceDescription | Bye


def compound(*packets: RtcpPacket) -> bytes:
    """Packets one after another in one datagram (§6.1: SR or RR first, SDES CNAME next)."""
    return b"".join(packet.pack() for packet in packets)


def parse(data: bytes) -> list[RtcpPacket]:
    """Every SR / RR / SDES / BYE in a datagram; RtcpError if any header or length is bad."""
    try:
        return _parse(data)
    except (struct.error, IndexError) as error:  # a length check missed: still malformed
        raise RtcpError(str(error)) from error


def _parse(data: bytes) -> list[RtcpPacket]:
    packets: list[RtcpPacket] = []
    offset = 0
    if len(data) < HEADER.size:
        raise RtcpError("short datagram")
    while offset < len(data):
        if len(data) - offset < HEADER.size:
            raise RtcpError("trailing bytes")
        first, packet_type, length = HEADER.unpack_from(data, offset)
        if first >> 6 != 2:
            raise RtcpError("not version 2")
        end = offset + 4 * (length + 1)
        if end > len(data):
            raise RtcpError("length beyond the datagram")
        body_end = end
        if first & 0x20:  # padding: the last octet counts the padding octets
            padding = data[end - 1]
            if end != len(data) or padding == 0 or padding > 4 * length:
                raise RtcpError("bad padding")
            body_end -= padding
        packet = _packet(first & 0x1F, packet_type, data[offset + 4:body_end])
        if packet is not None:
            packets.append(packet)
        offset = end
    return packets


def _packet(count: int, packet_type: int, body: bytes) -> RtcpPacket | None:
    if packet_type == SR:
        if len(body) < 24 + 24 * count:
            raise RtcpError("short SR")
        ssrc, = struct.unpack_from("!I", body)
        seconds, fraction, timestamp, packets, octets = SENDER_INFO.unpack_from(body, 4)
        return SenderReport(ssrc, seconds, fraction, timestamp, packets, octets,
                            _blocks(body, 24, count))
    if packet_type == RR:
        if len(body) < 4 + 24 * count:
            raise RtcpError("short RR")
        return ReceiverReport(struct.unpack_from("!I", body)[0], _blocks(body, 4, count))
    if packet_type == SDES:
        return _sdes(count, body)
    if packet_type == BYE:
        if len(body) < 4 * count:
            raise RtcpError("short BYE")
        sources = struct.unpack_from(f"!{count}I", body)
        reason = None
        if len(body) > 4 * count:
            size = body[4 * count]
            text = body[4 * count + 1:4 * count + 1 + size]
            if len(text) != size:
                raise RtcpError("short BYE reason")
            reason = text.decode("utf-8", "replace")
        return Bye(tuple(sources), reason)
    return None


def _blocks(body: bytes, offset: int, count: int) -> tuple[ReportBlock, ...]:
    return tuple(ReportBlock.unpack_from(body, offset + 24 * index) for index in range(count))


def _sdes(count: int, body: bytes) -> SourceDescription:
    chunks: list[tuple[int, dict[int, bytes]]] = []
    offset = 0
    for _ in range(count):
        if len(body) - offset < 4:
            raise RtcpError("short SDES chunk")
        ssrc, = struct.unpack_from("!I", body, offset)
        offset += 4
        items: dict[int, bytes] = {}
        while True:
            if offset >= len(body):
                raise RtcpError("SDES chunk without its end")
            kind = body[offset]
            if kind == 0:  # end of the items: skip to the next 32-bit boundary
                offset = (offset // 4 + 1) * 4
                break
            if offset + 2 > len(body) or offset + 2 + body[offset + 1] > len(body):
                raise RtcpError("short SDES item")
            size = body[offset + 1]
            items[kind] = body[offset + 2:offset + 2 + size]
            offset += 2 + size
        chunks.append((ssrc, items))
    return SourceDescription(tuple(chunks))
