"""The IVR: the same pure flow interpreter as chat, with prompts played and DTMF collected.

`run_ivr` drives a flow through an `IvrPort` (what the call and the server can do) until
the flow finishes; it returns the finishing step. Nothing here touches SIP or the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from omnidesk.flows import (
    DigitsInput,
    Flow,
    FlowContext,
    FlowInput,
    FlowProtocolError,
    HttpRequest,
    HttpResult,
    KnowledgeResults,
    Output,
    SearchKnowledge,
    Step,
    TimeoutInput,
    WaitForInput,
    advance,
    start,
)

MAX_STEPS = 200  # a guard against flows that loop without waiting for the caller
INTER_DIGIT_SECONDS = 3.0
TERMINATOR = "#"


class IvrPort(Protocol):
    """What the IVR needs of the call and of the server."""

    async def say(self, outputs: tuple[Output, ...]) -> None:
        """Play the step's prompts (returns when played)."""

    async def next_digit(self, wait_seconds: float) -> str | None:
        """The caller's next key press, or None after the wait."""

    async def http(self, request: HttpRequest) -> HttpResult:
        """Perform the flow's HTTP request."""

    async def step_done(self, step: Step) -> None:
        """Store the new state and record the step's records."""


@dataclass(frozen=True)
class Collected:
    """What the caller keyed in for one wait."""

    digits: str
    timed_out: bool


async def collect(port: IvrPort, wait: WaitForInput) -> Collected:
    """Digits until `max_digits`, `#`, or a pause (first digit: the wait's timeout)."""
    limit = wait.max_digits or (max((len(o.value) for o in wait.options), default=0) or 32)
    digits = ""
    while len(digits) < limit:
        pause = wait.timeout_seconds if not digits else min(INTER_DIGIT_SECONDS,
                                                             wait.timeout_seconds)
        digit = await port.next_digit(pause)
        if digit is None:
            return Collected(digits, timed_out=not digits)
        if digit == TERMINATOR:
            return Collected(digits, timed_out=False) if digits or wait.expect == "digits" \
                else Collected("#", timed_out=False)
        digits += digit
    return Collected(digits, timed_out=False)


def as_input(collected: Collected) -> FlowInput:
    """The flow input for what was collected."""
    if collected.timed_out:
        return TimeoutInput()
    return DigitsInput(collected.digits)


async def run_ivr(flow: Flow, context: FlowContext, port: IvrPort, *,
                  resume: Step | None = None) -> Step:
    """Run the flow until it finishes (queue, callback, transfer, end); the final step."""
    step = resume or start(flow, context)
    for _ in range(MAX_STEPS):
        await port.say(step.outputs)
        await port.step_done(step)
        if step.finished:
            return step
        action = step.action
        event: FlowInput
        if isinstance(action, WaitForInput):
            event = as_input(await collect(port, action))
        elif isinstance(action, HttpRequest):
            event = await port.http(action)
        elif isinstance(action, SearchKnowledge):
            event = KnowledgeResults(())  # no knowledge base yet (docs/selfservice.md)
        else:
            raise FlowProtocolError(f"unexpected action {type(action).__name__}")
        step = advance(flow, step.state, event, context)
    raise FlowProtocolError(f"more than {MAX_STEPS} steps without finishing")
