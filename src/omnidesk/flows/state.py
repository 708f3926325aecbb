"""The interaction's flow state: plain, JSON-serialisable data the host stores between steps."""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, cast

Awaiting = Literal["input", "feedback", "http_result", "knowledge_results"]
Role = Literal["bot", "customer", "system"]


@dataclass
class TranscriptEntry:
    """One line of the self-service transcript."""

    at: str
    role: Role
    text: str
    node: str | None = None


@dataclass
class FlowState:
    """Where an interaction is in a flow; the version pins the flow it started on."""

    flow_id: str
    version: int
    node: str | None = None
    awaiting: Awaiting | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    retries: dict[str, int] = field(default_factory=dict)
    pending: dict[str, Any] = field(default_factory=dict)
    transcript: list[TranscriptEntry] = field(default_factory=list)
    last_input: str | None = None
    finished: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy of the state."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FlowState:
        """Rebuild a state from `to_dict` output."""
        fields = copy.deepcopy(data)
        fields["transcript"] = [TranscriptEntry(**entry) for entry in fields.get("transcript", [])]
        fields["awaiting"] = cast("Awaiting | None", fields.get("awaiting"))
        return cls(**fields)

    def copy(self) -> FlowState:
        """A deep copy, so a step never changes the state it was given."""
        return FlowState.from_dict(self.to_dict())
