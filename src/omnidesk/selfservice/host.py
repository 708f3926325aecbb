"""The flows a server runs and how a channel sees them: loading, channel settings, outputs."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

import omnidesk.flows
from omnidesk.flows import (
    AudioOutput,
    Flow,
    FlowRegistry,
    FlowValidationError,
    FlowVersionError,
    HttpRequest,
    HttpResult,
    Option,
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


@dataclass(frozen=True, slots=True)
class BotMessage:
    """One chat message of a step: its text (options listed under it) and the options."""

    body: str
    options: tuple[Option, ...] = ()

    def options_json(self) -> list[dict[str, str]]:
        """The options as stored on the message ([{"value", "label"}])."""
        return [{"value": option.value, "label": option.label} for option in self.options]


def bot_messages(outputs: Iterable[Output]) -> list[BotMessage]:
    """The chat messages for a step's outputs; options are listed under the text before them
    (and kept, so that a channel with buttons can show them as buttons)."""
    messages: list[BotMessage] = []
    for output in outputs:
        if isinstance(output, TextOutput | SpeechOutput):
            messages.append(BotMessage(output.text))
        elif isinstance(output, AudioOutput):
            if output.text:
                messages.append(BotMessage(output.text))
        elif isinstance(output, OptionsOutput) and output.options:
            listing = "\n".join(f"{option.value} – {option.label}" for option in output.options)
            if messages:
                last = messages[-1]
                messages[-1] = BotMessage(f"{last.body}\n{listing}",
                                          last.options + output.options)
            else:
                messages.append(BotMessage(listing, output.options))
    return [message for message in messages if message.body.strip()]


async def perform_http(client: httpx.AsyncClient, request: HttpRequest) -> HttpResult:
    """Perform a flow's HTTP request (never inside a transaction); any failure is an
    HttpResult with `error`, a body that is not JSON is kept as text."""
    json_body = request.json if request.method.upper() not in ("GET", "HEAD") else None
    try:
        response = await client.request(request.method, request.url, headers=request.headers,
                                        json=json_body, timeout=request.timeout_seconds)
    except httpx.HTTPError as error:
        return HttpResult(status=None, error=f"{type(error).__name__}: {error}")
    try:
        body: Any = response.json() if response.content else None
    except ValueError:
        body = response.text
    return HttpResult(status=response.status_code, body=body)
