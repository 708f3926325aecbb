"""`omnidesk report` on a small seeded database: fill, then table, CSV, JSON and the chart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omnidesk.cli import app
from omnidesk.db import Database
from omnidesk.events.bus import InProcessBus
from tests.analytics.seeding import store_events
from tests.analytics.test_api import DAY1, DAY2, assert_png_chart, renamed, two_contacts
from tests.conftest import make_tenant, run_in_thread

runner = CliRunner()


async def _seed(url: str) -> None:
    db = Database(url, InProcessBus())
    try:
        tenant_id = await make_tenant(db, "acme")
        await store_events(db, tenant_id, renamed(two_contacts(DAY1, 10).sorted(), "d1")
                           + renamed(two_contacts(DAY2, 25).sorted(), "d2"))
    finally:
        await db.dispose()


@pytest.fixture
def seeded(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Environment pointing at a database whose tenant acme has two days of traffic."""
    monkeypatch.setenv("OMNIDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OMNIDESK_DATABASE_URL", database_url)
    run_in_thread(lambda: _seed(database_url))
    return tmp_path


def test_report_prints_json_after_filling(seeded: Path) -> None:
    result = runner.invoke(app, ["report", "--tenant", "acme", "--from", "2026-11-24",
                                 "--by", "queue,channel", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    rows = {(r["queue"], r["channel"]): r for r in report["totals"]}
    assert rows[("q1", "chat")]["asa_s"] == 25
    assert rows[("q1", "chat")]["previous"]["asa_s"] == 10
    assert rows[("q1", "voice")]["contacts_abandoned"] == 1


def test_report_as_csv_and_table_with_a_chart(seeded: Path) -> None:
    csv = runner.invoke(app, ["report", "--tenant", "acme", "--from", "2026-11-23", "--to",
                              "2026-11-25", "--format", "csv"])
    assert csv.exit_code == 0, csv.output
    assert csv.output.splitlines()[0].startswith("interval,contacts_offered")
    chart = seeded / "chart.svg"
    table = runner.invoke(app, ["report", "--tenant", "acme", "--from", "2026-11-23", "--to",
                                "2026-11-25", "--chart", str(chart)])
    assert table.exit_code == 0, table.output
    assert "Totals" in table.output and "contacts_offered" in table.output
    assert chart.read_text().startswith("<svg")


def test_report_exports_the_chart_as_png(seeded: Path) -> None:
    chart = seeded / "chart.png"
    result = runner.invoke(app, ["report", "--tenant", "acme", "--from", "2026-11-23", "--to",
                                 "2026-11-25", "--interval", "day", "--chart", str(chart)])
    assert result.exit_code == 0, result.output
    assert_png_chart(chart.read_bytes())


def test_report_errors_are_one_line(seeded: Path) -> None:
    for args, text in ((["--by", "colour"], "--by takes"), (["--from", "soon"], "from must"),
                       (["--chart", "out.gif"], "--chart must"), (["--interval", "week"],
                                                                  "--interval must")):
        result = runner.invoke(app, ["report", "--tenant", "acme", *args])
        assert result.exit_code == 2, result.output
        assert text in result.output and "Traceback" not in result.output
    unknown = runner.invoke(app, ["report", "--tenant", "nope"])
    assert unknown.exit_code == 2 and "nope" in unknown.output
