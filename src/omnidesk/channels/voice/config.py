"""The voice channel's settings (`channel.settings` of a channel of kind `voice`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

KIND = "voice"
_NOT_DIALLABLE = re.compile(r"[^0-9A-Za-z+*#]")


def normalise_number(number: str) -> str:
    """A dialled number as compared: no spaces, dashes or brackets, no leading '+'."""
    return _NOT_DIALLABLE.sub("", number).removeprefix("+")


@dataclass(frozen=True)
class VoiceSettings:
    """What a voice channel says about the calls it takes."""

    numbers: tuple[str, ...] = ()  # dialled numbers (Request-URI user); empty: any
    trunks: tuple[str, ...] = ()  # source IP addresses allowed; empty: any
    ring_seconds: float = 0.0  # ring this long before answering
    record: bool = False  # record the caller's audio to WAV
    hold_music: str | None = None  # WAV under <data>/voice/prompts/; default: a built-in tune
    announce_seconds: float = 30.0  # queue position announcements every …; 0: never

    def matches(self, *, dialled: str, source: str) -> bool:
        """True when this channel takes a call to `dialled` coming from `source`."""
        wanted = {normalise_number(number) for number in self.numbers}
        if wanted and normalise_number(dialled) not in wanted:
            return False
        return not self.trunks or source in self.trunks


def voice_settings(settings: Mapping[str, Any]) -> VoiceSettings:
    """Read a voice channel's settings, ignoring what is malformed."""
    def strings(key: str) -> tuple[str, ...]:
        value = settings.get(key) or ()
        if isinstance(value, str):
            value = [value]
        return tuple(str(item).strip() for item in value if str(item).strip())

    def number(key: str, default: float) -> float:
        value = settings.get(key, default)
        return float(value) if isinstance(value, int | float) and value >= 0 else default

    hold = settings.get("hold_music")
    return VoiceSettings(numbers=strings("numbers"), trunks=strings("trunks"),
                         ring_seconds=min(number("ring_seconds", 0.0), 120.0),
                         record=settings.get("record") is True,
                         hold_music=str(hold) if hold else None,
                         announce_seconds=number("announce_seconds", 30.0))
