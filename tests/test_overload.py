"""Overload is a 503 with Retry-After (a WebSocket closes with 1013), never a 500."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.exc import TimeoutError as PoolTimeout
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from omnidesk.clock import FixedClock
from omnidesk.db import Database, mark_background
from omnidesk.errors import Overloaded
from omnidesk.events.log import last_seq
from tests.channels.loopback import serve
from tests.conftest import Api, make_tenant, running_api, settings_for

POOL_TIMEOUT_S = 0.2


@pytest.fixture
async def api(database_url: str, tmp_path: Path, clock: FixedClock) -> AsyncIterator[Api]:
    """The app with a short wait for a database connection."""
    settings = settings_for(database_url, tmp_path / "data")
    settings.database_pool_timeout_seconds = POOL_TIMEOUT_S
    async with running_api(settings, clock) as running:
        yield running


@asynccontextmanager
async def every_read_connection_taken(db: Database) -> AsyncIterator[int]:
    """Check out read connections until the pool has none left to give; how many it had."""
    async with AsyncExitStack() as held:
        taken = 0
        while True:
            try:
                await held.enter_async_context(db.read_engine.connect())
            except PoolTimeout:
                break
            taken += 1
            assert taken < 200, "the pool never ran out"
        yield taken


async def test_a_request_that_gets_no_connection_in_time_is_503_with_retry_after(
        api: Api) -> None:
    await make_tenant(api.db, "acme", admin_email="admin@acme.example")
    admin = await api.login("acme", "admin@acme.example")
    async with every_read_connection_taken(api.db) as taken:
        response = await api.client.get("/api/v1/queues", headers=admin)
    assert taken > 0
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "1"
    assert response.json()["error"]["code"] == "overloaded"
    after = await api.client.get("/api/v1/queues", headers=admin)
    assert after.status_code == 200, after.text


async def test_a_stream_that_gets_no_connection_in_time_closes_with_try_again_later(
        api: Api) -> None:
    await make_tenant(api.db, "acme", admin_email="admin@acme.example")
    admin = await api.login("acme", "admin@acme.example")
    token = admin["Authorization"].removeprefix("Bearer ")
    async with serve(api.app, websockets=True) as base_url, \
            every_read_connection_taken(api.db):
        socket = await connect(base_url.replace("http", "ws") + "/api/v1/stream")
        await socket.send(json.dumps({"type": "auth", "token": token}))
        frame = json.loads(await socket.recv(decode=True))
        with pytest.raises(ConnectionClosed):
            await socket.recv()
    assert frame == {"type": "error", "error": "the server is overloaded; retry shortly"}
    assert socket.close_code == 1013


async def test_the_servers_own_work_waits_for_a_connection_instead_of_being_shed(
        api: Api) -> None:
    tenant_id = await make_tenant(api.db, "acme")

    async def background_read() -> int:
        mark_background()
        async with api.db.read() as session:
            return await last_seq(session, tenant_id)

    async with every_read_connection_taken(api.db):
        with pytest.raises(Overloaded):
            async with api.db.read() as session:
                await last_seq(session, tenant_id)
        assert await asyncio.create_task(background_read()) == 1  # tenant.created
