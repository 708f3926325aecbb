"""The voice channel's settings (`channel.settings` of a channel of kind `voice`)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

KIND = "voice"
ACTOR = "voice"  # the actor of the events the voice service records
_NOT_DIALLABLE = re.compile(r"[^0-9A-Za-z+*#]")


def normalise_number(number: str) -> str:
    """A dialled number as compared: no spaces, dashes or brackets, no leading '+'."""
    return _NOT_DIALLABLE.sub("", number).removeprefix("+")


@dataclass(frozen=True)
class Trunk:
    """The SIP trunk a voice channel places outbound calls through (transfers to numbers,
    callbacks): where to send the INVITE and the digest credentials it may ask for."""

    host: str
    port: int = 5060
    transport: str = "udp"  # "udp" or "tcp"
    username: str = ""
    password_env: str = ""  # the name of the environment variable holding the password
    from_number: str = ""  # our caller id on outbound calls
    ring_seconds: float = 30.0  # how long an outbound call rings before we give up

    @property
    def password(self) -> str:
        """The password, read from the environment when needed ('' when unset)."""
        return os.environ.get(self.password_env, "") if self.password_env else ""

    def uri(self, number: str) -> str:
        """The Request-URI of a call to `number` through this trunk."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"sip:{dialled(number)}@{host}:{self.port};transport={self.transport}"


def dialled(number: str) -> str:
    """A number as sent to a trunk: a leading '+' kept, spaces, dashes and brackets gone."""
    plus = "+" if number.strip().startswith("+") else ""
    return plus + normalise_number(number)


@dataclass(frozen=True)
class VoiceSettings:
    """What a voice channel says about the calls it takes."""

    numbers: tuple[str, ...] = ()  # dialled numbers (Request-URI user); empty: any
    trunks: tuple[str, ...] = ()  # source IP addresses allowed; empty: any
    ring_seconds: float = 0.0  # ring this long before answering
    record: bool = False  # record the caller's audio to WAV
    recording_notice: str | None = None  # said (espeak-ng) before recording starts
    recording_notice_audio: str | None = None  # or this WAV under <data>/voice/prompts/
    hold_music: str | None = None  # WAV under <data>/voice/prompts/; default: a built-in tune
    announce_seconds: float = 30.0  # queue position announcements every …; 0: never
    trunk: Trunk | None = None  # outbound calls (transfers to numbers, callbacks)

    def matches(self, *, dialled: str, source: str) -> bool:
        """True when this channel takes a call to `dialled` coming from `source`."""
        wanted = {normalise_number(number) for number in self.numbers}
        if wanted and normalise_number(dialled) not in wanted:
            return False
        return not self.trunks or source in self.trunks


class TrunkModel(BaseModel):
    """The `trunk` block of a voice channel: the password is never in the settings, only the
    name of the environment variable that holds it."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    host: str = Field(min_length=1)
    port: int = Field(default=5060, ge=1, le=65535)
    transport: Literal["udp", "tcp"] = "udp"
    username: str = ""
    password_env: str = Field(default="", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$|^$")
    from_number: str = ""
    ring_seconds: float = Field(default=30.0, ge=1, le=120)


class VoiceSettingsModel(BaseModel):
    """What a voice channel's settings may say, checked when the channel is created or changed
    (the flow's own settings may sit beside them: other keys are left alone)."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    numbers: str | list[str] = []
    trunks: str | list[str] = []
    ring_seconds: float = Field(default=0.0, ge=0, le=120)
    record: bool = False
    recording_notice: str | None = Field(default=None, min_length=1, max_length=1000,
                                         pattern=r"\S")
    recording_notice_audio: str | None = Field(default=None, min_length=1, max_length=255)
    hold_music: str | None = None
    announce_seconds: float = Field(default=30.0, ge=0)
    trunk: TrunkModel | None = None

    @field_validator("recording_notice_audio")
    @classmethod
    def _prompt_file(cls, name: str | None) -> str | None:
        """A WAV file under <data>/voice/prompts/: a relative path without '..'."""
        if name is None:
            return None
        path = PurePosixPath(name)
        if path.is_absolute() or ".." in path.parts or "\\" in name \
                or path.suffix.lower() != ".wav":
            raise ValueError("a .wav file under voice/prompts/ (a relative path, no '..')")
        return name

    @field_validator("recording_notice", "recording_notice_audio")
    @classmethod
    def _only_when_recording(cls, value: str | None, info: ValidationInfo) -> str | None:
        """A notice on a channel that does not record would never be played."""
        if value is not None and info.data.get("record") is not True:
            raise ValueError("played only when record is true")
        return value


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

    def text(key: str) -> str | None:
        value = settings.get(key)
        return value.strip() if isinstance(value, str) and value.strip() else None

    hold = settings.get("hold_music")
    trunk: Trunk | None = None
    if isinstance(settings.get("trunk"), Mapping):
        try:
            trunk = Trunk(**TrunkModel.model_validate(settings["trunk"]).model_dump())
        except ValidationError:
            trunk = None
    return VoiceSettings(trunk=trunk, numbers=strings("numbers"), trunks=strings("trunks"),
                         ring_seconds=min(number("ring_seconds", 0.0), 120.0),
                         record=settings.get("record") is True,
                         recording_notice=text("recording_notice"),
                         recording_notice_audio=text("recording_notice_audio"),
                         hold_music=str(hold) if hold else None,
                         announce_seconds=number("announce_seconds", 30.0))
