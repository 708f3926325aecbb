"""Articles API: roles, drafts, validation, slugs and the events every write records."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.knowledge.conftest import Kb


async def _events(api: Api, kb: Kb, prefix: str = "knowledge.") -> list[Any]:
    events = (await api.client.get("/api/v1/events", headers=kb.admin,
                                   params={"limit": 500})).json()
    return [e for e in events if e["type"].startswith(prefix)]


async def test_staff_write_and_every_write_records_an_event(api: Api, kb: Kb) -> None:
    created = await api.client.post("/api/v1/knowledge/articles", headers=kb.supervisor, json={
        "title": "Changing your address", "body": "Open *Account* and edit it.",
        "category": "account", "tags": ["address"]})
    assert created.status_code == 201, created.text
    article = created.json()
    assert (article["slug"], article["status"], article["url"]) == (
        "changing-your-address", "draft", None)
    published = await api.client.patch(f"/api/v1/knowledge/articles/{article['id']}",
                                       headers=kb.admin, json={"status": "published"})
    assert published.json()["url"] == "/help/acme/changing-your-address"
    assert published.json()["published_at"] is not None
    await api.client.delete(f"/api/v1/knowledge/articles/{article['id']}", headers=kb.admin)
    mine = [(e["type"], e["payload"].get("slug")) for e in await _events(api, kb)
            if e["subject"] == article["id"]]
    assert mine == [("knowledge.article_created", "changing-your-address"),
                    ("knowledge.article_updated", "changing-your-address"),
                    ("knowledge.article_published", "changing-your-address"),
                    ("knowledge.article_deleted", "changing-your-address")]
    updated = next(e for e in await _events(api, kb) if e["type"] == "knowledge.article_updated"
                   and e["subject"] == article["id"])
    assert updated["payload"]["changed"] == ["status"]


async def test_agents_read_published_articles_only_and_cannot_write(api: Api, kb: Kb) -> None:
    listed = await api.client.get("/api/v1/knowledge/articles", headers=kb.agent)
    assert listed.status_code == 200
    assert {a["slug"] for a in listed.json()} == {"returns", "delivery-times", "payment-methods"}
    staff = await api.client.get("/api/v1/knowledge/articles", headers=kb.admin,
                                 params={"status": "draft"})
    assert [a["slug"] for a in staff.json()] == ["black-friday"]
    draft = await api.client.get(f"/api/v1/knowledge/articles/{kb.ids['black-friday']}",
                                 headers=kb.agent)
    assert draft.status_code == 404
    assert draft.json()["error"]["field"] == "article_id"
    denied = await api.client.post("/api/v1/knowledge/articles", headers=kb.agent,
                                   json={"title": "Mine"})
    assert denied.status_code == 403
    denied = await api.client.patch(f"/api/v1/knowledge/articles/{kb.ids['returns']}",
                                    headers=kb.agent, json={"title": "Mine"})
    assert denied.status_code == 403


async def test_bad_input_names_the_field(api: Api, kb: Kb) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"title": ""}, "title"),
        ({"title": "Ok", "slug": "Not A Slug"}, "slug"),
        ({"title": "Ok", "status": "archived"}, "status"),
        ({"title": "Ok", "tags": "refund"}, "tags"),
        ({"title": "Ok", "colour": "red"}, "colour"),
    ]
    for body, field in cases:
        response = await api.client.post("/api/v1/knowledge/articles", headers=kb.admin,
                                         json=body)
        assert response.status_code == 422, body
        assert field in response.text, (body, response.text)
    clash = await api.client.post("/api/v1/knowledge/articles", headers=kb.admin,
                                  json={"title": "Returns again", "slug": "returns"})
    assert clash.status_code == 409
    assert clash.json()["error"]["field"] == "slug"
    null = await api.client.patch(f"/api/v1/knowledge/articles/{kb.ids['returns']}",
                                  headers=kb.admin, json={"title": None})
    assert null.status_code == 422
    assert null.json()["error"]["field"] == "title"


async def test_slugs_are_made_from_titles_and_unique_per_tenant_only(api: Api, kb: Kb) -> None:
    article = await kb.create(api, title="Où est ma commande ? Suivi & livraison")
    assert article["slug"] == "ou-est-ma-commande-suivi-livraison"
    from tests.knowledge.conftest import make_kb
    other = await make_kb(api, "globex", [{"title": "Returns", "slug": "returns"}])
    assert other.ids["returns"] != kb.ids["returns"]


async def test_agents_record_which_article_answered_a_contact(api: Api, kb: Kb) -> None:
    from tests.knowledge.test_suggestions import contact
    interaction = await contact(api, kb, "I want to return my shoes")
    used = await api.client.post(f"/api/v1/knowledge/articles/{kb.ids['returns']}/uses",
                                 headers=kb.agent,
                                 json={"interaction_id": interaction, "helped": True})
    assert used.status_code == 204, used.text
    events = [(e["type"], e["subject"], e["payload"]) for e in await _events(api, kb)
              if e["type"] in ("knowledge.article_used", "knowledge.article_helped")]
    assert [(kind, subject) for kind, subject, _ in events] == [
        ("knowledge.article_used", kb.ids["returns"]),
        ("knowledge.article_helped", kb.ids["returns"])]
    assert events[0][2]["interaction_id"] == interaction
    assert (events[0][2]["via"], events[0][2]["helped"]) == ("agent", True)
    draft = await api.client.post(f"/api/v1/knowledge/articles/{kb.ids['black-friday']}/uses",
                                  headers=kb.agent, json={"interaction_id": interaction})
    assert draft.status_code == 404
