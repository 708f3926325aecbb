"""Shared fixtures for the flow engine tests: fixed time, contexts, and a flow builder."""

from __future__ import annotations

import pytest

from omnidesk.flows import Flow, FlowContext, load_flow_text
from tests.flows.flow_helpers import NOW, BuildFlow, flow_text


@pytest.fixture
def build() -> BuildFlow:
    """Build a flow from the YAML of its nodes (plus optional top-level header lines)."""

    def make(nodes: str, *, start: str = "a", header: str = "") -> Flow:
        return load_flow_text(flow_text(nodes, start=start, header=header), "test.yaml")

    return make


@pytest.fixture
def chat() -> FlowContext:
    """A chat context at a fixed instant."""
    return FlowContext(now=NOW, channel="chat")


@pytest.fixture
def voice() -> FlowContext:
    """A voice context at a fixed instant."""
    return FlowContext(now=NOW, channel="voice", caller_id="+4930123456")
