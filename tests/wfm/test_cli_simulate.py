"""`omnidesk simulate`, `forecast` and `plan` through the sub-app, as the main CLI mounts it."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from typer.testing import CliRunner, Result

from omnidesk.wfm.cli import app

SCENARIO = """\
name: cli
seed: 11
duration: 2h
warmup: 15m
queues:
  - id: voice
    arrivals: {per_hour: 60}
    handle_time: {kind: exponential, mean: 180}
    patience: {kind: exponential, mean: 120}
agents:
  - name: agent
    count: 3
    queues: [voice]
"""


def _run(*arguments: str) -> Result:
    parent = typer.Typer()
    parent.add_typer(app)

    @parent.command()
    def serve() -> None:
        """Stand-in for the main CLI's other commands."""

    return CliRunner().invoke(parent, list(arguments))


def _history(tmp_path: Path) -> Path:
    path = tmp_path / "history.csv"
    start = datetime(2026, 1, 5, tzinfo=UTC)
    rows = ["interval_start,count"]
    for hour in range(14 * 24):
        at = start + timedelta(hours=hour)
        rows.append(f"{at.isoformat()},{20 if 8 <= at.hour < 18 else 0}")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_simulate_prints_kpis_and_a_what_if_run(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO)
    result = _run("simulate", str(scenario), "--agents", "+2", "--quiet",
                  "--output", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "cli (agents +2)" in result.output
    assert (tmp_path / "out" / "chart.svg").read_text().startswith("<svg")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out" / "results.csv").read_text())))
    assert [(r["run"], r["queue_id"]) for r in rows] == [
        ("cli", "voice"), ("cli", "all"), ("cli (agents +2)", "voice"),
        ("cli (agents +2)", "all")]
    assert float(rows[3]["service_level_pct"]) > float(rows[1]["service_level_pct"])


def test_simulate_csv_is_reproducible_and_seed_can_change(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO)
    first = _run("simulate", str(scenario), "--format", "csv", "--quiet")
    again = _run("simulate", str(scenario), "--format", "csv", "--quiet")
    other = _run("simulate", str(scenario), "--format", "csv", "--quiet", "--seed", "12")
    assert first.exit_code == 0, first.output
    assert first.output == again.output != other.output


def test_simulate_reports_file_line_field(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO.replace("mean: 180", "mean: -3"))
    result = _run("simulate", str(scenario))
    assert result.exit_code == 2
    assert f"{scenario}:8: queues[0].handle_time.exponential.mean" in result.output


def test_forecast_and_plan_from_a_history_file(tmp_path: Path) -> None:
    history = _history(tmp_path)
    result = _run("forecast", "--history", str(history), "--interval", "60m", "--days", "1",
                  "--format", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["mape_pct"] == 0.0
    assert [round(i["forecast"], 6) for i in body["intervals"]] == [
        20.0 if 8 <= h < 18 else 0.0 for h in range(24)]
    result = _run("plan", "--history", str(history), "--interval", "60m", "--aht", "180",
                  "--target", "80/20", "--shrinkage", "0.3", "--output", str(tmp_path / "p"))
    assert result.exit_code == 0, result.output
    assert "Staffing plan" in result.output and "MAPE" in result.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "p" / "plan.csv").read_text())))
    assert [int(r["agents"]) for r in rows][7:10] == [0, 3, 3]  # 20 calls/h × 180 s = 1 Erlang
    assert (tmp_path / "p" / "plan.svg").exists()


def test_forecast_needs_a_source_and_a_sane_interval(tmp_path: Path) -> None:
    result = _run("forecast")
    assert result.exit_code == 2 and "--tenant" in result.output
    result = _run("forecast", "--history", str(_history(tmp_path)), "--interval", "20m")
    assert result.exit_code == 2 and "--interval" in result.output
