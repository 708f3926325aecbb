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

Writers of one file in one process take turns (`WriteGroups`; a `Database`'s writers on one
connection it holds, omnidesk/db.py), and their transactions commit together: a transaction
ends with a savepoint released, and the file's one COMMIT (one fsync with `synchronous=FULL`)
is issued when no other writer waits, or after `GROUP_MAX_WRITES` transactions. Each writer
acknowledges only once that COMMIT is done (`Turn.done()`).

Lookups (a row by its key, for the in-memory caches that every request consults) run inline
too, on connections of their own without groups: each is its own read transaction, and sees
what is committed (never an open group's writes). Through aiosqlite such a lookup costs
about 1.3 ms of CPU, almost all of it in handing each step to its thread and back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import weakref
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

log = logging.getLogger("omnidesk.db")
GROUP_MAX_WRITES = 16  # transactions one COMMIT makes durable at most: bounds the first's wait
SAVEPOINT = "omnidesk_write"  # what one writer's transaction is, inside the file's transaction


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
    """aiosqlite's Connection over a sqlite3 connection, used on the event loop's thread.

    A transaction SQLAlchemy begins, commits or rolls back is one writer's savepoint inside
    the transaction its `WriteGroups` keeps open; outside one, commit and rollback (the pool's
    reset on return) do nothing. Without groups (a lookup's connection) it is a plain
    transaction of its own.
    """

    def __init__(self, connection: sqlite3.Connection, groups: WriteGroups | None) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection
        self._tx = _InlineQueue()
        self._groups = groups
        self._begun = False

    def begin(self) -> None:
        """Begin a writer's transaction, or a lookup's (the engine's `begin` event calls this)."""
        if self._groups is None:
            self._conn.execute("BEGIN")
        else:
            self._groups.open_on(self)
            self._conn.execute(f"SAVEPOINT {SAVEPOINT}")
        self._begun = True

    def execute_now(self, sql: str) -> None:
        """Run one statement of the group's own (BEGIN, COMMIT, ROLLBACK)."""
        self._conn.execute(sql)

    @property
    def in_transaction(self) -> bool:
        """Whether SQLite has a transaction open on this connection."""
        return self._conn.in_transaction

    @property
    def isolation_level(self) -> str | None:
        """sqlite3's isolation level (None: the dialect issues BEGIN itself)."""
        return self._conn.isolation_level

    def cursor(self) -> _CursorContext:
        """A new cursor (entered with `async with` or awaited `__aenter__`)."""
        return _CursorContext(self._conn)

    async def commit(self) -> None:
        """End the writer's transaction (durable with the group's COMMIT), or the lookup's."""
        if self._begun:
            self._begun = False
            if self._groups is None:
                self._conn.execute("COMMIT")
                return
            self._conn.execute(f"RELEASE {SAVEPOINT}")
            self._groups.joined()

    async def rollback(self) -> None:
        """Undo the writer's transaction, and only it (or end the lookup's)."""
        if not self._begun:
            return
        self._begun = False
        if self._groups is None:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        elif self._conn.in_transaction:
            self._conn.execute(f"ROLLBACK TO {SAVEPOINT}")
            self._conn.execute(f"RELEASE {SAVEPOINT}")
        else:  # SQLite ended the whole transaction itself (disk full, I/O error)
            self._groups.lost(self)

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        """Register a SQL function."""
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        """Close (once; later calls do nothing)."""
        self.stop()

    def stop(self) -> None:
        """Close at once (also SQLAlchemy's forced termination), committing the group open on
        it first; later calls do nothing."""
        if self._connection is not None:
            if self._groups is not None:
                self._groups.close_on(self)
            self._connection = None
            self._conn.close()


def inline_connector(path: str, file: str | None, *, timeout: float) -> Callable[[], Any]:
    """An `async_creator` for create_async_engine: inline connections to the database file,
    for its writers (`file` names it for `write_groups`) or, without `file`, for lookups."""

    async def connect() -> InlineConnection:
        return InlineConnection(sqlite3.connect(path, timeout=timeout, check_same_thread=False),
                                None if file is None else write_groups(file))

    return connect


Job = Callable[[], Awaitable[None]]


class _Group:
    """Writers' transactions in one SQLite transaction, awaiting its COMMIT."""

    def __init__(self, connection: InlineConnection) -> None:
        self.connection = connection
        self.committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.writes = 0
        self.jobs: list[Job] = []  # each writer's publishing, in commit order


class Turn:
    """One writer's turn. With write groups, what it committed joined a group, and `done()`
    waits for the group's COMMIT, then runs what the writers left for after it, in commit
    order; without (PostgreSQL), its jobs simply run at `done()`."""

    def __init__(self, groups: WriteGroups | None) -> None:
        self._groups = groups
        self.group: _Group | None = None  # the group its transaction joined, if it wrote
        self._jobs: list[Job] = []

    def after_commit(self, job: Job) -> None:
        """Run `job` once this turn's transaction is durable (and after earlier writers')."""
        if self._groups is None:
            self._jobs.append(job)
        else:
            (self._groups.outbox if self.group is None else self.group.jobs).append(job)

    async def done(self) -> None:
        """Wait for the COMMIT (raising its error), then run the jobs due."""
        if self.group is not None:
            await asyncio.shield(self.group.committed)
        if self._groups is not None:
            await self._groups.run_jobs()
        for job in self._jobs:
            await job()


class WriteGroups:
    """The writers of one SQLite file in one process: one at a time, committing together."""

    def __init__(self, max_writes: int = GROUP_MAX_WRITES) -> None:
        self._lock = asyncio.Lock()
        self._max_writes = max_writes
        self._queued = 0  # writers waiting for a turn
        self._open: _Group | None = None
        self._current: Turn | None = None  # the turn under way
        self.outbox: deque[Job] = deque()
        self._running_jobs = asyncio.Lock()

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[Turn]:
        """Wait for this writer's turn; at its end, COMMIT unless another writer waits."""
        self._queued += 1
        try:
            await self._lock.acquire()
        finally:
            self._queued -= 1
        self._current = turn = Turn(self)
        try:
            yield turn
        finally:
            self._current = None
            group = self._open
            if group is not None and (self._queued == 0 or group.writes >= self._max_writes):
                self._commit(group)
            self._lock.release()
            if self._open is not None:  # a waiter will commit; if it gave up, this does
                asyncio.get_running_loop().call_soon(self._commit_if_idle)

    def open_on(self, connection: InlineConnection) -> None:
        """Make sure a transaction is open on `connection` (committing one on another)."""
        if self._open is not None and self._open.connection is not connection:
            self._commit(self._open)
        if self._open is None:
            connection.execute_now("BEGIN IMMEDIATE")
            self._open = _Group(connection)

    def joined(self) -> None:
        """The current turn's transaction is in the open group."""
        assert self._open is not None and self._current is not None
        self._open.writes += 1
        self._current.group = self._open

    def lost(self, connection: InlineConnection) -> None:
        """SQLite rolled back the open transaction: the group's writers fail."""
        group = self._open
        if group is not None and group.connection is connection:
            self._open = None
            _fail(group, sqlite3.OperationalError("the transaction was rolled back by SQLite"))

    def close_on(self, connection: InlineConnection) -> None:
        """`connection` is closing: commit the group open on it."""
        if self._open is not None and self._open.connection is connection:
            self._commit(self._open)

    async def run_jobs(self) -> None:
        """Run every job whose transaction is durable, in commit order."""
        async with self._running_jobs:
            while self.outbox:
                await self.outbox.popleft()()

    def _commit_if_idle(self) -> None:
        if self._open is not None and not self._lock.locked():
            self._commit(self._open)

    def _commit(self, group: _Group) -> None:
        """COMMIT the group's transaction; its writers learn the outcome from its future."""
        self._open = None
        try:
            group.connection.execute_now("COMMIT")
        except sqlite3.Error as error:
            if group.connection.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    group.connection.execute_now("ROLLBACK")
            _fail(group, error)
            return
        self.outbox.extend(group.jobs)
        group.committed.set_result(None)


def _fail(group: _Group, error: sqlite3.Error) -> None:
    """The group's transaction is lost: log it once, and each writer waiting gets the error."""
    log.error("a SQLite transaction of %d writes was not committed: %s", group.writes, error)
    group.committed.set_exception(error)
    group.committed.exception()  # retrieved here: writers that gave up leave no second report


_WRITE_GROUPS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, WriteGroups]]
_WRITE_GROUPS = weakref.WeakKeyDictionary()


def write_groups(file: str) -> WriteGroups:
    """The writers of a SQLite file (its resolved path) on the running event loop."""
    groups = _WRITE_GROUPS.setdefault(asyncio.get_running_loop(), {})
    return groups.setdefault(file, WriteGroups())
