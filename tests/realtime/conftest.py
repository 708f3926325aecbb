"""Fixtures of the stream tests: a tenant's admin and its support queue."""

from __future__ import annotations

import pytest

from tests.conftest import Api, make_tenant


@pytest.fixture
async def admin(api: Api) -> dict[str, str]:
    await make_tenant(api.db, "acme", admin_email="admin@acme.example")
    return await api.login("acme", "admin@acme.example")


@pytest.fixture
async def queue_id(api: Api, admin: dict[str, str]) -> str:
    created = await api.client.post("/api/v1/queues", headers=admin, json={"name": "support"})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])
