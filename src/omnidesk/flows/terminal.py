"""The terminal host behind `omnidesk flow test`: does the I/O the pure interpreter asks for."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

from omnidesk.flows.context import FlowContext
from omnidesk.flows.flow import Flow
from omnidesk.flows.interpreter import advance, start
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
    OptionsOutput,
    Output,
    QueueAction,
    SearchKnowledge,
    Step,
    TextInput,
    TimeoutInput,
    TransferAction,
    WaitForInput,
)
from omnidesk.flows.textmatch import TfidfIndex

TIMEOUT_COMMAND = "/timeout"
_MIN_KB_SCORE = 0.1
_DIGITS = frozenset("0123456789*#")


class KnowledgeFile:
    """A small knowledge base from a YAML list of {title, body, url} articles."""

    def __init__(self, articles: Sequence[Article]) -> None:
        self._articles = {article.id: article for article in articles}
        self._index = TfidfIndex([(a.id, f"{a.title} {a.title} {a.body}") for a in articles])

    @classmethod
    def load(cls, path: Path) -> KnowledgeFile:
        """Read articles from a YAML file; raises ValueError on a bad file."""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            raise ValueError(f"{path}: cannot read knowledge file: {error}") from error
        if not isinstance(data, list) or not all(
            isinstance(item, dict) and "title" in item and "body" in item for item in data
        ):
            raise ValueError(f"{path}: expected a list of {{title, body}} articles")
        articles = [
            Article(
                str(item.get("id", index)), str(item["title"]), str(item["body"]), item.get("url")
            )
            for index, item in enumerate(data, start=1)
        ]
        return cls(articles)

    def search(self, query: str, limit: int) -> KnowledgeResults:
        """The best-scoring articles for a query."""
        matches = [m for m in self._index.best_per_label(query) if m.score >= _MIN_KB_SCORE]
        return KnowledgeResults(
            tuple(
                Article(**{**vars(self._articles[m.label]), "score": m.score})
                for m in matches[:limit]
            )
        )


def perform_http(client: httpx.Client, request: HttpRequest) -> HttpResult:
    """Perform the interpreter's HTTP request and describe the outcome as an HttpResult."""
    try:
        response = client.request(
            request.method,
            request.url,
            headers=request.headers,
            json=request.json,
            timeout=request.timeout_seconds,
        )
    except httpx.TimeoutException:
        return HttpResult(None, error="timeout")
    except httpx.HTTPError as error:
        return HttpResult(None, error=f"{type(error).__name__}: {error}")
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    return HttpResult(response.status_code, body)


def read_input(line: str, wait: WaitForInput) -> FlowInput:
    """Turn a typed line into the input the interpreter expects."""
    text = line.strip()
    if text == TIMEOUT_COMMAND:
        return TimeoutInput()
    if wait.expect == "digits" and text and set(text) <= _DIGITS:
        return DigitsInput(text)
    return TextInput(text)


def describe_output(output: Output) -> list[str]:
    """The lines a terminal shows for one output."""
    if isinstance(output, OptionsOutput):
        return [f"      [{option.value}] {option.label}" for option in output.options]
    if isinstance(output, AudioOutput):
        return [f"bot> (plays {output.audio}) {output.text or ''}".rstrip()]
    return [f"bot> {line}" for line in output.text.splitlines() or [""]]


def describe_outcome(action: Action) -> str:
    """One line saying how the flow handed off or ended."""
    if isinstance(action, QueueAction):
        skills = ", ".join(action.skills) or "none"
        return (
            f"[queued to '{action.queue}' with skills {skills}, priority {action.priority},"
            f" attributes {action.attributes}]"
        )
    if isinstance(action, CallbackAction):
        return f"[callback requested in '{action.queue}' to {action.number or 'the known number'}]"
    if isinstance(action, TransferAction):
        return f"[transferred to {action.target}]"
    if isinstance(action, EndAction):
        return f"[ended, {'resolved' if action.resolved else 'not resolved'}]"
    return f"[{action.kind}]"


@dataclass
class TerminalHost:
    """Drives a flow in a terminal: prints outputs, reads lines, does HTTP and KB look-ups."""

    flow: Flow
    context: Callable[[], FlowContext]
    read_line: Callable[[], str | None]
    write: Callable[[str], None]
    http: httpx.Client
    knowledge: KnowledgeFile | None = None

    def run(self, entry: str | None = None) -> None:
        """Run the flow until it hands off, ends, or input runs out."""
        step = start(self.flow, self.context(), entry=entry)
        while True:
            for output in step.outputs:
                for line in describe_output(output):
                    self.write(line)
            if step.finished:
                self.write(describe_outcome(step.action))
                return
            event = self._perform(step)
            if event is None:
                self.write("[end of input]")
                return
            step = advance(self.flow, step.state, event, self.context())

    def _perform(self, step: Step) -> FlowInput | None:
        action = step.action
        if isinstance(action, HttpRequest):
            self.write(f"[http {action.method} {action.url}]")
            result = perform_http(self.http, action)
            self.write(f"[http result: {result.status if result.error is None else result.error}]")
            return result
        if isinstance(action, SearchKnowledge):
            return self._search(action)
        if isinstance(action, WaitForInput):
            line = self.read_line()
            return None if line is None else read_input(line, action)
        raise AssertionError(f"unexpected action {action!r}")

    def _search(self, action: SearchKnowledge) -> KnowledgeResults:
        if self.knowledge is None:
            self.write("[knowledge base: none connected in the terminal runner; use --kb FILE]")
            return KnowledgeResults()
        results = self.knowledge.search(action.query, action.limit)
        self.write(f"[knowledge search {action.query!r}: {len(results.articles)} found]")
        return results


def terminal_context(
    *,
    channel: str,
    caller_id: str | None,
    customer: dict[str, Any] | None,
    queues: dict[str, Any],
    hours_open: bool,
) -> Callable[[], FlowContext]:
    """A context factory reading the real clock, as a host at the edge may."""

    def context() -> FlowContext:
        return FlowContext(
            now=datetime.now(UTC),
            channel=channel,
            caller_id=caller_id,
            customer=customer,
            queues=queues,
            hours_default=hours_open,
        )

    return context
