"""RTP / RTCP (RFC 3550) for G.711 calls: packets, a paced sender, receive statistics,
RFC 4733 DTMF and recording the received audio to WAV by RTP timestamp.

All sessions of a process are paced by one `MediaClock` (one timer for every call, 20 ms
frames), which is what lets one process carry hundreds of calls.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import struct
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from omnidesk.channels.voice.audio import FRAME_SAMPLES
from omnidesk.channels.voice.dtmf import DtmfReceiver
from omnidesk.channels.voice.g711 import DECODERS, ENCODERS, SILENCE, transcode
from omnidesk.channels.voice.rtcp import (
    CNAME,
    Bye,
    ReceiverReport,
    ReportBlock,
    RtcpError,
    RtcpPacket,
    SenderReport,
    SourceDescription,
    compound,
    ntp_middle,
    ntp_now,
    parse,
    report_interval,
)
from omnidesk.tasks import stop_tasks

log = logging.getLogger("omnidesk.voice.rtp")
HEADER = struct.Struct("!BBHII")
FRAME_SECONDS = 0.02
BRIDGE_PREFILL = 2 * FRAME_SAMPLES  # 40 ms buffered before a bridged leg starts playing
BRIDGE_MAX = 10 * FRAME_SAMPLES  # more than 200 ms behind: the oldest audio is dropped
RATE = 8000  # the RTP clock of G.711


class RtpError(ValueError):
    """Not an RTP packet."""


@dataclass(frozen=True)
class RtpPacket:
    """One RTP packet (no CSRC list or header extension kept)."""

    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False

    def pack(self) -> bytes:
        """The packet on the wire (version 2)."""
        return HEADER.pack(0x80, (0x80 if self.marker else 0) | self.payload_type,
                           self.sequence & 0xFFFF, self.timestamp & 0xFFFFFFFF,
                           self.ssrc) + self.payload

    @classmethod
    def unpack(cls, data: bytes) -> RtpPacket:
        """Read a packet, skipping CSRCs, a header extension and padding; RtpError if bad."""
        if len(data) < HEADER.size:
            raise RtpError("short packet")
        first, second, sequence, timestamp, ssrc = HEADER.unpack_from(data)
        if first >> 6 != 2:
            raise RtpError("not RTP version 2")
        offset = HEADER.size + 4 * (first & 0x0F)
        if first & 0x10:
            if len(data) < offset + 4:
                raise RtpError("short extension")
            offset += 4 + 4 * struct.unpack_from("!H", data, offset + 2)[0]
        end = len(data)
        if first & 0x20 and end > offset:
            end -= data[-1]
        if offset > end:
            raise RtpError("bad lengths")
        return cls(second & 0x7F, sequence, timestamp, ssrc, data[offset:end],
                   bool(second & 0x80))


class ReceiveStats:
    """RFC 3550 A.1/A.3/A.8: extended highest sequence, expected and lost packets, the loss
    since the last report and the interarrival jitter (a few integer operations a packet)."""

    def __init__(self) -> None:
        self.received = 0
        self.base: int | None = None
        self.cycles = 0
        self.max_seq = 0
        self.ssrc: int | None = None  # the source we receive (the last one seen)
        self.jitter_16 = 0  # A.8: the jitter estimate in timestamp units, scaled by 16
        self._transit: int | None = None
        self._expected_prior = self._received_prior = 0

    def update(self, sequence: int) -> None:
        """Count a packet."""
        self.received += 1
        if self.base is None:
            self.base, self.max_seq = sequence, sequence
            return
        delta = (sequence - self.max_seq) & 0xFFFF
        if 0 < delta < 0x8000:
            if sequence < self.max_seq:
                self.cycles += 0x10000
            self.max_seq = sequence

    def arrived(self, ssrc: int, timestamp: int, arrival: int) -> None:
        """A.8: the jitter from a packet's RTP timestamp and its arrival (in the same units:
        8 kHz samples); J += (|D| - J) / 16 kept as 16·J in integers. A new source restarts."""
        if ssrc != self.ssrc:
            self.ssrc, self._transit, self.jitter_16 = ssrc, None, 0
        transit = arrival - timestamp
        if self._transit is not None:
            d = (transit - self._transit) & 0xFFFFFFFF  # the timestamp wraps at 2^32
            if d >= 0x80000000:
                d = 0x100000000 - d
            self.jitter_16 += d - ((self.jitter_16 + 8) >> 4)
        self._transit = transit

    @property
    def jitter(self) -> int:
        """Interarrival jitter in timestamp units (what a report block carries)."""
        return self.jitter_16 >> 4

    @property
    def expected(self) -> int:
        """Packets expected from the first to the highest sequence number seen."""
        return 0 if self.base is None else self.cycles + self.max_seq - self.base + 1

    @property
    def lost(self) -> int:
        """Expected minus received (duplicates can make it negative; floored at 0)."""
        return max(0, self.expected - self.received)

    def report(self, *, lsr: int = 0, dlsr: int = 0) -> ReportBlock | None:
        """A.3: a report block on the source (None before any packet); starts the next
        interval for the fraction lost."""
        if self.ssrc is None or self.base is None:
            return None
        expected = self.expected
        expected_interval = expected - self._expected_prior
        received_interval = self.received - self._received_prior
        self._expected_prior, self._received_prior = expected, self.received
        lost_interval = expected_interval - received_interval
        fraction = 0 if expected_interval <= 0 or lost_interval <= 0 \
            else (lost_interval << 8) // expected_interval
        return ReportBlock(self.ssrc, min(fraction, 255), expected - self.received,
                           self.cycles + self.max_seq, self.jitter, lsr, dlsr)


class WavRecorder:
    """Writes received audio into a WAV file at the place its RTP timestamp says: reordered
    packets land where they belong, lost ones leave silence."""

    MAX_JUMP = 8000 * 10  # a larger jump (new SSRC, reset) is appended, not placed

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("w+b")
        self._file.write(bytes(44))
        self._base: int | None = None
        self._shift = 0  # samples added when a stream jumped
        self._end = 0  # samples written so far (highest)

    def write(self, timestamp: int, pcm: bytes) -> None:
        """Place decoded samples for this RTP timestamp."""
        if self._base is None:
            self._base = timestamp
        delta = (timestamp - self._base) & 0xFFFFFFFF
        if delta >= 0x80000000:
            delta -= 0x100000000
        position = delta + self._shift
        if position < 0 or position > self._end + self.MAX_JUMP:
            self._base, self._shift, position = timestamp, self._end, self._end
        self._file.seek(44 + 2 * position)
        self._file.write(pcm)
        self._end = max(self._end, position + len(pcm) // 2)

    def close(self) -> None:
        """Finish the header and close the file."""
        if self._file.closed:
            return
        data_bytes = self._end * 2
        self._file.truncate(44 + data_bytes)
        self._file.seek(0)
        self._file.write(b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVEfmt "
                         + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)
                         + b"data" + struct.pack("<I", data_bytes))
        self._file.close()


class MediaClock:
    """One 20 ms tick for every RTP session of the process."""

    def __init__(self) -> None:
        self.sessions: set[RtpSession] = set()
        self._task: asyncio.Task[None] | None = None
        self.late_ticks = 0

    def add(self, session: RtpSession) -> None:
        """Start pacing a session (and the clock, if it was idle)."""
        self.sessions.add(session)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def discard(self, session: RtpSession) -> None:
        """Stop pacing a session."""
        self.sessions.discard(session)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        while self.sessions:
            for session in list(self.sessions):
                try:
                    session.tick()
                except Exception:
                    log.exception("RTP tick failed; session dropped")
                    self.sessions.discard(session)
            deadline += FRAME_SECONDS
            delay = deadline - loop.time()
            if delay < -0.2:  # far behind (suspended, overloaded): do not burst
                self.late_ticks += 1
                deadline = loop.time()
                delay = 0
            await asyncio.sleep(max(0.0, delay))

    async def stop(self) -> None:
        """Stop ticking."""
        self.sessions.clear()
        await stop_tasks(self._task)
        self._task = None


class MediaMixer(Protocol):
    """Takes over a session's audio while set (a conference, see `mixer.py`): what the
    session receives goes in, what it sends comes out."""

    def received(self, session: RtpSession, payload: bytes) -> None:
        """Audio the session received (G.711 in its codec)."""

    def frame(self, session: RtpSession) -> bytes | None:
        """The session's next 20 ms frame (G.711 in its codec), None for silence."""


class _Playback:
    def __init__(self, pcm: bytes, done: asyncio.Future[None]) -> None:
        self.pcm, self.offset, self.done = pcm, 0, done


_ENCODED: dict[tuple[int, int, int], bytes] = {}
ENCODED_CACHE_SIZE = 64


def encoded(codec: int, pcm: bytes) -> bytes:
    """G.711 bytes of a whole sound, encoded once per process (prompts and hold music are
    shared by many calls, so the 20 ms tick only slices bytes)."""
    key = (codec, len(pcm), hash(pcm))
    found = _ENCODED.get(key)
    if found is None:
        if len(_ENCODED) >= ENCODED_CACHE_SIZE:
            del _ENCODED[next(iter(_ENCODED))]
        found = _ENCODED[key] = ENCODERS[codec](pcm)
    return found


class RtpSession(asyncio.DatagramProtocol):
    """One call leg's media: sends paced G.711 frames, receives audio and DTMF."""

    def __init__(self, clock: MediaClock, *, codec: int, payload_type: int,
                 dtmf_payload_type: int | None, on_digit: Callable[[str], None]) -> None:
        self.clock = clock
        self.codec, self.payload_type = codec, payload_type
        self.dtmf_payload_type = dtmf_payload_type
        self.on_digit = on_digit
        self.ssrc = random.getrandbits(32)
        self.sequence = random.getrandbits(16)
        self.timestamp = random.getrandbits(32)
        self.sent_packets = self.sent_octets = 0
        self.stats = ReceiveStats()
        self.dtmf = DtmfReceiver()
        self.remote: tuple[str, int] | None = None
        self.remote_rtcp: tuple[str, int] | None = None  # SDP a=rtcp:, else RTP port + 1
        self.recorder: WavRecorder | None = None
        self.background: bytes | None = None  # looped when nothing else plays (hold music)
        self.sending = True
        self._background_offset = 0
        self._queue: deque[_Playback] = deque()
        self._transport: asyncio.DatagramTransport | None = None
        self._rtcp: asyncio.DatagramTransport | None = None
        self._marker = True
        self.cname = secrets.token_urlsafe(12).encode()  # RFC 7022: random, per session
        self.rtcp_sent = self.rtcp_received = 0
        self.peer_sr: SenderReport | None = None  # the last SR the peer sent us
        self.peer_report: ReportBlock | None = None  # the peer's last report on our stream
        self.peer_left = False  # the peer sent an RTCP BYE
        self.rtt_ms: float | None = None  # round trip from the peer's LSR / DLSR (A.8)
        self._peer_sr_at = 0.0  # time.monotonic() when peer_sr arrived
        self._rtcp_in = 0  # clock ticks to the next report
        self._sent_at_report = 0  # sent_packets at the last report: SR or RR
        self.local_port = 0
        self.forward_to: RtpSession | None = None  # the other leg of a bridge
        self._bridged = bytearray()  # the other leg's audio, in our codec
        self._bridge_playing = False
        self.bridge_dropped = 0  # bytes dropped because the other leg ran ahead
        self.mixer: MediaMixer | None = None  # a conference this leg is in, instead of a bridge

    async def open(self, host: str, ports: range) -> int:
        """Bind an even RTP port (and RTCP on the next) from the range; returns the port."""
        loop = asyncio.get_running_loop()
        start = random.randrange(0, max(1, len(ports) // 2)) * 2  # noqa: S311
        for index in range(0, len(ports), 2):
            port = ports[(start + index) % len(ports)] & ~1
            try:
                transport, _ = await loop.create_datagram_endpoint(
                    lambda: self, local_addr=(host, port))
            except OSError:
                continue
            try:
                rtcp, _ = await loop.create_datagram_endpoint(
                    lambda: _RtcpProtocol(self), local_addr=(host, port + 1))
            except OSError:
                transport.close()
                continue
            self._transport, self._rtcp, self.local_port = transport, rtcp, port
            return port
        raise OSError(f"no free RTP port pair in {ports.start}-{ports.stop}")

    def start(self, remote: tuple[str, int], rtcp: tuple[str, int] | None = None) -> None:
        """Send to the remote address, paced by the media clock; RTCP reports to `rtcp`
        (default: the RTP port + 1), the first after half the §6.2 minimum."""
        self.remote = remote
        self.remote_rtcp = rtcp or (remote[0], remote[1] + 1)
        self._rtcp_in = round(report_interval(initial=True) / FRAME_SECONDS)
        self.clock.add(self)

    def record_to(self, path: Path) -> None:
        """Record the received audio to a WAV file."""
        self.recorder = WavRecorder(path)

    def play(self, pcm: bytes) -> asyncio.Future[None]:
        """Queue audio; the future completes when its last frame was sent (or it was cut)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(_Playback(pcm, done))
        return done

    def stop_playback(self) -> None:
        """Cut what is playing and queued (barge-in on a key press)."""
        while self._queue:
            item = self._queue.popleft()
            if not item.done.done():
                item.done.set_result(None)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        """One incoming packet: statistics, DTMF or audio; garbage is ignored."""
        try:
            packet = RtpPacket.unpack(data)
        except RtpError:
            return
        self.stats.update(packet.sequence)
        if packet.payload_type == self.dtmf_payload_type:
            for digit in self.dtmf.feed(packet.timestamp, packet.payload, time.monotonic()):
                self.on_digit(digit)
        elif packet.payload_type == self.payload_type:
            self.stats.arrived(packet.ssrc, packet.timestamp, int(time.monotonic() * RATE))
            if self.recorder is not None:
                self.recorder.write(packet.timestamp, DECODERS[self.codec](packet.payload))
            if self.mixer is not None:
                self.mixer.received(self, packet.payload)
            elif self.forward_to is not None:
                self.forward_to.feed(self.codec, packet.payload)

    def bridge(self, other: RtpSession) -> None:
        """Carry each leg's received audio to the other (repacketised, transcoded)."""
        self.forward_to, other.forward_to = other, self

    def unbridge(self) -> None:
        """Stop carrying audio between this leg and its peer."""
        if self.forward_to is not None:
            self.forward_to.forward_to = None
            self.forward_to._bridged.clear()
        self.forward_to = None
        self._bridged.clear()

    def bridge_backlog(self) -> bytes:
        """The other leg's audio buffered here and not sent yet (our codec)."""
        return bytes(self._bridged)

    def prime_bridge(self, payload: bytes) -> None:
        """Put audio already waiting (our codec) ahead of the bridge buffer; it plays at once,
        without the pre-fill (a leg moved back from a mixer goes on without a gap)."""
        self._bridged[:0] = payload
        self._bridge_playing = len(self._bridged) >= FRAME_SAMPLES

    def feed(self, codec: int, payload: bytes) -> None:
        """Audio from the other leg of a bridge, to be sent in our 20 ms frames."""
        self._bridged.extend(transcode(payload, codec, self.codec))
        excess = len(self._bridged) - BRIDGE_MAX
        if excess > 0:
            del self._bridged[:excess]
            self.bridge_dropped += excess

    def _next_frame(self) -> bytes | None:
        """The next 20 ms of G.711 payload: playing audio, else the background loop."""
        while self._queue:
            item = self._queue[0]
            if item.offset == 0:
                item.pcm = encoded(self.codec, item.pcm)  # from here on: G.711 bytes
            frame = item.pcm[item.offset:item.offset + FRAME_SAMPLES]
            item.offset += FRAME_SAMPLES
            if item.offset >= len(item.pcm):
                self._queue.popleft()
                if not item.done.done():
                    item.done.set_result(None)
            if frame:
                return frame.ljust(FRAME_SAMPLES, bytes([SILENCE[self.codec]]))
        if self.mixer is not None:
            return self.mixer.frame(self)
        if self.forward_to is not None:
            return self._bridge_frame()
        if self.background:
            loop = encoded(self.codec, self.background)
            start = self._background_offset
            frame = loop[start:start + FRAME_SAMPLES]
            self._background_offset = (start + FRAME_SAMPLES) % max(1, len(loop))
            return frame.ljust(FRAME_SAMPLES, bytes([SILENCE[self.codec]]))
        return None

    def _bridge_frame(self) -> bytes | None:
        """20 ms of the other leg's audio once 40 ms are buffered; silence on underrun."""
        if not self._bridge_playing and len(self._bridged) < BRIDGE_PREFILL:
            return None
        self._bridge_playing = len(self._bridged) >= FRAME_SAMPLES
        if not self._bridge_playing:
            return None
        frame = bytes(self._bridged[:FRAME_SAMPLES])
        del self._bridged[:FRAME_SAMPLES]
        return frame

    def tick(self) -> None:
        """Send one 20 ms frame (audio, or comfort silence); every ~5 s an RTCP report."""
        self._rtcp_in -= 1
        if self._rtcp_in <= 0:
            self._rtcp_in = round(report_interval() / FRAME_SECONDS)
            self._send_report()
        payload = self._next_frame()
        if self._transport is None or self.remote is None or not self.sending:
            return
        if payload is None:
            payload = bytes([SILENCE[self.codec]]) * FRAME_SAMPLES
        packet = RtpPacket(self.payload_type, self.sequence, self.timestamp, self.ssrc,
                           payload, self._marker)
        self._transport.sendto(packet.pack(), self.remote)
        self._marker = False
        self.sequence = (self.sequence + 1) & 0xFFFF
        self.timestamp = (self.timestamp + FRAME_SAMPLES) & 0xFFFFFFFF
        self.sent_packets += 1
        self.sent_octets += len(payload)

    def rtcp_report(self, *, bye: bool = False) -> bytes:
        """Our compound RTCP packet (§6.1): an SR if we sent RTP since the last report, else
        an RR, with a report block on the source we receive; SDES CNAME; BYE when leaving."""
        lsr = dlsr = 0
        sr = self.peer_sr
        if sr is not None and sr.ssrc == self.stats.ssrc:
            lsr = ntp_middle(sr.ntp_seconds, sr.ntp_fraction)
            dlsr = int((time.monotonic() - self._peer_sr_at) * 65536)
        block = self.stats.report(lsr=lsr, dlsr=dlsr)
        blocks = (block,) if block is not None else ()
        first: RtcpPacket
        if self.sent_packets != self._sent_at_report:
            seconds, fraction = ntp_now()  # the time of the frame this tick sends
            first = SenderReport(self.ssrc, seconds, fraction, self.timestamp,
                                 self.sent_packets, self.sent_octets, blocks)
        else:
            first = ReceiverReport(self.ssrc, blocks)
        self._sent_at_report = self.sent_packets
        packets: list[RtcpPacket] = [first,
                                     SourceDescription(((self.ssrc, {CNAME: self.cname}),))]
        if bye:
            packets.append(Bye((self.ssrc,)))
        return compound(*packets)

    def _send_report(self, *, bye: bool = False) -> None:
        """Send our compound RTCP packet to the peer's RTCP address."""
        if self._rtcp is None or self.remote_rtcp is None:
            return
        self._rtcp.sendto(self.rtcp_report(bye=bye), self.remote_rtcp)
        self.rtcp_sent += 1

    def receive_rtcp(self, data: bytes) -> None:
        """An incoming RTCP datagram: the peer's last SR (for LSR / DLSR), its report on our
        stream (loss, jitter, round trip), BYE; malformed datagrams are ignored."""
        try:
            packets = parse(data)
        except RtcpError:
            return
        self.rtcp_received += 1
        for packet in packets:
            if isinstance(packet, SenderReport | ReceiverReport):
                if isinstance(packet, SenderReport):
                    self.peer_sr, self._peer_sr_at = packet, time.monotonic()
                for block in packet.reports:
                    if block.ssrc == self.ssrc:
                        self._peer_reported(block)
            elif isinstance(packet, Bye):
                self.peer_left = True

    def _peer_reported(self, block: ReportBlock) -> None:
        self.peer_report = block
        if block.lsr:  # A.8: round trip = arrival - LSR - DLSR, in 1/65536 s
            rtt = (ntp_middle(*ntp_now()) - block.lsr - block.dlsr) & 0xFFFFFFFF
            if rtt < 0x80000000:
                self.rtt_ms = round(rtt * 1000 / 65536, 1)

    def quality(self) -> dict[str, int | float | None]:
        """Our receive jitter and what the peer's RTCP said of our stream (for call.ended)."""
        peer = self.peer_report
        return {"jitter_ms": round(self.stats.jitter * 1000 / RATE, 1),
                "rtcp_sent": self.rtcp_sent, "rtcp_received": self.rtcp_received,
                "rtcp_peer_lost": peer.cumulative_lost if peer else None,
                "rtcp_peer_fraction_lost": round(peer.fraction_lost / 256, 4) if peer else None,
                "rtcp_peer_jitter_ms": round(peer.jitter * 1000 / RATE, 1) if peer else None,
                "rtcp_rtt_ms": self.rtt_ms}

    def close(self) -> None:
        """Stop sending (an RTCP BYE if we reported), finish the recording, release the ports."""
        if self.remote_rtcp is not None and self._rtcp is not None:
            self._send_report(bye=True)
        self.unbridge()
        self.clock.discard(self)
        self.stop_playback()
        if self.recorder is not None:
            self.recorder.close()
        for transport in (self._transport, self._rtcp):
            if transport is not None:
                transport.close()
        self._transport = self._rtcp = None


class _RtcpProtocol(asyncio.DatagramProtocol):
    """The RTCP port of a session: hands every datagram to it."""

    def __init__(self, session: RtpSession) -> None:
        self.session = session

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        """One incoming RTCP datagram."""
        self.session.receive_rtcp(data)
