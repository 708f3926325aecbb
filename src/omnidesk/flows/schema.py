"""The flow document format as pydantic models; `flow_json_schema()` publishes it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints, model_validator

NodeId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_-]*$")]
AttributeName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Seconds = Annotated[float, Field(gt=0, le=3600)]
IdleSeconds = Annotated[float, Field(gt=0, le=7 * 24 * 3600)]
Retries = Annotated[int, Field(ge=0, le=10)]

DEFAULT_ESCAPE_PHRASES = (
    "0",
    "agent",
    "human",
    "operator",
    "representative",
    "talk to a person",
    "speak to a person",
    "real person",
    "talk to someone",
    "mitarbeiter",
    "mensch",
    "berater",
    "conseiller",
    "humain",
    "parler a quelqu un",
    "agente",
    "persona",
    "hablar con una persona",
    "atendente",
    "pessoa",
    "operatore",
    "medewerker",
)

RESERVED_ATTRIBUTES = frozenset(
    {"settings", "customer", "channel", "caller_id", "queue", "hours", "now", "flow"}
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Say(_Strict):
    """What a node says: chat `text`, a voice `prompt` for TTS, or a voice `audio` file."""

    text: str | None = None
    prompt: str | None = None
    audio: str | None = None

    def says_anything(self) -> bool:
        """True when at least one of text, prompt or audio is set."""
        return any((self.text, self.prompt, self.audio))


class _SayRequired(Say):
    @model_validator(mode="after")
    def _needs_something_to_say(self) -> _SayRequired:
        if not self.says_anything():
            raise ValueError("missing field: one of 'text', 'prompt' or 'audio' is required")
        return self


class _Waiting(_Strict):
    escape: bool | None = Field(
        default=None, description="false stops 'talk to a person' here; null follows the flow"
    )
    timeout_seconds: Seconds | None = None
    retries: Retries = 2
    no_match: str | None = Field(default=None, description="said after input that did not fit")
    no_input: str | None = Field(default=None, description="said after a timeout")
    on_failure: NodeId | None = Field(
        default=None, description="after the last retry; null reaches a person (escape route)"
    )


class MessageNode(_SayRequired):
    """Say something, then go on."""

    type: Literal["message"]
    next: NodeId


class MenuOption(_Strict):
    """One menu choice: a key (digit or button value), a label and extra matching words."""

    key: str = Field(min_length=1)
    label: str = Field(min_length=1)
    match: list[str] = Field(default_factory=list)
    goto: NodeId


class MenuNode(_SayRequired, _Waiting):
    """Offer options by digit, button or words; re-prompt on no match."""

    type: Literal["menu"]
    options: list[MenuOption] = Field(min_length=1)


class CollectNode(_SayRequired, _Waiting):
    """Ask for a value, validate it, store it into an attribute."""

    type: Literal["collect"]
    attribute: AttributeName
    input: Literal["text", "digits"] = "text"
    format: Literal["text", "number", "date"] = "text"
    pattern: str | None = Field(default=None, description="regex the whole answer must match")
    extract: str | None = Field(
        default=None, description="regex searched in the answer; group 1 (or all) is kept"
    )
    min_length: int | None = Field(default=None, ge=0)
    max_length: int | None = Field(default=None, ge=1)
    max_digits: int | None = Field(default=None, ge=1, le=64)
    skip_if_set: bool = False
    sensitive: bool = Field(default=False, description="masked in the transcript")
    next: NodeId


class IntentSpec(_Strict):
    """An intent: example phrases, where it leads, and entities to extract by regex."""

    examples: list[str] = Field(min_length=1)
    goto: NodeId
    entities: dict[AttributeName, str] = Field(default_factory=dict)


class IntentNode(Say, _Waiting):
    """Classify the customer's words into one of the node's intents."""

    type: Literal["intent"]
    use_last_input: bool = False
    threshold: float = Field(default=0.35, ge=0.0, le=1.0)
    intents: dict[AttributeName, IntentSpec] = Field(min_length=1)
    fallback: NodeId

    @model_validator(mode="after")
    def _needs_a_question_or_last_input(self) -> IntentNode:
        if not (self.says_anything() or self.use_last_input):
            raise ValueError("missing field: set 'text' (a question) or 'use_last_input: true'")
        return self


class KnowledgeAnswerNode(Say, _Waiting):
    """Search the knowledge base for the customer's question, offer the best article."""

    type: Literal["knowledge_answer"]
    use_last_input: bool = False
    query: str | None = Field(default=None, description="template; default is the question")
    limit: int = Field(default=3, ge=1, le=20)
    min_score: float = Field(default=0.0, ge=0.0)
    not_found: str | None = None
    helpful: Say | None = None
    resolved_text: str | None = None
    on_resolved: NodeId | None = Field(default=None, description="null ends resolved")
    next: NodeId

    @model_validator(mode="after")
    def _needs_a_question_or_last_input(self) -> KnowledgeAnswerNode:
        if not (self.says_anything() or self.use_last_input or self.query):
            raise ValueError(
                "missing field: set 'text' (a question), 'query' or 'use_last_input: true'"
            )
        return self


class Branch(_Strict):
    """A condition branch: an expression and the node it leads to."""

    when: str = Field(min_length=1)
    goto: NodeId


class ConditionNode(_Strict):
    """Go to the first branch whose expression holds, else to `else`."""

    type: Literal["condition"]
    branches: list[Branch] = Field(min_length=1)
    otherwise: NodeId = Field(alias="else")


class SetNode(_Strict):
    """Set attributes (values may be templates), then go on."""

    type: Literal["set"]
    attributes: dict[AttributeName, JsonValue] = Field(min_length=1)
    next: NodeId


class HttpNode(Say):
    """Ask the host to call an HTTP service; map JSON response paths into attributes."""

    type: Literal["http"]
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    url: str = Field(min_length=1)
    headers: dict[str, str] = Field(default_factory=dict)
    body: JsonValue = Field(default=None, alias="json")
    timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 5.0
    map: dict[AttributeName, str] = Field(default_factory=dict)
    next: NodeId
    on_error: NodeId


class AuthenticateNode(Say, _Waiting):
    """Verify the caller by caller id, or by a PIN / date of birth from the customer record."""

    type: Literal["authenticate"]
    caller_id: bool = True
    ask: Literal["pin", "date_of_birth"] | None = "pin"
    record_field: str | None = Field(
        default=None, description="customer record field to compare; default is `ask`"
    )
    next: NodeId
    on_failure: NodeId | None = None

    @model_validator(mode="after")
    def _needs_a_method(self) -> AuthenticateNode:
        if not (self.caller_id or self.ask):
            raise ValueError("missing field: enable 'caller_id' or set 'ask'")
        if self.ask and not self.says_anything():
            raise ValueError(f"missing field: 'text' asking for the {self.ask}")
        return self


class QueueNode(Say):
    """Hand the interaction to a queue with skills, priority and attributes."""

    type: Literal["queue"]
    queue: str | None = Field(default=None, description="null means the flow's default_queue")
    skills: list[str] = Field(default_factory=list)
    priority: int = Field(default=0, ge=0, le=100)
    attributes: dict[str, JsonValue] = Field(default_factory=dict)


class CallbackNode(Say, _Waiting):
    """Offer a callback; on yes the host schedules it, on no the flow goes to `next`."""

    type: Literal["callback"]
    confirm: bool = True
    queue: str | None = None
    number: str | None = Field(default=None, description="template; default is the caller id")
    skills: list[str] = Field(default_factory=list)
    priority: int = Field(default=0, ge=0, le=100)
    accepted_text: str | None = None
    next: NodeId | None = None

    @model_validator(mode="after")
    def _confirm_needs_question_and_next(self) -> CallbackNode:
        if self.confirm and not (self.says_anything() and self.next):
            raise ValueError("missing field: a confirmed callback needs 'text' and 'next'")
        return self


class TransferNode(Say):
    """Transfer to a target (phone number, SIP URI, or another flow), ending the flow."""

    type: Literal["transfer"]
    target: str = Field(min_length=1)


class SurveyNode(_SayRequired, _Waiting):
    """Ask a CSAT (1-5) or NPS (0-10) question and store the score."""

    type: Literal["survey"]
    scale: Literal["csat", "nps"] = "csat"
    attribute: AttributeName | None = None
    retries: Retries = 1
    thanks: str | None = None
    next: NodeId


class EndNode(Say):
    """End the self-service, resolved or not."""

    type: Literal["end"]
    resolved: bool = True


Node = Annotated[
    MessageNode
    | MenuNode
    | CollectNode
    | IntentNode
    | KnowledgeAnswerNode
    | ConditionNode
    | SetNode
    | HttpNode
    | AuthenticateNode
    | QueueNode
    | CallbackNode
    | TransferNode
    | SurveyNode
    | EndNode,
    Field(discriminator="type"),
]


class EscapeSettings(_Strict):
    """How 'talk to a person' works in this flow."""

    enabled: bool = True
    phrases: list[str] = Field(default_factory=lambda: list(DEFAULT_ESCAPE_PHRASES))
    goto: NodeId | None = Field(default=None, description="null queues to default_queue")
    skills: list[str] = Field(default_factory=list)
    priority: int = Field(default=0, ge=0, le=100)


class Timeouts(_Strict):
    """Default seconds to wait for the customer, per kind of channel."""

    voice: Seconds = 8.0
    text: Seconds = 300.0
    inactivity: IdleSeconds = Field(
        default=1800.0,
        description="messaging channels: end the conversation (unresolved) after this long "
        "without a customer message, whatever node it waits in",
    )


class Messages(_Strict):
    """The flow's default wording (so a flow can speak any language)."""

    no_match: str = "Sorry, I didn't get that."
    no_input: str = "Sorry, I didn't hear anything."
    escape: str = "Let me connect you with a person."
    helpful: str = "Did this answer your question?"
    helpful_prompt: str = "Did this answer your question? Press 1 for yes or 2 for no."
    not_found: str = "I couldn't find an answer to that."
    resolved: str = "Glad I could help!"
    not_verified: str = "That doesn't match our records."
    inactive: str = (
        "We haven't heard from you for a while, so I'm closing this chat. Write again any time."
    )
    yes: list[str] = Field(
        default_factory=lambda: ["yes", "y", "1", "yeah", "yep", "sure", "ok", "ja", "oui", "si"]
    )
    no: list[str] = Field(default_factory=lambda: ["no", "n", "2", "nope", "nein", "non"])


class FlowDocument(_Strict):
    """A versioned self-service flow: the nodes, where to start, and flow-wide settings."""

    id: NodeId
    version: int = Field(ge=1)
    name: str | None = None
    description: str | None = None
    start: NodeId
    default_queue: str = Field(min_length=1)
    entry_points: list[NodeId] = Field(
        default_factory=list, description="extra nodes a host may start at, e.g. a survey"
    )
    settings: dict[str, JsonValue] = Field(default_factory=dict)
    escape: EscapeSettings = Field(default_factory=EscapeSettings)
    timeouts: Timeouts = Field(default_factory=Timeouts)
    messages: Messages = Field(default_factory=Messages)
    nodes: dict[NodeId, Node] = Field(min_length=1)


def flow_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of a flow document."""
    schema = FlowDocument.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "omnidesk self-service flow"
    return schema
