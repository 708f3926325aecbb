"""Agents' browser phones: one WebRTC peer connection (aiortc) per agent whose desktop turned
its phone on, used as the agent leg of a call instead of a registered SIP phone.

The desktop offers (non-trickle: its SDP carries every candidate), we answer preferring
G.711, and the connection stays up while the phone is on: silence when idle, the caller's
audio once a call is bridged. Each phone has one `BrowserLeg`, an `RtpSession` without
sockets, so the caller's leg bridges to it exactly as to a SIP phone's leg (the same
repacketising buffer, transcoding and recording); aiortc carries its audio to and from the
browser as PCM frames.

A call offered to an agent whose browser phone is online rings in the desktop (the offer);
when the agent accepts it there (`offer.accepted`), the caller is bridged to the browser;
the desktop's hang-up, or the connection going away, is the agent hanging up. The agent can
also place a call from it (dialout.py): the trunk's leg is bridged to the phone's leg."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.exceptions import InternalError, InvalidAccessError, InvalidStateError, OperationError
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, AudioResampler

from omnidesk.channels.voice.audio import FRAME_SAMPLES, RATE
from omnidesk.channels.voice.call import first
from omnidesk.channels.voice.g711 import DECODERS, ENCODERS, PCMU, SILENCE
from omnidesk.channels.voice.rtp import FRAME_SECONDS, MediaClock, RtpSession
from omnidesk.channels.voice.ua import describe
from omnidesk.db import Database
from omnidesk.events.bus import EventTypes
from omnidesk.events.follower import BusFollower
from omnidesk.events.record import EventRecord
from omnidesk.interactions.models import Interaction
from omnidesk.interactions.states import InteractionState

if TYPE_CHECKING:
    from omnidesk.channels.voice.service import CallLeg

log = logging.getLogger("omnidesk.voice.webrtc")
TIME_BASE = fractions.Fraction(1, RATE)
G711_MIME_TYPES = ("audio/PCMU", "audio/PCMA")  # the callers' codecs: no Opus transcoding
ENDED_STATES = frozenset({"failed", "closed"})
# What aiortc raises for an SDP offer it cannot answer (unreadable, no audio, no G.711).
SDP_ERRORS = (ValueError, KeyError, IndexError, InternalError, InvalidAccessError,
              InvalidStateError, OperationError)


class BrowserLeg(RtpSession):
    """The agent leg of a bridge when the agent's phone is a browser: no sockets, no media
    clock. The caller's leg feeds it (`feed`, from RtpSession) and it hands the browser's
    audio to the caller's leg (`received`)."""

    def __init__(self, clock: MediaClock) -> None:
        super().__init__(clock, codec=PCMU, payload_type=0, dtmf_payload_type=None,
                         on_digit=_no_digits)
        self.frames_received = 0
        self._record_at = 0  # samples written to the recording so far

    def next_pcm(self) -> bytes:
        """The next 20 ms for the browser: the caller's audio when bridged, else silence."""
        payload = self._next_frame() or bytes([SILENCE[self.codec]]) * FRAME_SAMPLES
        return DECODERS[self.codec](payload)

    def received(self, pcm: bytes) -> None:
        """Audio from the browser (8 kHz 16-bit mono PCM) for the caller's leg."""
        self.frames_received += 1
        if self.recorder is not None:
            self.recorder.write(self._record_at, pcm)
            self._record_at += len(pcm) // 2
        if self.forward_to is not None:
            self.forward_to.feed(self.codec, ENCODERS[self.codec](pcm))

    def stop_recording(self) -> None:
        """Finish the agent leg's recording of the call that ended."""
        if self.recorder is not None:
            self.recorder.close()
        self.recorder = None
        self._record_at = 0


def _no_digits(digit: str) -> None:
    """Browser phones send no DTMF."""


class CallerTrack(MediaStreamTrack):
    """What the browser hears: 20 ms frames from the phone's leg, paced by the loop clock."""

    kind = "audio"

    def __init__(self, leg: BrowserLeg) -> None:
        super().__init__()
        self.leg = leg
        self._start: float | None = None
        self._pts = 0

    async def recv(self) -> AudioFrame:
        """The next frame, when it is due."""
        if self.readyState != "live":
            raise MediaStreamError
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        else:
            self._pts += FRAME_SAMPLES
            delay = self._start + self._pts / RATE - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -10 * FRAME_SECONDS:  # far behind (overloaded): do not burst
                self._start = loop.time() - self._pts / RATE
        frame = AudioFrame(format="s16", layout="mono", samples=FRAME_SAMPLES)
        frame.planes[0].update(self.leg.next_pcm())
        frame.sample_rate = RATE
        frame.pts = self._pts
        frame.time_base = TIME_BASE
        return frame


class BrowserPhone:
    """One agent's browser phone: the peer connection, its leg and the call it carries."""

    def __init__(self, phones: BrowserPhones, agent_id: uuid.UUID) -> None:
        self.phones = phones
        self.agent_id = agent_id
        self.leg = BrowserLeg(phones.clock)
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.closed = asyncio.Event()
        self.interaction_id: uuid.UUID | None = None  # the call bridged to it
        self.reserved = False  # a call the agent places is being set up (dialout.py)
        self._hung_up = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)

    async def answer(self, offer_sdp: str) -> str:
        """Take the desktop's SDP offer (with its candidates); our SDP answer (with ours)."""
        transceiver = self.pc.addTransceiver(CallerTrack(self.leg), direction="sendrecv")
        codecs = RTCRtpSender.getCapabilities("audio").codecs
        transceiver.setCodecPreferences(
            [codec for codec in codecs if codec.mimeType in G711_MIME_TYPES])
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return self.pc.localDescription.sdp

    @property
    def busy(self) -> bool:
        """On a call (or answering or placing one)."""
        return self.interaction_id is not None or self.reserved

    def reserve(self) -> bool:
        """Keep the phone for a call the agent places; False when it is busy."""
        if self.busy:
            return False
        self.reserved = True
        return True

    def hang_up(self) -> bool:
        """The desktop hung up the call; False when there is none."""
        if self.interaction_id is None:
            return False
        self._hung_up.set()
        return True

    async def close(self) -> None:
        """Turn the phone off: close the connection (a call on it is hung up)."""
        self.closed.set()
        self.phones.forget(self)
        await self.pc.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self.leg.close()

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind != "audio":
            return
        task = asyncio.get_running_loop().create_task(self._receive(track))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _receive(self, track: MediaStreamTrack) -> None:
        """The browser's microphone, resampled to 8 kHz mono, to the leg (and the caller)."""
        resampler = AudioResampler(format="s16", layout="mono", rate=RATE)
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if not isinstance(frame, AudioFrame):
                continue
            for pcm_frame in resampler.resample(frame):
                self.leg.received(bytes(pcm_frame.planes[0])[:pcm_frame.samples * 2])

    def _on_state(self) -> None:
        state = self.pc.connectionState
        log.info("browser phone of agent %s: %s", self.agent_id, state)
        if state in ENDED_STATES and not self.closed.is_set():
            task = asyncio.get_running_loop().create_task(self.close())
            self.phones.keep(task)

    async def take(self, call: CallLeg) -> None:
        """The call was offered to this agent: wait until the desktop accepts the offer, then
        bridge the caller to the browser until either side hangs up. (Declined, timed out or
        withdrawn offers end it before: the router moves on as for a SIP phone.)"""
        if self.busy or call.interaction_id is None:
            return
        interaction_id = call.interaction_id
        self.interaction_id = interaction_id
        self._hung_up = asyncio.Event()
        try:
            accepted = self.phones.expect(interaction_id, self.agent_id)
            if not await self._accepted(interaction_id):
                outcome = await first(accepted, call._offer_gone, call.call.ended, self.closed)
                if outcome is not accepted:
                    return
            # The offer can come while the call still rings: its media exists once answered.
            await first(call.call.confirmed, call.call.ended, self.closed)
            media = call.call.media
            if media is None or not call.call.live:
                return
            media.stop_playback()
            media.background = None
            media.bridge(self.leg)
            call.bridged = True
            if call.recording is not None:
                self.leg.record_to(call.recording.with_suffix(".agent.wav"))
            await call._event("call.bridged", {**describe(call.call),
                                               "agent_id": str(self.agent_id),
                                               "phone": "browser"})
            await first(self._hung_up, self.closed, call.call.ended)
        finally:
            self.phones.expect_no_more(interaction_id)
            if self.leg.forward_to is not None:
                self.leg.unbridge()
            self.leg.stop_recording()
            self.interaction_id = None
        if call.bridged and call.call.live:  # the agent hung up: the survey, or hang up
            await call._agent_left()

    async def place(self, interaction_id: uuid.UUID,
                    run: Callable[[asyncio.Event, asyncio.Event], Awaitable[bool]]) -> bool:
        """A call the agent places (dialout.py; `reserve` first): the phone is busy with it
        while `run` dials, bridges and waits for the end (given the desktop's hang-up and the
        phone closing); `run`'s answer (False: never answered)."""
        self.interaction_id = interaction_id
        self.reserved = False
        self._hung_up = asyncio.Event()
        try:
            return await run(self._hung_up, self.closed)
        finally:
            if self.leg.forward_to is not None:
                self.leg.unbridge()
            self.interaction_id = None

    async def _accepted(self, interaction_id: uuid.UUID) -> bool:
        """The offer is accepted already (the desktop was quicker than us)."""
        async with self.phones.db.read() as session:
            row = await session.get(Interaction, interaction_id)
        return row is not None and row.agent_id == self.agent_id \
            and row.state in (InteractionState.CONNECTED, InteractionState.ON_HOLD)


class BrowserPhones(BusFollower):
    """The browser phones that are online, by agent; follows `offer.accepted` to answer the
    calls they ring for."""

    FOLLOWS = EventTypes(frozenset({"offer.accepted"}))

    def __init__(self, db: Database, clock: MediaClock) -> None:
        super().__init__(db)
        self.clock = clock
        self.phones: dict[uuid.UUID, BrowserPhone] = {}
        self._expected: dict[str, tuple[uuid.UUID, asyncio.Event]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def online(self, agent_id: uuid.UUID) -> BrowserPhone | None:
        """The agent's browser phone, if it is on."""
        phone = self.phones.get(agent_id)
        return phone if phone is not None and not phone.closed.is_set() else None

    async def connect(self, agent_id: uuid.UUID, offer_sdp: str) -> str:
        """Turn the agent's browser phone on (replacing one they had): the SDP answer."""
        old = self.phones.pop(agent_id, None)
        if old is not None:
            await old.close()
        phone = BrowserPhone(self, agent_id)
        try:
            answer = await phone.answer(offer_sdp)
        except Exception:
            await phone.close()
            raise
        self.phones[agent_id] = phone
        log.info("browser phone of agent %s is on", agent_id)
        return answer

    async def disconnect(self, agent_id: uuid.UUID) -> bool:
        """Turn the agent's browser phone off; False when it was not on."""
        phone = self.phones.pop(agent_id, None)
        if phone is None:
            return False
        await phone.close()
        return True

    def forget(self, phone: BrowserPhone) -> None:
        """A phone closed: it is no longer online."""
        if self.phones.get(phone.agent_id) is phone:
            del self.phones[phone.agent_id]

    def keep(self, task: asyncio.Task[None]) -> None:
        """Keep a background task until it is done (and let stop() wait for it)."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def expect(self, interaction_id: uuid.UUID, agent_id: uuid.UUID) -> asyncio.Event:
        """An event set when this agent accepts the offer of this interaction."""
        accepted = asyncio.Event()
        self._expected[str(interaction_id)] = (agent_id, accepted)
        return accepted

    def expect_no_more(self, interaction_id: uuid.UUID) -> None:
        """Stop waiting for the acceptance of an offer."""
        self._expected.pop(str(interaction_id), None)

    async def on_event(self, record: EventRecord | None) -> None:
        """`offer.accepted` of a call a browser phone rings for: answer it."""
        if record is None or record.type != "offer.accepted":
            return
        expected = self._expected.get(record.subject)
        if expected is not None and str(record.payload.get("agent_id")) == str(expected[0]):
            expected[1].set()

    async def stop(self) -> None:
        """Stop following events and turn every phone off."""
        await super().stop()
        for phone in list(self.phones.values()):
            await phone.close()
        self.phones.clear()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
