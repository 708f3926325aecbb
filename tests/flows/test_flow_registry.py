"""Versioning: a live interaction finishes on the version it started on."""

from __future__ import annotations

import json

import pytest

from omnidesk.flows import (
    FlowContext,
    FlowRegistry,
    FlowState,
    FlowVersionError,
    TextInput,
    TextOutput,
    load_flow_text,
)
from tests.flows.flow_helpers import BuildFlow, flow_text

NODES = """
    a: {type: collect, text: "Name?", attribute: name, next: b}
    b: {type: end, text: "GREETING {{ name }}"}
"""


def version(number: int, greeting: str) -> str:
    """The same flow at a version, with its own closing words."""
    text = flow_text(NODES).replace("version: 1", f"version: {number}")
    return text.replace("GREETING", greeting)


def test_live_interactions_finish_on_their_version(chat: FlowContext) -> None:
    registry = FlowRegistry()
    registry.publish(load_flow_text(version(1, "Hello"), "v1.yaml"))
    old_step = registry.start("test_flow", chat)
    registry.publish(load_flow_text(version(2, "Welcome"), "v2.yaml"))
    new_step = registry.start("test_flow", chat)
    assert (old_step.state.version, new_step.state.version) == (1, 2)

    stored = json.loads(json.dumps(old_step.state.to_dict()))
    old_end = registry.advance(FlowState.from_dict(stored), TextInput("Ada"), chat)
    new_end = registry.advance(new_step.state, TextInput("Bo"), chat)
    assert old_end.outputs[-1] == TextOutput("Hello Ada")
    assert new_end.outputs[-1] == TextOutput("Welcome Bo")


def test_publishing_an_older_or_clashing_version_is_refused() -> None:
    registry = FlowRegistry()
    registry.publish(load_flow_text(version(2, "Hello"), "v2.yaml"))
    with pytest.raises(FlowVersionError, match="newer than the latest v2"):
        registry.publish(load_flow_text(version(1, "Hello"), "v1.yaml"))
    with pytest.raises(FlowVersionError, match="already published"):
        registry.publish(load_flow_text(version(2, "Changed"), "v2b.yaml"))


def test_republishing_the_same_version_is_idempotent(build: BuildFlow) -> None:
    registry = FlowRegistry()
    first = registry.publish(build(NODES))
    assert registry.publish(build(NODES)) is first
    assert registry.versions("test_flow") == [1]


def test_latest_and_pinned_lookups() -> None:
    registry = FlowRegistry()
    for number in (1, 2, 5):
        registry.publish(load_flow_text(version(number, "Hi"), f"v{number}.yaml"))
    assert registry.get("test_flow").version == 5
    assert registry.get("test_flow", 2).version == 2
    assert registry.versions("test_flow") == [1, 2, 5]
    with pytest.raises(FlowVersionError, match="no published v3"):
        registry.get("test_flow", 3)
    with pytest.raises(FlowVersionError, match="no published any version"):
        registry.get("other")
