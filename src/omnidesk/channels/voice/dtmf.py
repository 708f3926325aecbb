"""DTMF: RFC 4733 telephone-event payloads (decode, encode) and SIP INFO bodies."""

from __future__ import annotations

import struct
from dataclasses import dataclass

EVENTS = "0123456789*#ABCD"


@dataclass(frozen=True)
class TelephoneEvent:
    """One RFC 4733 event payload."""

    event: int
    end: bool
    volume: int
    duration: int

    @property
    def digit(self) -> str | None:
        """The DTMF character, None for non-DTMF events (tones, flash …)."""
        return EVENTS[self.event] if self.event < len(EVENTS) else None

    def pack(self) -> bytes:
        """The 4-byte payload."""
        flags = (0x80 if self.end else 0) | (self.volume & 0x3F)
        return struct.pack("!BBH", self.event, flags, self.duration & 0xFFFF)

    @classmethod
    def unpack(cls, payload: bytes) -> TelephoneEvent | None:
        """Read the first event of a payload; None if it is too short."""
        if len(payload) < 4:
            return None
        event, flags, duration = struct.unpack("!BBH", payload[:4])
        return cls(event, bool(flags & 0x80), flags & 0x3F, duration)


class DtmfReceiver:
    """Turns a stream of telephone-event packets into digits, each reported once.

    An event is identified by its RTP timestamp (RFC 4733 §2.5.1): the end packet is sent
    three times, and a lost end is recovered when the next event (a new timestamp) starts.
    A timestamp seen again more than `reuse_after` seconds after its event ended is a new
    event: some senders (SIPp replaying captures, broken gateways) reuse timestamps.
    """

    def __init__(self, reuse_after: float = 0.3) -> None:
        self.reuse_after = reuse_after
        self._current: int | None = None  # timestamp of the event in progress
        self._current_digit: str | None = None
        self._reported: dict[int, float] = {}  # recent timestamps → when they ended

    def feed(self, timestamp: int, payload: bytes, now: float = 0.0) -> list[str]:
        """The digits completed by this packet (usually none or one); `now` in seconds."""
        event = TelephoneEvent.unpack(payload)
        if event is None or event.digit is None:
            return []
        ended_at = self._reported.get(timestamp)
        if ended_at is not None:
            if now - ended_at <= self.reuse_after:
                self._reported[timestamp] = now  # a duplicate end or a late packet
                return []
            del self._reported[timestamp]
        digits: list[str] = []
        if self._current is not None and timestamp != self._current:
            digits.extend(self._report(self._current, self._current_digit, now))  # end lost
        if event.end:
            digits.extend(self._report(timestamp, event.digit, now))
        else:
            self._current, self._current_digit = timestamp, event.digit
        return digits

    def _report(self, timestamp: int, digit: str | None, now: float) -> list[str]:
        self._current = self._current_digit = None
        self._reported[timestamp] = now
        if len(self._reported) > 16:
            del self._reported[next(iter(self._reported))]
        return [digit] if digit else []


def parse_info_dtmf(content_type: str, body: bytes) -> str | None:
    """The digit of a SIP INFO (application/dtmf-relay `Signal=5`, or application/dtmf)."""
    kind = content_type.split(";")[0].strip().lower()
    text = body.decode("utf-8", "replace").strip()
    if kind == "application/dtmf":
        value = text[:1].upper()
        return value if value and value in EVENTS else None
    if kind != "application/dtmf-relay":
        return None
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip().lower() == "signal":
            value = value.strip().upper()
            if value == "10":
                return "*"
            if value == "11":
                return "#"
            return value if len(value) == 1 and value in EVENTS else None
    return None
