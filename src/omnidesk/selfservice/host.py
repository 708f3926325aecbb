"""The flows a server runs and how a channel sees them: loading, channel settings, outputs."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import omnidesk.flows
from omnidesk.flows import (
    AudioOutput,
    Flow,
    FlowRegistry,
    FlowValidationError,
    FlowVersionError,
    OptionsOutput,
    Output,
    SpeechOutput,
    TextOutput,
    compile_flow,
    load_flow,
)

log = logging.getLogger("omnidesk.selfservice")

DEMO_FLOW = Path(omnidesk.flows.__file__).parent / "demo_flow.yaml"
FAQ_FLOW = Path(omnidesk.flows.__file__).parent / "faq_flow.yaml"  # answers from the KB
BUILT_IN_FLOWS = (DEMO_FLOW, FAQ_FLOW)
FLOWS_DIR = "flows"  # under OMNIDESK_DATA_DIR
FLOW_FILE_PATTERNS = ("*.yaml", "*.yml")


def load_registry(data_dir: Path | None) -> FlowRegistry:
    """The built-in demo flows plus every flow file in `<data_dir>/flows/` (a bad file is
    logged with its issues and skipped, so one typo does not keep the server down)."""
    registry = FlowRegistry()
    for path in BUILT_IN_FLOWS:
        registry.publish(load_flow(path))
    folder = data_dir / FLOWS_DIR if data_dir is not None else None
    if folder is None or not folder.is_dir():
        return registry
    paths = sorted({path for pattern in FLOW_FILE_PATTERNS for path in folder.glob(pattern)})
    for path in paths:
        try:
            flow = registry.publish(load_flow(path))
        except (FlowValidationError, FlowVersionError) as error:
            log.error("flow file %s not loaded: %s", path, error)
            continue
        log.info("loaded flow %s v%s from %s", flow.id, flow.version, path)
    return registry


class FlowHost:
    """Gives each channel its flow: the published version with the channel's settings
    overriding the flow's own `settings` (only keys the flow declares), compiled once."""

    def __init__(self, registry: FlowRegistry) -> None:
        self.registry = registry
        self._compiled: dict[tuple[str, int, str], Flow] = {}

    def flow(self, flow_id: str, version: int | None,
             channel_settings: Mapping[str, Any]) -> Flow:
        """The flow (latest when `version` is None) as this channel runs it."""
        base = self.registry.get(flow_id, version)
        declared = base.document.settings
        overrides = {key: value for key, value in channel_settings.items()
                     if key in declared and value != declared[key]}
        if not overrides:
            return base
        key = (base.id, base.version, json.dumps(overrides, sort_keys=True, default=str))
        compiled = self._compiled.get(key)
        if compiled is None:
            document = base.document.model_copy(
                update={"settings": {**declared, **overrides}})
            compiled = self._compiled[key] = compile_flow(document, base.source)
        return compiled


def message_bodies(outputs: Iterable[Output]) -> list[str]:
    """The chat messages for a step's outputs; options are listed under the text before them."""
    bodies: list[str] = []
    for output in outputs:
        if isinstance(output, TextOutput | SpeechOutput):
            bodies.append(output.text)
        elif isinstance(output, AudioOutput):
            if output.text:
                bodies.append(output.text)
        elif isinstance(output, OptionsOutput) and output.options:
            listing = "\n".join(f"{option.value} – {option.label}" for option in output.options)
            if bodies:
                bodies[-1] = f"{bodies[-1]}\n{listing}"
            else:
                bodies.append(listing)
    return [body for body in bodies if body.strip()]
