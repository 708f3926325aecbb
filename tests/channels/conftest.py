"""Fixtures shared by the channel tests."""

from __future__ import annotations

import pytest

from tests.channels.loopback import Recorder
from tests.conftest import Api, make_tenant


@pytest.fixture
async def admin(api: Api) -> dict[str, str]:
    """Tenant acme with a queue named support; its admin's headers."""
    await make_tenant(api.db, "acme", admin_email="admin@acme.example")
    headers = await api.login("acme", "admin@acme.example")
    await api.client.post("/api/v1/queues", headers=headers, json={"name": "support"})
    return headers


@pytest.fixture
def recorder() -> Recorder:
    """What the fake provider received."""
    return Recorder()
