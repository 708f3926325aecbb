"""A supervisor on a live call, end to end: SIPp calls in playing a 400 Hz tone, the agent's
phone and the supervisor's phone are SIPp UASs whose media is an RTP peer of this test (the
agent's sends 1050 Hz, the supervisor's 1750 Hz, both keep what they are sent); the API
rings the supervisor's phone, and what each phone hears says the mixer's modes work:
listen (the supervisor hears both, the agent not the supervisor), whisper and barge (the
agent hears the supervisor), and leaving (the agent hears only the caller again, no gap)."""

from __future__ import annotations

import asyncio
import contextlib
import struct
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from omnidesk.channels.voice.audio import FRAME_SAMPLES, RATE, tone
from omnidesk.channels.voice.g711 import DECODERS, ENCODERS, PCMA, PCMU
from omnidesk.channels.voice.rtp import RtpPacket
from omnidesk.config import Settings
from tests.conftest import PASSWORD
from tests.voice.conftest import (
    EXTENSION_PASSWORD,
    SCENARIOS,
    Phone,
    free_port,
    sipp_binary,
)
from tests.voice.test_sipp_agent import agent_ready, finish, register

CALLER_HZ, AGENT_HZ, SUPERVISOR_HZ = 400.0, 1050.0, 1750.0  # no sums / harmonics collide
AMPLITUDE = 6000
HEARD, SILENT = 0.5 * AMPLITUDE, 0.05 * AMPLITUDE
WINDOW = 25  # packets (500 ms) of what a phone heard, per check
SIPP_PCAP = Path("/usr/share/sip-tester/g711a.pcap")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The voice tests' settings, plus extension 202: supervisor Sam's phone."""
    path = settings.data_dir / "voice" / "extensions.yaml"
    path.write_text(path.read_text() + f"  - {{extension: '202', password: {EXTENSION_PASSWORD},"
                                       " tenant: acme, user: sam@acme.example}\n")
    return settings


def write_tone_pcap(path: Path, frequency: float, seconds: int) -> None:
    """SIPp's A-law capture rewritten to carry a tone: its first packet's headers (30 ms of
    A-law per packet), new RTP sequence / timestamps and pcap times, `seconds` long."""
    data = SIPP_PCAP.read_bytes()
    header, (length,) = data[:24], struct.unpack_from("<I", data, 24 + 8)
    template = data[24 + 16: 24 + 16 + length]  # Ethernet + IPv4 + UDP + RTP + 240 bytes
    samples = len(template) - 54
    pcm = tone((frequency,), seconds * 1000, amplitude=AMPLITUDE)
    alaw = ENCODERS[PCMA](pcm)
    records = []
    for index in range(len(alaw) // samples):
        rtp = RtpPacket(PCMA, index, index * samples, 0x7011E,
                        alaw[index * samples:(index + 1) * samples]).pack()
        packet = template[:40] + b"\x00\x00" + rtp  # UDP checksum 0: none
        micros = index * samples * 1_000_000 // RATE
        records.append(struct.pack("<IIII", 1_700_000_000 + micros // 1_000_000,
                                   micros % 1_000_000, len(packet), len(packet)) + packet)
    path.write_bytes(header + b"".join(records))


class RtpPeer(asyncio.DatagramProtocol):
    """A phone's media: keeps every packet it is sent (decoded), and once it knows where
    they come from sends its own tone back, paced at 20 ms."""

    def __init__(self, frequency: float) -> None:
        self.heard: list[bytes] = []  # PCM of each packet received, in order
        self.remote: tuple[str, int] | None = None
        self.arrived = asyncio.Event()
        self.pcm = tone((frequency,), 1000, amplitude=AMPLITUDE)  # whole cycles: loops
        self.transport: asyncio.DatagramTransport | None = None
        self.port = 0
        self._sender: asyncio.Task[None] | None = None

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(50):
            port = free_port() // 2 * 2
            try:
                await loop.create_datagram_endpoint(lambda: self,
                                                    local_addr=("127.0.0.1", port))
            except OSError:
                continue
            self.port = port
            return
        raise RuntimeError("no free RTP port")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        packet = RtpPacket.unpack(data)
        if packet.payload_type not in (PCMU, PCMA):
            return
        self.heard.append(DECODERS[packet.payload_type](packet.payload))
        self.arrived.set()
        if self.remote is None:
            self.remote = (str(addr[0]), int(addr[1]))
            self._sender = asyncio.get_running_loop().create_task(self._send())

    async def _send(self) -> None:
        loop = asyncio.get_running_loop()
        start, index = loop.time(), 0
        while self.transport is not None and self.remote is not None:
            offset = (index * 2 * FRAME_SAMPLES) % len(self.pcm)
            payload = ENCODERS[PCMU](self.pcm[offset:offset + 2 * FRAME_SAMPLES])
            self.transport.sendto(RtpPacket(PCMU, index & 0xFFFF, index * FRAME_SAMPLES,
                                            0xFEED, payload).pack(), self.remote)
            index += 1
            await asyncio.sleep(max(0.0, start + index * 0.02 - loop.time()))

    async def next_packets(self, count: int, seconds: float = 15) -> list[bytes]:
        """The next `count` packets received from now on."""
        first = len(self.heard)
        async with asyncio.timeout(seconds):
            while len(self.heard) < first + count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.heard[first:first + count]

    async def close(self) -> None:
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
        if self.transport is not None:
            self.transport.close()
            self.transport = None


def level(pcm: bytes, frequency: float) -> float:
    """A tone's amplitude in 16-bit PCM (a window of whole 20 ms frames: an exact bin)."""
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples)) * 2 / max(1, len(samples))
    return float(spectrum[round(frequency * len(samples) / RATE)])


TONES = {"caller": CALLER_HZ, "agent": AGENT_HZ, "supervisor": SUPERVISOR_HZ}


def heard(packets: list[bytes]) -> set[str]:
    """Whose tones are in a stretch of received audio."""
    pcm = b"".join(packets)
    levels = {name: level(pcm, frequency) for name, frequency in TONES.items()}
    assert all(value > HEARD or value < SILENT for value in levels.values()), levels
    return {name for name, value in levels.items() if value > HEARD}


async def settled(peer: RtpPeer) -> list[bytes]:
    """What the peer hears once a change has gone through the buffers (≤ 200 ms)."""
    await peer.next_packets(10)
    return await peer.next_packets(WINDOW)


@dataclass
class SippPhone:
    """A SIPp UAS (the phone's signalling) and our RTP peer (its media)."""

    process: asyncio.subprocess.Process
    peer: RtpPeer
    name: str


async def start_phone(phone: Phone, name: str, extension: str,
                      frequency: float) -> SippPhone:
    peer = RtpPeer(frequency)
    await peer.open()
    sip_port = free_port()
    assert await asyncio.to_thread(register, phone.voice.port, sip_port, extension) == 200
    process = await asyncio.create_subprocess_exec(
        sipp_binary(), "-sf", str(SCENARIOS / "peer_phone.xml"), "-m", "1",
        "-set", "rtp_host", "127.0.0.1", "-set", "rtp_port", str(peer.port),
        "-i", "127.0.0.1", "-p", str(sip_port), "-mi", "127.0.0.1", "-mp", str(free_port()),
        "-timeout", "60s", "-timeout_error", "-trace_err",
        "-error_file", str(phone.workdir / f"{name}.errors.log"), cwd=phone.workdir,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    return SippPhone(process, peer, name)


async def ended_cleanly(phone: Phone, sipp: SippPhone) -> None:
    errors = phone.workdir / f"{sipp.name}.errors.log"
    assert await finish(sipp.process) == 0, errors.read_text() if errors.exists() else ""


async def supervisor_sam(phone: Phone) -> tuple[dict[str, str], str]:
    response = await phone.api.client.post("/api/v1/users", headers=phone.admin, json={
        "email": "sam@acme.example", "name": "Sam", "role": "supervisor",
        "password": PASSWORD})
    assert response.status_code == 201, response.text
    return await phone.api.login("acme", "sam@acme.example"), response.json()["id"]


async def test_a_supervisor_listens_whispers_barges_and_leaves_a_live_call(
        phone: Phone) -> None:
    await agent_ready(phone)
    sam, sam_id = await supervisor_sam(phone)
    write_tone_pcap(phone.workdir / "tone.pcap", CALLER_HZ, 40)
    agent = await start_phone(phone, "agent", "201", AGENT_HZ)
    caller = asyncio.create_task(phone.sipp("call_tone.xml", "-s", "300"))
    supervisor: SippPhone | None = None
    try:
        bridged = await phone.wait_for_event("call.bridged", 20)
        interaction = bridged.subject
        url = f"/api/v1/interactions/{interaction}/monitor"
        assert heard(await settled(agent.peer)) == {"caller"}

        # Sam has no registered phone yet: a clear refusal.
        refused = await phone.api.client.post(url, headers=sam, json={"mode": "listen"})
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["field"] == "phone"

        supervisor = await start_phone(phone, "supervisor", "202", SUPERVISOR_HZ)
        ringing = await phone.api.client.post(url, headers=sam, json={"mode": "listen"})
        assert ringing.status_code == 202, ringing.text
        assert ringing.json() | {"state": "?"} == {
            "interaction_id": interaction, "user_id": sam_id, "extension": "202",
            "mode": "listen", "state": "?"}
        started = await phone.wait_for_event("call.monitor_started", 20)
        assert started.payload["mode"] == "listen" and started.payload["user_id"] == sam_id
        assert started.actor == f"user:{sam_id}"

        # listen: Sam hears both; the agent does not hear Sam.
        assert heard(await settled(supervisor.peer)) == {"caller", "agent"}
        assert heard(await settled(agent.peer)) == {"caller"}

        # whisper: the agent hears Sam too.
        changed = await phone.api.client.patch(url, headers=sam, json={"mode": "whisper"})
        assert changed.status_code == 200 and changed.json()["state"] == "joined", changed.text
        assert heard(await settled(agent.peer)) == {"caller", "supervisor"}
        assert heard(await settled(supervisor.peer)) == {"caller", "agent"}

        # barge (a second POST changes the mode): everyone hears everyone.
        barged = await phone.api.client.post(url, headers=sam, json={"mode": "barge"})
        assert barged.status_code == 200 and barged.json()["mode"] == "barge", barged.text
        assert heard(await settled(agent.peer)) == {"caller", "supervisor"}
        assert heard(await settled(supervisor.peer)) == {"caller", "agent"}

        # leave: Sam's phone gets our BYE, the agent hears the caller alone, without a gap.
        before = len(agent.peer.heard)
        left = await phone.api.client.delete(url, headers=sam)
        assert left.status_code == 204, left.text
        await ended_cleanly(phone, supervisor)
        after = await agent.peer.next_packets(WINDOW)
        assert heard(after[10:]) == {"caller"}
        around = agent.peer.heard[max(0, before - 10):]
        quiet = [i for i, packet in enumerate(around) if level(packet, CALLER_HZ) < HEARD]
        assert len(quiet) <= 1, f"the caller was not heard in packets {quiet}"
        again = await phone.api.client.delete(url, headers=sam)
        assert again.status_code == 409 and again.json()["error"]["field"] == "interaction_id"

        leg = phone.voice.legs[uuid.UUID(interaction)]
        leg.call.hangup()  # we end the call: BYE to the caller and to the agent's phone
        result = await caller
        assert result.returncode == 0, phone.explain("call_tone.xml")
        await ended_cleanly(phone, agent)
    finally:
        for sipp in (agent, supervisor):
            if sipp is not None:
                if sipp.process.returncode is None:
                    sipp.process.kill()
                    await sipp.process.wait()
                await sipp.peer.close()
        if not caller.done():
            caller.cancel()

    await phone.wait_for_event("call.ended")
    events = await phone.events(interaction)
    story = [(e.type, e.payload.get("mode")) for e in events if e.type.startswith("call.")]
    assert story == [("call.answered", None), ("call.bridged", None),
                     ("call.monitor_started", "listen"), ("call.monitor_changed", "whisper"),
                     ("call.monitor_changed", "barge"), ("call.monitor_ended", "barge"),
                     ("call.ended", None)]
    ended = next(e for e in events if e.type == "call.monitor_ended")
    assert ended.payload["reason"] == "left" and ended.actor == f"user:{sam_id}"


async def test_the_call_ending_hangs_up_the_listening_supervisor_first(phone: Phone) -> None:
    await agent_ready(phone)
    sam, _ = await supervisor_sam(phone)
    write_tone_pcap(phone.workdir / "tone.pcap", CALLER_HZ, 40)
    agent = await start_phone(phone, "agent", "201", AGENT_HZ)
    supervisor = await start_phone(phone, "supervisor", "202", SUPERVISOR_HZ)
    caller = asyncio.create_task(phone.sipp("call_tone.xml", "-s", "300"))
    try:
        interaction = (await phone.wait_for_event("call.bridged", 20)).subject
        response = await phone.api.client.post(f"/api/v1/interactions/{interaction}/monitor",
                                                headers=sam, json={"mode": "listen"})
        assert response.status_code == 202, response.text
        await phone.wait_for_event("call.monitor_started", 20)
        assert heard(await settled(supervisor.peer)) == {"caller", "agent"}
        phone.voice.legs[uuid.UUID(interaction)].call.hangup()
        assert (await caller).returncode == 0, phone.explain("call_tone.xml")
        await ended_cleanly(phone, supervisor)
        await ended_cleanly(phone, agent)
    finally:
        for sipp in (agent, supervisor):
            if sipp.process.returncode is None:
                sipp.process.kill()
                await sipp.process.wait()
            await sipp.peer.close()
        if not caller.done():
            caller.cancel()
    await phone.wait_for_event("call.ended")
    types = [e.type for e in await phone.events(interaction)]
    assert types.index("call.monitor_started") < types.index("call.monitor_ended") \
        < types.index("call.ended")
    ended = next(e for e in await phone.events(interaction) if e.type == "call.monitor_ended")
    assert (ended.payload["reason"], ended.actor) == ("call_ended", "voice")
