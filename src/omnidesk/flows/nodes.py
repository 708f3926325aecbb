"""What each node type does when the flow enters it, and when the customer or host answers."""

from __future__ import annotations

import hmac
import re
from datetime import date, datetime
from typing import Any

from omnidesk.flows.expressions import evaluate
from omnidesk.flows.protocol import (
    Article,
    CallbackAction,
    DigitsInput,
    EndAction,
    FlowInput,
    HttpRequest,
    HttpResult,
    KnowledgeResults,
    Option,
    QueueAction,
    SearchKnowledge,
    TextInput,
    TimeoutInput,
    TransferAction,
)
from omnidesk.flows.run import Expect, Run
from omnidesk.flows.schema import (
    AuthenticateNode,
    CallbackNode,
    CollectNode,
    ConditionNode,
    EndNode,
    HttpNode,
    IntentNode,
    KnowledgeAnswerNode,
    MenuNode,
    MenuOption,
    MessageNode,
    Node,
    QueueNode,
    SetNode,
    SurveyNode,
    TransferNode,
)
from omnidesk.flows.scope import get_path
from omnidesk.flows.state import Awaiting
from omnidesk.flows.templates import render_data, render_url
from omnidesk.flows.textmatch import contains_phrase, normalise

DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d%m%Y")
SCALES = {"csat": (1, 5), "nps": (0, 10)}
_SNIPPET_CHARS = 280
Retryable = (
    MenuNode
    | CollectNode
    | IntentNode
    | KnowledgeAnswerNode
    | AuthenticateNode
    | CallbackNode
    | SurveyNode
)


def enter(run: Run, node_id: str, node: Node) -> None:
    """Run a node from its start: say, decide, and either move on, wait or finish."""
    match node:
        case MessageNode():
            run.say(node)
            run.goto(node.next)
        case MenuNode():
            _ask_menu(run, node)
        case CollectNode():
            _enter_collect(run, node)
        case IntentNode():
            _enter_intent(run, node_id, node)
        case KnowledgeAnswerNode():
            _enter_knowledge(run, node)
        case ConditionNode():
            _enter_condition(run, node_id, node)
        case SetNode():
            _enter_set(run, node)
        case HttpNode():
            _enter_http(run, node)
        case AuthenticateNode():
            _enter_authenticate(run, node)
        case QueueNode():
            _enter_queue(run, node)
        case CallbackNode():
            _enter_callback(run, node)
        case TransferNode():
            run.say(node)
            run.finish(TransferAction(run.render(node.target)))
        case SurveyNode():
            _ask_survey(run, node)
        case EndNode():
            run.say(node)
            run.finish(EndAction(node.resolved))


def resume(run: Run, node_id: str, node: Node, event: FlowInput) -> None:
    """Continue a waiting node with the customer's input or the host's result."""
    match node:
        case MenuNode():
            _answer_menu(run, node_id, node, event)
        case CollectNode():
            _answer_collect(run, node_id, node, event)
        case IntentNode():
            _answer_intent(run, node_id, node, event)
        case KnowledgeAnswerNode():
            _answer_knowledge(run, node_id, node, event)
        case HttpNode():
            _answer_http(run, node, event)
        case AuthenticateNode():
            _answer_authenticate(run, node_id, node, event)
        case CallbackNode():
            _answer_callback(run, node_id, node, event)
        case SurveyNode():
            _answer_survey(run, node_id, node, event)
        case _:
            raise AssertionError(f"node {node_id} does not wait")


def input_text(event: FlowInput) -> str | None:
    """The customer's words or digits, or None for a timeout or a host result."""
    if isinstance(event, TextInput):
        return event.text.strip()
    if isinstance(event, DigitsInput):
        return event.digits.strip().rstrip("#")
    return None


def retry(
    run: Run, node_id: str, node: Retryable, event: FlowInput, *, no_match: str | None = None
) -> None:
    """Re-prompt after no match or no input; after the last retry go to on_failure or a person."""
    attempts = run.state.retries.get(node_id, 0) + 1
    if attempts > node.retries:
        run.state.retries.pop(node_id, None)
        run.record("flow.retries_exhausted")
        _fail(run, node)
        return
    run.state.retries[node_id] = attempts
    timed_out = isinstance(event, TimeoutInput)
    fallback = run.messages.no_input if timed_out else run.messages.no_match
    run.say_text((node.no_input if timed_out else no_match or node.no_match) or fallback)
    run.next_node = node_id


def _fail(run: Run, node: Retryable) -> None:
    if isinstance(node, AuthenticateNode):
        _auth_failed(run, node)
        return
    target = node.on_failure
    if isinstance(node, IntentNode):
        target = target or node.fallback
    if isinstance(node, SurveyNode):
        target = target or node.next
    if target:
        run.goto(target)
    else:
        run.escape("retries_exhausted")


def _expect(run: Run, *, digits: bool) -> Expect:
    return "digits" if run.context.is_voice and digits else "text"


# ---- menu ----------------------------------------------------------------------------


def _ask_menu(run: Run, node: MenuNode) -> None:
    run.say(node)
    options = tuple(Option(option.key, option.label) for option in node.options)
    run.show_options(options)
    all_digits = all(option.key.isdigit() for option in node.options)
    max_digits = max(len(option.key) for option in node.options) if all_digits else None
    expect: Expect = "digits" if run.context.is_voice and all_digits else "choice"
    run.wait(expect, node.timeout_seconds, options=options, max_digits=max_digits)


def _answer_menu(run: Run, node_id: str, node: MenuNode, event: FlowInput) -> None:
    text = input_text(event)
    chosen = match_option(node.options, text) if text else None
    if chosen is None:
        retry(run, node_id, node, event)
        return
    run.record("menu.chosen", key=chosen.key)
    run.goto(chosen.goto)


def match_option(options: list[MenuOption], text: str) -> MenuOption | None:
    """The option whose key or label equals the text, else whose words occur in it."""
    said = normalise(text)
    for option in options:
        if said in (normalise(option.key), normalise(option.label)):
            return option
    for option in options:
        if any(contains_phrase(said, phrase) for phrase in (option.label, *option.match)):
            return option
    return None


# ---- collect -------------------------------------------------------------------------


def _enter_collect(run: Run, node: CollectNode) -> None:
    if node.skip_if_set and run.state.attributes.get(node.attribute) not in (None, ""):
        run.goto(node.next)
        return
    run.say(node)
    expect = _expect(run, digits=node.input == "digits")
    run.wait(expect, node.timeout_seconds, max_digits=node.max_digits)


def _answer_collect(run: Run, node_id: str, node: CollectNode, event: FlowInput) -> None:
    text = input_text(event)
    value = parse_collected(node, text) if text is not None else None
    if value is None:
        retry(run, node_id, node, event)
        return
    run.state.attributes[node.attribute] = value
    run.goto(node.next)


def parse_collected(node: CollectNode, text: str) -> Any:
    """The validated value of an answer, or None when it does not fit the node's rules."""
    value = text.strip()
    if node.extract is not None:
        found = re.search(node.extract, value)
        if found is None:
            return None
        value = found.group(1) if found.re.groups else found.group(0)
    if node.pattern is not None and re.fullmatch(node.pattern, value) is None:
        return None
    if node.min_length is not None and len(value) < node.min_length:
        return None
    if node.max_length is not None and len(value) > node.max_length:
        return None
    if not value:
        return None
    return _convert(node.format, value)


def _convert(kind: str, value: str) -> Any:
    if kind == "number":
        return parse_number(value)
    if kind == "date":
        parsed = parse_date(value)
        return parsed.isoformat() if parsed else None
    return value


def parse_number(text: str) -> int | float | None:
    """An int or float from text like '42', '-3' or '2.5'; None otherwise."""
    try:
        number = float(text.replace(" ", ""))
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return int(number) if number.is_integer() else number


def parse_date(text: str) -> date | None:
    """A date from ISO, day/month/year or DDMMYYYY text; None otherwise."""
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    return None


# ---- intent --------------------------------------------------------------------------


def _enter_intent(run: Run, node_id: str, node: IntentNode) -> None:
    if node.use_last_input and run.state.last_input:
        _classify(run, node_id, node, run.state.last_input)
    elif node.says_anything():
        run.say(node)
        run.wait("text", node.timeout_seconds)
    else:
        run.goto(node.fallback)


def _answer_intent(run: Run, node_id: str, node: IntentNode, event: FlowInput) -> None:
    text = input_text(event)
    if not text:
        retry(run, node_id, node, event)
        return
    _classify(run, node_id, node, text)


def _classify(run: Run, node_id: str, node: IntentNode, text: str) -> None:
    result = run.flow.classifiers[node_id].classify(text)
    run.record("intent.classified", intent=result.intent, confidence=result.confidence)
    run.state.attributes["intent"] = result.intent
    run.state.attributes["intent_confidence"] = result.confidence
    if result.intent is None:
        run.goto(node.fallback)
        return
    spec = node.intents[result.intent]
    for attribute, pattern in spec.entities.items():
        found = re.search(pattern, text)
        if found is not None:
            run.state.attributes[attribute] = found.group(1) if found.re.groups else found.group(0)
    run.goto(spec.goto)


# ---- knowledge_answer ------------------------------------------------------------------


def _enter_knowledge(run: Run, node: KnowledgeAnswerNode) -> None:
    if node.query:
        _search(run, node, run.render(node.query))
    elif node.use_last_input and run.state.last_input:
        _search(run, node, run.state.last_input)
    else:
        run.say(node)
        run.wait("text", node.timeout_seconds)


def _search(run: Run, node: KnowledgeAnswerNode, query: str) -> None:
    run.state.pending = {"query": query}
    run.request(SearchKnowledge(query, node.limit), "knowledge_results")


def _answer_knowledge(run: Run, node_id: str, node: KnowledgeAnswerNode, event: FlowInput) -> None:
    if run.state.awaiting == "knowledge_results" and isinstance(event, KnowledgeResults):
        _offer_article(run, node, event)
    elif run.state.awaiting == "feedback":
        _take_feedback(run, node, event)
    else:
        text = input_text(event)
        if text:
            _search(run, node, text)
        else:
            retry(run, node_id, node, event)


def _offer_article(run: Run, node: KnowledgeAnswerNode, results: KnowledgeResults) -> None:
    hits = [article for article in results.articles if article.score >= node.min_score]
    query = run.state.pending.get("query")
    if not hits:
        run.record("kb.not_found", query=query)
        run.say_text(node.not_found or run.messages.not_found)
        run.goto(node.next)
        return
    best = hits[0]
    run.record("kb.answer_shown", article_id=best.id, query=query)
    run.state.pending = {"query": query, "article_id": best.id}
    run.say_text(article_text(best, voice=run.context.is_voice))
    if node.helpful is not None and node.helpful.says_anything():
        run.say(node.helpful)
    else:
        messages = run.messages
        run.say_text(messages.helpful_prompt if run.context.is_voice else messages.helpful)
    _ask_choice(run, node.timeout_seconds, _yes_no(run), awaiting="feedback")


def article_text(article: Article, *, voice: bool) -> str:
    """An article as one message: title, the start of the body, and its link in chat."""
    body = " ".join(article.body.split())
    if len(body) > _SNIPPET_CHARS:
        body = body[:_SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"
    if voice:
        return f"{article.title}. {body}"
    link = f"\n{article.url}" if article.url else ""
    return f"{article.title}\n{body}{link}"


def _take_feedback(run: Run, node: KnowledgeAnswerNode, event: FlowInput) -> None:
    text = input_text(event)
    helpful = text is not None and yes_or_no(run, text) is True
    run.record("kb.feedback", article_id=run.state.pending.get("article_id"), helpful=helpful)
    run.state.pending = {}
    if not helpful:
        run.goto(node.next)
        return
    run.say_text(node.resolved_text or run.messages.resolved)
    if node.on_resolved:
        run.goto(node.on_resolved)
    else:
        run.finish(EndAction(resolved=True))


def _yes_no(run: Run) -> tuple[Option, ...]:
    if run.context.is_voice:
        return (Option("1", "Yes"), Option("2", "No"))
    return (Option("yes", "Yes"), Option("no", "No"))


def yes_or_no(run: Run, text: str) -> bool | None:
    """True for a yes word, False for a no word (flow wording), None otherwise."""
    said = normalise(text)
    if said in {normalise(word) for word in run.messages.yes}:
        return True
    if said in {normalise(word) for word in run.messages.no}:
        return False
    return None


# ---- condition, set, http --------------------------------------------------------------


def _enter_condition(run: Run, node_id: str, node: ConditionNode) -> None:
    for expression, branch in zip(run.flow.conditions[node_id], node.branches, strict=True):
        if evaluate(expression, run.scope):
            run.goto(branch.goto)
            return
    run.goto(node.otherwise)


def _enter_set(run: Run, node: SetNode) -> None:
    for name, value in node.attributes.items():
        run.state.attributes[name] = render_data(value, run.scope)
    run.goto(node.next)


def _enter_http(run: Run, node: HttpNode) -> None:
    run.say(node)
    request = HttpRequest(
        method=node.method,
        url=render_url(node.url, run.scope),
        headers={name: run.render(value) for name, value in node.headers.items()},
        json=render_data(node.body, run.scope),
        timeout_seconds=node.timeout_seconds,
    )
    run.request(request, "http_result")


def _answer_http(run: Run, node: HttpNode, event: FlowInput) -> None:
    if not isinstance(event, HttpResult) or not event.ok:
        status = event.status if isinstance(event, HttpResult) else None
        error = event.error if isinstance(event, HttpResult) else None
        run.record("http.failed", status=status, error=error)
        run.goto(node.on_error)
        return
    for attribute, path in node.map.items():
        run.state.attributes[attribute] = get_path(event.body, tuple(path.split(".")))
    run.goto(node.next)


# ---- authenticate ----------------------------------------------------------------------


def _enter_authenticate(run: Run, node: AuthenticateNode) -> None:
    if node.caller_id and caller_id_matches(run.context.caller_id, run.context.customer):
        _authenticated(run, node, "caller_id")
    elif node.ask and _expected_answer(run, node) is not None:
        run.say(node)
        run.wait(_expect(run, digits=True), node.timeout_seconds)
    else:
        _auth_failed(run, node)


def _answer_authenticate(run: Run, node_id: str, node: AuthenticateNode, event: FlowInput) -> None:
    text = input_text(event)
    expected = _expected_answer(run, node)
    if text and expected is not None and _answer_matches(node, text, expected):
        _authenticated(run, node, node.ask or "pin")
        return
    retry(run, node_id, node, event, no_match=node.no_match or run.messages.not_verified)


def _authenticated(run: Run, node: AuthenticateNode, method: str) -> None:
    run.state.attributes["authenticated"] = True
    run.state.attributes["auth_method"] = method
    run.record("auth.succeeded", method=method)
    run.goto(node.next)


def _auth_failed(run: Run, node: AuthenticateNode) -> None:
    run.state.attributes["authenticated"] = False
    run.record("auth.failed")
    if node.on_failure:
        run.goto(node.on_failure)
    else:
        run.escape("authentication_failed")


def _expected_answer(run: Run, node: AuthenticateNode) -> Any:
    field = node.record_field or node.ask or ""
    return (run.context.customer or {}).get(field)


def _answer_matches(node: AuthenticateNode, given: str, expected: Any) -> bool:
    if node.ask == "date_of_birth":
        given_date, expected_date = parse_date(given), parse_date(str(expected))
        return given_date is not None and given_date == expected_date
    return hmac.compare_digest(given.encode(), str(expected).strip().encode())


def caller_id_matches(caller_id: str | None, customer: Any) -> bool:
    """True when the caller id equals one of the customer record's phone numbers."""
    if not caller_id or not customer:
        return False
    phones = customer.get("phones") or [customer.get("phone")]
    wanted = _phone_key(caller_id)
    return bool(wanted) and any(_phone_key(str(phone)) == wanted for phone in phones if phone)


def _phone_key(number: str) -> str:
    return "".join(char for char in number if char.isdigit() or char == "+")


# ---- queue, callback, survey -----------------------------------------------------------


def _enter_queue(run: Run, node: QueueNode) -> None:
    run.say(node)
    attributes = render_data(dict(node.attributes), run.scope)
    queue = node.queue or run.flow.document.default_queue
    run.finish(QueueAction(queue, tuple(node.skills), node.priority, attributes))


def _enter_callback(run: Run, node: CallbackNode) -> None:
    if not node.confirm:
        _schedule_callback(run, node)
        return
    run.say(node)
    _ask_choice(run, node.timeout_seconds, _yes_no(run))


def _answer_callback(run: Run, node_id: str, node: CallbackNode, event: FlowInput) -> None:
    text = input_text(event)
    answer = yes_or_no(run, text) if text else None
    if answer is True:
        _schedule_callback(run, node)
    elif answer is False and node.next:
        run.goto(node.next)
    else:
        retry(run, node_id, node, event)


def _schedule_callback(run: Run, node: CallbackNode) -> None:
    number = run.render(node.number) if node.number else run.context.caller_id
    if node.accepted_text:
        run.say_text(node.accepted_text)
    queue = node.queue or run.flow.document.default_queue
    run.record("callback.requested", queue=queue)
    run.finish(CallbackAction(queue, number or None, tuple(node.skills), node.priority))


def _ask_survey(run: Run, node: SurveyNode) -> None:
    low, high = SCALES[node.scale]
    run.say(node)
    options = tuple(Option(str(score), str(score)) for score in range(low, high + 1))
    _ask_choice(run, node.timeout_seconds, options, max_digits=len(str(high)))


def _answer_survey(run: Run, node_id: str, node: SurveyNode, event: FlowInput) -> None:
    text = input_text(event)
    score = survey_score(node.scale, text) if text else None
    if score is None and isinstance(event, TimeoutInput):
        run.record("survey.unanswered", scale=node.scale, kind=node.scale)
        run.goto(node.next)
        return
    if score is None:
        retry(run, node_id, node, event)
        return
    run.state.attributes[node.attribute or node.scale] = score
    run.record("survey.answered", scale=node.scale, kind=node.scale, score=score)
    if node.thanks:
        run.say_text(node.thanks)
    run.goto(node.next)


def survey_score(scale: str, text: str) -> int | None:
    """The score in an answer like '4', '4/5' or '9 of 10' when it is on the scale."""
    found = re.fullmatch(r"\s*(\d{1,2})\s*(?:(?:/|of|out of)\s*\d{1,2})?\s*[.!]?\s*", text)
    if found is None:
        return None
    low, high = SCALES[scale]
    score = int(found.group(1))
    return score if low <= score <= high else None


def _ask_choice(
    run: Run,
    timeout: float | None,
    options: tuple[Option, ...],
    *,
    max_digits: int = 1,
    awaiting: Awaiting = "input",
) -> None:
    run.show_options(options)
    expect: Expect = "digits" if run.context.is_voice else "choice"
    run.wait(expect, timeout, options=options, max_digits=max_digits, awaiting=awaiting)
