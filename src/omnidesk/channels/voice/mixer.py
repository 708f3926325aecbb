"""A small conference mixer for one call's legs (supervisor listen / whisper / barge).

Each leg's received G.711 is decoded into its own input buffer (16-bit PCM, 40 ms pre-fill,
at most 200 ms kept, as the two-party bridge does). Once per 20 ms tick of the media clock
the mixer takes one frame from every input and gives every leg the clipped sum of the
inputs it hears — who hears whom is a table (`routes`), so a mode change is one assignment
and takes effect on the next tick. Legs pull their frames (`RtpSession` asks `frame` when
it is its turn to send); the first leg that asks again after taking its frame starts the
next round, so one round is mixed per clock tick whatever order the clock ticks legs in.

Legs move between a two-party bridge and the mixer without a gap: the audio waiting in the
bridge buffers seeds the mixer's inputs (`add(backlog=…)`), and what waits in the mixer's
inputs seeds the bridge again when the supervisor leaves (`remove` returns it).
"""

from __future__ import annotations

import array
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from omnidesk.channels.voice.audio import FRAME_BYTES
from omnidesk.channels.voice.g711 import DECODERS, ENCODERS
from omnidesk.channels.voice.rtp import BRIDGE_MAX, BRIDGE_PREFILL, RtpSession

CALLER, AGENT, SUPERVISOR = "caller", "agent", "supervisor"
PREFILL_BYTES = 2 * BRIDGE_PREFILL  # 40 ms of 16-bit samples
MAX_BYTES = 2 * BRIDGE_MAX  # 200 ms
LOUDEST, QUIETEST = 32767, -32768


class Mode(enum.StrEnum):
    """How a supervisor is on a call."""

    LISTEN = "listen"  # hears caller and agent; nobody hears them
    WHISPER = "whisper"  # hears both; only the agent hears them
    BARGE = "barge"  # a three-way conference


def routes(mode: Mode | None) -> dict[str, frozenset[str]]:
    """Who hears whom (listener → the legs they hear) in a mode; None: the two parties only."""
    table = {CALLER: frozenset({AGENT}), AGENT: frozenset({CALLER})}
    if mode is Mode.LISTEN:
        table[SUPERVISOR] = frozenset({CALLER, AGENT})
    elif mode is Mode.WHISPER:
        table[AGENT] = frozenset({CALLER, SUPERVISOR})
        table[SUPERVISOR] = frozenset({CALLER, AGENT})
    elif mode is Mode.BARGE:
        table = {CALLER: frozenset({AGENT, SUPERVISOR}), AGENT: frozenset({CALLER, SUPERVISOR}),
                 SUPERVISOR: frozenset({CALLER, AGENT})}
    return table


def mix(frames: Iterable[bytes]) -> bytes | None:
    """The sum of 16-bit PCM frames of equal length, clipped to 16 bits (None if none)."""
    sources = [array.array("h", frame) for frame in frames]
    if not sources:
        return None
    if len(sources) == 1:
        return sources[0].tobytes()
    total = array.array("h", [LOUDEST if s > LOUDEST else QUIETEST if s < QUIETEST else s
                              for s in map(sum, zip(*sources, strict=True))])
    return total.tobytes()


@dataclass(eq=False)
class _Leg:
    """One leg in the mixer: its session, its input buffer, the frame mixed for it."""

    name: str
    session: RtpSession
    pcm: bytearray = field(default_factory=bytearray)  # received audio, decoded
    playing: bool = False  # pre-filled; cleared on underrun
    out: bytes | None = None  # this round's mix for the leg (PCM)
    taken: bool = True  # `out` was sent; the next ask starts a round
    dropped: int = 0  # bytes of input dropped because the leg ran ahead

    def take(self) -> bytes | None:
        """This round's 20 ms of the leg's input, or None (pre-filling, underrun)."""
        if not self.playing and len(self.pcm) < PREFILL_BYTES:
            return None
        self.playing = len(self.pcm) >= FRAME_BYTES
        if not self.playing:
            return None
        frame = bytes(self.pcm[:FRAME_BYTES])
        del self.pcm[:FRAME_BYTES]
        return frame


class Mixer:
    """Mixes the legs of one call: each leg hears the clipped sum of the legs its route names.

    Implements `rtp.MediaMixer`: `add` makes a session send what the mixer gives it and hand
    over what it receives, `remove` gives the session back."""

    def __init__(self, table: Mapping[str, Iterable[str]] | None = None) -> None:
        self.legs: dict[str, _Leg] = {}
        self._by_session: dict[RtpSession, _Leg] = {}
        self.table: dict[str, frozenset[str]] = {}
        self.rounds = 0
        self.route(table or routes(None))

    def route(self, table: Mapping[str, Iterable[str]]) -> None:
        """Set who hears whom (from the next round on); a leg not named hears nothing."""
        self.table = {name: frozenset(heard) - {name} for name, heard in table.items()}

    def add(self, name: str, session: RtpSession, *, backlog: bytes = b"") -> None:
        """Put a session in as `name`; `backlog` (PCM) is audio of it already waiting to be
        heard (from a bridge buffer): it plays on the next round, without a pre-fill."""
        self.remove(name)
        leg = _Leg(name, session, bytearray(backlog[-MAX_BYTES:]))
        leg.playing = len(leg.pcm) >= FRAME_BYTES
        self.legs[name] = leg
        self._by_session[session] = leg
        session.unbridge()
        session.mixer = self

    def remove(self, name: str) -> bytes:
        """Take a leg out (its session goes back to sending nothing of ours); returns its input
        not heard yet (PCM), to seed a bridge."""
        leg = self.legs.pop(name, None)
        if leg is None:
            return b""
        self._by_session.pop(leg.session, None)
        if leg.session.mixer is self:
            leg.session.mixer = None
        return bytes(leg.pcm)

    def take_bridge(self, first: tuple[str, RtpSession],
                    second: tuple[str, RtpSession]) -> None:
        """Move two bridged legs in, without a gap: the audio waiting in each one's bridge
        buffer (the other's voice, in its codec) is the first the mixer plays of the other."""
        (first_name, one), (second_name, other) = first, second
        for_one, for_other = one.bridge_backlog(), other.bridge_backlog()
        self.add(first_name, one, backlog=DECODERS[other.codec](for_other))
        self.add(second_name, other, backlog=DECODERS[one.codec](for_one))

    def bridge_back(self, first: tuple[str, RtpSession],
                    second: tuple[str, RtpSession]) -> None:
        """Take two legs out and bridge them again, without a gap: what the mixer still had of
        each one's voice is the first the other hears."""
        (first_name, one), (second_name, other) = first, second
        from_one, from_other = self.remove(first_name), self.remove(second_name)
        one.bridge(other)
        one.prime_bridge(ENCODERS[one.codec](from_other))
        other.prime_bridge(ENCODERS[other.codec](from_one))

    def session(self, name: str) -> RtpSession | None:
        """The session of a leg, if it is in."""
        leg = self.legs.get(name)
        return leg.session if leg is not None else None

    @property
    def dropped(self) -> int:
        """Bytes of input dropped, all legs (a leg's phone sending faster than our clock)."""
        return sum(leg.dropped for leg in self.legs.values())

    # ---- rtp.MediaMixer --------------------------------------------------------------

    def received(self, session: RtpSession, payload: bytes) -> None:
        """Audio a leg received: decoded into its input buffer."""
        leg = self._by_session.get(session)
        if leg is None:
            return
        leg.pcm.extend(DECODERS[session.codec](payload))
        excess = len(leg.pcm) - MAX_BYTES
        if excess > 0:
            del leg.pcm[:excess]
            leg.dropped += excess

    def frame(self, session: RtpSession) -> bytes | None:
        """The leg's next frame, in its codec (None: silence)."""
        leg = self._by_session.get(session)
        if leg is None:
            return None
        if leg.taken:
            self._mix()
        leg.taken = True
        return ENCODERS[session.codec](leg.out) if leg.out is not None else None

    def _mix(self) -> None:
        """One round: a frame from every input, a sum for every leg."""
        self.rounds += 1
        heard = {name: leg.take() for name, leg in self.legs.items()}
        for name, leg in self.legs.items():
            leg.out = mix(frame for source in sorted(self.table.get(name, ()))
                          if (frame := heard.get(source)) is not None)
            leg.taken = False
