"""baresip (a real softphone) as the agent's phone: it REGISTERs with digest, is rung when
the router offers a SIPp caller to the agent, answers by itself, and talks: its 440 Hz tone
reaches our agent leg, and the caller's speech reaches baresip."""

from __future__ import annotations

import array
import asyncio
import math
import shutil
from pathlib import Path

import pytest

from omnidesk.channels.voice.audio import read_wav
from omnidesk.interactions.states import InteractionState
from tests.voice.conftest import EXTENSION_PASSWORD, Phone, free_port
from tests.voice.test_sipp_agent import agent_ready


def baresip_binary() -> str:
    """The baresip program; the test fails (never skips) when it is missing."""
    program = shutil.which("baresip")
    if program is None:
        pytest.fail("baresip is not installed: run scripts/install-test-peers "
                    "(Debian baresip-core)")
    return program


def configure(folder: Path, *, sip_port: int, service_port: int) -> None:
    """A headless baresip: sine source, recordings of both directions, auto answer."""
    folder.mkdir()
    (folder / "recordings").mkdir()
    rtp = free_port() // 2 * 2
    (folder / "config").write_text(f"""module_path /usr/lib/baresip/modules
sip_listen 127.0.0.1:{sip_port}
audio_player aubridge,nowhere
audio_source ausine,440
ausrc_srate 48000
ausrc_channels 2
auplay_srate 48000
audio_alert aubridge,nowhere
rtp_ports {rtp}-{rtp + 20}
snd_path {folder / 'recordings'}
module g711.so
module ausine.so
module aubridge.so
module sndfile.so
module_app account.so
module_app menu.so
""")
    (folder / "accounts").write_text(
        f"<sip:201@127.0.0.1:{service_port}>;auth_pass={EXTENSION_PASSWORD};"
        "answermode=auto;regint=300;audio_codecs=PCMU\n")


def tone_share(samples: array.array[int], frequency: float) -> float:
    """How much of the signal's energy is at `frequency` (Goertzel, 0..1)."""
    if not samples:
        return 0.0
    coefficient = 2 * math.cos(2 * math.pi * frequency / 8000)
    s1 = s2 = 0.0
    for sample in samples:
        s1, s2 = sample + coefficient * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coefficient * s1 * s2
    energy = sum(x * x for x in samples)
    return 2 * power / (len(samples) * energy) if energy else 0.0


async def test_baresip_registers_is_rung_answers_and_both_sides_hear_each_other(
        phone: Phone, tmp_path: Path) -> None:
    await agent_ready(phone)
    folder = tmp_path / "baresip"
    configure(folder, sip_port=free_port(), service_port=phone.voice.port)
    softphone = await asyncio.create_subprocess_exec(
        baresip_binary(), "-f", str(folder), stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        ua = phone.voice.ua
        assert ua is not None
        async with asyncio.timeout(10):  # baresip registers on its own
            while True:
                if ua.registrar.lookup("201") is not None:
                    break
                await asyncio.sleep(0.1)
        result = await phone.sipp("call_audio.xml", "-s", "300", "-d", "3000")
        assert result.returncode == 0, phone.explain("call_audio.xml")
        ended = await phone.wait_for_event("call.ended")
    finally:
        softphone.terminate()
        output, _ = await softphone.communicate()
    log = output.decode(errors="replace")
    (interaction,) = await phone.interactions()
    types = [e.type for e in await phone.events(str(interaction.id))]
    assert "call.bridged" in types, log[-3000:]
    assert interaction.state is InteractionState.WRAP_UP
    heard_by_us = array.array("h")
    heard_by_us.frombytes(read_wav(Path(ended.payload["recording"]).with_suffix(".agent.wav")))
    assert len(heard_by_us) > 8000, "less than a second from baresip"
    middle = heard_by_us[len(heard_by_us) // 2: len(heard_by_us) // 2 + 1600]
    assert tone_share(middle, 440) > 0.8 > tone_share(middle, 1000)
    decoded = [path for path in (folder / "recordings").glob("*dec*.wav")]
    assert decoded, f"baresip recorded nothing: {log[-2000:]}"
    heard_by_phone = array.array("h")
    heard_by_phone.frombytes(read_wav(decoded[0]))
    loud = sum(1 for sample in heard_by_phone if abs(sample) > 1000)
    assert loud > 4000, "the caller's speech did not reach baresip"
