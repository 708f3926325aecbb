"""The demo web shop flow, end to end, as a host would drive it."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnidesk.flows import (
    Article,
    CallbackAction,
    DigitsInput,
    EndAction,
    Flow,
    FlowContext,
    FlowInput,
    FlowState,
    HttpRequest,
    HttpResult,
    KnowledgeResults,
    QueueAction,
    QueueSnapshot,
    SearchKnowledge,
    SpeechOutput,
    Step,
    TextInput,
    TextOutput,
    TimeoutInput,
    WaitForInput,
    advance,
    load_flow,
    start,
)
from tests.flows.flow_helpers import NOW

DEMO = Path(__file__).parents[2] / "src" / "omnidesk" / "flows" / "demo_flow.yaml"
OPEN = FlowContext(now=NOW, channel="chat", hours_default=True)


@pytest.fixture(scope="module")
def demo() -> Flow:
    """The demo flow, loaded once."""
    return load_flow(DEMO)


def said(step: Step) -> str:
    """Everything a step said, as one string."""
    return " | ".join(o.text for o in step.outputs if isinstance(o, TextOutput | SpeechOutput))


def test_where_is_my_order_looks_it_up_and_tells_the_status(demo: Flow) -> None:
    step = start(demo, OPEN)
    assert "welcome to Example Shop" in said(step)
    assert isinstance(step.action, WaitForInput)

    step = advance(demo, step.state, TextInput("where is my order 1234"), OPEN)
    assert step.action == HttpRequest(
        method="GET",
        url="https://orders.example.com/api/orders/1234",
        headers={"Accept": "application/json"},
        json=None,
        timeout_seconds=4.0,
    )
    assert step.state.attributes["order_id"] == "1234"

    step = advance(demo, step.state, HttpResult(200, {"status": "shipped", "eta": "Friday"}), OPEN)
    assert "Order 1234 is shipped. Expected delivery: Friday." in said(step)
    assert step.state.attributes["order_status"] == "shipped"

    step = advance(demo, step.state, TextInput("No, thanks"), OPEN)
    assert step.action == EndAction(resolved=True)


def test_order_lookup_failure_goes_to_a_person(demo: Flow) -> None:
    state = start(demo, OPEN).state
    state = advance(demo, state, TextInput("has my order 55555 shipped?"), OPEN).state
    step = advance(demo, state, HttpResult(503, None), OPEN)
    assert "couldn't look up that order" in said(step)
    assert isinstance(step.action, QueueAction)
    assert step.action.queue == "support" and "orders" in step.action.skills


def test_order_status_without_a_number_asks_for_it(demo: Flow) -> None:
    state = start(demo, OPEN).state
    step = advance(demo, state, TextInput("track my parcel"), OPEN)
    assert said(step) == "What is your order number?"
    step = advance(demo, step.state, TextInput("it's 98765"), OPEN)
    assert isinstance(step.action, HttpRequest)
    assert step.action.url.endswith("/orders/98765")


def test_returns_question_is_answered_from_the_knowledge_base(demo: Flow) -> None:
    state = start(demo, OPEN).state
    step = advance(demo, state, TextInput("how do I return an item"), OPEN)
    assert step.action == SearchKnowledge("how do I return an item", 3)
    article = Article("returns", "Returns", "Within 30 days.", "https://help/returns", 0.7)
    step = advance(demo, step.state, KnowledgeResults((article,)), OPEN)
    assert "Did this answer your question?" in said(step)
    step = advance(demo, step.state, TextInput("yes"), OPEN)
    assert step.action == EndAction(resolved=True)


def test_talk_to_a_person_when_closed_ends_with_opening_hours(demo: Flow) -> None:
    closed = FlowContext(now=NOW, channel="chat", hours_default=False)
    step = advance(demo, start(demo, closed).state, TextInput("talk to a person"), closed)
    assert "Monday to Friday" in said(step)
    assert step.action == EndAction(resolved=False)


def test_busy_queue_offers_a_callback(demo: Flow) -> None:
    busy = FlowContext(
        now=NOW,
        channel="voice",
        caller_id="+4930111222",
        hours_default=True,
        queues={"support": QueueSnapshot(waiting=14)},
    )
    step = start(demo, busy)
    assert isinstance(step.action, WaitForInput) and step.action.expect == "digits"
    step = advance(demo, step.state, DigitsInput("3"), busy)
    assert "All our agents are busy" in said(step)
    step = advance(demo, step.state, DigitsInput("1"), busy)
    assert step.action == CallbackAction("support", "+4930111222")


def test_voice_caller_enters_the_order_number_by_keypad(demo: Flow) -> None:
    voice = FlowContext(now=NOW, channel="voice", hours_default=True)
    step = start(demo, voice)
    assert "press 1" in said(step)
    step = advance(demo, step.state, DigitsInput("1"), voice)
    assert step.action == WaitForInput("digits", 8.0, max_digits=10)
    step = advance(demo, step.state, DigitsInput("104233#"), voice)
    assert isinstance(step.action, HttpRequest)
    assert step.action.url.endswith("/orders/104233")


def test_csat_survey_after_close_records_the_answer(demo: Flow) -> None:
    step = start(demo, OPEN, entry="csat")
    step = advance(demo, step.state, TextInput("5"), OPEN)
    assert [r.name for r in step.records] == ["survey.answered"]
    assert step.records[0].data["score"] == 5
    assert step.state.attributes["csat"] == 5
    assert step.action == EndAction(resolved=True)


@settings(max_examples=40, database=None, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=30), st.just("/timeout")), max_size=8))
def test_any_conversation_keeps_the_protocol(demo: Flow, lines: list[str]) -> None:
    step = start(demo, OPEN)
    for line in lines:
        if step.finished:
            break
        event: FlowInput = TimeoutInput() if line == "/timeout" else TextInput(line)
        if isinstance(step.action, HttpRequest):
            event = HttpResult(200, {"status": line})
        elif isinstance(step.action, SearchKnowledge):
            event = KnowledgeResults()
        step = advance(demo, step.state, event, OPEN)
    assert step.state.to_dict() == FlowState.from_dict(step.state.to_dict()).to_dict()
