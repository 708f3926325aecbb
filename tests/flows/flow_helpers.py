"""Helpers shared by the flow tests: a fixed instant and a flow document builder."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from datetime import UTC, datetime

from omnidesk.flows import Flow

NOW = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)

BuildFlow = Callable[..., Flow]


def flow_text(nodes: str, *, start: str = "a", header: str = "") -> str:
    """A complete flow document around an indented `nodes:` body."""
    head = f"id: test_flow\nversion: 1\nstart: {start}\ndefault_queue: support\n"
    body = textwrap.indent(textwrap.dedent(nodes).strip("\n"), "  ")
    return head + textwrap.dedent(header) + "nodes:\n" + body + "\n"
