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

import numpy as np
import numpy.typing as npt

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
    """Convert raw little-endian PCM of any width, rate and channel count to our format:
    channels mixed down, resampled to 8 kHz through a low-pass (`resample`)."""
    if width not in (1, 2, 3, 4) or channels < 1 or rate < 1:
        raise ValueError(f"unsupported PCM: {width} bytes, {channels} channels, {rate} Hz")
    count = len(data) // (width * channels)
    raw = np.frombuffer(data, dtype=np.uint8, count=count * width * channels)
    if width == 1:
        samples = (raw.astype(np.float64) - 128.0) * 256.0
    else:  # the top two bytes of each little-endian sample
        high = raw.reshape(-1, width)[:, -2:].copy().view("<i2").reshape(-1)
        samples = high.astype(np.float64)
    mono = samples.reshape(count, channels).mean(axis=1)
    if rate != RATE:
        mono = resample(mono, rate, RATE)
    pcm: bytes = np.clip(np.rint(mono), -32768, 32767).astype("=i2").tobytes()
    return pcm


ZERO_CROSSINGS = 16  # of the sinc on each side: 8 kHz out is flat to 3 kHz, -1.6 dB at 3.4
KAISER_BETA = 8.6  # and nothing above 4 kHz folds back (stop band below -80 dB)
CHUNK = 4096  # output samples computed at once (bounds the memory of long files)


def resample(samples: npt.NDArray[np.float64], rate: int,
             to_rate: int) -> npt.NDArray[np.float64]:
    """Band-limited resampling: every output sample is the input convolved with a
    Kaiser-windowed sinc whose cutoff is 90 % of the lower Nyquist frequency (so 22.05 kHz
    speech loses what 8 kHz cannot carry instead of folding it back as aliasing)."""
    if rate == to_rate or samples.size == 0:
        return samples
    step = rate / to_rate  # input samples per output sample
    cutoff = 0.45 * min(rate, to_rate) / rate  # cycles per input sample
    half = int(np.ceil(ZERO_CROSSINGS / (2 * cutoff)))  # filter half-width, input samples
    padded = np.concatenate([np.zeros(half), samples, np.zeros(half + 1)])
    taps = np.arange(-half + 1, half + 1)
    total = int(samples.size * to_rate // rate)
    out = np.empty(total)
    norm = float(np.i0(KAISER_BETA))
    for first in range(0, total, CHUNK):
        position = np.arange(first, min(total, first + CHUNK)) * step
        base = np.floor(position).astype(np.int64)
        index = base[:, None] + taps[None, :]  # the input samples around each output
        distance = position[:, None] - index
        window = np.i0(KAISER_BETA * np.sqrt(np.clip(1 - (distance / half) ** 2, 0, 1))) / norm
        kernel = 2 * cutoff * np.sinc(2 * cutoff * distance) * window
        out[first:first + position.size] = (padded[index + half] * kernel).sum(axis=1)
    return out


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


def speech_engine() -> str | None:
    """The espeak-ng program, when installed."""
    return shutil.which("espeak-ng")


def speak(text: str, *, voice: str = "en") -> bytes | None:
    """Text to speech with espeak-ng (blocking: call it in a thread). Its 22.05 kHz WAV comes
    back as our 8 kHz PCM; None when it is not installed or fails (the caller beeps)."""
    program = speech_engine()
    if program is None or not text.strip():
        return None
    try:  # the text on stdin: a text starting with "-" is not taken for an option
        result = subprocess.run([program, "-v", voice, "--stdout", "--stdin"],  # noqa: S603
                                input=text.encode(), capture_output=True, timeout=20,
                                check=True)
        pcm = read_wav(result.stdout)
    except subprocess.CalledProcessError as error:
        log.warning("espeak-ng failed (exit %d): %s", error.returncode,
                    error.stderr.decode(errors="replace").strip())
        return None
    except (subprocess.SubprocessError, OSError, ValueError) as error:
        log.warning("espeak-ng failed: %s", error)
        return None
    if not pcm:
        log.warning("espeak-ng gave no audio for %r (voice %s)", text[:60], voice)
        return None
    return pcm
