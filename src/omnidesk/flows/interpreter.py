"""The pure flow interpreter: (state, input, context) in, a Step out; no I/O, no clock."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from omnidesk.flows.context import FlowContext
from omnidesk.flows.errors import FlowProtocolError
from omnidesk.flows.flow import Flow
from omnidesk.flows.nodes import enter, input_text, resume
from omnidesk.flows.protocol import (
    DigitsInput,
    EndAction,
    FlowInput,
    HttpResult,
    KnowledgeResults,
    Step,
    TextInput,
    TimeoutInput,
)
from omnidesk.flows.run import Run
from omnidesk.flows.schema import AuthenticateNode, CollectNode, Node
from omnidesk.flows.state import FlowState

MAX_NODES_PER_STEP = 100
_CUSTOMER_INPUTS = (TextInput, DigitsInput, TimeoutInput)
_EXPECTED_INPUTS: dict[str, tuple[type, ...]] = {
    "input": _CUSTOMER_INPUTS,
    "feedback": _CUSTOMER_INPUTS,
    "http_result": (HttpResult,),
    "knowledge_results": (KnowledgeResults,),
}


def start(
    flow: Flow,
    context: FlowContext,
    *,
    entry: str | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> Step:
    """Begin a flow at its start (or at an entry point) and run until it needs the host."""
    node_id = entry or flow.document.start
    if node_id not in flow.document.nodes or (entry and entry not in _entries(flow)):
        raise FlowProtocolError(f"flow {flow.id} has no entry point '{node_id}'")
    state = FlowState(flow.id, flow.version, attributes=dict(attributes or {}))
    run = Run(flow, state, context)
    run.goto(node_id)
    _drive(run)
    return run.step()


def advance(flow: Flow, state: FlowState, event: FlowInput, context: FlowContext) -> Step:
    """Feed the customer's input or the host's result to a waiting flow; return the next step."""
    node_id = _check_can_advance(flow, state, event)
    run = Run(flow, state.copy(), context)
    node = flow.node(node_id)
    text = input_text(event)
    _note_input(run, node, event, text)
    if (
        text is not None
        and run.state.awaiting in ("input", "feedback")
        and run.wants_person(node, text)
    ):
        run.escape("customer_request")
    else:
        resume(run, node_id, node, event)
    _drive(run)
    return run.step()


def expire(flow: Flow, state: FlowState, context: FlowContext) -> Step:
    """End a flow the customer has left (the host's inactivity limit, `timeouts.inactivity`):
    say `messages.inactive`, record `flow.inactive` and finish unresolved."""
    if (state.flow_id, state.version) != (flow.id, flow.version):
        raise FlowProtocolError(
            f"state is on flow {state.flow_id} v{state.version}, got {flow.id} v{flow.version}"
        )
    if state.finished:
        raise FlowProtocolError(f"flow {flow.id} is already finished")
    run = Run(flow, state.copy(), context)
    run.note("system", "no input (inactive)")
    run.record("flow.inactive", waiting_for=run.state.awaiting)
    run.state.pending = {}
    run.say_text(run.messages.inactive)
    run.finish(EndAction(resolved=False))
    return run.step()


def _entries(flow: Flow) -> set[str]:
    return {flow.document.start, *flow.document.entry_points}


def _check_can_advance(flow: Flow, state: FlowState, event: FlowInput) -> str:
    if (state.flow_id, state.version) != (flow.id, flow.version):
        raise FlowProtocolError(
            f"state is on flow {state.flow_id} v{state.version}, got {flow.id} v{flow.version}"
        )
    if state.finished or state.node is None or state.awaiting is None:
        raise FlowProtocolError(f"flow {flow.id} is not waiting for anything")
    if not isinstance(event, _EXPECTED_INPUTS[state.awaiting]):
        raise FlowProtocolError(
            f"node {state.node} awaits {state.awaiting}, got {type(event).__name__}"
        )
    return state.node


def _note_input(run: Run, node: Node, event: FlowInput, text: str | None) -> None:
    if isinstance(event, TimeoutInput):
        run.note("system", "no input (timeout)")
    elif isinstance(event, HttpResult):
        run.note("system", f"http result: {event.status if event.error is None else event.error}")
    elif isinstance(event, KnowledgeResults):
        run.note("system", f"knowledge results: {len(event.articles)}")
    elif text is not None and _is_secret(node):
        run.note("customer", "•" * len(text))
    elif text is not None:
        run.note("customer", text)
        run.state.last_input = text


def _is_secret(node: Node) -> bool:
    return isinstance(node, AuthenticateNode) or (isinstance(node, CollectNode) and node.sensitive)


def _drive(run: Run) -> None:
    entered = 0
    while run.action is None and run.next_node is not None:
        entered += 1
        if entered > MAX_NODES_PER_STEP:
            run.record("flow.error", reason=f"more than {MAX_NODES_PER_STEP} nodes without input")
            run.escape("loop")
            return
        node_id, run.next_node = run.next_node, None
        run.state.node = node_id
        run.state.pending = {}
        run.state.awaiting = None
        enter(run, node_id, run.flow.node(node_id))
