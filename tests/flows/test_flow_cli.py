"""`omnidesk flow test`: the flow as a terminal chat, with real HTTP through httpx."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from omnidesk.flows import cli

DEMO = Path(__file__).parents[2] / "src" / "omnidesk" / "flows" / "demo_flow.yaml"
runner = CliRunner()


@pytest.fixture
def order_service(monkeypatch: pytest.MonkeyPatch) -> list[httpx.Request]:
    """Serve the demo's order API from memory; return the requests it received."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/orders/1234"):
            return httpx.Response(200, json={"status": "shipped", "eta": "Friday"})
        if request.url.path.endswith("/orders/4444"):
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(404, json={"error": "unknown order"})

    monkeypatch.setattr(
        cli, "make_http_client", lambda: httpx.Client(transport=httpx.MockTransport(handle))
    )
    return seen


def run(*args: str, lines: list[str]) -> tuple[int, str]:
    """Invoke the CLI with typed lines; return the exit code and all output."""
    result = runner.invoke(cli.app, list(args), input="".join(f"{line}\n" for line in lines))
    return result.exit_code, result.output


def test_chat_order_status_calls_the_order_service(order_service: list[httpx.Request]) -> None:
    code, output = run("test", str(DEMO), lines=["where is my order 1234", "3"])
    assert code == 0, output
    assert "you> where is my order 1234" in output
    assert "[http GET https://orders.example.com/api/orders/1234]" in output
    assert "bot> Order 1234 is shipped. Expected delivery: Friday." in output
    assert output.rstrip().endswith("[ended, resolved]")
    assert str(order_service[0].url) == "https://orders.example.com/api/orders/1234"


def test_setting_overrides_the_order_api(order_service: list[httpx.Request]) -> None:
    args = ("test", str(DEMO), "--setting", "order_api=http://localhost:9/api")
    code, output = run(*args, lines=["where is my order 1234", "2"])
    assert code == 0, output
    assert str(order_service[0].url) == "http://localhost:9/api/orders/1234"
    assert "[queued to 'support' with skills orders, english, priority 1" in output


def test_unreachable_service_takes_the_error_branch(order_service: list[httpx.Request]) -> None:
    code, output = run("test", str(DEMO), lines=["where is my order 4444"])
    assert code == 0, output
    assert "[http result: ConnectError: connection refused]" in output
    assert "couldn't look up that order" in output


def test_knowledge_file_answers_questions(tmp_path: Path) -> None:
    articles = tmp_path / "kb.yaml"
    articles.write_text(
        "- {title: Returns and refunds, body: Return any item within 30 days., url: https://h/r}\n"
        "- {title: Shipping costs, body: Shipping is free from 50 EUR.}\n"
    )
    code, output = run(
        "test", str(DEMO), "--kb", str(articles), lines=["how do I return an item", "yes"]
    )
    assert code == 0, output
    assert "bot> Returns and refunds" in output
    assert "[ended, resolved]" in output


def test_without_a_knowledge_base_the_runner_says_so() -> None:
    code, output = run("test", str(DEMO), lines=["how do I return an item", "3"])
    assert code == 0, output
    assert "none connected in the terminal runner" in output
    assert "I couldn't find an answer to that." in output


def test_voice_channel_reads_digits_and_timeouts() -> None:
    code, output = run("test", str(DEMO), "--channel", "voice", lines=["/timeout", "9", "9"])
    assert code == 0, output
    assert "bot> Sorry, I didn't hear anything." in output
    assert "[queued to 'support'" in output


def test_closed_hours_and_end_of_input() -> None:
    code, output = run("test", str(DEMO), "--closed", lines=["agent"])
    assert code == 0 and "Monday to Friday" in output and "[ended, not resolved]" in output
    code, output = run("test", str(DEMO), lines=[])
    assert code == 0 and output.rstrip().endswith("[end of input]")


def test_entry_point_runs_the_survey() -> None:
    code, output = run("test", str(DEMO), "--entry", "csat", lines=["5"])
    assert code == 0, output
    assert "bot> Thank you for your feedback!" in output


def test_bad_flow_prints_file_line_node_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: bad\nversion: 1\nstart: a\ndefault_queue: q\nnodes:\n"
        "  a: {type: message, text: hi, next: b}\n"
        "  b:\n    type: teleport\n"
    )
    code, output = run("test", str(bad), lines=[])
    assert code == 2
    assert f"{bad}:8: node b: unknown node type 'teleport'" in output
    assert "Traceback" not in output


def test_missing_file_and_bad_options_exit_2(tmp_path: Path) -> None:
    code, output = run("test", str(tmp_path / "none.yaml"), lines=[])
    assert code == 2 and "cannot read" in output
    code, output = run("test", str(DEMO), "--setting", "nonsense", lines=[])
    assert code == 2 and "--setting needs KEY=VALUE" in output
    code, output = run("test", str(DEMO), "--queue", "support=lots", lines=[])
    assert code == 2 and "--queue needs NAME=WAITING" in output


def test_validate_and_schema_commands() -> None:
    code, output = run("validate", str(DEMO), lines=[])
    assert code == 0 and "flow webshop_support v1 is valid" in output
    code, output = run("schema", lines=[])
    assert code == 0 and json.loads(output)["title"] == "omnidesk self-service flow"
