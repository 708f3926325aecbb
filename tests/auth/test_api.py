"""Login, refresh, expiry, API keys, roles."""

from __future__ import annotations

import pytest

from omnidesk.clock import FixedClock
from tests.conftest import PASSWORD, Api, make_tenant


@pytest.fixture
async def acme(api: Api) -> Api:
    await make_tenant(api.db, "acme", admin_email="admin@acme.example")
    return api


async def test_login_returns_tokens_that_open_the_api(acme: Api) -> None:
    response = await acme.client.post("/api/v1/auth/login", json={
        "tenant": "acme", "email": "ADMIN@acme.example", "password": PASSWORD})
    assert response.status_code == 200
    tokens = response.json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 15 * 60
    me = await acme.client.get("/api/v1/auth/me",
                               headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200 and me.json()["email"] == "admin@acme.example"
    assert "password" not in me.text


@pytest.mark.parametrize("body", [
    {"tenant": "acme", "email": "admin@acme.example", "password": "wrong password"},
    {"tenant": "acme", "email": "nobody@acme.example", "password": PASSWORD},
    {"tenant": "nope", "email": "admin@acme.example", "password": PASSWORD},
])
async def test_bad_logins_get_the_same_401(acme: Api, body: dict[str, str]) -> None:
    response = await acme.client.post("/api/v1/auth/login", json=body)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "wrong tenant, email or password"


async def test_an_expired_access_token_is_refused_and_refresh_renews_it(
        acme: Api, clock: FixedClock) -> None:
    tokens = (await acme.client.post("/api/v1/auth/login", json={
        "tenant": "acme", "email": "admin@acme.example", "password": PASSWORD})).json()
    fresh = await acme.client.get(  # accepted once: its verified signature is remembered
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert fresh.status_code == 200
    clock.advance(15 * 60 + 1)
    expired = await acme.client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert expired.status_code == 401
    assert expired.json()["error"] == {"code": "unauthorized", "message": "token expired",
                                       "field": "authorization"}
    renewed = await acme.client.post("/api/v1/auth/refresh",
                                     json={"refresh_token": tokens["refresh_token"]})
    assert renewed.status_code == 200
    me = await acme.client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {renewed.json()['access_token']}"})
    assert me.status_code == 200


async def test_a_refresh_token_is_not_an_access_token(acme: Api) -> None:
    tokens = (await acme.client.post("/api/v1/auth/login", json={
        "tenant": "acme", "email": "admin@acme.example", "password": PASSWORD})).json()
    response = await acme.client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert response.status_code == 401
    swapped = await acme.client.post("/api/v1/auth/refresh",
                                     json={"refresh_token": tokens["access_token"]})
    assert swapped.status_code == 401


@pytest.mark.parametrize("header", [
    {}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer not.a.jwt"},
    {"X-API-Key": "odk_nothex_secret"}, {"Authorization": "Bearer odk_" + "0" * 32 + "_x"},
])
async def test_missing_or_forged_credentials_get_401_json(acme: Api,
                                                          header: dict[str, str]) -> None:
    response = await acme.client.get("/api/v1/queues", headers=header)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


async def test_api_key_works_until_revoked_and_is_stored_hashed(acme: Api) -> None:
    admin = await acme.login("acme", "admin@acme.example")
    created = await acme.client.post("/api/v1/api-keys", headers=admin,
                                     json={"name": "crm", "role": "supervisor"})
    assert created.status_code == 201
    key = created.json()["key"]
    listed = await acme.client.get("/api/v1/api-keys", headers=admin)
    assert key not in listed.text and listed.json()[0]["name"] == "crm"
    assert (await acme.client.get("/api/v1/queues", headers={"X-API-Key": key})).status_code == 200
    assert (await acme.client.get("/api/v1/queues",
                                  headers={"Authorization": f"Bearer {key}"})).status_code == 200
    revoked = await acme.client.delete(f"/api/v1/api-keys/{created.json()['id']}", headers=admin)
    assert revoked.status_code == 200
    assert (await acme.client.get("/api/v1/queues", headers={"X-API-Key": key})).status_code == 401


async def test_roles_are_enforced(acme: Api) -> None:
    admin = await acme.login("acme", "admin@acme.example")
    created = await acme.client.post("/api/v1/users", headers=admin, json={
        "email": "agent@acme.example", "name": "Agent", "role": "agent", "password": PASSWORD})
    assert created.status_code == 201
    agent = await acme.login("acme", "agent@acme.example")
    forbidden = await acme.client.post("/api/v1/queues", headers=agent, json={"name": "sales"})
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["message"] == "this needs the admin role"
    assert (await acme.client.get("/api/v1/tenants", headers=admin)).status_code == 403


async def _agent_user(acme: Api, admin: dict[str, str],
                      name: str) -> tuple[str, dict[str, str]]:
    """A new agent user of acme: their id and their logged-in headers."""
    created = await acme.client.post("/api/v1/users", headers=admin, json={
        "email": f"{name}@acme.example", "name": name.title(), "role": "agent",
        "password": PASSWORD})
    assert created.status_code == 201, created.text
    return str(created.json()["id"]), await acme.login("acme", f"{name}@acme.example")


async def test_a_deactivated_user_loses_access_at_once(acme: Api) -> None:
    admin = await acme.login("acme", "admin@acme.example")
    user_id, temp = await _agent_user(acme, admin, "temp")
    assert (await acme.client.get("/api/v1/queues", headers=temp)).status_code == 200
    await acme.client.patch(f"/api/v1/users/{user_id}", headers=admin, json={"active": False})
    assert (await acme.client.get("/api/v1/queues", headers=temp)).status_code == 401


async def test_a_new_role_applies_to_the_very_next_request(acme: Api) -> None:
    admin = await acme.login("acme", "admin@acme.example")
    user_id, rising = await _agent_user(acme, admin, "rising")
    queue = {"name": "sales"}
    assert (await acme.client.post("/api/v1/queues", headers=rising, json=queue)).status_code \
        == 403
    await acme.client.patch(f"/api/v1/users/{user_id}", headers=admin, json={"role": "admin"})
    assert (await acme.client.post("/api/v1/queues", headers=rising, json=queue)).status_code \
        == 201


async def test_platform_admin_manages_tenants(api: Api) -> None:
    await make_tenant(api.db, "ops", admin_email="root@ops.example", platform_admin=True)
    root = await api.login("ops", "root@ops.example")
    created = await api.client.post("/api/v1/tenants", headers=root,
                                    json={"slug": "client-a", "name": "Client A",
                                          "timezone": "America/New_York"})
    assert created.status_code == 201
    duplicate = await api.client.post("/api/v1/tenants", headers=root,
                                      json={"slug": "client-a", "name": "Again"})
    assert duplicate.status_code == 409 and duplicate.json()["error"]["field"] == "slug"
    bad_zone = await api.client.post("/api/v1/tenants", headers=root, json={
        "slug": "client-b", "name": "B", "timezone": "Mars/Base"})
    assert bad_zone.status_code == 422 and bad_zone.json()["error"]["field"] == "timezone"
    slugs = [t["slug"] for t in (await api.client.get("/api/v1/tenants", headers=root)).json()]
    assert slugs == ["client-a", "ops"]
