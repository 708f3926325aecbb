"""What the speech tests share: espeak-ng as a test peer, and telling speech from tones."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import numpy as np
import pytest

from omnidesk.channels.voice.audio import RATE

FRAME = 256  # samples per analysis frame (32 ms at 8 kHz; bins of 31.25 Hz)


def require_espeak_ng() -> str:
    """The espeak-ng program; the test fails (never skips) when it is missing."""
    program = shutil.which("espeak-ng")
    if program is None:
        pytest.fail("espeak-ng is not installed: run scripts/install-test-peers "
                    "(Debian espeak-ng)")
    return program


@dataclass(frozen=True)
class Sound:
    """A few figures of 8 kHz 16-bit PCM."""

    seconds: float
    rms: float  # of the loud frames (within 20 dB of the loudest)
    peak_share: float  # median share of a loud frame's power within ±2 bins of its peak
    bins_90: int  # how many of the 129 bins hold 90 % of the loud frames' power
    modulation: float  # frame energies' standard deviation / mean (syllables come and go)

    @property
    def speech_like(self) -> bool:
        """Loud, spread over many frequencies in every frame (a tone or a dual tone puts
        nearly all its power in one or two peaks) and rising and falling like syllables."""
        return self.rms > 800 and self.peak_share < 0.6 and self.bins_90 >= 20 \
            and self.modulation > 0.6


def analyse(pcm: bytes) -> Sound:
    """The figures of a sound (PCM, 8 kHz)."""
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    frames = samples[:samples.size // FRAME * FRAME].reshape(-1, FRAME)
    energy = np.sqrt((frames ** 2).mean(axis=1)) if frames.size else np.zeros(1)
    loud = frames[energy > 0.1 * energy.max()] if energy.max() > 0 else frames[:0]
    if not loud.size:
        return Sound(samples.size / RATE, 0.0, 1.0, 0, 0.0)
    power = np.abs(np.fft.rfft(loud * np.hanning(FRAME), axis=1)) ** 2
    peaks = power.argmax(axis=1)
    shares = [power[i, max(0, p - 2):p + 3].sum() / power[i].sum()
              for i, p in enumerate(peaks)]
    total = np.sort(power.sum(axis=0))[::-1]
    bins_90 = int(np.searchsorted(np.cumsum(total) / total.sum(), 0.9)) + 1
    return Sound(seconds=samples.size / RATE, rms=float(np.sqrt((loud ** 2).mean())),
                 peak_share=float(np.median(shares)), bins_90=bins_90,
                 modulation=float(energy.std() / energy.mean()))


def heard_from(pcm: bytes, threshold: float = 300.0) -> float:
    """Seconds from the start of `pcm` to its first 20 ms frame louder than `threshold` RMS."""
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    frames = samples[:samples.size // 160 * 160].reshape(-1, 160)
    loud = np.flatnonzero(np.sqrt((frames ** 2).mean(axis=1)) > threshold)
    return float(loud[0]) * 0.02 if loud.size else float("inf")


def locate(haystack: bytes, needle: bytes) -> tuple[float, float]:
    """(seconds into `haystack`, normalised correlation) where `needle` fits best."""
    a = np.frombuffer(haystack, dtype=np.int16).astype(np.float64)
    b = np.frombuffer(needle, dtype=np.int16).astype(np.float64)
    if a.size < b.size or not b.any():
        return 0.0, 0.0
    size = 1 << int(np.ceil(np.log2(a.size + b.size)))
    cross = np.fft.irfft(np.fft.rfft(a, size) * np.conj(np.fft.rfft(b, size)), size)
    cross = cross[:a.size - b.size + 1]
    windows = np.sqrt(np.convolve(a ** 2, np.ones(b.size), "valid"))
    score = cross / (np.maximum(windows, 1e-9) * np.sqrt((b ** 2).sum()))
    best = int(score.argmax())
    return best / RATE, float(score[best])
