"""`omnidesk erlang`, run through the sub-app mounted the way the main CLI mounts it."""

from __future__ import annotations

import csv
import io
import json

import pytest
import typer
from typer.testing import CliRunner, Result

from omnidesk.wfm.cli import app

WORKED_EXAMPLE = ["--calls", "100", "--per", "30m", "--aht", "180", "--target", "80/20"]


def _run(*arguments: str) -> Result:
    """Invoke `erlang` through a parent app, as `omnidesk erlang …`."""
    parent = typer.Typer()
    parent.add_typer(app)

    @parent.command()
    def serve() -> None:
        """Stand-in for the main CLI's other commands."""

    return CliRunner().invoke(parent, ["erlang", *arguments])


def test_worked_example_prints_table_and_answer_line() -> None:
    result = _run(*WORKED_EXAMPLE, "--shrinkage", "0.3")
    assert result.exit_code == 0, result.output
    assert "14 agents needed (20 to schedule with 30% shrinkage)" in result.output
    assert "10.00 Erlangs" in result.output
    for agents in range(11, 18):
        assert f"\n {agents:>6} " in result.output
    assert "88.8%" in result.output  # service level at 14 agents


def test_patience_adds_erlang_a_columns_and_uses_erlang_a() -> None:
    result = _run(*WORKED_EXAMPLE, "--patience", "120", "--max-abandon", "5")
    assert result.exit_code == 0, result.output
    assert "Aband. A" in result.output
    assert "13 agents needed (13 to schedule with 0% shrinkage)" in result.output


def test_csv_output_marks_the_required_row() -> None:
    result = _run(*WORKED_EXAMPLE, "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [row["agents"] for row in rows if row["required"] == "True"] == ["14"]
    assert float(rows[3]["service_level"]) == pytest.approx(0.888350019179467, abs=1e-12)


def test_json_output_has_answer_and_null_for_infinite_asa() -> None:
    result = _run(
        "--calls", "100", "--per", "1800s", "--aht", "180", "--asa", "125", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["required_agents"] == 11
    assert document["agents_to_schedule"] == 11
    assert document["model"] == "erlang_c"
    first = document["rows"][0]
    assert first["agents"] == 8
    assert first["asa_s"] is None  # 8 agents for 10 Erlangs: the queue never empties


def test_occupancy_and_asa_targets_combine() -> None:
    result = _run(
        "--calls", "100", "--per", "0.5h", "--aht", "180", "--asa", "30", "--max-occupancy", "70"
    )
    assert result.exit_code == 0, result.output
    assert "15 agents needed" in result.output


@pytest.mark.parametrize(
    ("arguments", "option"),
    [
        (["--per", "30x"], "--per"),
        (["--per", "0m"], "--per"),
        (["--target", "80"], "--target"),
        (["--target", "120/20"], "--target"),
        (["--shrinkage", "1.2"], "--shrinkage"),
        (["--calls", "0"], "--calls"),
        (["--aht", "-1"], "--aht"),
        (["--patience", "0"], "--patience"),
        (["--asa", "0"], "--asa"),
        (["--max-occupancy", "0"], "--max-occupancy"),
        (["--max-abandon", "5"], "--max-abandon"),
    ],
)
def test_bad_input_gives_one_line_error_naming_the_option(
    arguments: list[str], option: str
) -> None:
    values = dict(zip(WORKED_EXAMPLE[::2], WORKED_EXAMPLE[1::2], strict=True))
    values.update(zip(arguments[::2], arguments[1::2], strict=True))
    result = _run(*[part for pair in values.items() for part in pair])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {option}:")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_missing_target_is_an_error() -> None:
    result = _run("--calls", "100", "--per", "30m", "--aht", "180")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --target:")
