"""Articles as configuration as code: apply, re-apply, change, export, errors with lines."""

from __future__ import annotations

import pytest

from omnidesk.configuration.apply import apply_center, load_center
from omnidesk.configuration.export import export_center, to_yaml
from omnidesk.configuration.yaml_source import ConfigFileError
from omnidesk.db import Database
from omnidesk.demo import DEMO_CENTER
from omnidesk.knowledge.search import search
from omnidesk.tenants.service import find_by_slug

CENTER = """\
tenants:
  - slug: acme
    name: Acme
    knowledge:
      - slug: returns
        title: Returns
        category: returns
        tags: [refund]
        body: |
          # Returns

          Send it back within **30 days**.
      - slug: secret-plans
        title: Secret plans
        status: draft
        body: Not yet.
"""


async def _apply(db: Database, text: str) -> list[str]:
    async with db.write() as session:
        report = await apply_center(session, load_center(text, "center.yaml"), actor="test")
    return report.changes


async def _find(db: Database, words: str, drafts: bool = False) -> list[str]:
    async with db.read() as session:
        tenant = await find_by_slug(session, "acme")
        assert tenant is not None
        hits = await search(session, tenant_id=tenant.id, query=words, drafts=drafts)
    return [hit.article.slug for hit in hits]


async def test_apply_creates_then_changes_only_what_differs(db: Database) -> None:
    assert await _apply(db, CENTER) == ["created tenant acme/acme", "created article acme/returns",
                                        "created article acme/secret-plans"]
    assert await _apply(db, CENTER) == []
    assert await _find(db, "30 days") == ["returns"]
    assert await _find(db, "plans") == []  # a draft
    changed = CENTER.replace("within **30 days**", "within **60 days**")
    assert await _apply(db, changed) == ["updated article acme/returns"]
    assert await _find(db, "30") == [] and await _find(db, "60 days") == ["returns"]
    published = changed.replace("        status: draft\n", "")
    assert await _apply(db, published) == ["updated article acme/secret-plans"]
    assert await _find(db, "plans") == ["secret-plans"]


async def test_export_then_apply_is_a_no_op_and_bodies_stay_readable(db: Database) -> None:
    await _apply(db, CENTER)
    async with db.read() as session:
        exported = to_yaml(await export_center(session))
    assert "    body: |\n      # Returns\n\n      Send it back within **30 days**.\n" \
        in exported
    assert "status: draft" in exported
    assert await _apply(db, exported) == []


async def test_articles_missing_from_the_file_are_left_alone(db: Database) -> None:
    await _apply(db, CENTER)
    only_tenant = CENTER.split("    knowledge:")[0]
    assert await _apply(db, only_tenant) == []
    assert await _find(db, "refund") == ["returns"]


def test_a_duplicate_slug_is_reported_with_its_line() -> None:
    doubled = CENTER.replace("slug: secret-plans", "slug: returns")
    with pytest.raises(ConfigFileError) as raised:
        load_center(doubled, "center.yaml")
    assert raised.value.message.startswith("center.yaml:13: tenants[0].knowledge[1].slug")


async def test_the_demo_ships_articles_in_every_category(db: Database) -> None:
    await _apply(db, DEMO_CENTER.read_text())
    async with db.read() as session:
        tenant = await find_by_slug(session, "demo")
        assert tenant is not None
        hits = await search(session, tenant_id=tenant.id, query="refund money back card")
    assert hits[0].article.slug == "refunds"
    assert {hit.article.category for hit in hits} <= {"orders", "returns", "delivery",
                                                      "billing", "account"}
