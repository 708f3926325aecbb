"""The working area of one interpreter step: outputs, records, the next action, the new state."""

from __future__ import annotations

from typing import Any, Literal

from omnidesk.flows.context import FlowContext
from omnidesk.flows.flow import Flow
from omnidesk.flows.protocol import (
    Action,
    AudioOutput,
    Option,
    OptionsOutput,
    Output,
    QueueAction,
    Record,
    SpeechOutput,
    Step,
    TextOutput,
    WaitForInput,
)
from omnidesk.flows.schema import Messages, Node, Say
from omnidesk.flows.scope import Scope
from omnidesk.flows.state import Awaiting, FlowState, Role, TranscriptEntry
from omnidesk.flows.templates import render
from omnidesk.flows.textmatch import contains_phrase, normalise

Expect = Literal["text", "digits", "choice"]


class Run:
    """Collects what one step says and decides; handlers call its methods."""

    def __init__(self, flow: Flow, state: FlowState, context: FlowContext) -> None:
        self.flow = flow
        self.state = state
        self.context = context
        self.scope = Scope(flow, state, context)
        self.outputs: list[Output] = []
        self.records: list[Record] = []
        self.action: Action | None = None
        self.next_node: str | None = None

    @property
    def messages(self) -> Messages:
        """The flow's default wording."""
        return self.flow.document.messages

    def render(self, template: str) -> str:
        """Render a `{{ path }}` template against this step's scope."""
        return render(template, self.scope)

    def say(self, say: Say) -> None:
        """Emit a node's text, prompt or audio, as suits the channel."""
        spoken = say.prompt or say.text
        if self.context.is_voice and say.audio:
            transcript = self.render(spoken) if spoken else None
            self.outputs.append(AudioOutput(self.render(say.audio), transcript))
            self.note("bot", transcript or f"[audio {say.audio}]")
        elif self.context.is_voice and spoken:
            self.say_text(spoken)
        elif say.text or say.prompt:
            self.say_text(say.text or spoken or "")

    def say_text(self, template: str) -> None:
        """Emit one message: speech on voice, text elsewhere."""
        text = self.render(template)
        self.outputs.append(SpeechOutput(text) if self.context.is_voice else TextOutput(text))
        self.note("bot", text)

    def show_options(self, options: tuple[Option, ...]) -> None:
        """Offer buttons on channels that show them."""
        if not self.context.is_voice:
            self.outputs.append(OptionsOutput(options))

    def note(self, role: Role, text: str) -> None:
        """Append a transcript line."""
        entry = TranscriptEntry(self.context.now.isoformat(), role, text, self.state.node)
        self.state.transcript.append(entry)

    def record(self, name: str, **data: Any) -> None:
        """Add an analytics record stamped with flow, version, node and time."""
        stamp = {
            "flow_id": self.flow.id,
            "version": self.flow.version,
            "node": self.state.node,
            "at": self.context.now.isoformat(),
        }
        self.records.append(Record(name, {**stamp, **data}))

    def goto(self, node_id: str) -> None:
        """Move to a node; leaving a node clears its retry counter."""
        if node_id != self.state.node and self.state.node is not None:
            self.state.retries.pop(self.state.node, None)
        self.next_node = node_id

    def wait(
        self,
        expect: Expect,
        timeout_seconds: float | None,
        *,
        options: tuple[Option, ...] = (),
        max_digits: int | None = None,
        awaiting: Awaiting = "input",
    ) -> None:
        """Stop here and ask the host to wait for the customer."""
        timeouts = self.flow.document.timeouts
        default = timeouts.voice if self.context.is_voice else timeouts.text
        seconds = timeout_seconds or default
        self.request(WaitForInput(expect, seconds, options, max_digits), awaiting)

    def request(self, action: Action, awaiting: Awaiting) -> None:
        """Stop here until the host resumes with the result of `action`."""
        self.state.awaiting = awaiting
        self.action = action

    def finish(self, action: Action) -> None:
        """End the flow with a hand-off or end action."""
        self.state.awaiting = None
        self.state.finished = True
        self.state.retries.clear()
        self.action = action

    def escape(self, reason: str) -> None:
        """Reach a person: the flow's escape node, or its default queue."""
        self.record("flow.escaped", reason=reason)
        settings = self.flow.document.escape
        if settings.goto and reason != "loop":
            self.goto(settings.goto)
            return
        self.say_text(self.messages.escape)
        attributes = {"escaped_from": self.state.node, "reason": reason}
        queue = self.flow.document.default_queue
        self.finish(QueueAction(queue, tuple(settings.skills), settings.priority, attributes))

    def wants_person(self, node: Node, text: str) -> bool:
        """True when the customer asked for a person and the node allows escaping."""
        allowed = getattr(node, "escape", None)
        if allowed is None:
            allowed = self.flow.document.escape.enabled
        if not allowed:
            return False
        said = normalise(text)
        return any(
            said == phrase or (not phrase.isdigit() and contains_phrase(said, phrase))
            for phrase in (normalise(p) for p in self.flow.document.escape.phrases)
        )

    def step(self) -> Step:
        """The finished step."""
        if self.action is None:
            raise AssertionError("a step ended without an action")
        return Step(tuple(self.outputs), self.action, self.state, tuple(self.records))
