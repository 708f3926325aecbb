"""Map a location inside a flow document (keys and indexes) back to its line in the file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import yaml

Location = tuple[str | int, ...]


@dataclass
class SourceMap:
    """Lines (1-based) of every key and list item of a document, plus duplicate keys seen."""

    lines: dict[Location, int] = field(default_factory=dict)
    duplicates: list[tuple[Location, int]] = field(default_factory=list)

    def line_of(self, location: Sequence[str | int]) -> int | None:
        """Line of the deepest part of the location present in the document."""
        found = self.resolve(location)
        return self.lines.get(found) if found else self.lines.get(())

    def resolve(self, location: Sequence[str | int]) -> Location:
        """The deepest prefix of the location present in the document, skipping union tags."""
        current: Location = ()
        for part in location:
            if (*current, part) in self.lines:
                current = (*current, part)
        return current


def build_source_map(text: str) -> SourceMap:
    """Compose YAML (or JSON) text and record the line of each key and item; best effort."""
    source_map = SourceMap()
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return source_map
    if root is not None:
        source_map.lines[()] = root.start_mark.line + 1
        _walk(root, (), source_map)
    return source_map


def _walk(node: yaml.Node, location: Location, source_map: SourceMap) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            child = (*location, key)
            line = key_node.start_mark.line + 1
            if child in source_map.lines:
                source_map.duplicates.append((child, line))
            source_map.lines[child] = line
            _walk(value_node, child, source_map)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*location, index)
            source_map.lines[child] = item.start_mark.line + 1
            _walk(item, child, source_map)
