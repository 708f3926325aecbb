"""Checks a schema-valid flow document for broken edges, unreachable nodes, bad regex,
templates and expressions; every issue carries the location it refers to."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import JsonValue

from omnidesk.flows.expressions import ExpressionSyntaxError, parse_expression
from omnidesk.flows.schema import (
    RESERVED_ATTRIBUTES,
    CallbackNode,
    CollectNode,
    ConditionNode,
    FlowDocument,
    HttpNode,
    IntentNode,
    KnowledgeAnswerNode,
    MenuNode,
    Node,
    QueueNode,
    Say,
    SetNode,
    SurveyNode,
    TransferNode,
)
from omnidesk.flows.sourcemap import Location
from omnidesk.flows.templates import TemplateSyntaxError, template_paths


@dataclass(frozen=True)
class Problem:
    """A semantic problem at a location in the document."""

    location: Location
    message: str


def find_problems(document: FlowDocument) -> list[Problem]:
    """Every semantic problem of a document that passed the schema."""
    problems = list(_edge_problems(document))
    if not any("does not exist" in problem.message for problem in problems):
        problems.extend(_unreachable_problems(document))
    for node_id, node in document.nodes.items():
        problems.extend(_node_problems(("nodes", node_id), node))
    return problems


def node_edges(node: Node) -> list[tuple[Location, str]]:
    """The (relative location, target node id) of every edge leaving a node."""
    edges: list[tuple[Location, str | None]] = []
    for name in ("next", "on_failure", "on_error", "fallback", "on_resolved"):
        edges.append(((name,), getattr(node, name, None)))
    if isinstance(node, ConditionNode):
        edges += [(("branches", i, "goto"), b.goto) for i, b in enumerate(node.branches)]
        edges.append((("else",), node.otherwise))
    if isinstance(node, MenuNode):
        edges += [(("options", i, "goto"), o.goto) for i, o in enumerate(node.options)]
    if isinstance(node, IntentNode):
        edges += [(("intents", name, "goto"), spec.goto) for name, spec in node.intents.items()]
    return [(location, target) for location, target in edges if target is not None]


def _edge_problems(document: FlowDocument) -> Iterator[Problem]:
    roots: list[tuple[Location, str | None]] = [(("start",), document.start)]
    roots += [(("entry_points", i), entry) for i, entry in enumerate(document.entry_points)]
    roots.append((("escape", "goto"), document.escape.goto))
    for location, target in roots:
        if target is not None and target not in document.nodes:
            yield Problem(location, f"'{target}' points to a node that does not exist")
    for node_id, node in document.nodes.items():
        for location, target in node_edges(node):
            if target not in document.nodes:
                yield Problem(
                    ("nodes", node_id, *location),
                    f"'{location[-1]}' goes to '{target}', a node that does not exist",
                )


def _unreachable_problems(document: FlowDocument) -> Iterator[Problem]:
    roots = [document.start, *document.entry_points]
    if document.escape.goto:
        roots.append(document.escape.goto)
    seen = set(roots)
    pending = deque(roots)
    while pending:
        for _, target in node_edges(document.nodes[pending.popleft()]):
            if target not in seen:
                seen.add(target)
                pending.append(target)
    for node_id in document.nodes:
        if node_id not in seen:
            yield Problem(
                ("nodes", node_id),
                "unreachable: no edge leads here (list it in entry_points if a host starts here)",
            )


def _node_problems(at: Location, node: Node) -> Iterator[Problem]:
    if isinstance(node, Say):
        yield from _template_problems(at, _say_templates(node))
    yield from _template_problems(at, _data_templates(node))
    yield from _regex_problems(at, node)
    yield from _attribute_problems(at, node)
    if isinstance(node, ConditionNode):
        for index, branch in enumerate(node.branches):
            try:
                parse_expression(branch.when)
            except ExpressionSyntaxError as error:
                yield Problem((*at, "branches", index, "when"), f"bad expression: {error}")
    if isinstance(node, MenuNode):
        keys = [option.key for option in node.options]
        for index, key in enumerate(keys):
            if key in keys[:index]:
                yield Problem((*at, "options", index, "key"), f"duplicate menu key '{key}'")
    if isinstance(node, CollectNode) and _min_above_max(node):
        yield Problem((*at, "min_length"), "min_length is greater than max_length")


def _min_above_max(node: CollectNode) -> bool:
    return (
        node.min_length is not None
        and node.max_length is not None
        and (node.min_length > node.max_length)
    )


def _say_templates(node: Say) -> list[tuple[Location, str]]:
    names: tuple[str, ...] = ("text", "prompt", "no_match", "no_input", "thanks", "accepted_text")
    names += ("resolved_text", "not_found")
    found = [((name,), getattr(node, name, None)) for name in names]
    return [(location, text) for location, text in found if isinstance(text, str)]


def _data_templates(node: Node) -> list[tuple[Location, str]]:
    found: list[tuple[Location, str]] = []
    if isinstance(node, HttpNode):
        found.append((("url",), node.url))
        found += [(("headers", name), value) for name, value in node.headers.items()]
        found += _strings_in(("json",), node.body)
    if isinstance(node, SetNode | QueueNode):
        found += _strings_in(("attributes",), dict(node.attributes))
    if isinstance(node, TransferNode):
        found.append((("target",), node.target))
    if isinstance(node, CallbackNode) and node.number:
        found.append((("number",), node.number))
    if isinstance(node, KnowledgeAnswerNode) and node.query:
        found.append((("query",), node.query))
    return found


def _strings_in(location: Location, value: JsonValue) -> list[tuple[Location, str]]:
    if isinstance(value, str):
        return [(location, value)]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in _strings_in((*location, key), item)]
    if isinstance(value, list):
        return [s for i, item in enumerate(value) for s in _strings_in((*location, i), item)]
    return []


def _template_problems(at: Location, templates: list[tuple[Location, str]]) -> Iterator[Problem]:
    for location, text in templates:
        try:
            template_paths(text)
        except TemplateSyntaxError as error:
            yield Problem((*at, *location), f"bad template: {error}")


def _regex_problems(at: Location, node: Node) -> Iterator[Problem]:
    patterns: list[tuple[Location, str | None]] = []
    if isinstance(node, CollectNode):
        patterns = [(("pattern",), node.pattern), (("extract",), node.extract)]
    if isinstance(node, IntentNode):
        patterns = [
            (("intents", name, "entities", attribute), regex)
            for name, spec in node.intents.items()
            for attribute, regex in spec.entities.items()
        ]
    for location, pattern in patterns:
        if pattern is None:
            continue
        try:
            re.compile(pattern)
        except re.error as error:
            yield Problem((*at, *location), f"bad regex {pattern!r}: {error}")


def _attribute_problems(at: Location, node: Node) -> Iterator[Problem]:
    names: list[tuple[Location, str]] = []
    if isinstance(node, CollectNode):
        names.append((("attribute",), node.attribute))
    if isinstance(node, SurveyNode) and node.attribute:
        names.append((("attribute",), node.attribute))
    if isinstance(node, SetNode):
        names += [(("attributes", name), name) for name in node.attributes]
    if isinstance(node, HttpNode):
        names += [(("map", name), name) for name in node.map]
    if isinstance(node, IntentNode):
        names += [
            (("intents", intent, "entities", name), name)
            for intent, spec in node.intents.items()
            for name in spec.entities
        ]
    for location, name in names:
        if name in RESERVED_ATTRIBUTES:
            yield Problem((*at, *location), f"'{name}' is a reserved name, pick another attribute")
