"""'Talk to a person' works from every waiting step unless the flow or node says escape: false."""

from __future__ import annotations

import pytest

from omnidesk.flows import (
    Article,
    DigitsInput,
    FlowContext,
    KnowledgeResults,
    QueueAction,
    TextInput,
    advance,
    start,
)
from tests.flows.flow_helpers import NOW, BuildFlow

WAITING_NODES = {
    "menu": "a: {type: menu, text: Pick, options: [{key: '1', label: One, goto: z}]}",
    "collect": "a: {type: collect, text: 'Number?', attribute: n, next: z}",
    "intent": "a: {type: intent, text: 'Hi?', intents: {x: {examples: [hello], goto: z}}, "
    "fallback: z}",
    "knowledge_answer": "a: {type: knowledge_answer, text: 'Question?', next: z}",
    "authenticate": "a: {type: authenticate, text: 'PIN?', next: z}",
    "callback": "a: {type: callback, text: 'Call you back?', next: z}",
    "survey": "a: {type: survey, text: Rate us, next: z}",
}
CUSTOMER = {"pin": "1234"}


@pytest.mark.parametrize("kind", sorted(WAITING_NODES))
@pytest.mark.parametrize("words", ["agent", "I want to talk to a person", "HUMAN please"])
def test_escape_reaches_the_default_queue_from_every_waiting_node(
    build: BuildFlow, kind: str, words: str
) -> None:
    node = WAITING_NODES[kind]
    flow = build(node + "\nz: {type: end, text: done}\n")
    context = FlowContext(now=NOW, customer=CUSTOMER)
    step = advance(flow, start(flow, context).state, TextInput(words), context)
    assert isinstance(step.action, QueueAction)
    assert step.action.queue == "support"
    assert step.action.attributes == {"escaped_from": "a", "reason": "customer_request"}
    assert [r.name for r in step.records] == ["flow.escaped"]


def test_escape_works_while_asking_if_an_article_helped(
    build: BuildFlow, chat: FlowContext
) -> None:
    flow = build(WAITING_NODES["knowledge_answer"] + "\nz: {type: end}\n")
    step = advance(flow, start(flow, chat).state, TextInput("returns"), chat)
    step = advance(flow, step.state, KnowledgeResults((Article("1", "T", "B"),)), chat)
    assert step.state.awaiting == "feedback"
    step = advance(flow, step.state, TextInput("representative"), chat)
    assert isinstance(step.action, QueueAction)


@pytest.mark.parametrize(
    "words", ["Ich möchte mit einem Mitarbeiter sprechen", "hablar con una persona", "humain"]
)
def test_escape_phrases_are_multilingual(build: BuildFlow, chat: FlowContext, words: str) -> None:
    flow = build(WAITING_NODES["collect"] + "\nz: {type: end}\n")
    step = advance(flow, start(flow, chat).state, TextInput(words), chat)
    assert isinstance(step.action, QueueAction)


def test_zero_on_the_keypad_escapes_but_a_number_containing_zero_does_not(
    build: BuildFlow, voice: FlowContext
) -> None:
    flow = build(WAITING_NODES["collect"] + "\nz: {type: end, text: done}\n")
    state = start(flow, voice).state
    assert isinstance(advance(flow, state, DigitsInput("0"), voice).action, QueueAction)
    step = advance(flow, state, DigitsInput("10203"), voice)
    assert step.state.attributes["n"] == "10203"


def test_node_escape_false_keeps_the_customer_in_the_node(
    build: BuildFlow, chat: FlowContext
) -> None:
    flow = build(
        WAITING_NODES["collect"].replace("next: z", "next: z, escape: false")
        + "\nz: {type: end, text: done}\n"
    )
    step = advance(flow, start(flow, chat).state, TextInput("agent"), chat)
    assert step.state.attributes["n"] == "agent"


def test_flow_escape_disabled_unless_a_node_enables_it(build: BuildFlow, chat: FlowContext) -> None:
    header = "escape: {enabled: false}\n"
    flow = build(
        """
        a: {type: collect, text: "?", attribute: n, next: b}
        b: {type: collect, text: "?", attribute: m, next: z, escape: true}
        z: {type: end}
        """,
        header=header,
    )
    step = advance(flow, start(flow, chat).state, TextInput("agent"), chat)
    assert step.state.attributes["n"] == "agent"
    step = advance(flow, step.state, TextInput("agent"), chat)
    assert isinstance(step.action, QueueAction)


def test_escape_can_go_to_a_node_with_custom_phrases(build: BuildFlow, chat: FlowContext) -> None:
    header = "escape: {goto: person, phrases: [mensch, help me]}\n"
    flow = build(
        """
        a: {type: collect, text: "?", attribute: n, next: z}
        person: {type: queue, queue: vip, priority: 9}
        z: {type: end}
        """,
        header=header,
    )
    state = start(flow, chat).state
    assert advance(flow, state, TextInput("agent"), chat).state.attributes["n"] == "agent"
    step = advance(flow, state, TextInput("please help me"), chat)
    assert step.action == QueueAction("vip", (), 9, {})
