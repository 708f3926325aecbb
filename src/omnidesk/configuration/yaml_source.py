"""Load YAML keeping each value's line, so a bad field is reported as file:line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from omnidesk.errors import InvalidInput

Path = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


class ConfigFileError(InvalidInput):
    """A center or flow file that cannot be used, with where and why."""

    def __init__(self, source: str, line: int | None, field: str, message: str) -> None:
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}",
                         field=field or None)
        self.source = source
        self.line = line


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """Parsed YAML data and the line of every path in it."""

    source: str
    data: Any
    lines: dict[Path, int]

    def line_of(self, path: Path) -> int | None:
        """The line of the path, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None


def _record_lines(node: yaml.Node, path: Path, lines: dict[Path, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            _record_lines(value_node, (*path, key), lines)
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, (*path, index), lines)


def parse(text: str, source: str) -> YamlDocument:
    """Parse YAML text; a syntax error names the file and line."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        raise ConfigFileError(source, mark.line + 1 if mark else None, "",
                              f"YAML syntax: {error.problem}") from error
    finally:
        loader.dispose()
    lines: dict[Path, int] = {}
    if node is not None:
        _record_lines(node, (), lines)
    return YamlDocument(source=source, data=data, lines=lines)


def dotted(path: Path) -> str:
    """A path as text: tenants[0].queues[1].name."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def validate(document: YamlDocument, model: type[M]) -> M:
    """Validate the data; the first error is reported with its file, line and field."""
    try:
        return model.model_validate(document.data)
    except ValidationError as error:
        first = error.errors()[0]
        path: Path = tuple(part for part in first["loc"] if isinstance(part, str | int))
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigFileError(document.source, document.line_of(path), dotted(path),
                              message) from error
