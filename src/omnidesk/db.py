"""Database engine, sessions and migrations; every write commits its events, then publishes."""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import JSON, BigInteger, DateTime, Integer, MetaData, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from omnidesk.clock import Clock, SystemClock
from omnidesk.errors import Overloaded
from omnidesk.events.bus import EventBus
from omnidesk.events.record import EventRecord
from omnidesk.intake import DEFAULT_MAX_LAG_SECONDS, INTAKE, Intake
from omnidesk.sqlite_inline import InlineConnection, Turn, inline_connector, write_groups

PENDING_EVENTS = "omnidesk_pending_events"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

BigId = BigInteger().with_variant(Integer(), "sqlite")
JsonDocument = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every omnidesk table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def new_id() -> uuid.UUID:
    """A fresh primary key."""
    return uuid.uuid4()


# Every connection to a SQLite file: durable commits, and writers that wait instead of failing
SQLITE_PRAGMAS = ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000")


def configure_sqlite(engine: Engine, *, begin: str) -> None:
    """WAL, full fsync, foreign keys, and explicit BEGIN so writers queue instead of failing
    (`engine`: an async engine's `sync_engine`, or a synchronous one)."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        driver = connection.connection.driver_connection
        if isinstance(driver, InlineConnection):
            driver.begin()  # a savepoint in its write group's transaction
        else:
            connection.exec_driver_sql(begin)


SQLITE_TIMEOUT_S = 30
POOL_TIMEOUT_S = 30.0
BACKGROUND_POOL_TIMEOUT_S = 600.0
_IN_BACKGROUND: ContextVar[bool] = ContextVar("omnidesk_in_background", default=False)


def mark_background() -> None:
    """What this task does from now on (and the tasks it starts) is the server's own work,
    not a request's: it waits for a database connection instead of being shed."""
    _IN_BACKGROUND.set(True)


def create_engine(url: str, *, for_writes: bool = True,
                  pool_timeout: float = POOL_TIMEOUT_S, inline: bool = False) -> AsyncEngine:
    """An async engine; on SQLite, writers take the write lock at BEGIN (IMMEDIATE) and run
    inline on the event loop (sqlite_inline.py), readers on aiosqlite's threads unless
    `inline` (lookups by key: microseconds of SQLite, not worth a thread's round trips).

    `pool_timeout`: how long a session waits for a pooled connection before giving up."""
    if url.startswith("sqlite"):
        path = _sqlite_path(url)
        if path is None:
            engine = create_async_engine(url, connect_args={"timeout": SQLITE_TIMEOUT_S})
        elif for_writes or inline:
            engine = create_async_engine(
                url, async_creator=inline_connector(
                    path, _sqlite_file(url) if for_writes else None, timeout=SQLITE_TIMEOUT_S),
                pool_timeout=pool_timeout)
        else:
            engine = create_async_engine(url, connect_args={"timeout": SQLITE_TIMEOUT_S},
                                         pool_timeout=pool_timeout)
        configure_sqlite(engine.sync_engine, begin="BEGIN IMMEDIATE" if for_writes else "BEGIN")
        return engine
    return create_async_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True,
                               pool_timeout=pool_timeout)


def _sqlite_path(url: str) -> str | None:
    """A SQLite URL's file path; None for an in-memory database."""
    path = make_url(url).database
    return path if path and path != ":memory:" else None


def _sqlite_file(url: str) -> str:
    """What names one SQLite database: its file's resolved path (the URL for :memory:)."""
    path = _sqlite_path(url)
    return str(Path(path).resolve()) if path else url


class Database:
    """Sessions for reads and for writes; a write publishes its events after the commit."""

    def __init__(self, url: str, bus: EventBus, clock: Clock | None = None, *,
                 pool_timeout: float = POOL_TIMEOUT_S,
                 max_routing_lag: float = DEFAULT_MAX_LAG_SECONDS) -> None:
        sqlite = url.startswith("sqlite")
        self.url = url
        self.bus = bus
        self.clock: Clock = clock or SystemClock()
        self.write_engine = create_engine(url, for_writes=True, pool_timeout=pool_timeout)
        self.read_engine = (create_engine(url, for_writes=False, pool_timeout=pool_timeout)
                            if sqlite else self.write_engine)
        self.lookup_engine = (create_engine(url, for_writes=False, inline=True,
                                            pool_timeout=pool_timeout)
                              if sqlite and _sqlite_path(url) is not None else self.read_engine)
        # PostgreSQL's writers take pooled connections; SQLite's share one (_write_sessions)
        self._writer = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self._reader = async_sessionmaker(self.read_engine, expire_on_commit=False)
        self._looker = async_sessionmaker(self.lookup_engine, expire_on_commit=False)
        # The server's own work (bus followers, timers) has a patient pool of its own:
        # overload sheds requests, never an event being handled. SQLite's writers queue on
        # the writer lock anyway, so there only reads need it (and an in-memory database,
        # private to its connections, has none).
        self.background_engine = (
            None if sqlite and _sqlite_path(url) is None
            else create_engine(url, for_writes=not sqlite,
                               pool_timeout=BACKGROUND_POOL_TIMEOUT_S))
        self._background_reader = (
            self._reader if self.background_engine is None
            else async_sessionmaker(self.background_engine, expire_on_commit=False))
        self._background_writer = self._background_reader
        # per tenant, the last event seq this process has published (read-your-writes)
        self.published_seq: dict[uuid.UUID, int] = {}
        self.intake = Intake(max_routing_lag)  # whether new contacts are taken
        # SQLite has one writer at a time: this process's writers of the file queue in turn,
        # all on one connection held open (no pool checkout and return per write: ≈ 0.1 ms).
        self._sqlite_file = _sqlite_file(url) if sqlite else None
        self._held: tuple[AsyncConnection, async_sessionmaker[AsyncSession]] | None = None

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One transaction: rows and their events commit together, then the events go out.

        On SQLite, this process's writers of the file take turns and commit in groups
        (sqlite_inline.py): the block returns, and its events go out, once the group's COMMIT
        is done."""
        async with self._turn() as turn:
            sessions = await self._write_sessions()
            # On SQLite every statement runs at once, and the session's close (a task of its
            # own, SQLAlchemy's shield against cancelling) is the one trip through the event
            # loop in a writer's turn: the writers ready meanwhile queue up behind it, and so
            # commit together (sqlite_inline.py). Closing in place would commit each alone.
            async with sessions() as session, _overload_as_error():
                session.info["clock"] = self.clock
                session.info[INTAKE] = self.intake
                async with session.begin():
                    yield session
                pending: list[EventRecord] = session.info.pop(PENDING_EVENTS, [])
            if pending:
                turn.after_commit(functools.partial(self._publish, pending))
        await turn.done()

    async def _write_sessions(self) -> async_sessionmaker[AsyncSession]:
        """Where this writer's session comes from (called in its turn): on SQLite, the
        writers' held connection (once invalidated, SQLAlchemy opens it again on its next use)."""
        if self._sqlite_file is None:
            return self._background_writer if _IN_BACKGROUND.get() else self._writer
        if self._held is None:
            connection = await self.write_engine.connect()
            self._held = (connection,
                          async_sessionmaker(bind=connection, expire_on_commit=False))
        return self._held[1]

    def _turn(self) -> contextlib.AbstractAsyncContextManager[Turn]:
        """A writer's turn: SQLite's writers of the file one at a time, others side by side."""
        if self._sqlite_file is None:
            return contextlib.nullcontext(Turn(None))
        return write_groups(self._sqlite_file).turn()

    async def _publish(self, records: list[EventRecord]) -> None:
        for record in records:
            await self.bus.publish(record)
            if record.seq > self.published_seq.get(record.tenant_id, 0):
                self.published_seq[record.tenant_id] = record.seq

    def read(self) -> contextlib.AbstractAsyncContextManager[AsyncSession]:
        """A read-only session."""
        return self._reading(
            self._background_reader if _IN_BACKGROUND.get() else self._reader)

    def lookup(self) -> contextlib.AbstractAsyncContextManager[AsyncSession]:
        """A read-only session for a few rows by key (what the in-memory caches read): on a
        SQLite file it runs inline on the event loop; never use it for a long query."""
        return self._reading(self._looker)

    @asynccontextmanager
    async def _reading(
            self, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
        async with sessions() as session, _overload_as_error():
            session.info["clock"] = self.clock
            yield session

    async def dispose(self) -> None:
        """Close the writers' held connection and every pooled one."""
        if self._held is not None:
            await self._held[0].close()
            self._held = None
        engines = (self.write_engine, self.background_engine, self.read_engine,
                   self.lookup_engine)
        for engine in dict.fromkeys(engine for engine in engines if engine is not None):
            await engine.dispose()


@asynccontextmanager
async def _overload_as_error() -> AsyncIterator[None]:
    """A pool that had no connection to give in time means overload: the caller gets a 503."""
    try:
        yield
    except PoolTimeout as error:
        raise Overloaded("the server is overloaded; retry shortly") from error


def session_now(session: AsyncSession) -> datetime:
    """The current time of the clock the session was opened with."""
    clock: Clock = session.info.get("clock") or SystemClock()
    return clock.now()


def alembic_config(url: str) -> AlembicConfig:
    """Alembic configured for omnidesk's shipped migrations and the given database."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database schema up to the given revision (creates SQLite's folder)."""
    if url.startswith("sqlite") and ":///" in url:
        Path(url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)
