"""The published JSON Schema, state serialisation and the step's JSON form."""

from __future__ import annotations

import json
from pathlib import Path

from omnidesk.flows import FlowContext, FlowState, TextInput, advance, flow_json_schema, start
from omnidesk.flows.loader import load_flow
from tests.flows.flow_helpers import BuildFlow

DEMO = Path(__file__).parents[2] / "src" / "omnidesk" / "flows" / "demo_flow.yaml"


def test_json_schema_lists_every_node_type() -> None:
    schema = flow_json_schema()
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert set(schema["required"]) >= {"id", "version", "start", "default_queue", "nodes"}
    node_types = {
        definition["properties"]["type"]["const"]
        for definition in schema["$defs"].values()
        if "type" in definition.get("properties", {})
        and "const" in definition["properties"]["type"]
    }
    assert node_types == {
        "message", "menu", "collect", "intent", "knowledge_answer", "condition", "set", "http",
        "authenticate", "queue", "callback", "transfer", "survey", "end",
    }  # fmt: skip
    json.dumps(schema)


def test_state_and_step_round_trip_through_json(build: BuildFlow, chat: FlowContext) -> None:
    flow = load_flow(DEMO)
    step = start(flow, FlowContext(now=chat.now, channel="chat", hours_default=True))
    step = advance(flow, step.state, TextInput("menu"), chat)
    payload = json.loads(json.dumps(step.to_dict()))
    assert payload["action"]["kind"] == "wait"
    assert payload["outputs"][-1]["kind"] == "options"
    restored = FlowState.from_dict(payload["state"])
    assert restored == step.state
    assert restored.transcript[0].role == "bot"
