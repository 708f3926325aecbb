"""Spoken prompts: espeak-ng's 22.05 kHz speech resampled to 8 kHz through a low-pass,
rendered off the event loop once per text, the beep only when espeak-ng is missing or fails."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import wave
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest

from omnidesk.channels.voice import audio
from omnidesk.channels.voice.audio import BEEP, RATE, hold_music, silence, to_pcm8k, tone
from omnidesk.channels.voice.prompts import Prompts
from omnidesk.flows import SpeechOutput
from tests.voice.speech import analyse, require_espeak_ng

SHORT = "Welcome to Acme."
LONG = "Thank you for calling. For sales press one, for support press two, for billing " \
       "press three."


def espeak_samples(text: str) -> tuple[int, int]:
    """(rate, sample count) of espeak-ng's own WAV for a text."""
    data = subprocess.run([require_espeak_ng(), "-v", "en", "--stdout", "--stdin"],
                          input=text.encode(), capture_output=True, check=True).stdout
    with wave.open(BytesIO(data), "rb") as handle:
        rate, width = handle.getframerate(), handle.getsampwidth()
        return rate, len(handle.readframes(handle.getnframes())) // width


async def test_espeak_ng_speech_is_8_khz_speech_as_long_as_its_text() -> None:
    require_espeak_ng()
    prompts = Prompts(None)
    short, long = await prompts.speech(SHORT), await prompts.speech(LONG)
    for text, pcm in ((SHORT, short), (LONG, long)):
        rate, count = espeak_samples(text)
        assert rate == 22050
        spoken = pcm[:-len(silence(200))]  # Prompts adds 200 ms of silence after speech
        assert abs(len(spoken) // 2 - count * RATE // rate) <= 1  # resampled, not cut
        sound = analyse(spoken)
        assert sound.speech_like, sound
        assert 0.04 < sound.seconds / len(text) < 0.12, sound  # about a syllable a 0.2 s
    assert 2.5 < len(long) / len(short) < 8
    for other in (BEEP * 4, hold_music(), tone((697.0, 1209.0), 500) * 3, silence(1000)):
        assert not analyse(other).speech_like, analyse(other)  # the check tells them apart


async def test_speech_is_rendered_once_per_text_off_the_event_loop(
        monkeypatch: pytest.MonkeyPatch) -> None:
    require_espeak_ng()
    calls: list[str] = []
    loop = asyncio.get_running_loop()
    real = audio.speak

    def speak(text: str) -> bytes | None:
        with pytest.raises(RuntimeError):  # no running loop here: a worker thread
            asyncio.get_running_loop()
        calls.append(text)
        return real(text)

    monkeypatch.setattr("omnidesk.channels.voice.prompts.speak", speak)
    prompts = Prompts(None)
    ticks = 0

    async def ticking() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = loop.create_task(ticking())
    first, second = await asyncio.gather(prompts.speech(LONG), prompts.speech(LONG))
    again = await prompts.audio(SpeechOutput(LONG))
    ticker.cancel()
    assert calls == [LONG]  # two calls at once shared one rendering, then the cache
    assert first is second is again
    assert ticks >= 3  # the loop kept running while espeak-ng spoke


async def test_the_beep_comes_only_when_espeak_ng_is_missing_or_fails(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    program = require_espeak_ng()
    caplog.set_level(logging.INFO, "omnidesk.voice")
    assert (await Prompts(None).speech(SHORT)) is not BEEP
    assert "spoken prompts by" in caplog.text
    monkeypatch.setattr(audio, "speech_engine", lambda: None)
    monkeypatch.setattr("omnidesk.channels.voice.prompts.speech_engine", lambda: None)
    assert await Prompts(None).speech(SHORT) is BEEP
    assert "espeak-ng is not installed" in caplog.text
    broken = Path(program).parent / "false"  # exits 1 and writes no WAV
    monkeypatch.setattr(audio, "speech_engine", lambda: str(broken))
    prompts = Prompts(None)
    assert await prompts.speech(SHORT) is BEEP
    assert "espeak-ng failed (exit 1)" in caplog.text
    monkeypatch.setattr(audio, "speech_engine", lambda: program)
    assert await prompts.speech(SHORT) is not BEEP  # a failure is not cached


def test_resampling_keeps_the_telephone_band_and_folds_nothing_back() -> None:
    n = np.arange(22050)

    def level(frequency: float) -> float:
        wave_ = (10000 * np.sin(2 * np.pi * frequency * n / 22050)).astype("<i2")
        out = np.frombuffer(to_pcm8k(wave_.tobytes(), rate=22050, width=2, channels=1),
                            dtype=np.int16).astype(np.float64)[200:-200]
        return float(np.sqrt((out ** 2).mean()) * np.sqrt(2) / 10000)

    assert all(level(f) > 0.97 for f in (300, 1000, 3000))
    assert level(3400) > 0.8
    # picked sample by sample, 5 kHz would come back as a loud 3 kHz, 7 kHz as 1 kHz
    assert all(level(f) < 0.001 for f in (4400, 5000, 7000, 10000))
