"""The conference mixer on synthetic audio: each leg sends its own tone, and a spectrum of
what each leg is sent says exactly whom it hears — in every mode, across mode changes, and
moving between the two-party bridge and the mixer without losing or repeating a frame."""

from __future__ import annotations

import array

import numpy as np
import pytest

from omnidesk.channels.voice.audio import FRAME_SAMPLES, RATE, tone
from omnidesk.channels.voice.g711 import DECODERS, ENCODERS, PCMA, PCMU, transcode
from omnidesk.channels.voice.mixer import (
    AGENT,
    CALLER,
    MAX_BYTES,
    SUPERVISOR,
    Mixer,
    Mode,
    mix,
    routes,
)
from omnidesk.channels.voice.rtp import MediaClock, RtpPacket, RtpSession

# Whole cycles in every 20 ms frame (bins 8, 21, 35 of a frame's DFT: no leakage), and no
# sum, difference or low harmonic of two of them lands on the third.
TONES = {CALLER: 400.0, AGENT: 1050.0, SUPERVISOR: 1750.0}
CODECS = {CALLER: PCMA, AGENT: PCMU, SUPERVISOR: PCMU}
AMPLITUDE = 6000
HEARD, SILENT = 0.6 * AMPLITUDE, 0.02 * AMPLITUDE
EVERYONE = (CALLER, AGENT, SUPERVISOR)


def level(pcm: bytes, frequency: float) -> float:
    """The amplitude of a tone in 16-bit PCM (DFT over whole frames)."""
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    if not len(samples):
        return 0.0
    spectrum = np.abs(np.fft.rfft(samples)) * 2 / len(samples)
    return float(spectrum[round(frequency * len(samples) / RATE)])


def heard(pcm: bytes) -> set[str]:
    """The legs whose tone is in the audio (and none at an in-between level)."""
    found = set()
    for name, frequency in TONES.items():
        amplitude = level(pcm, frequency)
        assert amplitude > HEARD or amplitude < SILENT, f"{name} at {amplitude:.0f}"
        if amplitude > HEARD:
            found.add(name)
    return found


class Leg:
    """A phone on one leg: its RTP session and the tone it sends, frame by frame."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.session = RtpSession(MediaClock(), codec=CODECS[name],
                                  payload_type=CODECS[name], dtmf_payload_type=None,
                                  on_digit=lambda _: None)
        self.pcm = tone((TONES[name],), 1000, amplitude=AMPLITUDE)  # 50 frames, loops
        self.sent = bytearray()  # the G.711 it sent
        self.got: list[bytes] = []  # PCM of every frame it was sent (silence as zeros)
        self.sequence = 0

    def send(self) -> None:
        """One 20 ms RTP packet of its tone, into our session."""
        start = (self.sequence * 2 * FRAME_SAMPLES) % len(self.pcm)
        payload = ENCODERS[self.session.codec](self.pcm[start:start + 2 * FRAME_SAMPLES])
        packet = RtpPacket(self.session.payload_type, self.sequence, 160 * self.sequence, 7,
                           payload)
        self.session.datagram_received(packet.pack(), ("127.0.0.1", 4000))
        self.sent.extend(payload)
        self.sequence += 1

    def receive(self) -> None:
        """What our session sends it on this tick (as the media clock asks for it)."""
        frame = self.session._next_frame()
        self.got.append(DECODERS[self.session.codec](frame) if frame is not None
                        else bytes(2 * FRAME_SAMPLES))

    def last(self, frames: int) -> bytes:
        return b"".join(self.got[-frames:])


def conference(mode: Mode | None) -> tuple[Mixer, dict[str, Leg]]:
    legs = {name: Leg(name) for name in EVERYONE}
    mixer = Mixer(routes(mode))
    for name, leg in legs.items():
        mixer.add(name, leg.session)
    return mixer, legs


def run(legs: dict[str, Leg], ticks: int) -> None:
    """Ticks of the media clock: every phone sends a packet, every session sends a frame."""
    for _ in range(ticks):
        for leg in legs.values():
            leg.send()
        for leg in legs.values():
            leg.receive()


EXPECTED = {
    None: {CALLER: {AGENT}, AGENT: {CALLER}, SUPERVISOR: set()},
    Mode.LISTEN: {CALLER: {AGENT}, AGENT: {CALLER}, SUPERVISOR: {CALLER, AGENT}},
    Mode.WHISPER: {CALLER: {AGENT}, AGENT: {CALLER, SUPERVISOR}, SUPERVISOR: {CALLER, AGENT}},
    Mode.BARGE: {CALLER: {AGENT, SUPERVISOR}, AGENT: {CALLER, SUPERVISOR},
                 SUPERVISOR: {CALLER, AGENT}},
}


def test_the_routes_say_who_hears_whom_in_each_mode() -> None:
    for mode, expected in EXPECTED.items():
        table = routes(mode)
        assert {name: set(table.get(name, ())) for name in EVERYONE} == expected


@pytest.mark.parametrize("mode", list(EXPECTED), ids=lambda m: str(m or "two-party"))
def test_each_leg_hears_exactly_the_legs_its_mode_says(mode: Mode | None) -> None:
    _, legs = conference(mode)
    run(legs, 50)
    for name, leg in legs.items():
        assert heard(leg.last(25)) == EXPECTED[mode][name], name


def test_the_mode_changes_on_the_next_tick_and_every_tick_after() -> None:
    mixer, legs = conference(Mode.LISTEN)
    agent = legs[AGENT]
    run(legs, 10)
    for mode in (Mode.WHISPER, Mode.LISTEN, Mode.BARGE, Mode.LISTEN):
        mixer.route(routes(mode))
        run(legs, 5)
        frames = agent.got[-5:]
        assert all(heard(frame) == EXPECTED[mode][AGENT] for frame in frames), mode
        assert all(heard(frame) == EXPECTED[mode][CALLER] for frame in legs[CALLER].got[-5:])


def test_a_sum_is_clipped_to_16_bits_not_wrapped() -> None:
    loud = array.array("h", [30000, -30000, 100]).tobytes()
    assert array.array("h", mix([loud, loud])).tolist() == [32767, -32768, 200]
    assert mix([loud]) == loud
    assert mix([]) is None


def test_two_loud_legs_mixed_clip_without_wrapping_around() -> None:
    _, legs = conference(Mode.BARGE)
    for leg in legs.values():
        leg.pcm = array.array("h", [30000] * FRAME_SAMPLES).tobytes()
    run(legs, 10)
    supervisor = array.array("h", legs[SUPERVISOR].last(1))
    assert min(supervisor) > 30000  # 30000 + 30000 → the top, not a negative wrap


def test_a_leg_that_sends_nothing_is_silence_in_the_sum() -> None:
    _, legs = conference(Mode.BARGE)
    quiet = legs.pop(SUPERVISOR)
    run(legs, 20)
    quiet.receive()
    assert heard(legs[AGENT].last(10)) == {CALLER}
    assert heard(quiet.last(1)) == {CALLER, AGENT}


def test_a_phone_running_ahead_is_capped_at_200_ms_and_the_drop_counted() -> None:
    mixer, legs = conference(Mode.LISTEN)
    for _ in range(30):
        legs[CALLER].send()  # 600 ms at once
    assert len(mixer.legs[CALLER].pcm) == MAX_BYTES
    assert mixer.dropped == 30 * 2 * FRAME_SAMPLES - MAX_BYTES


def test_legs_move_from_the_bridge_to_the_mixer_and_back_without_losing_a_frame() -> None:
    """The agent hears every frame the caller sent, once and in order, while the call goes
    bridge → mixer (listen, then barge) → bridge; the A-law caller to the µ-law agent is the
    same table transcoding on both paths, so the bytes must match exactly."""
    legs = {name: Leg(name) for name in EVERYONE}
    caller, agent, supervisor = legs[CALLER], legs[AGENT], legs[SUPERVISOR]
    legs[SUPERVISOR].pcm = bytes(len(supervisor.pcm))  # a quiet supervisor: no sum
    caller.session.bridge(agent.session)
    agent_sent: list[bytes] = []

    def tick(count: int) -> None:
        for _ in range(count):
            for leg in legs.values():
                leg.send()
            for leg in legs.values():
                frame = leg.session._next_frame()
                leg.got.append(DECODERS[leg.session.codec](frame) if frame is not None
                               else b"")
                if leg is agent:
                    agent_sent.append(frame or b"")

    tick(10)
    mixer = Mixer(routes(Mode.LISTEN))
    mixer.take_bridge((CALLER, caller.session), (AGENT, agent.session))
    mixer.add(SUPERVISOR, supervisor.session)
    tick(10)
    assert heard(supervisor.last(5)) == {CALLER, AGENT}
    mixer.route(routes(Mode.BARGE))
    tick(10)
    mixer.bridge_back((CALLER, caller.session), (AGENT, agent.session))
    mixer.remove(SUPERVISOR)
    tick(10)
    assert caller.session.forward_to is agent.session and agent.session.mixer is None

    played = [frame for frame in agent_sent if frame]
    first = agent_sent.index(played[0])
    assert all(agent_sent[first:]), "a silent tick while switching"
    expected = transcode(bytes(caller.sent), PCMA, PCMU)
    assert b"".join(played) == expected[:len(played) * FRAME_SAMPLES]
    assert len(played) >= 40 - 3  # at most the pre-fill is missing


def test_the_mixer_counts_one_round_per_tick_whatever_order_the_legs_ask_in() -> None:
    mixer, legs = conference(Mode.BARGE)
    order = list(legs.values())
    for tick in range(20):
        for leg in order:
            leg.send()
        for leg in order[tick % 3:] + order[:tick % 3]:
            leg.receive()
    assert mixer.rounds == 20
    assert all(heard(leg.last(5)) == EXPECTED[Mode.BARGE][leg.name] for leg in order)
