"""G.711 µ-law and A-law (ITU-T G.711), as the reference `g711.c`: tables for speed."""

from __future__ import annotations

import array
import sys

_BIAS = 0x84
_CLIP = 32635
_SEG_END = (0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF, 0x3FFF, 0x7FFF)


def _segment(value: int) -> int:
    for index, end in enumerate(_SEG_END):
        if value <= end:
            return index
    return 8


def linear_to_ulaw(sample: int) -> int:
    """One 16-bit signed sample to its µ-law byte."""
    mask = 0x7F if sample < 0 else 0xFF
    magnitude = min(abs(sample), _CLIP) + _BIAS
    segment = _segment(magnitude)
    if segment >= 8:
        return 0x7F ^ mask
    return ((segment << 4) | ((magnitude >> (segment + 3)) & 0xF)) ^ mask


def ulaw_to_linear(byte: int) -> int:
    """One µ-law byte to its 16-bit signed sample."""
    byte = ~byte & 0xFF
    magnitude = (((byte & 0x0F) << 3) + _BIAS) << ((byte & 0x70) >> 4)
    return _BIAS - magnitude if byte & 0x80 else magnitude - _BIAS


def linear_to_alaw(sample: int) -> int:
    """One 16-bit signed sample to its A-law byte."""
    value = sample >> 3
    if value >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        value = -value - 1
    segment = _alaw_segment(value)
    if segment >= 8:
        return 0x7F ^ mask
    code = segment << 4
    code |= (value >> 1) & 0xF if segment < 2 else (value >> segment) & 0xF
    return code ^ mask


_ALAW_SEG_END = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)


def _alaw_segment(value: int) -> int:
    for index, end in enumerate(_ALAW_SEG_END):
        if value <= end:
            return index
    return 8


def alaw_to_linear(byte: int) -> int:
    """One A-law byte to its 16-bit signed sample."""
    byte ^= 0x55
    value = (byte & 0x0F) << 4
    segment = (byte & 0x70) >> 4
    if segment == 0:
        value += 8
    elif segment == 1:
        value += 0x108
    else:
        value = (value + 0x108) << (segment - 1)
    return value if byte & 0x80 else -value


def _pcm(values: list[int]) -> list[bytes]:
    return [int(v).to_bytes(2, sys.byteorder, signed=True) for v in values]


_ULAW_DECODE = _pcm([ulaw_to_linear(b) for b in range(256)])
_ALAW_DECODE = _pcm([alaw_to_linear(b) for b in range(256)])
_ULAW_ENCODE = bytes(linear_to_ulaw(s - 65536 if s >= 32768 else s) for s in range(65536))
_ALAW_ENCODE = bytes(linear_to_alaw(s - 65536 if s >= 32768 else s) for s in range(65536))


def _samples(pcm: bytes) -> array.array[int]:
    samples = array.array("h")
    samples.frombytes(pcm[: len(pcm) - len(pcm) % 2])
    return samples


def encode_ulaw(pcm: bytes) -> bytes:
    """16-bit native-endian PCM to µ-law bytes."""
    table = _ULAW_ENCODE
    return bytes(table[s & 0xFFFF] for s in _samples(pcm))


def encode_alaw(pcm: bytes) -> bytes:
    """16-bit native-endian PCM to A-law bytes."""
    table = _ALAW_ENCODE
    return bytes(table[s & 0xFFFF] for s in _samples(pcm))


def decode_ulaw(payload: bytes) -> bytes:
    """µ-law bytes to 16-bit native-endian PCM."""
    table = _ULAW_DECODE
    return b"".join([table[b] for b in payload])


def decode_alaw(payload: bytes) -> bytes:
    """A-law bytes to 16-bit native-endian PCM."""
    table = _ALAW_DECODE
    return b"".join([table[b] for b in payload])


PCMU, PCMA = 0, 8
ENCODERS = {PCMU: encode_ulaw, PCMA: encode_alaw}
DECODERS = {PCMU: decode_ulaw, PCMA: decode_alaw}
SILENCE = {PCMU: 0xFF, PCMA: 0xD5}

ULAW_TO_ALAW = bytes(linear_to_alaw(ulaw_to_linear(b)) for b in range(256))
ALAW_TO_ULAW = bytes(linear_to_ulaw(alaw_to_linear(b)) for b in range(256))


def transcode(payload: bytes, source: int, target: int) -> bytes:
    """G.711 bytes from one law to the other (a table lookup per byte), or as they are."""
    if source == target:
        return payload
    return payload.translate(ULAW_TO_ALAW if source == PCMU else ALAW_TO_ULAW)
