"""G.711, RFC 4733 DTMF, RTP packets and statistics, WAV recording by timestamp."""

from __future__ import annotations

import array
import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnidesk.channels.voice import g711
from omnidesk.channels.voice.audio import read_wav, to_pcm8k, tone, write_wav
from omnidesk.channels.voice.dtmf import DtmfReceiver, TelephoneEvent, parse_info_dtmf
from omnidesk.channels.voice.rtp import ReceiveStats, RtpError, RtpPacket, WavRecorder

SIPP_SHARE = Path("/usr/share/sip-tester")


@pytest.mark.parametrize(("byte", "sample"), [
    (0x00, -32124), (0x80, 32124), (0xFF, 0), (0x7F, 0), (0x7E, -8), (0xFE, 8),
    (0x0F, -16764), (0x8F, 16764), (0x70, -120), (0xF0, 120),
])
def test_ulaw_decodes_to_the_g711_reference_values(byte: int, sample: int) -> None:
    assert g711.ulaw_to_linear(byte) == sample


@pytest.mark.parametrize(("byte", "sample"), [
    (0xD5, 8), (0x55, -8), (0xAA, 32256), (0x2A, -32256), (0xD4, 24), (0x80, 5504),
])
def test_alaw_decodes_to_the_g711_reference_values(byte: int, sample: int) -> None:
    assert g711.alaw_to_linear(byte) == sample


@pytest.mark.parametrize(("sample", "ulaw", "alaw"), [
    (0, 0xFF, 0xD5), (-1, 0x7F, 0x55), (32767, 0x80, 0xAA), (-32768, 0x00, 0x2A),
    (1000, 0xCE, 0xFA),
])
def test_encoding_matches_the_reference_codes(sample: int, ulaw: int, alaw: int) -> None:
    assert (g711.linear_to_ulaw(sample), g711.linear_to_alaw(sample)) == (ulaw, alaw)


def test_every_code_survives_decode_then_encode() -> None:
    assert all(g711.linear_to_alaw(g711.alaw_to_linear(b)) == b for b in range(256))
    assert all(g711.linear_to_ulaw(g711.ulaw_to_linear(b)) == b
               for b in range(256) if b != 0x7F)  # -0 encodes as +0


@given(st.lists(st.integers(-32768, 32767), max_size=200))
def test_the_fast_frame_codecs_agree_with_the_sample_functions(samples: list[int]) -> None:
    pcm = array.array("h", samples).tobytes()
    assert g711.encode_ulaw(pcm) == bytes(g711.linear_to_ulaw(s) for s in samples)
    assert g711.encode_alaw(pcm) == bytes(g711.linear_to_alaw(s) for s in samples)
    decoded = array.array("h")
    decoded.frombytes(g711.decode_ulaw(g711.encode_ulaw(pcm)))
    assert all(abs(a - b) <= max(16, abs(a) // 16) for a, b in zip(samples, decoded,
                                                                    strict=True))


def test_a_dtmf_event_is_reported_once_at_its_end_even_with_three_end_packets() -> None:
    receiver = DtmfReceiver()
    digits: list[str] = []
    for duration in (160, 320, 480):
        digits += receiver.feed(1000, TelephoneEvent(5, False, 10, duration).pack())
    for _ in range(3):
        digits += receiver.feed(1000, TelephoneEvent(5, True, 10, 640).pack())
    digits += receiver.feed(2000, TelephoneEvent(11, True, 10, 640).pack())
    assert digits == ["5", "#"]


def test_a_lost_end_packet_is_recovered_when_the_next_event_starts() -> None:
    receiver = DtmfReceiver()
    assert receiver.feed(1000, TelephoneEvent(1, False, 10, 160).pack()) == []
    assert receiver.feed(3000, TelephoneEvent(2, False, 10, 160).pack()) == ["1"]
    assert receiver.feed(3000, TelephoneEvent(2, True, 10, 800).pack()) == ["2"]
    assert receiver.feed(3000, b"\x02") == []  # short payloads are ignored


def test_sipps_recorded_dtmf_pcap_decodes_to_its_digit() -> None:
    data = (SIPP_SHARE / "dtmf_2833_7.pcap").read_bytes()
    receiver, digits, offset = DtmfReceiver(), [], 24
    while offset < len(data):
        length = struct.unpack_from("<I", data, offset + 8)[0]
        packet = RtpPacket.unpack(data[offset + 16 + 42: offset + 16 + length])
        offset += 16 + length
        digits += receiver.feed(packet.timestamp, packet.payload)
    assert digits == ["7"]


@pytest.mark.parametrize(("content_type", "body", "digit"), [
    ("application/dtmf-relay", b"Signal=5\r\nDuration=160\r\n", "5"),
    ("application/dtmf-relay", b"Signal=11\r\n", "#"),
    ("application/dtmf-relay", b"Signal= *\r\n", "*"),
    ("application/dtmf", b"9", "9"),
    ("application/dtmf-relay", b"Signal=Z\r\n", None),
    ("text/plain", b"Signal=5", None),
])
def test_sip_info_dtmf_bodies(content_type: str, body: bytes, digit: str | None) -> None:
    assert parse_info_dtmf(content_type, body) == digit


def test_rtp_packets_round_trip_and_skip_csrcs_extensions_and_padding() -> None:
    packet = RtpPacket(0, 65535, 2**32 - 1, 0xDEADBEEF, b"\xff" * 160, marker=True)
    assert RtpPacket.unpack(packet.pack()) == packet
    header = struct.pack("!BBHII", 0xB1, 8, 7, 160, 1)  # padding, extension, one CSRC
    raw = header + b"\0\0\0\2" + b"\xbe\xde\x00\x01" + b"XXXX" + b"audio" + b"\0\0\3"
    parsed = RtpPacket.unpack(raw)
    assert (parsed.payload_type, parsed.payload) == (8, b"audio")
    with pytest.raises(RtpError):
        RtpPacket.unpack(b"\x40" + bytes(11))


def test_receive_stats_count_loss_across_the_sequence_wrap() -> None:
    stats = ReceiveStats()
    for sequence in [65533, 65534, 0, 1, 3, 2, 5]:
        stats.update(sequence)
    assert (stats.expected, stats.received, stats.lost) == (9, 7, 2)


def test_the_recorder_places_audio_by_timestamp(tmp_path: Path) -> None:
    recorder = WavRecorder(tmp_path / "call.wav")
    a, b, c = (array.array("h", [v] * 160).tobytes() for v in (100, 200, 300))
    base = 2**32 - 160  # wraps between the first and second frame
    recorder.write(base, a)
    recorder.write(base + 320 - 2**32, c)  # arrives before b (reordered)
    recorder.write(base + 160 - 2**32, b)
    recorder.write(base + 640 - 2**32, a)  # one frame lost before it: silence
    recorder.close()
    samples = array.array("h")
    samples.frombytes(read_wav(tmp_path / "call.wav"))
    assert list(samples[::160]) == [100, 200, 300, 0, 100]


def test_wav_files_of_other_formats_are_converted(tmp_path: Path) -> None:
    import math
    import wave
    left = [round(8000 * math.sin(2 * math.pi * 1000 * n / 16000)) for n in range(1600)]
    stereo = array.array("h", [v for sample in left for v in (sample, sample // 2)])
    with wave.open(str(tmp_path / "s.wav"), "wb") as handle:
        handle.setnchannels(2)
        handle.setsampwidth(2)
        handle.setframerate(16000)
        handle.writeframes(stereo.tobytes())
    pcm = array.array("h")
    pcm.frombytes(read_wav(tmp_path / "s.wav"))
    assert len(pcm) == 800  # 100 ms at 8 kHz: the channels mixed, the 1 kHz tone kept
    assert abs(max(pcm[100:700]) - 6000) < 60 and abs(min(pcm[100:700]) + 6000) < 60
    assert to_pcm8k(b"\x00\x10\x20\xff\xff\xff", rate=8000, width=3, channels=1) == \
        array.array("h", [0x2010, -1]).tobytes()  # 24-bit: the top two bytes
    write_wav(tmp_path / "t.wav", tone((1000.0,), 100))
    assert len(read_wav(tmp_path / "t.wav")) == 1600
    assert to_pcm8k(b"\x80\xff", rate=8000, width=1, channels=1) == \
        array.array("h", [0, 127 << 8]).tobytes()
    with pytest.raises(ValueError, match="WAV"):
        read_wav(b"not a wav")


def test_a_reused_timestamp_long_after_the_end_is_a_new_event() -> None:
    receiver = DtmfReceiver(reuse_after=0.3)
    press = [TelephoneEvent(4, False, 10, 160).pack(), TelephoneEvent(4, True, 10, 480).pack()]
    first = receiver.feed(500, press[0], 1.0) + receiver.feed(500, press[1], 1.06)
    duplicate = receiver.feed(500, press[1], 1.1) + receiver.feed(500, press[1], 1.3)
    again = receiver.feed(500, press[0], 2.0) + receiver.feed(500, press[1], 2.06)
    assert (first, duplicate, again) == (["4"], [], ["4"])


class _Wire:
    """A datagram transport that keeps what is sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, tuple[str, int]]] = []

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None:
        self.sent.append((data, addr))

    def close(self) -> None:
        return None


async def test_the_sender_paces_frames_with_consecutive_sequence_and_timestamps() -> None:
    from omnidesk.channels.voice.rtp import MediaClock, RtpSession
    session = RtpSession(MediaClock(), codec=g711.PCMA, payload_type=8, dtmf_payload_type=101,
                         on_digit=lambda digit: None)
    wire = _Wire()
    session._transport = wire  # type: ignore[assignment]
    session.remote = ("127.0.0.1", 4000)
    prompt = tone((1000.0,), 50)  # 2.5 frames: the last one is padded
    done = session.play(prompt)
    for _ in range(5):
        session.tick()
    packets = [RtpPacket.unpack(data) for data, _ in wire.sent]
    assert [p.marker for p in packets] == [True, False, False, False, False]
    assert [(p.sequence - packets[0].sequence) & 0xFFFF for p in packets] == [0, 1, 2, 3, 4]
    assert [(p.timestamp - packets[0].timestamp) & 0xFFFFFFFF for p in packets] == \
        [0, 160, 320, 480, 640]
    assert {p.ssrc for p in packets} == {session.ssrc} and done.done()
    assert b"".join(p.payload for p in packets[:2]) == g711.encode_alaw(prompt)[:320]
    assert packets[3].payload == bytes([0xD5]) * 160  # then comfort silence
    session.sending = False  # on hold: nothing is sent
    session.tick()
    assert len(wire.sent) == 5


async def test_prompts_fall_back_to_beeps_and_pips_without_a_speech_engine(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from omnidesk.channels.voice import audio
    from omnidesk.channels.voice.prompts import Prompts
    from omnidesk.flows import AudioOutput, OptionsOutput, SpeechOutput
    monkeypatch.setattr(audio.shutil, "which", lambda name: None)
    write_wav(tmp_path / "hello.wav", tone((300.0,), 100))
    prompts = Prompts(tmp_path)
    assert await prompts.audio(SpeechOutput("Hello")) == audio.BEEP
    assert await prompts.audio(AudioOutput("hello.wav")) == tone((300.0,), 100)
    assert await prompts.audio(AudioOutput("missing.wav", "Hi")) == audio.BEEP
    assert await prompts.audio(OptionsOutput(())) is None
    pips = await prompts.position(3)
    assert len(pips) == 3 * (len(tone((880.0,), 120)) + len(audio.silence(180))) \
        + len(audio.silence(300))


def _leg(codec: int) -> tuple[object, _Wire]:
    from omnidesk.channels.voice.rtp import MediaClock, RtpSession
    session = RtpSession(MediaClock(), codec=codec, payload_type=codec, dtmf_payload_type=None,
                         on_digit=lambda digit: None)
    wire = _Wire()
    session._transport = wire  # type: ignore[assignment]
    session.remote = ("127.0.0.1", 4000)
    return session, wire


def test_a_bridge_repacketises_and_transcodes_the_other_legs_audio() -> None:
    from omnidesk.channels.voice.rtp import RtpSession
    caller, _ = _leg(g711.PCMU)
    agent, agent_wire = _leg(g711.PCMA)
    assert isinstance(caller, RtpSession) and isinstance(agent, RtpSession)
    caller.bridge(agent)
    speech = g711.encode_ulaw(tone((440.0, 700.0), 120))  # 960 bytes
    for index in range(4):  # 30 ms packets, as SIPp's capture sends them
        chunk = speech[index * 240:(index + 1) * 240]
        caller.datagram_received(RtpPacket(0, index, index * 240, 7, chunk).pack(), ("h", 1))
    for _ in range(7):
        agent.tick()
    sent = [RtpPacket.unpack(data) for data, _ in agent_wire.sent]
    assert all(p.payload_type == 8 and len(p.payload) == 160 for p in sent)
    carried = b"".join(p.payload for p in sent[:6])
    assert carried == g711.transcode(speech, g711.PCMU, g711.PCMA)
    assert sent[6].payload == bytes([0xD5]) * 160  # underrun: silence, not old audio
    caller.unbridge()
    assert agent.forward_to is None


def test_a_bridge_drops_the_oldest_audio_beyond_200_ms() -> None:
    from omnidesk.channels.voice.rtp import BRIDGE_MAX, RtpSession
    caller, _ = _leg(g711.PCMA)
    agent, agent_wire = _leg(g711.PCMA)
    assert isinstance(caller, RtpSession) and isinstance(agent, RtpSession)
    caller.bridge(agent)
    for index in range(20):
        agent.feed(g711.PCMA, bytes([index]) * 160)
    assert agent.bridge_dropped == 20 * 160 - BRIDGE_MAX
    agent.tick()  # the newest 200 ms are kept, oldest first
    assert RtpPacket.unpack(agent_wire.sent[0][0]).payload == bytes([10]) * 160


def test_transcoding_tables_match_decoding_then_encoding() -> None:
    assert all(g711.ULAW_TO_ALAW[b] == g711.linear_to_alaw(g711.ulaw_to_linear(b))
               for b in range(256))
    assert all(g711.ALAW_TO_ULAW[b] == g711.linear_to_ulaw(g711.alaw_to_linear(b))
               for b in range(256))


def test_the_queue_announcement_says_the_estimated_wait_when_there_is_one() -> None:
    from omnidesk.channels.voice.prompts import announcement
    assert announcement(3, None) == "You are number 3 in the queue."
    assert announcement(1, 20) == \
        "You are number 1 in the queue. The estimated wait is less than a minute."
    assert announcement(2, 60) == \
        "You are number 2 in the queue. The estimated wait is about 1 minute."
    assert announcement(4, 400) == \
        "You are number 4 in the queue. The estimated wait is about 7 minutes."
