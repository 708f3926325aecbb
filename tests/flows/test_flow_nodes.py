"""The pure interpreter, node type by node type."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from omnidesk.flows import (
    Article,
    AudioOutput,
    CallbackAction,
    DigitsInput,
    EndAction,
    FlowContext,
    FlowProtocolError,
    HttpRequest,
    HttpResult,
    KnowledgeResults,
    Option,
    OptionsOutput,
    QueueAction,
    QueueSnapshot,
    SearchKnowledge,
    SpeechOutput,
    Step,
    TextInput,
    TextOutput,
    TimeoutInput,
    TransferAction,
    WaitForInput,
    WeeklyHours,
    advance,
    expire,
    start,
)
from tests.flows.flow_helpers import NOW, BuildFlow


def texts(step: Step) -> list[str]:
    """The text of every text or speech output of a step."""
    return [o.text for o in step.outputs if isinstance(o, TextOutput | SpeechOutput)]


def test_message_says_text_in_chat_and_goes_on(build: BuildFlow, chat: FlowContext) -> None:
    flow = build("""
        a: {type: message, text: "Hello {{ customer.name }}", next: b}
        b: {type: end}
    """)
    context = FlowContext(now=NOW, customer={"name": "Ada"})
    step = start(flow, context)
    assert texts(step) == ["Hello Ada"]
    assert step.action == EndAction(resolved=True)
    assert step.finished and step.state.finished


def test_message_on_voice_prefers_prompt_then_audio(build: BuildFlow, voice: FlowContext) -> None:
    flow = build("""
        a: {type: message, text: "Hi", prompt: "Hello caller", next: b}
        b: {type: message, text: "Jingle", audio: "jingle.wav", next: c}
        c: {type: end}
    """)
    step = start(flow, voice)
    assert step.outputs[0] == SpeechOutput("Hello caller")
    assert step.outputs[1] == AudioOutput("jingle.wav", "Jingle")


MENU = """
    a:
      type: menu
      text: Choose
      options:
        - {key: "1", label: Orders, match: [parcel], goto: orders}
        - {key: "2", label: Returns, goto: returns}
      no_match: Please pick 1 or 2.
      retries: 1
      on_failure: failed
    orders: {type: end, text: orders}
    returns: {type: end, text: returns}
    failed: {type: end, text: failed, resolved: false}
"""


def test_menu_shows_buttons_in_chat_and_waits_for_a_choice(
    build: BuildFlow, chat: FlowContext
) -> None:
    step = start(build(MENU), chat)
    assert isinstance(step.outputs[1], OptionsOutput)
    assert [o.value for o in step.outputs[1].options] == ["1", "2"]
    assert isinstance(step.action, WaitForInput) and step.action.expect == "choice"


@pytest.mark.parametrize("answer", ["1", "orders", "ORDERS!", "where is my parcel"])
def test_menu_matches_key_label_or_words(build: BuildFlow, chat: FlowContext, answer: str) -> None:
    flow = build(MENU)
    step = advance(flow, start(flow, chat).state, TextInput(answer), chat)
    assert texts(step) == ["orders"]


def test_menu_on_voice_waits_for_one_digit(build: BuildFlow, voice: FlowContext) -> None:
    flow = build(MENU)
    step = start(flow, voice)
    options = (Option("1", "Orders"), Option("2", "Returns"))
    assert step.action == WaitForInput("digits", 8.0, options, max_digits=1)
    assert not any(isinstance(o, OptionsOutput) for o in step.outputs)
    assert texts(advance(flow, step.state, DigitsInput("2"), voice)) == ["returns"]


def test_menu_reprompts_on_no_match_then_goes_to_on_failure(
    build: BuildFlow, chat: FlowContext
) -> None:
    flow = build(MENU)
    first = advance(flow, start(flow, chat).state, TextInput("banana"), chat)
    assert texts(first) == ["Please pick 1 or 2.", "Choose"]
    assert first.state.retries == {"a": 1}
    second = advance(flow, first.state, TimeoutInput(), chat)
    assert texts(second) == ["failed"]
    assert second.action == EndAction(resolved=False)


def test_menu_retries_exhausted_without_on_failure_reaches_a_person(
    build: BuildFlow, chat: FlowContext
) -> None:
    without_failure = MENU.replace("      on_failure: failed\n", "")
    flow = build(
        without_failure.replace("    failed: {type: end, text: failed, resolved: false}\n", "")
    )
    state = start(flow, chat).state
    state = advance(flow, state, TextInput("banana"), chat).state
    step = advance(flow, state, TextInput("banana"), chat)
    assert isinstance(step.action, QueueAction) and step.action.queue == "support"
    assert step.action.attributes["reason"] == "retries_exhausted"


COLLECT = """
    a:
      type: collect
      attribute: order_id
      input: digits
      text: Your order number?
      extract: '(\\d{4,8})'
      next: done
    done: {type: end, text: "got {{ order_id }}"}
"""


def test_collect_extracts_and_stores_the_value(build: BuildFlow, chat: FlowContext) -> None:
    flow = build(COLLECT)
    step = advance(flow, start(flow, chat).state, TextInput("it is 123456 I think"), chat)
    assert step.state.attributes["order_id"] == "123456"
    assert texts(step) == ["got 123456"]


def test_collect_digits_on_voice_strips_the_hash(build: BuildFlow, voice: FlowContext) -> None:
    flow = build(COLLECT)
    step = start(flow, voice)
    assert isinstance(step.action, WaitForInput) and step.action.expect == "digits"
    step = advance(flow, step.state, DigitsInput("4711#"), voice)
    assert step.state.attributes["order_id"] == "4711"


def test_collect_rejects_invalid_input_and_reprompts(build: BuildFlow, chat: FlowContext) -> None:
    flow = build(COLLECT)
    step = advance(flow, start(flow, chat).state, TextInput("no idea"), chat)
    assert texts(step) == ["Sorry, I didn't get that.", "Your order number?"]
    assert "order_id" not in step.state.attributes


@pytest.mark.parametrize(
    ("rules", "answer", "stored"),
    [
        ("format: number", "42", 42),
        ("format: number", "2.5", 2.5),
        ("format: number", "lots", None),
        ("format: date", "1990-03-15", "1990-03-15"),
        ("format: date", "15.03.1990", "1990-03-15"),
        ("format: date", "31.02.1990", None),
        ("pattern: '[A-Z]{2}\\d{3}'", "AB123", "AB123"),
        ("pattern: '[A-Z]{2}\\d{3}'", "AB1234", None),
        ("min_length: 3", "ab", None),
        ("max_length: 3", "abcd", None),
        ("max_length: 3", "abc", "abc"),
    ],
)
def test_collect_validates_by_type_pattern_and_length(
    build: BuildFlow, chat: FlowContext, rules: str, answer: str, stored: object
) -> None:
    flow = build(f"""
        a: {{type: collect, attribute: v, text: "?", {rules}, next: b}}
        b: {{type: end}}
    """)
    step = advance(flow, start(flow, chat).state, TextInput(answer), chat)
    assert step.state.attributes.get("v") == stored


def test_collect_skips_when_the_attribute_is_already_set(
    build: BuildFlow, chat: FlowContext
) -> None:
    flow = build("""
        a: {type: collect, attribute: order_id, text: "?", skip_if_set: true, next: b}
        b: {type: end, text: "{{ order_id }}"}
    """)
    assert texts(start(flow, chat, attributes={"order_id": "99"})) == ["99"]


def test_collect_sensitive_input_is_masked_in_the_transcript(
    build: BuildFlow, chat: FlowContext
) -> None:
    flow = build("""
        a: {type: collect, attribute: card, text: "?", sensitive: true, next: b}
        b: {type: end}
    """)
    step = advance(flow, start(flow, chat).state, TextInput("4111"), chat)
    assert [e.text for e in step.state.transcript if e.role == "customer"] == ["••••"]
    assert step.state.last_input is None


INTENT = """
    a:
      type: intent
      text: How can I help?
      intents:
        order_status:
          examples: [where is my order, track my parcel, has my order shipped]
          entities: {order_id: '(\\d{4,})'}
          goto: orders
        returns:
          examples: [return an item, I want a refund, send it back]
          goto: returns
      fallback: other
    orders: {type: end, text: "order {{ order_id }}"}
    returns: {type: end, text: returns}
    other: {type: end, text: other}
"""


def test_intent_routes_and_extracts_entities(build: BuildFlow, chat: FlowContext) -> None:
    flow = build(INTENT)
    step = advance(flow, start(flow, chat).state, TextInput("Where is my order 1234?"), chat)
    assert texts(step) == ["order 1234"]
    assert step.state.attributes["intent"] == "order_status"
    assert step.records[0].name == "intent.classified"


def test_intent_below_threshold_takes_the_fallback(build: BuildFlow, chat: FlowContext) -> None:
    flow = build(INTENT)
    step = advance(flow, start(flow, chat).state, TextInput("qwxz vbnm"), chat)
    assert texts(step) == ["other"]
    assert step.state.attributes["intent"] is None


def test_intent_can_classify_the_last_input_without_asking(
    build: BuildFlow, chat: FlowContext
) -> None:
    flow = build(
        """
        q: {type: collect, attribute: question, text: "Tell me", next: a}
        a:
          type: intent
          use_last_input: true
          intents:
            returns: {examples: [return an item], goto: r}
          fallback: r
        r: {type: end, text: returns}
        """,
        start="q",
    )
    step = advance(flow, start(flow, chat).state, TextInput("how to return an item"), chat)
    assert texts(step) == ["returns"]


KNOWLEDGE = """
    a:
      type: knowledge_answer
      text: What is your question?
      next: person
    person: {type: queue, queue: support}
"""
ARTICLE = Article("kb-7", "Returns", "Return within 30 days.", "https://help/returns", 0.8)


def _knowledge_offer(build: BuildFlow, chat: FlowContext) -> Step:
    flow = build(KNOWLEDGE)
    step = advance(flow, start(flow, chat).state, TextInput("how do returns work"), chat)
    assert step.action == SearchKnowledge("how do returns work", 3)
    return advance(flow, step.state, KnowledgeResults((ARTICLE,)), chat)


def test_knowledge_answer_offers_the_best_article_and_asks_if_it_helped(
    build: BuildFlow, chat: FlowContext
) -> None:
    step = _knowledge_offer(build, chat)
    assert texts(step) == [
        "Returns\nReturn within 30 days.\nhttps://help/returns",
        "Did this answer your question?",
    ]
    assert step.records[0].name == "kb.answer_shown"
    assert step.records[0].data["article_id"] == "kb-7"


def test_knowledge_answer_yes_ends_resolved(build: BuildFlow, chat: FlowContext) -> None:
    offer = _knowledge_offer(build, chat)
    step = advance(build(KNOWLEDGE), offer.state, TextInput("yes"), chat)
    assert step.action == EndAction(resolved=True)
    assert step.records[0].data["helpful"] is True


def test_knowledge_answer_no_goes_to_next(build: BuildFlow, chat: FlowContext) -> None:
    offer = _knowledge_offer(build, chat)
    step = advance(build(KNOWLEDGE), offer.state, TextInput("no"), chat)
    assert isinstance(step.action, QueueAction)
    assert step.records[0].data["helpful"] is False


def test_knowledge_answer_without_results_says_so_and_goes_on(
    build: BuildFlow, chat: FlowContext
) -> None:
    flow = build(KNOWLEDGE)
    step = advance(flow, start(flow, chat).state, TextInput("quantum"), chat)
    step = advance(flow, step.state, KnowledgeResults(), chat)
    assert texts(step) == ["I couldn't find an answer to that."]
    assert isinstance(step.action, QueueAction)


def test_condition_uses_attributes_hours_and_queue_status(build: BuildFlow) -> None:
    flow = build("""
        a:
          type: condition
          branches:
            - {when: "hours.support.closed", goto: closed}
            - {when: "queue.support.waiting > 10 and vip != true", goto: busy}
          else: open
        closed: {type: end, text: closed}
        busy: {type: end, text: busy}
        open: {type: end, text: open}
    """)
    hours = WeeklyHours.from_dict({"timezone": "Europe/Berlin", "mon": ["09:00-17:00"]})
    busy = {"support": QueueSnapshot(waiting=12)}
    monday_noon = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
    monday_night = datetime(2025, 6, 2, 20, 0, tzinfo=UTC)
    open_busy = FlowContext(now=monday_noon, business_hours={"support": hours}, queues=busy)
    assert texts(start(flow, open_busy)) == ["busy"]
    assert texts(start(flow, open_busy, attributes={"vip": True})) == ["open"]
    night = FlowContext(now=monday_night, business_hours={"support": hours}, queues=busy)
    assert texts(start(flow, night)) == ["closed"]


def test_set_renders_templates_and_keeps_value_types(build: BuildFlow, chat: FlowContext) -> None:
    flow = build("""
        a:
          type: set
          attributes: {tier: gold, limit: 3, greeting: "Hi {{ name }}", copy: "{{ limit }}"}
          next: b
        b: {type: end}
    """)
    step = start(flow, chat, attributes={"name": "Bo"})
    assert step.state.attributes == {
        "name": "Bo",
        "tier": "gold",
        "limit": 3,
        "greeting": "Hi Bo",
        "copy": 3,
    }


HTTP = """
    a:
      type: http
      method: POST
      url: "{{ settings.api }}/accounts/{{ account }}/balance"
      headers: {Authorization: "Bearer {{ settings.token }}"}
      json: {account: "{{ account }}", verbose: true}
      timeout_seconds: 3
      map: {balance: data.balance, currency: data.currency}
      next: ok
      on_error: failed
    ok: {type: end, text: "{{ balance }} {{ currency }}"}
    failed: {type: end, text: failed, resolved: false}
"""
HTTP_HEADER = "settings: {api: 'https://bank.example', token: t0k}\n"


def test_http_asks_the_host_for_a_rendered_request(build: BuildFlow, chat: FlowContext) -> None:
    flow = build(HTTP, header=HTTP_HEADER)
    step = start(flow, chat, attributes={"account": "a/b 7"})
    assert step.action == HttpRequest(
        method="POST",
        url="https://bank.example/accounts/a%2Fb%207/balance",
        headers={"Authorization": "Bearer t0k"},
        json={"account": "a/b 7", "verbose": True},
        timeout_seconds=3.0,
    )
    assert step.state.awaiting == "http_result"


def test_http_maps_response_paths_into_attributes(build: BuildFlow, chat: FlowContext) -> None:
    flow = build(HTTP, header=HTTP_HEADER)
    state = start(flow, chat, attributes={"account": "7"}).state
    body = {"data": {"balance": 12.5, "currency": "EUR"}}
    step = advance(flow, state, HttpResult(200, body), chat)
    assert texts(step) == ["12.5 EUR"]


@pytest.mark.parametrize(
    "result", [HttpResult(404, {"error": "nope"}), HttpResult(None, error="timeout")]
)
def test_http_failure_takes_the_error_branch(
    build: BuildFlow, chat: FlowContext, result: HttpResult
) -> None:
    flow = build(HTTP, header=HTTP_HEADER)
    step = advance(flow, start(flow, chat).state, result, chat)
    assert texts(step) == ["failed"]
    assert step.records[0].name == "http.failed"


AUTH = """
    a:
      type: authenticate
      ask: {ask}
      text: Please enter your {ask}.
      retries: 1
      next: ok
      on_failure: failed
    ok: {{type: end, text: "ok via {{{{ auth_method }}}}"}}
    failed: {{type: end, text: failed, resolved: false}}
"""
CUSTOMER = {"phones": ["+49 30 123456"], "pin": "1234", "date_of_birth": "1990-03-15"}


def test_authenticate_by_matching_caller_id(build: BuildFlow) -> None:
    flow = build(AUTH.format(ask="pin"))
    context = FlowContext(now=NOW, channel="voice", caller_id="+4930123456", customer=CUSTOMER)
    assert texts(start(flow, context)) == ["ok via caller_id"]


@pytest.mark.parametrize(("ask", "answer"), [("pin", "1234"), ("date_of_birth", "15031990")])
def test_authenticate_by_pin_or_date_of_birth(build: BuildFlow, ask: str, answer: str) -> None:
    flow = build(AUTH.format(ask=ask))
    context = FlowContext(now=NOW, channel="voice", caller_id="+111", customer=CUSTOMER)
    step = start(flow, context)
    assert isinstance(step.action, WaitForInput) and step.action.expect == "digits"
    step = advance(flow, step.state, DigitsInput(answer), context)
    assert texts(step) == [f"ok via {ask}"]
    assert step.state.attributes["authenticated"] is True
    assert answer not in str(step.state.to_dict())


def test_authenticate_wrong_pin_retries_then_fails(build: BuildFlow) -> None:
    flow = build(AUTH.format(ask="pin"))
    context = FlowContext(now=NOW, customer=CUSTOMER)
    step = advance(flow, start(flow, context).state, TextInput("0000"), context)
    assert texts(step)[0] == "That doesn't match our records."
    step = advance(flow, step.state, TextInput("9999"), context)
    assert texts(step) == ["failed"]
    assert step.state.attributes["authenticated"] is False


def test_authenticate_without_a_customer_record_fails_at_once(build: BuildFlow) -> None:
    flow = build(AUTH.format(ask="pin"))
    assert texts(start(flow, FlowContext(now=NOW))) == ["failed"]


def test_queue_hands_off_with_skills_priority_and_attributes(
    build: BuildFlow, chat: FlowContext
) -> None:
    flow = build("""
        a:
          type: queue
          queue: billing
          skills: [billing, german]
          priority: 5
          attributes: {order: "{{ order_id }}"}
          text: Connecting you.
    """)
    step = start(flow, chat, attributes={"order_id": "77"})
    assert step.action == QueueAction("billing", ("billing", "german"), 5, {"order": "77"})
    assert texts(step) == ["Connecting you."]


CALLBACK = """
    a:
      type: callback
      text: Shall we call you back?
      accepted_text: We will call you.
      next: declined
    declined: {type: queue}
"""


def test_callback_yes_asks_the_host_to_schedule_it(build: BuildFlow, voice: FlowContext) -> None:
    flow = build(CALLBACK)
    step = advance(flow, start(flow, voice).state, DigitsInput("1"), voice)
    assert step.action == CallbackAction("support", "+4930123456")
    assert texts(step) == ["We will call you."]


def test_callback_no_goes_to_next(build: BuildFlow, chat: FlowContext) -> None:
    flow = build(CALLBACK)
    step = advance(flow, start(flow, chat).state, TextInput("no"), chat)
    assert step.action == QueueAction("support")


def test_transfer_renders_its_target(build: BuildFlow, chat: FlowContext) -> None:
    flow = build("""
        a: {type: transfer, target: "sip:{{ team }}@pbx.example"}
    """)
    step = start(flow, chat, attributes={"team": "sales"})
    assert step.action == TransferAction("sip:sales@pbx.example")


SURVEY = """
    a:
      type: survey
      scale: {scale}
      text: How did we do?
      thanks: Thanks!
      next: b
    b: {{type: end}}
"""


@pytest.mark.parametrize(("scale", "answer", "score"), [("csat", "4", 4), ("nps", "10", 10)])
def test_survey_stores_the_score_and_records_it(
    build: BuildFlow, chat: FlowContext, scale: str, answer: str, score: int
) -> None:
    flow = build(SURVEY.format(scale=scale))
    first = start(flow, chat)
    assert isinstance(first.outputs[1], OptionsOutput)
    step = advance(flow, first.state, TextInput(answer), chat)
    assert step.state.attributes[scale] == score
    answered = [r for r in step.records if r.name == "survey.answered"]
    assert {k: answered[0].data[k] for k in ("scale", "kind", "score")} == {
        "scale": scale, "kind": scale, "score": score}
    assert texts(step) == ["Thanks!"]


def test_survey_out_of_range_reprompts(build: BuildFlow, chat: FlowContext) -> None:
    flow = build(SURVEY.format(scale="csat"))
    step = advance(flow, start(flow, chat).state, TextInput("9"), chat)
    assert texts(step) == ["Sorry, I didn't get that.", "How did we do?"]


def test_survey_timeout_records_unanswered(build: BuildFlow, chat: FlowContext) -> None:
    flow = build(SURVEY.format(scale="csat"))
    step = advance(flow, start(flow, chat).state, TimeoutInput(), chat)
    assert [r.name for r in step.records] == ["survey.unanswered"]
    assert step.action == EndAction(resolved=True)


def test_expire_ends_a_waiting_flow_unresolved_with_the_inactive_message(
    build: BuildFlow, chat: FlowContext
) -> None:
    flow = build(MENU, header='messages: {inactive: "Closing this chat."}\n')
    waiting = start(flow, chat).state
    step = expire(flow, waiting, chat)
    assert texts(step) == ["Closing this chat."]
    assert step.action == EndAction(resolved=False)
    assert step.state.finished and step.state.awaiting is None
    assert [(r.name, r.data["waiting_for"]) for r in step.records] == [("flow.inactive", "input")]
    assert step.state.transcript[-2].text == "no input (inactive)"
    with pytest.raises(FlowProtocolError):
        expire(flow, step.state, chat)


def test_flows_default_to_half_an_hour_of_inactivity(build: BuildFlow) -> None:
    flow = build(MENU)
    assert flow.document.timeouts.inactivity == 1800.0
    assert build(MENU, header="timeouts: {inactivity: 600}\n").document.timeouts.inactivity == 600


def test_end_can_be_unresolved(build: BuildFlow, chat: FlowContext) -> None:
    flow = build("""
        a: {type: end, resolved: false, text: Bye}
    """)
    assert start(flow, chat).action == EndAction(resolved=False)


def test_a_step_never_changes_the_state_it_was_given(build: BuildFlow, chat: FlowContext) -> None:
    flow = build(MENU)
    state = start(flow, chat).state
    before = state.to_dict()
    advance(flow, state, TextInput("banana"), chat)
    assert state.to_dict() == before


def test_advancing_a_finished_flow_is_a_protocol_error(build: BuildFlow, chat: FlowContext) -> None:
    flow = build("""
        a: {type: end}
    """)
    with pytest.raises(FlowProtocolError):
        advance(flow, start(flow, chat).state, TextInput("hi"), chat)


def test_the_wrong_kind_of_input_is_a_protocol_error(build: BuildFlow, chat: FlowContext) -> None:
    flow = build(MENU)
    with pytest.raises(FlowProtocolError, match="awaits input"):
        advance(flow, start(flow, chat).state, HttpResult(200), chat)


def test_a_loop_without_input_hands_over_to_a_person(build: BuildFlow, chat: FlowContext) -> None:
    flow = build("""
        a: {type: set, attributes: {n: 1}, next: b}
        b: {type: set, attributes: {n: 2}, next: a}
    """)
    step = start(flow, chat)
    assert isinstance(step.action, QueueAction)
    assert [r.name for r in step.records][:1] == ["flow.error"]


def test_context_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FlowContext(now=datetime(2025, 1, 1))
