"""Canned responses in center files: applied, exported, and the same as the API shows."""

from __future__ import annotations

import pytest

from omnidesk.configuration.apply import apply_center, load_center
from omnidesk.configuration.export import export_center, to_yaml
from omnidesk.configuration.yaml_source import ConfigFileError
from omnidesk.db import Database

CENTER = """\
tenants:
  - slug: acme
    name: Acme
    canned_responses:
      - shortcut: hello
        title: Greeting
        body: "Hello {{customer.name}}, this is {{agent.name}}."
      - shortcut: refund
        title: Refund policy
        body: Refunds take 5 working days.
"""


async def _apply(db: Database, text: str) -> list[str]:
    async with db.write() as session:
        report = await apply_center(session, load_center(text, "center.yaml"), actor="test")
    return report.changes


async def _export(db: Database) -> str:
    async with db.read() as session:
        return to_yaml(await export_center(session))


async def test_canned_responses_are_applied_once_and_exported(db: Database) -> None:
    assert await _apply(db, CENTER) == [
        "created tenant acme/acme", "created canned response acme/hello",
        "created canned response acme/refund"]
    assert await _apply(db, CENTER) == []
    exported = await _export(db)
    assert "shortcut: hello" in exported and "{{customer.name}}" in exported
    assert await _apply(db, exported) == []


async def test_a_changed_body_updates_that_response_only(db: Database) -> None:
    await _apply(db, CENTER)
    changed = CENTER.replace("5 working days", "3 working days")
    assert await _apply(db, changed) == ["updated canned response acme/refund"]
    assert "3 working days" in await _export(db)


def test_a_shortcut_twice_names_file_line_and_field() -> None:
    doubled = CENTER.replace("shortcut: refund", "shortcut: hello")
    with pytest.raises(ConfigFileError) as error:
        load_center(doubled, "center.yaml")
    assert error.value.line == 8
    assert "canned_responses[1].shortcut" in str(error.value)


def test_a_bad_shortcut_is_refused() -> None:
    with pytest.raises(ConfigFileError) as error:
        load_center(CENTER.replace("shortcut: refund", "shortcut: Re Fund"), "center.yaml")
    assert "shortcut" in str(error.value)


async def test_dispositions_are_applied_in_order_and_exported(db: Database) -> None:
    center = CENTER + """\
    dispositions:
      - {code: solved, label: Solved}
      - {code: callback, label: Call back later, resolved: false}
"""
    changes = await _apply(db, center)
    assert changes[-2:] == ["created disposition acme/solved", "created disposition acme/callback"]
    exported = await _export(db)
    assert exported.index("code: solved") < exported.index("code: callback")
    assert await _apply(db, exported) == []
    relabelled = center.replace("Call back later", "Call back")
    assert await _apply(db, relabelled) == ["updated disposition acme/callback"]
