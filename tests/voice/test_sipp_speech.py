"""Speech reaches the caller, end to end: a SIPp caller whose media is an RTP peer of this
test hears the IVR's greeting spoken by espeak-ng (the very audio espeak-ng renders, found in
what arrived over RTP, and speech-like: loud, spread over many frequencies, not a beep); on a
recording channel with a consent notice the caller hears the notice first, then the IVR, and
the recording starts after the notice."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import pytest

from omnidesk.channels.voice.audio import RATE, read_wav, speak
from omnidesk.interactions.states import InteractionState
from tests.voice.conftest import Phone, create_channel
from tests.voice.speech import analyse, heard_from, locate, require_espeak_ng
from tests.voice.test_sipp_monitor import RtpPeer

GREETING = "Welcome to Acme."  # the first node of tests/voice/fixtures/phone_ivr.yaml
MENU = "For sales press 1, for support press 2."
NOTICE = "This call may be recorded for quality purposes."
MATCH = 0.9  # normalised correlation of a prompt with what arrived (G.711 costs little)
GAP = 1.5  # seconds at most between one prompt and the next (CI runs two suites on 2 cores)


async def listen(phone: Phone, number: str, milliseconds: int) -> tuple[bytes, RtpPeer]:
    """Call `number`, keep what we are sent for `milliseconds`, hang up; the PCM heard."""
    peer = RtpPeer(400.0)  # the caller says a 400 Hz tone back (what a recording keeps)
    await peer.open()
    try:
        result = await phone.sipp("call_listen.xml", "-s", number, "-d", str(milliseconds),
                                  "-set", "rtp_port", str(peer.port))
        assert result.returncode == 0, phone.explain("call_listen.xml")
    finally:
        await peer.close()
    assert peer.heard, "no RTP reached the caller"
    return b"".join(peer.heard), peer


async def spoken(text: str) -> bytes:
    """What the voice service plays for a text: espeak-ng's speech at 8 kHz."""
    pcm = await asyncio.to_thread(speak, text)
    assert pcm, "espeak-ng gave no speech"
    return pcm


async def test_the_ivr_greeting_reaches_the_caller_as_speech(phone: Phone) -> None:
    require_espeak_ng()
    # 7 s: the greeting may start up to 1 s in, then 1.2 s of it, up to GAP and the menu's
    # 2.9 s must all be heard (5 s cut the menu off when the call started late; the menu's
    # 10 s timeout repeats nothing within 7 s)
    heard, _ = await listen(phone, "100", 7000)
    greeting, menu = await spoken(GREETING), await spoken(MENU)
    at, match = locate(heard, greeting)
    assert match > MATCH, (at, match)
    assert abs(heard_from(heard) - at) < 0.1  # nothing (no beep) before it
    assert at < 1.0  # at once after the answer
    sound = analyse(heard[int(at * RATE) * 2:int(at * RATE) * 2 + len(greeting)])
    assert sound.speech_like, sound
    menu_at, menu_match = locate(heard, menu)
    assert menu_match > MATCH
    greeting_end = at + len(greeting) / 2 / RATE
    assert greeting_end <= menu_at < greeting_end + GAP  # the menu follows the greeting


@pytest.mark.parametrize("notice", ["text", "audio"])
async def test_a_recording_channel_says_its_notice_then_runs_the_ivr_and_records_after_it(
        phone: Phone, notice: str) -> None:
    program = require_espeak_ng()
    settings: dict[str, Any] = {"numbers": ["400"], "flow": "phone_ivr", "record": True,
                                "recording_notice": NOTICE}
    expected = await spoken(NOTICE)
    if notice == "audio":  # a WAV of its own (22.05 kHz here), its text as the fallback
        prompts = phone.voice.prompts.folder
        assert prompts is not None
        (prompts / "notices").mkdir(parents=True)
        data = (await asyncio.to_thread(
            subprocess.run, [program, "--stdout", "--stdin", "-v", "en+f3"],
            input=NOTICE.encode(), capture_output=True, check=True)).stdout
        (prompts / "notices" / "recorded.wav").write_bytes(data)
        settings["recording_notice_audio"] = "notices/recorded.wav"
        expected = read_wav(data)
    await create_channel(phone, kind="voice", name="c-recorded-line",
                         default_queue="support", settings=settings)
    heard, _ = await listen(phone, "400", 8000)

    notice_at, match = locate(heard, expected)
    assert match > MATCH, (notice_at, match)
    assert abs(heard_from(heard) - notice_at) < 0.1 and notice_at < 1.0  # the first sound
    notice_pcm = heard[int(notice_at * RATE) * 2:int(notice_at * RATE) * 2 + len(expected)]
    assert analyse(notice_pcm).speech_like, analyse(notice_pcm)
    greeting_at, greeting_match = locate(heard, await spoken(GREETING))
    assert greeting_match > MATCH
    notice_seconds = len(expected) / 2 / RATE
    assert notice_at + notice_seconds <= greeting_at < notice_at + notice_seconds + GAP

    ended = await phone.wait_for_event("call.ended")
    assert ended.payload["reason"] == "remote_bye"
    (interaction,) = await phone.interactions()
    assert interaction.state is InteractionState.ABANDONED  # hung up in the IVR's menu
    assert interaction.attributes["flow_state"]["flow_id"] == "phone_ivr"
    types = [event.type for event in await phone.events(str(interaction.id))]
    assert types.index("call.answered") < types.index("interaction.self_service_ended")
    recorded = read_wav(Path(ended.payload["recording"]))
    call_seconds = len(heard) / 2 / RATE
    # recording starts once the notice was played: the call's length less the notice
    assert call_seconds - notice_seconds - 1.0 < len(recorded) / 2 / RATE \
        < call_seconds - notice_seconds + 0.3


@pytest.mark.parametrize(("values", "field", "message"), [
    ({"recording_notice": NOTICE}, "settings.recording_notice",
     "played only when record is true"),
    ({"record": True, "recording_notice": "  "}, "settings.recording_notice",
     "String should match pattern"),
    ({"record": True, "recording_notice_audio": "../secrets.wav"},
     "settings.recording_notice_audio", "a .wav file under voice/prompts/"),
    ({"record": True, "recording_notice_audio": "notice.mp3"},
     "settings.recording_notice_audio", "a .wav file under voice/prompts/"),
])
async def test_a_bad_recording_notice_is_422_naming_the_setting(
        phone: Phone, values: dict[str, Any], field: str, message: str) -> None:
    response = await phone.api.client.post("/api/v1/channels", headers=phone.admin, json={
        "kind": "voice", "name": "bad", "default_queue": "support", "settings": values})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field and message in error["message"], error

