"""Turning flow outputs into audio: WAV files, espeak-ng speech, or a tone when neither."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from omnidesk.channels.voice.audio import BEEP, read_wav, silence, speak, speech_engine, tone
from omnidesk.flows import AudioOutput, Output, SpeechOutput, TextOutput

log = logging.getLogger("omnidesk.voice")
CACHE_SIZE = 256


class Prompts:
    """Audio for outputs, cached (the same prompt is rendered once per process)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._cache: dict[tuple[str, str], bytes] = {}
        self._speaking: dict[str, asyncio.Future[bytes | None]] = {}  # texts being rendered
        self._engine_logged = False

    async def audio(self, output: Output) -> bytes | None:
        """The PCM for one output (None for outputs that are not heard, like buttons)."""
        if isinstance(output, AudioOutput):
            pcm = await self._file(output.audio)
            return pcm if pcm is not None else await self.speech(output.text or "")
        if isinstance(output, SpeechOutput | TextOutput):
            return await self.speech(output.text)
        return None

    async def speech(self, text: str) -> bytes:
        """The text spoken by espeak-ng (8 kHz, rendered in a thread once per text, then
        cached), or a beep when espeak-ng is not installed or fails (not cached: the next
        call tries again)."""
        if not text.strip():
            return b""
        key = ("tts", text)
        if key in self._cache:
            return self._cache[key]
        pending = self._speaking.get(text)
        if pending is None:  # calls asking for the same text at once share one rendering
            self._log_engine()
            pending = asyncio.ensure_future(asyncio.to_thread(speak, text))
            self._speaking[text] = pending
            pending.add_done_callback(lambda _: self._speaking.pop(text, None))
        spoken = await asyncio.shield(pending)
        if spoken is None:
            return BEEP
        pcm = self._cache.get(key)  # the first of several waiters keeps it
        if pcm is None:
            pcm = spoken + silence(200)
            self._remember(key, pcm)
        return pcm

    def _log_engine(self) -> None:
        if self._engine_logged:
            return
        self._engine_logged = True
        program = speech_engine()
        if program is None:
            log.warning("espeak-ng is not installed: spoken prompts are beeps "
                        "(apt-get install espeak-ng)")
        else:
            log.info("spoken prompts by %s (8 kHz)", program)

    async def _file(self, name: str) -> bytes | None:
        key = ("file", name)
        if key in self._cache:
            return self._cache[key]
        path = Path(name) if Path(name).is_absolute() or self.folder is None \
            else self.folder / name
        try:
            pcm = await asyncio.to_thread(read_wav, path)
        except (OSError, ValueError) as error:
            log.warning("prompt %s not playable: %s", path, error)
            return None
        self._remember(key, pcm)
        return pcm

    async def position(self, position: int, estimated_wait_s: float | None = None) -> bytes:
        """The `announcement`, or N short pips without a speech engine."""
        spoken = await self.speech(announcement(position, estimated_wait_s))
        if spoken is not BEEP:
            return spoken
        pip = tone((880.0,), 120) + silence(180)
        return pip * min(position, 10) + silence(300)

    def _remember(self, key: tuple[str, str], pcm: bytes) -> None:
        if len(self._cache) >= CACHE_SIZE:
            del self._cache[next(iter(self._cache))]
        self._cache[key] = pcm


def announcement(position: int, estimated_wait_s: float | None) -> str:
    """'You are number N in the queue', with the estimated wait when there is one."""
    text = f"You are number {position} in the queue."
    if estimated_wait_s is None:
        return text
    minutes = round(estimated_wait_s / 60)
    if minutes < 1:
        return f"{text} The estimated wait is less than a minute."
    unit = "minute" if minutes == 1 else "minutes"
    return f"{text} The estimated wait is about {minutes} {unit}."
