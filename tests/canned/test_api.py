"""Canned responses over the API: staff write, agents read, shortcuts unique per tenant."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import PASSWORD, Api, make_tenant


@pytest.fixture
async def people(api: Api) -> dict[str, Any]:
    """Tenant acme with its admin, a supervisor and an agent; tenant other with its admin."""
    await make_tenant(api.db, "acme", admin_email="admin@acme.example")
    await make_tenant(api.db, "other", admin_email="admin@other.example")
    admin = await api.login("acme", "admin@acme.example")
    for role in ("supervisor", "agent"):
        response = await api.client.post("/api/v1/users", headers=admin, json={
            "email": f"{role}@acme.example", "name": role.title(), "role": role,
            "password": PASSWORD})
        assert response.status_code == 201, response.text
    return {"admin": admin, "supervisor": await api.login("acme", "supervisor@acme.example"),
            "agent": await api.login("acme", "agent@acme.example"),
            "other": await api.login("other", "admin@other.example")}


URL = "/api/v1/canned-responses"
GREETING = {"shortcut": "hello", "title": "Greeting",
            "body": "Hello {{customer.name}}, this is {{agent.name}}."}


async def test_a_supervisor_creates_and_an_agent_reads_canned_responses(
        api: Api, people: dict[str, Any]) -> None:
    created = await api.client.post(URL, headers=people["supervisor"], json=GREETING)
    assert created.status_code == 201, created.text
    assert {k: created.json()[k] for k in GREETING} == GREETING
    listed = await api.client.get(URL, headers=people["agent"])
    assert [c["shortcut"] for c in listed.json()] == ["hello"]
    assert (await api.client.get(URL, headers=people["other"])).json() == []


async def test_agents_may_not_write_canned_responses(api: Api, people: dict[str, Any]) -> None:
    response = await api.client.post(URL, headers=people["agent"], json=GREETING)
    assert response.status_code == 403
    created = (await api.client.post(URL, headers=people["admin"], json=GREETING)).json()
    for method in ("PATCH", "DELETE"):
        denied = await api.client.request(method, f"{URL}/{created['id']}",
                                          headers=people["agent"],
                                          json={"title": "x"} if method == "PATCH" else None)
        assert denied.status_code == 403


async def test_a_shortcut_used_twice_in_a_tenant_is_409_naming_shortcut(
        api: Api, people: dict[str, Any]) -> None:
    assert (await api.client.post(URL, headers=people["admin"], json=GREETING)).status_code == 201
    again = await api.client.post(URL, headers=people["admin"], json={**GREETING, "title": "2"})
    assert again.status_code == 409
    assert again.json()["error"]["field"] == "shortcut"
    elsewhere = await api.client.post(URL, headers=people["other"], json=GREETING)
    assert elsewhere.status_code == 201  # unique per tenant, not globally


@pytest.mark.parametrize(("body", "field"), [
    ({**GREETING, "shortcut": "Hello There"}, "shortcut"),
    ({**GREETING, "shortcut": ""}, "shortcut"),
    ({**GREETING, "title": ""}, "title"),
    ({"shortcut": "x", "title": "X"}, "body"),
])
async def test_bad_input_is_422_naming_the_field(api: Api, people: dict[str, Any],
                                                  body: dict[str, str], field: str) -> None:
    response = await api.client.post(URL, headers=people["admin"], json=body)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


async def test_update_and_delete_record_events(api: Api, people: dict[str, Any]) -> None:
    created = (await api.client.post(URL, headers=people["admin"], json=GREETING)).json()
    other = (await api.client.post(URL, headers=people["admin"], json={
        "shortcut": "bye", "title": "Goodbye", "body": "Bye!"})).json()
    clash = await api.client.patch(f"{URL}/{other['id']}", headers=people["admin"],
                                   json={"shortcut": "hello"})
    assert clash.status_code == 409 and clash.json()["error"]["field"] == "shortcut"
    renamed = await api.client.patch(f"{URL}/{created['id']}", headers=people["supervisor"],
                                     json={"shortcut": "hi", "body": "Hi!"})
    assert renamed.status_code == 200
    assert (renamed.json()["shortcut"], renamed.json()["body"]) == ("hi", "Hi!")
    deleted = await api.client.delete(f"{URL}/{other['id']}", headers=people["admin"])
    assert deleted.status_code == 204
    gone = await api.client.patch(f"{URL}/{other['id']}", headers=people["admin"],
                                  json={"title": "x"})
    assert gone.status_code == 404 and gone.json()["error"]["field"] == "canned_response_id"
    events = (await api.client.get("/api/v1/events", headers=people["admin"])).json()
    assert [(e["type"], e["payload"].get("shortcut")) for e in events
            if e["type"].startswith("canned_response.")] == [
        ("canned_response.created", "hello"), ("canned_response.created", "bye"),
        ("canned_response.updated", "hi"), ("canned_response.deleted", "bye")]


async def test_another_tenants_canned_response_is_not_found(
        api: Api, people: dict[str, Any]) -> None:
    created = (await api.client.post(URL, headers=people["admin"], json=GREETING)).json()
    response = await api.client.delete(f"{URL}/{created['id']}", headers=people["other"])
    assert response.status_code == 404
    assert len((await api.client.get(URL, headers=people["admin"])).json()) == 1
