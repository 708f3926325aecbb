"""Name lookup shared by templates and expressions: attributes plus read-only namespaces."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from omnidesk.flows.context import FlowContext
from omnidesk.flows.flow import Flow
from omnidesk.flows.state import FlowState

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def get_path(value: Any, parts: tuple[str, ...]) -> Any:
    """Follow dotted parts through dicts and lists; None when any step is missing."""
    for part in parts:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


class Scope:
    """Resolves `{{ path }}` and expression paths for one step."""

    def __init__(self, flow: Flow, state: FlowState, context: FlowContext) -> None:
        self._flow = flow
        self._state = state
        self._context = context

    def __call__(self, parts: tuple[str, ...]) -> Any:
        """The value at a dotted path, or None."""
        root, rest = parts[0], parts[1:]
        if root == "hours":
            return self._hours(rest)
        return get_path(self._namespace(root), rest)

    def _namespace(self, root: str) -> Any:
        context = self._context
        if root == "settings":
            return self._flow.document.settings
        if root == "customer":
            return dict(context.customer or {})
        if root == "channel":
            return context.channel
        if root == "caller_id":
            return context.caller_id
        if root == "queue":
            return {name: asdict(snapshot) for name, snapshot in context.queues.items()}
        if root == "now":
            return self._now()
        if root == "flow":
            return {"id": self._flow.id, "version": self._flow.version}
        return self._state.attributes.get(root)

    def _hours(self, rest: tuple[str, ...]) -> Any:
        if not rest:
            return None
        is_open = self._context.is_open(rest[0])
        if is_open is None:
            return None
        return get_path({"open": is_open, "closed": not is_open}, rest[1:]) if rest[1:] else is_open

    def _now(self) -> dict[str, Any]:
        now = self._context.now
        return {
            "hour": now.hour,
            "minute": now.minute,
            "weekday": _WEEKDAYS[now.weekday()],
            "date": now.date().isoformat(),
        }
