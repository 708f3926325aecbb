"""Audio for prompts: tones, WAV files (any rate / width / channels → 8 kHz mono 16-bit), TTS.

PCM everywhere in the voice service is 16-bit signed, native byte order, 8000 Hz, mono.
"""

from __future__ import annotations

import array
import io
import logging
import math
import shutil
import subprocess
import wave
from pathlib import Path

log = logging.getLogger("omnidesk.voice")
RATE = 8000
FRAME_SAMPLES = 160  # 20 ms
FRAME_BYTES = FRAME_SAMPLES * 2


def tone(frequencies: tuple[float, ...], milliseconds: int, *, amplitude: int = 8000) -> bytes:
    """A (dual) tone as PCM."""
    count = RATE * milliseconds // 1000
    samples = array.array("h", [
        int(sum(math.sin(2 * math.pi * f * n / RATE) for f in frequencies)
            * amplitude / max(1, len(frequencies)))
        for n in range(count)])
    return samples.tobytes()


def silence(milliseconds: int) -> bytes:
    """Silence as PCM."""
    return bytes(RATE * milliseconds // 1000 * 2)


BEEP = tone((440.0,), 250) + silence(150)


def hold_music() -> bytes:
    """A short, loopable melody (no licensed music ships with omnidesk)."""
    notes = (523.25, 659.25, 783.99, 659.25, 587.33, 698.46, 880.0, 698.46)
    return b"".join(tone((note,), 220, amplitude=4000) + silence(30) for note in notes) \
        + silence(400)


def to_pcm8k(data: bytes, *, rate: int, width: int, channels: int) -> bytes:
    """Convert raw little-endian PCM of any width, rate and channel count to our format."""
    if width not in (1, 2, 3, 4) or channels < 1 or rate < 1:
        raise ValueError(f"unsupported PCM: {width} bytes, {channels} channels, {rate} Hz")
    frame = width * channels
    count = len(data) // frame
    mono: list[int] = []
    for index in range(count):
        chunk = data[index * frame: index * frame + width]  # first channel
        if width == 1:
            mono.append((chunk[0] - 128) << 8)
        else:
            mono.append(int.from_bytes(chunk, "little", signed=True) >> (8 * (width - 2)))
    if rate != RATE and mono:
        step = rate / RATE
        mono = [mono[min(len(mono) - 1, int(i * step))] for i in range(int(len(mono) / step))]
    return array.array("h", mono).tobytes()


def read_wav(source: Path | bytes) -> bytes:
    """A WAV file (path or bytes) as PCM; ValueError if it is not a PCM WAV."""
    stream = io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")
    try:
        with stream, wave.open(stream, "rb") as handle:
            data = handle.readframes(handle.getnframes())
            rate, width = handle.getframerate(), handle.getsampwidth()
            channels = handle.getnchannels()
    except (wave.Error, EOFError) as error:
        raise ValueError(f"not a PCM WAV file: {error}") from error
    return to_pcm8k(data, rate=rate, width=width, channels=channels)


def write_wav(path: Path, pcm: bytes) -> None:
    """Write PCM as an 8 kHz mono 16-bit WAV file."""
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(RATE)
        handle.writeframes(pcm)


def speak(text: str, *, voice: str = "en") -> bytes | None:
    """Text to speech with espeak-ng when installed (None otherwise, or on failure)."""
    program = shutil.which("espeak-ng")
    if program is None or not text.strip():
        return None
    try:
        result = subprocess.run([program, "-v", voice, "--stdout", text],  # noqa: S603
                                capture_output=True, timeout=20, check=True)
        return read_wav(result.stdout)
    except (subprocess.SubprocessError, OSError, ValueError) as error:
        log.warning("espeak-ng failed: %s", error)
        return None
