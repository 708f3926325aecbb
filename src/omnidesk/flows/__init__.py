"""Self-service flows: one pure interpreter for IVR and chatbot, flows as versioned data.

A host loads a flow (`load_flow`), keeps it in a `FlowRegistry`, calls `start` for a new
interaction and `advance` with each customer input or I/O result, and performs the
`Step.action` it gets back. See docs/flows.md.
"""

from omnidesk.flows.context import FlowContext, OpeningHours, QueueSnapshot, WeeklyHours
from omnidesk.flows.errors import (
    FlowIssue,
    FlowProtocolError,
    FlowValidationError,
    FlowVersionError,
)
from omnidesk.flows.flow import Flow
from omnidesk.flows.interpreter import advance, expire, start
from omnidesk.flows.loader import compile_flow, flow_from_data, load_flow, load_flow_text
from omnidesk.flows.protocol import (
    Action,
    Article,
    AudioOutput,
    CallbackAction,
    DigitsInput,
    EndAction,
    FlowInput,
    HttpRequest,
    HttpResult,
    KnowledgeResults,
    Option,
    OptionsOutput,
    Output,
    QueueAction,
    Record,
    SearchKnowledge,
    SpeechOutput,
    Step,
    TextInput,
    TextOutput,
    TimeoutInput,
    TransferAction,
    WaitForInput,
)
from omnidesk.flows.registry import FlowRegistry
from omnidesk.flows.schema import FlowDocument, flow_json_schema
from omnidesk.flows.state import FlowState, TranscriptEntry
from omnidesk.flows.textmatch import IntentClassifier, IntentResult

__all__ = [
    "Action",
    "Article",
    "AudioOutput",
    "CallbackAction",
    "DigitsInput",
    "EndAction",
    "Flow",
    "FlowContext",
    "FlowDocument",
    "FlowInput",
    "FlowIssue",
    "FlowProtocolError",
    "FlowRegistry",
    "FlowState",
    "FlowValidationError",
    "FlowVersionError",
    "HttpRequest",
    "HttpResult",
    "IntentClassifier",
    "IntentResult",
    "KnowledgeResults",
    "OpeningHours",
    "Option",
    "OptionsOutput",
    "Output",
    "QueueAction",
    "QueueSnapshot",
    "Record",
    "SearchKnowledge",
    "SpeechOutput",
    "Step",
    "TextInput",
    "TextOutput",
    "TimeoutInput",
    "TranscriptEntry",
    "TransferAction",
    "WaitForInput",
    "WeeklyHours",
    "advance",
    "compile_flow",
    "expire",
    "flow_from_data",
    "flow_json_schema",
    "load_flow",
    "load_flow_text",
    "start",
]
