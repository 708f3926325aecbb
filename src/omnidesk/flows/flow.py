"""A compiled flow: the validated document plus its parsed expressions and trained classifiers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from omnidesk.flows.expressions import Expression
from omnidesk.flows.schema import FlowDocument, Node
from omnidesk.flows.textmatch import IntentClassifier


@dataclass(frozen=True)
class Flow:
    """A flow ready to run; build it with `load_flow`, `load_flow_text` or `compile_flow`."""

    document: FlowDocument
    source: str
    conditions: Mapping[str, tuple[Expression, ...]] = field(default_factory=dict)
    classifiers: Mapping[str, IntentClassifier] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """The flow's id."""
        return self.document.id

    @property
    def version(self) -> int:
        """The flow's version number."""
        return self.document.version

    def node(self, node_id: str) -> Node:
        """The node with this id (validation guarantees every edge target exists)."""
        return self.document.nodes[node_id]
