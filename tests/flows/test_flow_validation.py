"""Broken flows are refused with the file, the line and the node."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omnidesk.flows import FlowIssue, FlowValidationError, load_flow, load_flow_text

HEADER = """\
id: broken
version: 1
start: a
default_queue: support
nodes:
"""  # the first node starts on line 6


def refuse(text: str, source: str = "broken.yaml") -> list[FlowIssue]:
    """Load a flow expected to be refused; return its issues."""
    with pytest.raises(FlowValidationError) as caught:
        load_flow_text(text, source)
    return list(caught.value.issues)


def only(issues: list[FlowIssue]) -> FlowIssue:
    """The single issue of a refusal."""
    assert len(issues) == 1, issues
    return issues[0]


def test_unknown_node_type_names_file_line_and_node() -> None:
    issue = only(
        refuse(
            HEADER
            + """\
  a:
    type: message
    text: hi
    next: b
  b:
    type: teleport
"""
        )
    )
    assert (issue.source, issue.line, issue.node) == ("broken.yaml", 11, "b")
    assert "unknown node type 'teleport'" in issue.message
    assert str(issue).startswith("broken.yaml:11: node b: unknown node type")


def test_dangling_edge_names_the_line_of_the_goto() -> None:
    issue = only(
        refuse(
            HEADER
            + """\
  a:
    type: menu
    text: pick
    options:
      - {key: "1", label: One, goto: b}
      - {key: "2", label: Two, goto: nowhere}
  b:
    type: end
"""
        )
    )
    assert (issue.line, issue.node) == (11, "a")
    assert "'nowhere'" in issue.message and "does not exist" in issue.message


def test_dangling_start_is_refused() -> None:
    issue = only(refuse(HEADER.replace("start: a", "start: zz") + "  a: {type: end}\n"))
    assert (issue.line, issue.node) == (3, None)
    assert str(issue) == "broken.yaml:3: flow: 'zz' points to a node that does not exist"


def test_unreachable_node_is_refused() -> None:
    issue = only(
        refuse(
            HEADER
            + """\
  a:
    type: end
  orphan:
    type: message
    text: nobody comes here
    next: a
"""
        )
    )
    assert (issue.line, issue.node) == (8, "orphan")
    assert "unreachable" in issue.message


def test_entry_points_make_a_node_reachable() -> None:
    text = HEADER.replace("nodes:", "entry_points: [survey]\nnodes:")
    flow = load_flow_text(
        text + "  a: {type: end}\n  survey: {type: survey, text: Rate us, next: a}\n", "ok.yaml"
    )
    assert set(flow.document.nodes) == {"a", "survey"}


def test_missing_required_field_is_named() -> None:
    issue = only(
        refuse(
            HEADER
            + """\
  a:
    type: collect
    text: Your number?
    next: b
  b:
    type: end
"""
        )
    )
    assert (issue.line, issue.node) == (6, "a")
    assert issue.message == "missing required field 'attribute'"


def test_message_without_anything_to_say_is_refused() -> None:
    issue = only(refuse(HEADER + "  a:\n    type: message\n    next: a\n"))
    assert (issue.line, issue.node) == (6, "a")
    assert "one of 'text', 'prompt' or 'audio' is required" in issue.message


def test_bad_regex_names_the_line_of_the_pattern() -> None:
    issue = only(
        refuse(
            HEADER
            + """\
  a:
    type: collect
    attribute: order_id
    text: Your number?
    pattern: '[0-9'
    next: b
  b:
    type: end
"""
        )
    )
    assert (issue.line, issue.node) == (10, "a")
    assert issue.message.startswith("bad regex '[0-9'")


def test_bad_entity_regex_in_an_intent_is_refused() -> None:
    issue = only(
        refuse(
            HEADER
            + """\
  a:
    type: intent
    text: Hi?
    intents:
      order:
        examples: [where is my order]
        entities: {order_id: '(\\d+'}
        goto: a
    fallback: a
"""
        )
    )
    assert (issue.line, issue.node) == (12, "a")
    assert "bad regex" in issue.message


def test_bad_expression_and_bad_template_are_refused() -> None:
    issues = refuse(
        HEADER
        + """\
  a:
    type: condition
    branches:
      - when: "queue.support.waiting >"
        goto: b
    else: b
  b:
    type: message
    text: "Hello {{ customer name }}"
    next: c
  c:
    type: end
"""
    )
    assert [(i.line, i.node) for i in issues] == [(9, "a"), (14, "b")]
    assert "bad expression" in issues[0].message
    assert "bad template" in issues[1].message


def test_unknown_field_and_wrong_type_are_refused() -> None:
    issues = refuse(
        HEADER
        + """\
  a:
    type: survey
    text: Rate us
    scale: stars
    colour: blue
    next: a
"""
    )
    messages = sorted(i.message for i in issues)
    assert messages[0].startswith("scale: Input should be 'csat' or 'nps'")
    assert messages[1] == "unknown field 'colour'"
    assert sorted(i.line or 0 for i in issues) == [9, 10]


def test_reserved_attribute_names_are_refused() -> None:
    issue = only(
        refuse(HEADER + "  a: {type: set, attributes: {settings: 1}, next: b}\n  b: {type: end}\n")
    )
    assert issue.node == "a" and "reserved" in issue.message


def test_duplicate_node_ids_are_refused() -> None:
    issues = refuse(HEADER + "  a: {type: end}\n  a: {type: end, resolved: false}\n")
    assert any(i.line == 7 and "duplicate key 'a'" in i.message for i in issues)


def test_yaml_syntax_error_has_a_line() -> None:
    issue = only(refuse(HEADER + "  a: {type: end\n  b: [\n"))
    assert issue.line is not None and "invalid YAML" in issue.message


def test_several_problems_are_reported_together() -> None:
    issues = refuse(
        HEADER
        + """\
  a:
    type: message
    next: b
  b:
    type: bogus
"""
    )
    assert [(i.line, i.node) for i in issues] == [(6, "a"), (10, "b")]


def test_json_flow_errors_carry_lines_too(tmp_path: Path) -> None:
    document = {
        "id": "j",
        "version": 1,
        "start": "a",
        "default_queue": "q",
        "nodes": {"a": {"type": "message", "text": "hi", "next": "gone"}},
    }
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(document, indent=2))
    with pytest.raises(FlowValidationError) as caught:
        load_flow(path)
    issue = only(list(caught.value.issues))
    assert (issue.source, issue.line, issue.node) == (str(path), 10, "a")


def test_missing_file_is_a_validation_error(tmp_path: Path) -> None:
    with pytest.raises(FlowValidationError, match="cannot read"):
        load_flow(tmp_path / "nope.yaml")
