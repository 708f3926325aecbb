"""SQLite writes run inline on the event loop: aiosqlite's interface over a sqlite3 connection.

aiosqlite runs each statement in a thread of its own and resumes the caller through the event
loop. For writes that is the wrong trade: SQLite allows one writer at a time, and a write
transaction of a dozen statements then holds the write lock across a dozen trips through a
busy loop's queue of ready tasks — measured under `bench/load.py`, 12–20 ms per transaction
for ≈ 1 ms of SQLite work, and every other writer waits behind it. Here each statement runs at
once on the calling thread (a local SQLite statement takes microseconds), so a transaction
holds the lock only as long as its own work. SQLAlchemy's aiosqlite dialect drives this
object exactly as it drives aiosqlite's (`create_async_engine(..., async_creator=...)`).
Reads keep aiosqlite: a long report query must not stop the loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any


class InlineCursor:
    """aiosqlite's Cursor over a sqlite3 cursor; every method completes at once."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        """Run one statement."""
        self._cursor.execute(sql, () if parameters is None else parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> InlineCursor:
        """Run one statement per parameter set."""
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        """The next row."""
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        """The next rows."""
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        """The remaining rows."""
        return self._cursor.fetchall()

    async def close(self) -> None:
        """Close the cursor."""
        self._cursor.close()

    @property
    def description(self) -> Any:
        """Column descriptions of the last statement."""
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        """Rows the last statement changed."""
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        """Row id of the last insert."""
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        """Rows fetchmany returns by default."""
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _CursorContext:
    """What aiosqlite's `connection.cursor()` returns: entered, it gives the cursor."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    async def __aenter__(self) -> InlineCursor:
        return InlineCursor(self._connection.cursor())

    async def __aexit__(self, *exc_info: object) -> None:
        return None


class _InlineQueue:
    """aiosqlite's request queue, as SQLAlchemy uses it to set the isolation level: runs now."""

    @staticmethod
    def put_nowait(item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:  # handed to the awaiting caller, as aiosqlite does
            future.set_exception(error)


class InlineConnection:
    """aiosqlite's Connection over a sqlite3 connection, used on the event loop's thread."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection
        self._tx = _InlineQueue()

    @property
    def isolation_level(self) -> str | None:
        """sqlite3's isolation level (None: the dialect issues BEGIN itself)."""
        return self._conn.isolation_level

    def cursor(self) -> _CursorContext:
        """A new cursor (entered with `async with` or awaited `__aenter__`)."""
        return _CursorContext(self._conn)

    async def commit(self) -> None:
        """Commit."""
        self._conn.commit()

    async def rollback(self) -> None:
        """Roll back."""
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        """Register a SQL function."""
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        """Close (once; later calls do nothing)."""
        self.stop()

    def stop(self) -> None:
        """Close at once (also SQLAlchemy's forced termination); later calls do nothing."""
        if self._connection is not None:
            self._connection = None
            self._conn.close()


def inline_connector(path: str, *, timeout: float) -> Callable[[], Any]:
    """An `async_creator` for create_async_engine: inline connections to the database file."""

    async def connect() -> InlineConnection:
        return InlineConnection(sqlite3.connect(path, timeout=timeout, check_same_thread=False))

    return connect
