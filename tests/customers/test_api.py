"""Customers: search by any identity, merge keeping history, the timeline."""

from __future__ import annotations

import uuid

import pytest

from omnidesk.customers.models import Customer
from omnidesk.interactions.actions import add_message, create_interaction
from tests.conftest import Api, make_tenant


@pytest.fixture
async def admin(api: Api) -> dict[str, str]:
    await make_tenant(api.db, "acme", admin_email="admin@acme.example")
    return await api.login("acme", "admin@acme.example")


async def _create(api: Api, headers: dict[str, str], name: str,
                  *identities: tuple[str, str]) -> dict[str, object]:
    response = await api.client.post("/api/v1/customers", headers=headers, json={
        "display_name": name, "identities": [{"kind": k, "value": v} for k, v in identities]})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_customer_is_found_by_any_identity_in_any_spelling(
        api: Api, admin: dict[str, str]) -> None:
    ana = await _create(api, admin, "Ana", ("phone", "+34 612 345 678"),
                        ("email", "Ana@Example.com"))
    for query in ("whatsapp:34612345678", "sms:+34612345678", "email:ANA@example.com"):
        found = await api.client.get("/api/v1/customers", headers=admin,
                                     params={"identity": query})
        assert [c["id"] for c in found.json()] == [ana["id"]], query
    by_text = await api.client.get("/api/v1/customers", headers=admin, params={"q": "example"})
    assert [c["id"] for c in by_text.json()] == [ana["id"]]


async def test_an_identity_belongs_to_one_customer(api: Api, admin: dict[str, str]) -> None:
    await _create(api, admin, "Ana", ("phone", "+34612345678"))
    clash = await api.client.post("/api/v1/customers", headers=admin, json={
        "identities": [{"kind": "whatsapp", "value": "34612345678"}]})
    assert clash.status_code == 409
    assert clash.json()["error"]["field"] == "identities[0]"


async def test_bad_identity_query_names_the_field(api: Api, admin: dict[str, str]) -> None:
    response = await api.client.get("/api/v1/customers", headers=admin,
                                    params={"identity": "phone-only"})
    assert response.status_code == 422 and response.json()["error"]["field"] == "identity"


async def test_merge_moves_identities_and_interactions_and_keeps_history(
        api: Api, admin: dict[str, str]) -> None:
    ana = await _create(api, admin, "Ana", ("email", "ana@example.com"))
    twin = await _create(api, admin, "", ("phone", "+34612345678"))
    async with api.db.write() as session:
        twin_row = await session.get(Customer, uuid.UUID(str(twin["id"])))
        assert twin_row is not None
        interaction = await create_interaction(session, tenant_id=twin_row.tenant_id,
                                               channel="sms", customer_id=twin_row.id,
                                               actor="test")
        await add_message(session, interaction, author_kind="customer", body="hola",
                          actor="test")
    merged = await api.client.post(f"/api/v1/customers/{ana['id']}/merge", headers=admin,
                                   json={"other_customer_id": twin["id"]})
    assert merged.status_code == 200
    assert sorted((i["kind"], i["value"]) for i in merged.json()["identities"]) == [
        ("email", "ana@example.com"), ("phone", "+34612345678")]
    found = await api.client.get("/api/v1/customers", headers=admin,
                                 params={"identity": "phone:+34612345678"})
    assert [c["id"] for c in found.json()] == [ana["id"]]
    timeline = await api.client.get(f"/api/v1/customers/{ana['id']}/timeline", headers=admin)
    assert [(e["channel"], [m["body"] for m in e["messages"]]) for e in timeline.json()] == [
        ("sms", ["hola"])]
    gone = await api.client.get(f"/api/v1/customers/{twin['id']}", headers=admin)
    assert gone.json()["merged_into_id"] == ana["id"]
    again = await api.client.post(f"/api/v1/customers/{ana['id']}/merge", headers=admin,
                                  json={"other_customer_id": twin["id"]})
    assert again.status_code == 409


async def test_a_customer_cannot_be_merged_into_itself(api: Api, admin: dict[str, str]) -> None:
    ana = await _create(api, admin, "Ana")
    response = await api.client.post(f"/api/v1/customers/{ana['id']}/merge", headers=admin,
                                     json={"other_customer_id": ana["id"]})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "other_customer_id"


async def test_update_merges_attributes_and_adds_identities(
        api: Api, admin: dict[str, str]) -> None:
    ana = await _create(api, admin, "Ana")
    await api.client.patch(f"/api/v1/customers/{ana['id']}", headers=admin,
                           json={"attributes": {"tier": "gold", "lang": "es"}})
    updated = await api.client.patch(f"/api/v1/customers/{ana['id']}", headers=admin, json={
        "attributes": {"tier": "platinum"},
        "add_identities": [{"kind": "telegram", "value": "777"}]})
    assert updated.json()["attributes"] == {"tier": "platinum", "lang": "es"}
    assert updated.json()["identities"] == [{"kind": "telegram", "value": "777"}]
