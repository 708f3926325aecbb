"""The frames a visitor's browser sends (docs/channels/webchat.md); each parsed strictly."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from omnidesk.errors import InvalidInput

Text = Annotated[str, StringConstraints(max_length=10_000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
ClientId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class Frame(BaseModel):
    """A client frame: unknown fields are errors."""

    model_config = ConfigDict(extra="forbid")


class Hello(Frame):
    """The first frame: who the browser is (token, if it has one) and what it saw last."""

    type: Literal["hello"]
    visitor_token: str | None = None
    last_seen_id: str | None = None


class Ping(Frame):
    """Keep-alive."""

    type: Literal["ping"]


class Prechat(Frame):
    """The pre-chat form."""

    type: Literal["prechat"]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    email: Short
    topic: Short = ""


class ChatMessage(Frame):
    """A visitor's message; `client_id` makes a resend harmless."""

    type: Literal["message"]
    client_id: ClientId
    text: Text = ""
    attachments: list[Annotated[str, StringConstraints(max_length=64)]] = Field(
        default=[], max_length=10)


class Typing(Frame):
    """The visitor started (true) or stopped (false) typing."""

    type: Literal["typing"]
    typing: bool = True


class LeaveMessage(Frame):
    """A message for later, when nobody can chat now."""

    type: Literal["leave_message"]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    email: Short
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=10_000)]
    ref: ClientId | None = None


class Transcript(Frame):
    """Send me the transcript (to this address, or the pre-chat one)."""

    type: Literal["transcript"]
    email: Short | None = None


class Continue(Frame):
    """Continue by email, or call me back."""

    type: Literal["continue"]
    via: Literal["email", "callback"]
    email: Short | None = None
    phone: Short | None = None
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""


ClientFrame = Annotated[Prechat | ChatMessage | Typing | LeaveMessage | Transcript | Continue
                        | Ping | Hello, Field(discriminator="type")]
_frames: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)


def parse(text: str) -> ClientFrame:
    """One client frame; InvalidInput naming the first bad field otherwise."""
    try:
        data: Any = json.loads(text)
    except ValueError:
        raise InvalidInput("a frame must be a JSON object", field="frame") from None
    if not isinstance(data, dict):
        raise InvalidInput("a frame must be a JSON object", field="frame")
    try:
        return _frames.validate_python(data)
    except ValidationError as error:
        first = error.errors()[0]
        location = [str(part) for part in first["loc"]]
        if location and location[0] in ("hello", "ping", "prechat", "message", "typing",
                                        "leave_message", "transcript", "continue"):
            location = location[1:]  # the discriminator's tag, not a field
        name = ".".join(location) or "type"
        raise InvalidInput(f"{name}: {first['msg']}", field=name) from error
