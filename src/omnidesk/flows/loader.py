"""Load flow documents from YAML or JSON, refusing bad ones with file, line and node."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from omnidesk.flows.errors import FlowIssue, FlowValidationError
from omnidesk.flows.expressions import parse_expression
from omnidesk.flows.flow import Flow
from omnidesk.flows.schema import ConditionNode, FlowDocument, IntentNode
from omnidesk.flows.sourcemap import Location, SourceMap, build_source_map
from omnidesk.flows.textmatch import IntentClassifier
from omnidesk.flows.validation import find_problems


def load_flow(path: str | Path) -> Flow:
    """Read, validate and compile the flow file at `path` (YAML, or JSON by extension)."""
    file_path = Path(path)
    try:
        text = file_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise FlowValidationError(
            [FlowIssue(str(path), None, None, f"cannot read: {error}")]
        ) from error
    return load_flow_text(text, str(path), is_json=file_path.suffix.lower() == ".json")


def load_flow_text(text: str, source_name: str = "<flow>", *, is_json: bool = False) -> Flow:
    """Validate and compile a flow from YAML (or JSON) text; errors name `source_name`."""
    data = _parse(text, source_name, is_json=is_json)
    return flow_from_data(data, source_name, build_source_map(text))


def flow_from_data(
    data: Any, source_name: str = "<flow>", source_map: SourceMap | None = None
) -> Flow:
    """Validate and compile an already parsed flow document (a dict)."""
    lines = source_map or SourceMap()
    issues = [
        FlowIssue(source_name, line, _node_of(location), f"duplicate key '{location[-1]}'")
        for location, line in lines.duplicates
    ]
    try:
        document = FlowDocument.model_validate(data)
    except ValidationError as error:
        issues += [_schema_issue(source_name, lines, detail) for detail in error.errors()]
        raise FlowValidationError(issues) from None
    issues += [
        _issue(source_name, lines, problem.location, problem.message)
        for problem in find_problems(document)
    ]
    if issues:
        raise FlowValidationError(sorted(issues, key=lambda issue: issue.line or 0))
    return compile_flow(document, source_name)


def compile_flow(document: FlowDocument, source_name: str = "<flow>") -> Flow:
    """Parse a valid document's expressions and train its intent classifiers."""
    conditions = {
        node_id: tuple(parse_expression(branch.when) for branch in node.branches)
        for node_id, node in document.nodes.items()
        if isinstance(node, ConditionNode)
    }
    classifiers = {
        node_id: IntentClassifier(
            {name: spec.examples for name, spec in node.intents.items()}, node.threshold
        )
        for node_id, node in document.nodes.items()
        if isinstance(node, IntentNode)
    }
    return Flow(document, source_name, conditions, classifiers)


def _parse(text: str, source_name: str, *, is_json: bool) -> Any:
    if is_json:
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            issue = FlowIssue(source_name, error.lineno, None, f"invalid JSON: {error.msg}")
            raise FlowValidationError([issue]) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(error, "problem", None) or str(error)
        raise FlowValidationError(
            [FlowIssue(source_name, line, None, f"invalid YAML: {reason}")]
        ) from None


def _issue(source_name: str, lines: SourceMap, location: Location, message: str) -> FlowIssue:
    return FlowIssue(source_name, lines.line_of(location), _node_of(location), message)


def _node_of(location: Location) -> str | None:
    return str(location[1]) if len(location) > 1 and location[0] == "nodes" else None


def _schema_issue(source_name: str, lines: SourceMap, detail: Any) -> FlowIssue:
    location: Location = tuple(detail["loc"])
    present = lines.resolve(location)
    field = _field_path(location, present)
    message = _schema_message(detail, field)
    if detail["type"] == "union_tag_invalid":
        location = (*location, "type")
    return _issue(source_name, lines, location, message)


def _field_path(location: Location, present: Location) -> str:
    node_level = 2 if location[:1] == ("nodes",) else 0
    tail = list(present[node_level:])
    if len(location) > len(present) and location[-1] not in present:
        tail.append(location[-1])
    return ".".join(str(part) for part in tail)


def _schema_message(detail: Any, field: str) -> str:
    kind = detail["type"]
    if kind == "union_tag_invalid":
        tag = detail.get("ctx", {}).get("tag")
        expected = detail.get("ctx", {}).get("expected_tags")
        return f"unknown node type '{tag}' (known types: {expected})"
    if kind == "union_tag_not_found":
        return "missing required field 'type'"
    if kind == "missing":
        return f"missing required field '{field}'"
    if kind == "extra_forbidden":
        return f"unknown field '{field}'"
    reason = str(detail["msg"]).removeprefix("Value error, ")
    return reason if not field or kind == "value_error" else f"{field}: {reason}"
