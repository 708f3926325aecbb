"""The flow domain's errors: a refused flow document, and a host that broke the protocol."""

from __future__ import annotations

from dataclasses import dataclass

from omnidesk.errors import Conflict, InvalidInput


@dataclass(frozen=True)
class FlowIssue:
    """One problem found in a flow document, located by file, line and node."""

    source: str
    line: int | None
    node: str | None
    message: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        who = "flow" if self.node is None else f"node {self.node}"
        return f"{where}: {who}: {self.message}"


class FlowValidationError(InvalidInput):
    """A flow document was refused; `issues` lists every problem found."""

    def __init__(self, issues: list[FlowIssue]) -> None:
        self.issues = tuple(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


class FlowProtocolError(Conflict):
    """The host fed the interpreter something the current state cannot accept."""


class FlowVersionError(Conflict):
    """A flow version was missing, or a publish clashed with an existing version."""
