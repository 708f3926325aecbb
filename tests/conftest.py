"""Shared fixtures: a fresh database per test (SQLite, or PostgreSQL when configured)."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from pydantic import SecretStr

from omnidesk.app import create_app
from omnidesk.auth import security
from omnidesk.clock import FixedClock
from omnidesk.compiled import GROUPS, running_compiled
from omnidesk.config import Settings
from omnidesk.db import Database, upgrade
from omnidesk.events.bus import InProcessBus
from omnidesk.tenants.actions import create_tenant
from omnidesk.tenants.schemas import TenantCreate
from omnidesk.users.actions import create_user
from omnidesk.users.models import Role
from omnidesk.users.schemas import UserCreate
from tests.channels.loopback import serve
from tests.server import free_port

T = TypeVar("T")
PASSWORD = "correct horse battery"
TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-for-hs256"
# A PostgreSQL server (no database part), e.g. postgresql://postgres@127.0.0.1:5432
POSTGRES_URL = os.environ.get("OMNIDESK_TEST_POSTGRES")
REDIS_URL = os.environ.get("OMNIDESK_TEST_REDIS_URL")
IN_CI = os.environ.get("CI") == "true"


def run_in_thread(work: Callable[[], Coroutine[Any, Any, T]] | Callable[[], T]) -> T:
    """Run blocking or asyncio work (Alembic, asyncpg admin) outside the test's event loop."""
    def target() -> T:
        result = work()
        if asyncio.iscoroutine(result):
            return asyncio.run(result)  # type: ignore[no-any-return]
        return result  # type: ignore[return-value]

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(target).result()


def backend_name() -> str:
    """Which database the suite runs on."""
    return "postgresql" if POSTGRES_URL else "sqlite"


async def _pg_admin(statement: str) -> None:
    assert POSTGRES_URL
    connection = await asyncpg.connect(f"{POSTGRES_URL.rstrip('/')}/postgres")
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _pg_url(database: str) -> str:
    assert POSTGRES_URL
    return f"{POSTGRES_URL.rstrip('/').replace('postgresql://', 'postgresql+asyncpg://')}/{database}"


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """Argon2 with minimal cost in tests (still argon2id; production keeps the defaults)."""
    original = security._hasher
    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    security._hasher = original


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database to copy for each test (a file on SQLite, a template on PostgreSQL)."""
    if POSTGRES_URL:
        name = f"omnidesk_tpl_{os.getpid()}"
        try:
            run_in_thread(lambda: _pg_admin(f"DROP DATABASE IF EXISTS {name}"))
        except OSError as error:
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is unreachable: {error}")
        run_in_thread(lambda: _pg_admin(f"CREATE DATABASE {name}"))
        run_in_thread(lambda: upgrade(_pg_url(name)))
        yield name
        run_in_thread(lambda: _pg_admin(f"DROP DATABASE IF EXISTS {name}"))
        return
    path = tmp_path_factory.mktemp("template") / "omnidesk.db"
    run_in_thread(lambda: upgrade(f"sqlite+aiosqlite:///{path}"))
    yield str(path)


def clone_database(template: str, folder: Path) -> tuple[str, str]:
    """A copy of a template database: (its handle, to clone it in turn; its URL)."""
    if POSTGRES_URL:
        name = f"omnidesk_t_{uuid.uuid4().hex[:12]}"
        run_in_thread(lambda: _pg_admin(f"CREATE DATABASE {name} TEMPLATE {template}"))
        return name, _pg_url(name)
    path = folder / f"omnidesk-{uuid.uuid4().hex[:8]}.db"
    shutil.copy(template, path)
    return str(path), f"sqlite+aiosqlite:///{path}"


def drop_database(handle: str) -> None:
    """Drop a cloned database (a SQLite file goes with its temporary folder)."""
    if POSTGRES_URL:
        run_in_thread(lambda: _pg_admin(f"DROP DATABASE IF EXISTS {handle} WITH (FORCE)"))


@pytest.fixture
def database_url(template_database: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for one test."""
    handle, url = clone_database(template_database, tmp_path)
    yield url
    drop_database(handle)


CLOCK_START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    """A clock the test moves by hand."""
    return FixedClock(CLOCK_START)


def settings_for(database_url: str, data_dir: Path) -> Settings:
    """Settings pointing at a test database (fixed secret key, no env file, the inbound SMTP
    server on a free port so that test runs side by side do not fight over 2525)."""
    return Settings(data_dir=data_dir, database_url=database_url,  # type: ignore[call-arg]
                    secret_key=SecretStr(TEST_SECRET_KEY), smtp_port=free_port(),
                    _env_file=None)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at the test database."""
    return settings_for(database_url, tmp_path / "data")


@pytest.fixture
async def db(database_url: str, clock: FixedClock) -> AsyncIterator[Database]:
    """A Database on the test database with an in-process bus and the fixed clock."""
    database = Database(database_url, InProcessBus(), clock)
    yield database
    await database.dispose()


@dataclass
class Api:
    """An HTTP client on the app, with the app's database."""

    client: httpx.AsyncClient
    db: Database
    app: FastAPI

    async def login(self, tenant: str, email: str, password: str = PASSWORD) -> dict[str, str]:
        """Log in and return the Authorization header."""
        response = await self.client.post("/api/v1/auth/login", json={
            "tenant": tenant, "email": email, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def add_agent(self, admin: dict[str, str], email: str,
                        name: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """A user of the agent role (password PASSWORD) and their agent record, as created."""
        user = await self.client.post("/api/v1/users", headers=admin, json={
            "email": email, "name": name, "role": "agent", "password": PASSWORD})
        assert user.status_code == 201, user.text
        agent = await self.client.post("/api/v1/agents", headers=admin,
                                       json={"user_id": user.json()["id"]})
        assert agent.status_code == 201, agent.text
        return user.json(), agent.json()

    async def ready_agent(self, admin: dict[str, str], email: str, name: str,
                          tenant: str = "acme") -> tuple[str, dict[str, str]]:
        """A new agent of the tenant (its slug) with their desktop open, available: (agent
        id, their auth headers)."""
        user, agent = await self.add_agent(admin, email, name)
        headers = await self.login(tenant, email)
        await self.app.state.acd.desktop_opened(uuid.UUID(user["tenant_id"]),
                                                uuid.UUID(agent["id"]))
        available = await self.client.put(f"/api/v1/agents/{agent['id']}/state",
                                          headers=headers, json={"state": "available"})
        assert available.status_code == 200, available.text
        return str(agent["id"]), headers


_idle_apps: list[FastAPI] = []
"""Apps whose lifespan has ended: building one costs ≈ 0.2 s of route setup, so tests reuse
them; each run of the lifespan opens everything anew with the test's settings and clock."""


@asynccontextmanager
async def running_api(settings: Settings, clock: FixedClock) -> AsyncIterator[Api]:
    """The app in-process (lifespan running) behind an httpx client."""
    app = _idle_apps.pop() if _idle_apps else create_app(settings, migrate=False)
    app.state.settings, app.state.clock = settings, clock
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield Api(client=client, db=app.state.db, app=app)
    finally:
        _idle_apps.append(app)


@pytest.fixture
async def api(settings: Settings, clock: FixedClock) -> AsyncIterator[Api]:
    """The app in-process (lifespan running) behind an httpx client."""
    async with running_api(settings, clock) as running:
        yield running


@pytest.fixture
async def served(api: Api) -> AsyncIterator[str]:
    """The test's app (lifespan already running) on a free loopback port, with WebSockets."""
    async with serve(api.app, websockets=True) as base_url:
        yield base_url


async def eventually(check: Callable[[], Awaitable[bool]], what: str,
                     seconds: float = 5.0) -> None:
    """Wait until the server's background work has done what the check looks for."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def make_tenant(db: Database, slug: str, *, admin_email: str | None = None,
                      platform_admin: bool = False) -> uuid.UUID:
    """Create a tenant (and its admin user) directly through the actions."""
    async with db.write() as session:
        tenant = await create_tenant(session, TenantCreate(slug=slug, name=slug.title()),
                                     actor="test")
        if admin_email:
            await create_user(session, UserCreate(email=admin_email, name="Admin",
                                                  role=Role.ADMIN, password=PASSWORD),
                              tenant_id=tenant.id, actor="test", platform_admin=platform_admin)
        return tenant.id


def pytest_report_header() -> str:
    """Say whether this run tests the compiled cores (scripts/compile) or their sources."""
    modes = (f"{package} {'compiled' if running_compiled(package) else 'interpreted'}"
             for package in GROUPS)
    return "; ".join(modes)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, run only the tests that use a database."""
    if not POSTGRES_URL:
        return
    uses_database = ["database_url" in getattr(item, "fixturenames", ()) for item in items]
    selected = [item for item, used in zip(items, uses_database, strict=True) if used]
    deselected = [item for item, used in zip(items, uses_database, strict=True) if not used]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
