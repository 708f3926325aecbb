"""The command line: clear help everywhere, clear one-line errors, real database work."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from omnidesk.cli import app

runner = CliRunner()


def _command_paths() -> list[list[str]]:
    root = get_command(app)
    paths: list[list[str]] = [[]]
    for name, command in getattr(root, "commands", {}).items():
        paths.append([name])
        paths.extend([name, sub] for sub in getattr(command, "commands", {}))
    return paths


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "omnidesk")
def test_every_command_has_help(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert len(result.output.strip().splitlines()) > 3


def test_every_command_says_what_it_does() -> None:
    root = get_command(app)
    for name, command in getattr(root, "commands", {}).items():
        assert command.help or command.short_help, name


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OMNIDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OMNIDESK_DATABASE_URL", database_url)
    return tmp_path


def test_apply_then_export_round_trips(env: Path) -> None:
    center = env / "center.yaml"
    center.write_text("tenants:\n  - slug: acme\n    name: Acme\n    skills: [english]\n"
                      "    queues:\n      - name: support\n")
    applied = runner.invoke(app, ["apply", str(center)])
    assert applied.exit_code == 0, applied.output
    assert "created queue acme/support" in applied.output
    again = runner.invoke(app, ["apply", str(center)])
    assert "nothing to change" in again.output
    exported = runner.invoke(app, ["export", "--tenant", "acme"])
    assert exported.exit_code == 0 and "name: support" in exported.output


def test_a_bad_center_file_is_one_line_with_file_line_and_field(env: Path) -> None:
    center = env / "center.yaml"
    center.write_text("tenants:\n  - slug: acme\n    name: Acme\n    queues:\n"
                      "      - name: support\n        priority: high\n")
    result = runner.invoke(app, ["apply", str(center)])
    assert result.exit_code == 2
    assert f"{center}:6: tenants[0].queues[0].priority" in result.output
    assert "Traceback" not in result.output


def test_users_create_checks_its_options(env: Path) -> None:
    runner.invoke(app, ["tenants", "create", "acme", "--name", "Acme"])
    short = runner.invoke(app, ["users", "create", "--tenant", "acme", "--email", "a@acme.example",
                                "--name", "A", "--password", "short"])
    assert short.exit_code == 2 and "--password" in short.output
    unknown = runner.invoke(app, ["users", "create", "--tenant", "nope", "--email",
                                  "a@acme.example", "--name", "A", "--password", "long-enough"])
    assert unknown.exit_code == 2 and "tenant 'nope' not found" in unknown.output
    made = runner.invoke(app, ["users", "create", "--tenant", "acme", "--email", "a@acme.example",
                               "--name", "A", "--role", "admin"],
                         input="long-enough\nlong-enough\n")
    assert made.exit_code == 0, made.output
    assert "created admin a@acme.example in acme" in made.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == "omnidesk 0.1.0"
