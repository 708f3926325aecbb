"""`omnidesk flow ...`: test a flow as a terminal chat, validate it, print the schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import typer
import yaml

from omnidesk.flows.context import QueueSnapshot
from omnidesk.flows.errors import FlowProtocolError, FlowValidationError
from omnidesk.flows.flow import Flow
from omnidesk.flows.loader import compile_flow, load_flow
from omnidesk.flows.schema import flow_json_schema
from omnidesk.flows.terminal import TIMEOUT_COMMAND, KnowledgeFile, TerminalHost, terminal_context

app = typer.Typer(help="Self-service flows (IVR and chatbot).", no_args_is_help=True)


def make_http_client() -> httpx.Client:
    """The HTTP client the terminal runner uses (tests replace it)."""
    return httpx.Client(follow_redirects=False)


@app.command("test")
def test_flow(
    path: Annotated[Path, typer.Argument(help="Flow file, YAML or JSON.")],
    channel: Annotated[str, typer.Option(help="Channel to simulate: chat or voice.")] = "chat",
    kb: Annotated[
        Path | None, typer.Option("--kb", help="YAML list of {title, body, url} articles.")
    ] = None,
    setting: Annotated[
        list[str] | None, typer.Option("--setting", help="Override a flow setting: KEY=VALUE.")
    ] = None,
    queue: Annotated[
        list[str] | None, typer.Option("--queue", help="Customers waiting in a queue: NAME=N.")
    ] = None,
    closed: Annotated[bool, typer.Option("--closed", help="Business hours are closed.")] = False,
    caller_id: Annotated[str | None, typer.Option(help="Caller id (E.164).")] = None,
    customer: Annotated[
        Path | None, typer.Option(help="YAML customer record, for authenticate nodes.")
    ] = None,
    entry: Annotated[str | None, typer.Option(help="Start at this entry point.")] = None,
) -> None:
    """Run a flow in the terminal as a chat; type '/timeout' to simulate silence."""
    flow = _load_or_exit(path)
    try:
        flow = _with_settings(flow, setting or [])
        knowledge = KnowledgeFile.load(kb) if kb else None
        record = _read_customer(customer)
        queues = _queue_snapshots(queue or [])
    except ValueError as error:
        _fail(str(error))
    typer.echo(f"[flow {flow.id} v{flow.version} on {channel}; '{TIMEOUT_COMMAND}' = no input]")
    context = terminal_context(
        channel=channel, caller_id=caller_id, customer=record, queues=queues, hours_open=not closed
    )
    with make_http_client() as client:
        host = TerminalHost(flow, context, _read_line, typer.echo, client, knowledge)
        try:
            host.run(entry)
        except FlowProtocolError as error:
            _fail(error.message)


@app.command("validate")
def validate_flow(path: Annotated[Path, typer.Argument(help="Flow file, YAML or JSON.")]) -> None:
    """Check a flow file; print `file:line: node X: message` for each problem."""
    flow = _load_or_exit(path)
    typer.echo(
        f"{path}: flow {flow.id} v{flow.version} is valid ({len(flow.document.nodes)} nodes)"
    )


@app.command("schema")
def print_schema() -> None:
    """Print the JSON Schema of flow documents."""
    typer.echo(json.dumps(flow_json_schema(), indent=2))


def _load_or_exit(path: Path) -> Flow:
    try:
        return load_flow(path)
    except FlowValidationError as error:
        for issue in error.issues:
            typer.echo(str(issue), err=True)
        raise typer.Exit(2) from None


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _read_line() -> str | None:
    typer.echo("you> ", nl=False)
    line = sys.stdin.readline()
    if not line:
        typer.echo("")
        return None
    if not sys.stdin.isatty():
        typer.echo(line.rstrip("\n"))
    return line.rstrip("\n")


def _with_settings(flow: Flow, pairs: list[str]) -> Flow:
    if not pairs:
        return flow
    settings = dict(flow.document.settings)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--setting needs KEY=VALUE, got {pair!r}")
        settings[key] = value
    document = flow.document.model_copy(update={"settings": settings})
    return compile_flow(document, flow.source)


def _queue_snapshots(pairs: list[str]) -> dict[str, QueueSnapshot]:
    snapshots = {}
    for pair in pairs:
        name, sep, waiting = pair.partition("=")
        if not sep or not waiting.isdigit():
            raise ValueError(f"--queue needs NAME=WAITING, got {pair!r}")
        snapshots[name] = QueueSnapshot(waiting=int(waiting))
    return snapshots


def _read_customer(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot read customer record: {error}") from error
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a customer record must be a mapping")
    return data
