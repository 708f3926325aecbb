"""Configuration as code: declarative, idempotent, exportable, with file:line errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from omnidesk.configuration.apply import apply_center, load_center, load_center_file
from omnidesk.configuration.export import export_center, to_yaml
from omnidesk.configuration.yaml_source import ConfigFileError
from omnidesk.db import Database
from omnidesk.demo import DEMO_CENTER, DEMO_PASSWORD
from omnidesk.errors import Forbidden

SMALL = """\
tenants:
  - slug: acme
    name: Acme
    skills: [english, billing]
    queues:
      - name: support
        skills: [{skill: english, min_proficiency: 2}]
    users:
      - {email: ada@acme.example, name: Ada, role: admin, password: long-enough-pw}
    agents:
      - user: ada@acme.example
        skills: {english: 4}
"""
CHANNEL = """\
    channels:
      - name: whatsapp
        kind: whatsapp
        settings:
          phone_number_id: "106540352242922"
          api_version: v21.0
"""


async def _apply(db: Database, text: str, source: str = "center.yaml") -> list[str]:
    async with db.write() as session:
        report = await apply_center(session, load_center(text, source), actor="test")
    return report.changes


async def _export(db: Database) -> str:
    async with db.read() as session:
        return to_yaml(await export_center(session))


async def test_applying_the_demo_twice_changes_nothing_the_second_time(db: Database) -> None:
    first = await _apply(db, DEMO_CENTER.read_text(), "demo")
    assert "created tenant demo/demo" in first and "created channel demo/shop-backend" in first
    assert len(first) == 40  # … 2 channels, 4 canned responses, 15 knowledge-base articles
    assert "created article demo/track-your-order" in first
    assert await _apply(db, DEMO_CENTER.read_text(), "demo") == []


async def test_export_then_apply_is_a_no_op(db: Database) -> None:
    await _apply(db, DEMO_CENTER.read_text(), "demo")
    exported = await _export(db)
    # no password or secret (the help article "Reset your password" is fine)
    assert not re.search(r"^\s*-?\s*(password|secret)\w*:", exported, re.MULTILINE)
    assert DEMO_PASSWORD not in exported and "secret-change-me" not in exported
    assert await _apply(db, exported, "export.yaml") == []


async def test_a_changed_value_updates_only_that_object(db: Database) -> None:
    await _apply(db, SMALL)
    changed = SMALL.replace("min_proficiency: 2", "min_proficiency: 3")
    assert await _apply(db, changed) == ["updated queue acme/support"]
    assert "min_proficiency: 3" in await _export(db)


async def test_nothing_is_applied_when_part_of_the_file_fails(db: Database) -> None:
    broken = SMALL + "      - user: ghost@acme.example\n"
    with pytest.raises(Exception, match=r"ghost@acme\.example"):
        await _apply(db, broken)
    assert await _export(db) == "tenants: []\n"


@pytest.mark.parametrize(("text", "line", "field", "message"), [
    (SMALL.replace("role: admin", "role: boss"), 9, "tenants[0].users[0].role",
     "Input should be 'admin', 'supervisor' or 'agent'"),
    (SMALL.replace("name: support", "name: support\n        strategy: fastest"), 7,
     "tenants[0].queues[0].strategy", "Input should be"),
    (SMALL.replace("{english: 4}", "{english: 9}"), 12, "tenants[0].agents[0].skills.english",
     "less than or equal to 5"),
    (SMALL.replace("{skill: english", "{skill: german"), 7,
     "tenants[0].queues[0].skills[0].skill", "skill 'german' is not in the tenant's skills"),
    (SMALL.replace("    name: Acme\n", ""), 2, "tenants[0].name", "Field required"),
    (SMALL.replace("slug: acme", "slug: Acme Corp"), 2, "tenants[0].slug",
     "String should match pattern"),
    (SMALL.replace("    queues:", "    colour: blue\n    queues:"), 5, "tenants[0].colour",
     "Extra inputs are not permitted"),
    ("tenants:\n  - slug: [unclosed\n", 3, "", "YAML syntax"),
    (SMALL + "        capacity: {fax: 1}\n", 13, "tenants[0].agents[0].capacity",
     "unknown channel 'fax'"),
    (SMALL.replace("min_proficiency: 2}]", "min_proficiency: 2}]\n        escalation:\n"
                   "          - {after_seconds: 30, overflow_to: sales}"), 9,
     "tenants[0].queues[0].escalation[0].overflow_to", "queue 'sales' is not another queue"),
    (SMALL + CHANNEL.replace("kind: whatsapp", "kind: fax"), 15, "tenants[0].channels[0].kind",
     "unknown channel kind 'fax'; known: api, email"),
    (SMALL + CHANNEL.replace("v21.0", "'21'"), 18,
     "tenants[0].channels[0].settings.api_version", "String should match pattern"),
    (SMALL + CHANNEL + "          phone_number: '+1415'\n", 19,
     "tenants[0].channels[0].settings.phone_number", "Extra inputs are not permitted"),
])
def test_a_bad_file_names_file_line_and_field(text: str, line: int, field: str,
                                              message: str) -> None:
    with pytest.raises(ConfigFileError) as raised:
        load_center(text, "center.yaml")
    assert raised.value.line == line, raised.value.message
    assert raised.value.message.startswith(f"center.yaml:{line}: {field}")
    assert message in raised.value.message


async def test_channel_settings_are_stored_as_checked_and_applied_once(db: Database) -> None:
    text = SMALL + CHANNEL + "      - {name: mail, kind: email, settings: " \
        "{address: Support@Acme.Example, smtp_port: '2525', survey: csat}}\n"
    assert "created channel acme/mail" in await _apply(db, text)
    assert await _apply(db, text) == []
    exported = await _export(db)
    assert "address: support@acme.example" in exported and "smtp_port: 2525" in exported
    assert await _apply(db, exported, "export.yaml") == []


def test_secrets_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    text = SMALL.replace("password: long-enough-pw", "password_env: ADA_PASSWORD")
    with pytest.raises(ConfigFileError, match=r"center\.yaml:9: .*ADA_PASSWORD is not set"):
        load_center(text, "center.yaml")
    monkeypatch.setenv("ADA_PASSWORD", "from-the-environment")
    assert load_center(text, "center.yaml").tenants[0].users[0].password == \
        "from-the-environment"


def test_an_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match="cannot read"):
        load_center_file(tmp_path / "missing.yaml")


async def test_a_tenant_admin_may_only_apply_their_own_tenant(db: Database) -> None:
    async with db.write() as session:
        with pytest.raises(Forbidden):
            await apply_center(session, load_center(SMALL, "x"), actor="t", tenant_slug="other")
        with pytest.raises(Forbidden):
            await apply_center(session, load_center(
                SMALL.replace("role: admin", "role: admin, platform_admin: true"), "x"),
                actor="t", tenant_slug="acme")


async def test_an_agents_routing_profile_is_applied_exported_and_changed(db: Database) -> None:
    profiled = SMALL.replace("    queues:\n", "    queues:\n      - {name: sales}\n").replace(
        "        skills: {english: 4}\n",
        "        skills: {english: 4}\n        routing_profile:\n"
        "          - {queue: support}\n"
        "          - {queue: sales, priority: 2, delay_seconds: 30}\n")
    await _apply(db, profiled)
    exported = await _export(db)
    assert "delay_seconds: 30" in exported
    assert await _apply(db, exported, "export.yaml") == []
    assert await _apply(db, profiled.replace("delay_seconds: 30", "delay_seconds: 60")) == [
        "updated agent acme/ada@acme.example"]
    assert "delay_seconds: 60" in await _export(db)


async def test_a_routing_profile_must_name_queues_that_exist(db: Database) -> None:
    broken = SMALL.replace(
        "        skills: {english: 4}\n",
        "        skills: {english: 4}\n        routing_profile: [{queue: sales}]\n")
    with pytest.raises(Exception, match="unknown queue 'sales'"):
        await _apply(db, broken)
