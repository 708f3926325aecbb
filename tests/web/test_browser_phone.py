"""The browser phone: the agent desktop in Chromium, with a fake microphone playing a tone,
turns its WebRTC phone on, is offered a SIPp caller, answers in the page, and audio flows
both ways — the browser receives the caller's audio (WebRTC inbound stats: packets and audio
energy) and the caller receives the browser's tone (the test's own RTP receiver, named in the
caller's SDP, finds it by Goertzel in the G.711 omnidesk sends); the desktop's hang-up ends
the call (SIPp gets our BYE) and the interaction goes to wrap-up.

The agent also places a call from the page: SIPp as the voice channel's SIP trunk (407
digest, echoing RTP) gets the INVITE for the number typed, answers, and the browser hears its
own tone echoed back by the trunk (so the trunk received the browser's non-silent audio); the
desktop's hang-up ends it (the trunk gets our BYE) and the outbound interaction goes to
wrap-up."""

from __future__ import annotations

import array
import math
import os
import socket
import subprocess
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect

from omnidesk.channels.voice.g711 import PCMA, PCMU, decode_ulaw, transcode
from tests.server import ServerProcess
from tests.voice.conftest import SCENARIOS, free_port, sipp_binary
from tests.voice.test_baresip_agent import tone_share
from tests.voice.test_sipp_calls import _pcap_alaw_payloads
from tests.voice.test_sipp_transfer import NUMBER, TRUNK_PASSWORD_ENV
from tests.web.conftest import (
    CHROMIUM_FLAGS,
    PASSWORD,
    assert_accessible,
    chromium_path,
    sign_in,
    start_center,
)

pytestmark = pytest.mark.server

MIC_TONE_HZ = 1200  # not a note of the hold music (523–880 Hz), so it is the browser's
CALLER_PCAP = Path("/usr/share/sip-tester/g711a.pcap")
CENTER = """
tenants:
  - slug: acme
    name: Acme
    queues:
      - {name: calls, channel: voice, offer_timeout_seconds: 120}
    users:
      - {email: admin@acme.example, name: Ann Admin, role: admin, password_env: WEB_TEST_PASSWORD}
      - {email: ada@acme.example, name: Ada Lovelace, role: agent,
         password_env: WEB_TEST_PASSWORD}
    agents:
      - {user: ada@acme.example}
    channels:
      - name: main-line
        kind: voice
        default_queue: calls
        settings: {numbers: ["300"], announce_seconds: 0, record: true}
"""


def write_tone(path: Path, frequency: float, seconds: float = 2.0, rate: int = 48000) -> None:
    """A 16-bit mono WAV of a steady tone (Chromium's fake microphone loops it)."""
    samples = array.array("h", (int(12000 * math.sin(2 * math.pi * frequency * n / rate))
                                for n in range(int(seconds * rate))))
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(samples.tobytes())


@pytest.fixture(scope="module")
def browser(playwright: Playwright, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Chromium with a fake microphone (a tone from a WAV) and media permission granted."""
    tone = tmp_path_factory.mktemp("microphone") / "tone.wav"
    write_tone(tone, MIC_TONE_HZ)
    browser = playwright.chromium.launch(executable_path=chromium_path(), args=[
        *CHROMIUM_FLAGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={tone}",
        "--disable-features=WebRtcHideLocalIpsWithMdns"])
    yield browser
    browser.close()


@pytest.fixture
def server(tmp_path: Path, database_url: str,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerProcess]:
    """omnidesk with its SIP service on free loopback ports."""
    base = free_port() // 2 * 2
    monkeypatch.setenv("OMNIDESK_SIP_PORT", str(free_port()))
    monkeypatch.setenv("OMNIDESK_SIP_HOST", "127.0.0.1")
    monkeypatch.setenv("OMNIDESK_SIP_RTP_PORT_MIN", str(min(base, 60000)))
    monkeypatch.setenv("OMNIDESK_SIP_RTP_PORT_MAX", str(min(base, 60000) + 200))
    process = start_center(tmp_path, database_url, CENTER)
    yield process
    process.stop()


class RtpReceiver:
    """The caller's media port: keeps (payload type, payload) of every RTP packet omnidesk
    sends to the caller, from a thread."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.packets: list[tuple[float, int, bytes]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(2048)
            except TimeoutError:
                continue
            if len(data) > 12 and data[0] >> 6 == 2:
                count = data[0] & 0x0F
                self.packets.append((time.monotonic(), data[1] & 0x7F, data[12 + 4 * count:]))

    def pcm_since(self, since: float) -> array.array[int]:
        """The µ-law audio received since a moment, decoded."""
        payload = b"".join(p for at, pt, p in list(self.packets) if at >= since and pt == PCMU)
        samples = array.array("h")
        samples.frombytes(decode_ulaw(payload))
        return samples

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


def tone_frames(samples: array.array[int], frequency: float) -> int:
    """How many 20 ms frames are mostly the tone (and not silence)."""
    count = 0
    for start in range(0, len(samples) - 160, 160):
        frame = samples[start:start + 160]
        loud = math.sqrt(sum(x * x for x in frame) / len(frame)) > 200
        if loud and tone_share(frame, frequency) > 0.5:
            count += 1
    return count


def start_caller(workdir: Path, sip_port: int, rtp_port: int,
                 log_file: IO[str]) -> subprocess.Popen[bytes]:
    """SIPp calling number 300, its SDP naming our receiver's port, streaming caller.ulaw."""
    return subprocess.Popen(
        [sipp_binary(), "-sf", str(SCENARIOS / "call_browser_phone.xml"), "-m", "1",
         "-s", "300", "-t", "u1", "-i", "127.0.0.1", "-p", str(free_port()),
         "-mi", "127.0.0.1", "-mp", str(free_port()), "-key", "rtp_port", str(rtp_port),
         "-timeout", "90s", "-timeout_error", "-trace_err",
         "-error_file", str(workdir / "sipp.errors.log"), f"127.0.0.1:{sip_port}"],
        cwd=workdir, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT)


def wait_until(check: Any, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def place_call(page: Page, number: str) -> tuple[int, str | None]:
    """POST /voice/webrtc/call from the page: (status, the error's field)."""
    status, field = page.evaluate("""async (number) => {
        const session = JSON.parse(sessionStorage.getItem("omnidesk.session"));
        const response = await fetch("/api/v1/voice/webrtc/call", { method: "POST",
            headers: { Authorization: `Bearer ${session.access_token}`,
                       "Content-Type": "application/json" },
            body: JSON.stringify({ number }) });
        const body = await response.json();
        return [response.status, body.error ? body.error.field : null];
    }""", number)
    return int(status), field


def phone_data(page: Page, name: str) -> float:
    value = page.locator("#phone").get_attribute(f"data-{name}")
    return float(value or 0)


def test_the_agent_answers_a_sipp_call_in_the_browser_and_audio_flows_both_ways(
        server: ServerProcess, new_context: Any, tmp_path: Path) -> None:
    context: BrowserContext = new_context()
    page = context.new_page()
    sign_in(page, f"{server.url}/agent?tenant=acme", "acme", "ada@acme.example")
    page.get_by_label("State").select_option(label="Available")
    expect(page.locator("body")).to_have_attribute("data-agent-state", "available")

    panel = page.locator("#phone")
    expect(panel).to_be_visible()
    page.get_by_role("button", name="Browser phone on").click()
    expect(panel).to_have_attribute("data-status", "on", timeout=20_000)
    # No voice channel here has a trunk: placing a call is refused, naming the channel.
    assert place_call(page, "+49 30 555123") == (409, "channel_id")
    assert place_call(page, "12") == (422, "number")

    # The caller streams speech (SIPp's A-law capture, as µ-law) in a loop.
    caller_audio = tmp_path / "caller.ulaw"  # the scenario streams it from its cwd
    caller_audio.write_bytes(transcode(_pcap_alaw_payloads(CALLER_PCAP), PCMA, PCMU))
    receiver = RtpReceiver()
    sip_port = int(os.environ["OMNIDESK_SIP_PORT"])
    sipp_log = tmp_path / "sipp.log"
    with sipp_log.open("w") as log_file:
        caller = start_caller(tmp_path, sip_port, receiver.port, log_file)
    try:
        # The call rings in the desktop's phone; the agent answers there.
        expect(panel).to_have_attribute("data-status", "ringing", timeout=30_000)
        expect(panel).to_contain_text("Incoming call")
        assert_accessible(page)
        panel.get_by_role("button", name="Answer").click()
        answered = time.monotonic()
        expect(panel).to_have_attribute("data-status", "call", timeout=20_000)
        expect(panel).to_contain_text("On a call with")

        # (a) The browser receives the caller's audio: packets, and energy that grows.
        energy = phone_data(page, "audio-energy-received")
        wait_until(lambda: phone_data(page, "audio-energy-received") > energy + 0.001,
                   "the caller's audio in the browser")
        assert phone_data(page, "packets-received") > 50

        # (b) The caller receives the browser's microphone: the fake device's tone.
        wait_until(lambda: tone_frames(receiver.pcm_since(answered), MIC_TONE_HZ) >= 25,
                   "the browser's tone at the caller", seconds=40)
        assert_accessible(page)

        # The agent hangs up in the desktop: our BYE ends SIPp's call; wrap-up follows.
        panel.get_by_role("button", name="Hang up").click()
        assert caller.wait(30) == 0, sipp_log.read_text() + (
            (tmp_path / "sipp.errors.log").read_text()
            if (tmp_path / "sipp.errors.log").exists() else "")
        expect(page.get_by_text("Wrap-up · after-contact work")).to_be_visible(timeout=20_000)
        expect(panel).to_have_attribute("data-status", "on")
    finally:
        if caller.poll() is None:
            caller.kill()
            caller.wait(10)
        receiver.close()

    with httpx.Client(base_url=server.url, timeout=10) as admin:
        token = admin.post("/api/v1/auth/login", json={
            "tenant": "acme", "email": "admin@acme.example", "password": PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        (interaction,) = admin.get("/api/v1/interactions", headers=headers).json()
    assert interaction["state"] == "wrap_up"
    assert interaction["channel"] == "voice"

    # Turning the phone off is seen by the server.
    page.get_by_role("button", name="Browser phone off").click()
    expect(panel).to_have_attribute("data-status", "off")
    status = page.evaluate("""async () => {
        const session = JSON.parse(sessionStorage.getItem("omnidesk.session"));
        const response = await fetch("/api/v1/voice/webrtc",
            { headers: { Authorization: `Bearer ${session.access_token}` } });
        return response.json();
    }""")
    assert status == {"available": True, "online": False, "on_call": None}



@pytest.fixture
def trunk_server(tmp_path: Path, database_url: str,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ServerProcess, int]]:
    """omnidesk whose voice channel has a SIP trunk on a free loopback port (digest user
    omni); (the server, the trunk's port)."""
    base = free_port() // 2 * 2
    trunk_port = free_port()
    monkeypatch.setenv("OMNIDESK_SIP_PORT", str(free_port()))
    monkeypatch.setenv("OMNIDESK_SIP_HOST", "127.0.0.1")
    monkeypatch.setenv("OMNIDESK_SIP_RTP_PORT_MIN", str(min(base, 60000)))
    monkeypatch.setenv("OMNIDESK_SIP_RTP_PORT_MAX", str(min(base, 60000) + 200))
    monkeypatch.setenv(TRUNK_PASSWORD_ENV, "trunk-pass")
    center = CENTER.replace(
        "settings: {numbers: [\"300\"], announce_seconds: 0, record: true}",
        "settings: {numbers: [\"300\"], announce_seconds: 0, trunk: {host: 127.0.0.1, "
        f"port: {trunk_port}, transport: udp, username: omni, password_env: "
        f"{TRUNK_PASSWORD_ENV}, from_number: \"+49 30 400\", ring_seconds: 20}}}}")
    assert center != CENTER
    process = start_center(tmp_path, database_url, center)
    yield process, trunk_port
    process.stop()


def start_trunk(workdir: Path, port: int, log_file: IO[str],
                scenario: str = "trunk.xml") -> subprocess.Popen[bytes]:
    """SIPp as the SIP trunk (tests/voice/scenarios/trunk.xml), echoing RTP."""
    return subprocess.Popen(
        [sipp_binary(), "-sf", str(SCENARIOS / scenario), "-m", "1", "-rtp_echo",
         "-i", "127.0.0.1", "-p", str(port), "-mi", "127.0.0.1", "-mp", str(free_port()),
         "-timeout", "90s", "-timeout_error", "-trace_err", "-trace_msg",
         "-error_file", str(workdir / "trunk.errors.log"),
         "-message_file", str(workdir / "trunk.messages.log")],
        cwd=workdir, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT)


def phone_on(server: ServerProcess, new_context: Any) -> Page:
    """Ada's desktop, available, with the browser phone on."""
    context: BrowserContext = new_context()
    page = context.new_page()
    sign_in(page, f"{server.url}/agent?tenant=acme", "acme", "ada@acme.example")
    page.get_by_label("State").select_option(label="Available")
    expect(page.locator("body")).to_have_attribute("data-agent-state", "available")
    page.get_by_role("button", name="Browser phone on").click()
    expect(page.locator("#phone")).to_have_attribute("data-status", "on", timeout=20_000)
    return page


def admin_view(server: ServerProcess) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The one interaction and the tenant's events, as the admin sees them."""
    with httpx.Client(base_url=server.url, timeout=10) as admin:
        token = admin.post("/api/v1/auth/login", json={
            "tenant": "acme", "email": "admin@acme.example", "password": PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        (interaction,) = admin.get("/api/v1/interactions", headers=headers).json()
        events = admin.get("/api/v1/events", headers=headers).json()
    return interaction, [event for event in events if event["subject"] == interaction["id"]]


def test_the_agent_places_a_call_from_the_browser_through_the_sipp_trunk(
        trunk_server: tuple[ServerProcess, int], new_context: Any, tmp_path: Path) -> None:
    server, trunk_port = trunk_server
    page = phone_on(server, new_context)
    panel = page.locator("#phone")

    trunk_log = tmp_path / "trunk.log"
    with trunk_log.open("w") as log_file:
        trunk = start_trunk(tmp_path, trunk_port, log_file)

    def sipp_logs() -> str:
        return "\n".join(path.read_text(errors="replace")[-6000:] for path in (
            trunk_log, tmp_path / "trunk.errors.log", tmp_path / "trunk.messages.log")
            if path.exists())

    try:
        # The agent types the number and calls: the trunk answers, the call is bridged.
        page.get_by_label("Number to call").fill(NUMBER)
        assert_accessible(page)
        panel.get_by_role("button", name="Call").click()
        expect(panel).to_have_attribute("data-status", "call", timeout=30_000)
        expect(panel).to_contain_text(f"On a call with +{NUMBER}")

        # The trunk echoes what it gets: the browser hears its own tone back, so audio went
        # to the trunk (not silence) and came back to the browser.
        energy = phone_data(page, "audio-energy-received")
        wait_until(lambda: phone_data(page, "audio-energy-received") > energy + 0.001,
                   "the browser's tone echoed by the trunk")
        wait_until(lambda: phone_data(page, "packets-received") > 100, "100 packets")
        assert_accessible(page)

        # The agent hangs up: the trunk gets our BYE (SIPp ends well); wrap-up follows.
        panel.get_by_role("button", name="Hang up").click()
        assert trunk.wait(30) == 0, sipp_logs()
        expect(page.get_by_text("Wrap-up · after-contact work")).to_be_visible(timeout=20_000)
        expect(panel).to_have_attribute("data-status", "on")
    finally:
        if trunk.poll() is None:
            trunk.kill()
            trunk.wait(10)

    messages = (tmp_path / "trunk.messages.log").read_text(errors="replace")
    assert f"INVITE sip:{NUMBER}@127.0.0.1:{trunk_port}" in messages
    interaction, mine = admin_view(server)
    assert interaction["state"] == "wrap_up"
    assert interaction["channel"] == "voice" and interaction["direction"] == "outbound"
    types = [event["type"] for event in mine]
    assert types.index("call.dialled") < types.index("call.bridged") < types.index("call.ended")
    assert "call.dial_failed" not in types
    (ended,) = (event for event in mine if event["type"] == "call.ended")
    assert ended["payload"]["reason"] == "agent_bye" and ended["payload"]["to"] == NUMBER
    assert ended["payload"]["rtp_received"] > 50


def test_a_busy_number_ends_the_call_placed_from_the_browser(
        trunk_server: tuple[ServerProcess, int], new_context: Any, tmp_path: Path) -> None:
    server, trunk_port = trunk_server
    page = phone_on(server, new_context)
    panel = page.locator("#phone")
    with (tmp_path / "trunk.log").open("w") as log_file:
        trunk = start_trunk(tmp_path, trunk_port, log_file, "agent_busy.xml")  # 486
    try:
        page.get_by_label("Number to call").fill(f"+{NUMBER}")
        panel.get_by_role("button", name="Call").click()
        expect(page.get_by_text(f"No call to +{NUMBER}: the line is busy.")).to_be_visible(
            timeout=30_000)
        expect(panel).to_have_attribute("data-status", "on")
        assert trunk.wait(30) == 0
    finally:
        if trunk.poll() is None:
            trunk.kill()
            trunk.wait(10)
    interaction, mine = admin_view(server)
    assert interaction["state"] == "closed" and interaction["direction"] == "outbound"
    (failed,) = (event for event in mine if event["type"] == "call.dial_failed")
    assert failed["payload"]["status"] == 486 and failed["payload"]["reason"] == "busy"
    assert failed["payload"]["to"] == f"+{NUMBER}"
