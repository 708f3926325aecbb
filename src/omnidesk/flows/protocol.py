"""The host protocol: what the host feeds in (inputs) and what a step gives back."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from omnidesk.flows.state import FlowState

# ---- inputs: what the customer or the host's I/O produced ------------------------------


@dataclass(frozen=True)
class TextInput:
    """Text typed in chat, recognised speech, or the value of a pressed button."""

    text: str


@dataclass(frozen=True)
class DigitsInput:
    """DTMF digits pressed on the phone."""

    digits: str


@dataclass(frozen=True)
class TimeoutInput:
    """The customer said nothing within the wait's timeout."""


@dataclass(frozen=True)
class HttpResult:
    """The outcome of an HttpRequest action: a status and JSON body, or an error."""

    status: int | None
    body: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True for a 2xx response without a transport error."""
        return self.error is None and self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class Article:
    """A knowledge-base search hit."""

    id: str
    title: str
    body: str
    url: str | None = None
    score: float = 0.0


@dataclass(frozen=True)
class KnowledgeResults:
    """The outcome of a SearchKnowledge action, best hit first."""

    articles: tuple[Article, ...] = ()


FlowInput = TextInput | DigitsInput | TimeoutInput | HttpResult | KnowledgeResults

# ---- outputs: what to show or play ---------------------------------------------------


@dataclass(frozen=True)
class Option:
    """A choice the customer can pick: send `value` back as TextInput (or press it as DTMF)."""

    value: str
    label: str


@dataclass(frozen=True)
class TextOutput:
    """A chat message."""

    text: str
    kind: Literal["text"] = "text"


@dataclass(frozen=True)
class SpeechOutput:
    """A prompt for text-to-speech on voice."""

    text: str
    kind: Literal["speech"] = "speech"


@dataclass(frozen=True)
class AudioOutput:
    """An audio file to play on voice; `text` is the transcript."""

    audio: str
    text: str | None = None
    kind: Literal["audio"] = "audio"


@dataclass(frozen=True)
class OptionsOutput:
    """Buttons or quick replies in chat."""

    options: tuple[Option, ...]
    kind: Literal["options"] = "options"


Output = TextOutput | SpeechOutput | AudioOutput | OptionsOutput

# ---- actions: what the host must do next ----------------------------------------------


@dataclass(frozen=True)
class WaitForInput:
    """Wait for the customer; resume with TextInput, DigitsInput or TimeoutInput."""

    expect: Literal["text", "digits", "choice"]
    timeout_seconds: float
    options: tuple[Option, ...] = ()
    max_digits: int | None = None
    kind: Literal["wait"] = "wait"


@dataclass(frozen=True)
class HttpRequest:
    """Perform this request and resume with an HttpResult."""

    method: str
    url: str
    headers: dict[str, str]
    json: Any
    timeout_seconds: float
    kind: Literal["http"] = "http"


@dataclass(frozen=True)
class SearchKnowledge:
    """Search the knowledge base and resume with KnowledgeResults."""

    query: str
    limit: int
    kind: Literal["search_knowledge"] = "search_knowledge"


@dataclass(frozen=True)
class QueueAction:
    """Put the interaction in a queue; the flow is finished."""

    queue: str
    skills: tuple[str, ...] = ()
    priority: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)
    kind: Literal["queue"] = "queue"


@dataclass(frozen=True)
class CallbackAction:
    """Schedule a callback to `number` (None: use the customer's known number); finished."""

    queue: str
    number: str | None
    skills: tuple[str, ...] = ()
    priority: int = 0
    kind: Literal["callback"] = "callback"


@dataclass(frozen=True)
class TransferAction:
    """Transfer to a target (number, SIP URI, or another flow); finished."""

    target: str
    kind: Literal["transfer"] = "transfer"


@dataclass(frozen=True)
class EndAction:
    """Self-service is over; `resolved` tells whether it answered the customer."""

    resolved: bool
    kind: Literal["end"] = "end"


Action = (
    WaitForInput
    | HttpRequest
    | SearchKnowledge
    | QueueAction
    | CallbackAction
    | TransferAction
    | EndAction
)
FINISHING_ACTIONS = (QueueAction, CallbackAction, TransferAction, EndAction)


@dataclass(frozen=True)
class Record:
    """An analytics record produced by the step, e.g. `survey.answered`."""

    name: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Step:
    """One interpreter step: outputs to deliver, the host's next action, and the new state."""

    outputs: tuple[Output, ...]
    action: Action
    state: FlowState
    records: tuple[Record, ...] = ()

    @property
    def finished(self) -> bool:
        """True when the flow handed off or ended; no further input is accepted."""
        return isinstance(self.action, FINISHING_ACTIONS)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the whole step, for sending to a host or client."""
        return {
            "outputs": [asdict(output) for output in self.outputs],
            "action": asdict(self.action),
            "state": self.state.to_dict(),
            "records": [asdict(record) for record in self.records],
        }
