"""The restartable fill: events after the checkpoint → the pure fold → stored aggregate rows.

Each batch is one transaction: the measures it adds (upserted as increments), the pending
FCR closures it opened, flagged or settled, the agents' clocks and the moved checkpoint
commit together — so a crash between batches never double counts, and a re-run starts
where the last commit left off. The checkpoint moves by compare-and-set, so two processes
filling the same tenant cannot both count a batch.

Open contacts are not stored: before a batch, any contact it refers to that the fold does not
hold in memory is rebuilt from its own earlier events in the log (a contact record depends
only on its own events), so a fresh process gives exactly the rows of one uninterrupted pass.
"""

from __future__ import annotations

import asyncio
import operator
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, cast

import orjson
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Table,
    any_,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk import collector
from omnidesk.analytics.aggregation import AggregateState, new_aggregate
from omnidesk.analytics.config import AnalyticsConfig
from omnidesk.analytics.events import Event, EventLike, events_from_rows
from omnidesk.analytics.fcr import JournalingFcr, PendingClosure
from omnidesk.analytics.fold import FOLDED_TYPES, AgentClock, ContactFold
from omnidesk.analytics.intervals import Granularity
from omnidesk.analytics.measures import Measures
from omnidesk.analytics.models import (
    KEY_DIMENSIONS,
    MEASURE_FIELDS,
    WEIGHTED_COLUMNS,
    FillCheckpoint,
    PendingFcr,
    analytics_intervals,
)
from omnidesk.analytics.records import Dims
from omnidesk.analytics.settings import load_config
from omnidesk.analytics.sinks import RowKey, stored_values
from omnidesk.db import Database
from omnidesk.errors import Conflict

BATCH_EVENTS = 200_000
FIRST_BATCH_EVENTS = 20_000
"""Batches grow from this size to BATCH_EVENTS, 4 times larger each: the fold waits for
nothing but the first read, and that read is short."""
GRANULARITY: Granularity = "15min"
LOOKUP_CHUNK = 500
FOLD_CHUNK = 1_000


class FillConflict(Conflict):
    """Another process moved the checkpoint first; this batch was not written."""


RowValues = tuple[Any, ...]
"""One aggregate row's column values, in COLUMNS order."""
KEY_WIDTH = 2 + len(KEY_DIMENSIONS)
"""Its key: tenant, interval start and dimensions."""


@dataclass(slots=True)
class StoredEdge:
    """The latest interval holding stored rows, and the keys stored in it.

    A batch's rows are mostly new: a row in a later interval, or in that one under another
    key, cannot be stored yet, so it is inserted as it is (a plain COPY); only the others are
    added to what may be stored (staging table and upsert). A mistake here would make the
    insert fail on the primary key, never count twice.
    """

    interval: datetime | None = None
    keys: set[tuple[Any, ...]] = field(default_factory=set)

    def split(self, values: list[RowValues]) -> tuple[list[RowValues], list[RowValues]]:
        """(rows certainly new, rows that may add to stored ones); the edge moves past both."""
        new: list[RowValues] = []
        others: list[RowValues] = []
        edge, keys = self.interval, self.keys
        for row in values:
            interval = row[1]
            if edge is None or interval > edge or (
                    interval == edge and row[:KEY_WIDTH] not in keys):
                new.append(row)
            else:
                others.append(row)
        latest = max((row[1] for row in values), default=edge)
        if latest is not None and (edge is None or latest > edge):
            self.interval, self.keys = latest, set()
        self.keys.update(row[:KEY_WIDTH] for row in values if row[1] == self.interval)
        return new, others


@dataclass(slots=True)
class FillState:
    """One tenant's fold between batches; the service keeps it, a new process rebuilds it."""

    tenant_id: uuid.UUID
    config: AnalyticsConfig
    aggregate: AggregateState
    fcr: JournalingFcr
    stored: StoredEdge

    @property
    def fold(self) -> ContactFold:
        """The pure fold."""
        return self.aggregate.fold


@dataclass(slots=True)
class FillReport:
    """What one fill call did."""

    tenant_id: uuid.UUID
    events: int = 0
    batches: int = 0
    rows: int = 0
    last_seq: int = 0
    caught_up: bool = False


class _DiscardSink:
    """Counts nothing: rebuilding a contact record must not count its facts twice."""

    def point(self, at: datetime, dims: Dims) -> Iterator[Measures]:
        """Nothing."""
        return iter(())

    def span(self, start: datetime, end: datetime, dims: Dims) -> Iterator[tuple[Measures, int]]:
        """Nothing."""
        return iter(())


# -- loading ------------------------------------------------------------------------------


def _agents_json(fold: ContactFold) -> dict[str, Any]:
    return {agent_id: [c.state, c.since.isoformat() if c.since else None, c.load, c.contacts,
                       c.dims.role] for agent_id, c in fold.agents.items()}


def _restore_agents(fold: ContactFold, stored: dict[str, Any]) -> None:
    for agent_id, (state, since, load, contacts, role) in stored.items():
        fold.agents[agent_id] = AgentClock(
            agent_id, Dims(agent=agent_id, role=role), state,
            datetime.fromisoformat(since) if since else None, load, contacts)


async def _checkpoint(session: AsyncSession, tenant_id: uuid.UUID) -> FillCheckpoint:
    row = await session.get(FillCheckpoint, tenant_id)
    if row is None:
        row = FillCheckpoint(tenant_id=tenant_id, last_seq=0, agents={})
        session.add(row)
    return row


async def load_state(db: Database, tenant_id: uuid.UUID) -> FillState:
    """The fold as the last committed batch left it (config read afresh)."""
    async with db.write() as session:
        config, _ = await load_config(session, tenant_id)
        checkpoint = await _checkpoint(session, tenant_id)
        pending = (await session.scalars(select(PendingFcr).where(
            PendingFcr.tenant_id == tenant_id).order_by(PendingFcr.seq))).all()
        stored = await _stored_edge(session, tenant_id)
    aggregate = new_aggregate(config, GRANULARITY, KEY_DIMENSIONS)
    fold = aggregate.fold
    fold.last_seq = checkpoint.last_seq
    _restore_agents(fold, checkpoint.agents)
    fcr = JournalingFcr(config.fcr_window, fold=fold)
    for row in pending:
        fcr.restore(PendingClosure(row.customer_id, row.closed_at, row.closed_at + fcr.window,
                                   Dims(*row.dims), row.contacted_again, row.seq))
    fold.fcr = fcr
    return FillState(tenant_id, config, aggregate, fcr, stored)


async def _stored_edge(session: AsyncSession, tenant_id: uuid.UUID) -> StoredEdge:
    table = analytics_intervals.c
    mine = table.tenant_id == tenant_id
    latest = await session.scalar(select(func.max(table.interval_start)).where(mine))
    if latest is None:
        return StoredEdge()
    keys = await session.execute(select(*(table[name] for name in COLUMNS[:KEY_WIDTH]))
                                 .where(mine, table.interval_start == latest))
    return StoredEdge(latest, {tuple(key) for key in keys})


# -- reading events -----------------------------------------------------------------------


# Column and table names below are constants of this module, never input.
_PG_EVENTS = ("SELECT seq, type, subject, occurred_at, payload::text FROM events "
              "WHERE tenant_id = $1 AND {condition} ORDER BY seq {limit}")
_SQLITE_EVENTS = ("SELECT seq, type, subject, occurred_at, payload FROM events "
                  "WHERE tenant_id = ? AND {condition} ORDER BY seq {limit}")


async def _query_events(db: Database, tenant_id: uuid.UUID, condition: tuple[str, str],
                        *arguments: Any, limit: int | None = None) -> list[Event]:
    """The tenant's events matching a raw condition ((PostgreSQL, SQLite) forms), by seq.

    The fill reads millions of events: it skips the ORM and decodes payloads with orjson.
    """
    async with db.read() as session:
        connection = await session.connection()
        if connection.dialect.name == "postgresql":
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection
            rows = await driver.fetch(_PG_EVENTS.format(
                condition=condition[0], limit="" if limit is None else f"LIMIT {limit:d}"),
                tenant_id, *arguments)
            return [Event(seq, kind, subject, at, orjson.loads(payload))
                    for seq, kind, subject, at, payload in rows]
        result = await connection.exec_driver_sql(
            _SQLITE_EVENTS.format(condition=condition[1],
                                  limit="" if limit is None else f"LIMIT {limit:d}"),
            (tenant_id.hex, *arguments))
        stored = cast(list[tuple[int, str, str, str, str]], result.all())
        return [Event(seq, kind, subject, _sqlite_time(at), orjson.loads(payload))
                for seq, kind, subject, at, payload in stored]


def _sqlite_time(stored: str) -> datetime:
    return datetime.fromisoformat(stored).replace(tzinfo=UTC)


async def read_events(db: Database, tenant_id: uuid.UUID, since: int,
                      limit: int) -> Sequence[EventLike]:
    """Up to `limit` of the tenant's events after `since`, in seq order."""
    return await _query_events(db, tenant_id, ("seq > $2", "seq > ?"), since, limit=limit)


class Batch(NamedTuple):
    """The events read for one fill batch: those the fold reads, and how far the read went."""

    events: list[Event]
    scanned: int
    last_seq: int


# The fold ignores other types (offer.*, message.*, …): they are read for their seq only,
# without their payload. Type names are constants of the fold, never input.
FOLDED_KINDS = sorted(FOLDED_TYPES)
_FOLDED = ", ".join(f"'{kind}'" for kind in FOLDED_KINDS)
# On PostgreSQL the server packs the batch into one JSON text (its own core does that work):
# orjson decodes it in one call instead of the driver decoding row by row. Times travel as
# ISO text in UTC with every microsecond, which datetime.fromisoformat reads back exactly
# (8 times faster than adding microseconds since the epoch to a datetime). The aggregate
# takes the rows in the subquery's seq order; SQL does not promise that order, so the batch
# is sorted again here (linear on sorted input) instead of by an ORDER BY in json_agg, which
# sorted 200,000 rows on disk (past work_mem) and cost PostgreSQL 15-25 % of the read. A type
# travels as its position in FOLDED_KINDS: a small int costs orjson nothing to make, and the
# Event gets the fold's own string (hash cached, compared by identity).
_PG_BATCH = (
    "SELECT count(*), max(seq), (json_agg(json_build_array(seq, "  # noqa: S608
    f"array_position(ARRAY[{_FOLDED}], type::text), subject, "
    "(occurred_at AT TIME ZONE 'UTC')::text || '+00:00', payload)) "
    f"FILTER (WHERE type IN ({_FOLDED})))::text FROM (SELECT seq, type, subject, "
    "occurred_at, payload FROM events WHERE tenant_id = $1 AND seq > $2 "
    "ORDER BY seq LIMIT $3) AS batch")
_SQLITE_BATCH = ("SELECT seq, type, subject, occurred_at, "  # noqa: S608
                 f"CASE WHEN type IN ({_FOLDED}) THEN payload END FROM events "
                 "WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?")


async def read_batch(db: Database, tenant_id: uuid.UUID, since: int, limit: int) -> Batch:
    """Up to `limit` events after `since`; only those of types the fold reads are decoded."""
    async with db.read() as session:
        connection = await session.connection()
        if connection.dialect.name == "postgresql":
            raw = await connection.get_raw_connection()
            return await _read_batch_postgres(raw.driver_connection, tenant_id, since, limit)
        result = await connection.exec_driver_sql(_SQLITE_BATCH, (tenant_id.hex, since, limit))
        rows = cast(Sequence[tuple[int, str, str, str, str | None]], result.all())
    loads = orjson.loads
    events: list[Event] = [Event(seq, kind, subject, _sqlite_time(at), loads(payload))
                               for seq, kind, subject, at, payload in rows if payload is not None]
    return Batch(events, len(rows), rows[-1][0] if rows else since)


async def _read_batch_postgres(driver: Any, tenant_id: uuid.UUID, since: int,
                               limit: int) -> Batch:
    scanned, last_seq, packed = await driver.fetchrow(_PG_BATCH, tenant_id, since, limit)
    rows = orjson.loads(packed) if packed else []
    rows.sort(key=_first)
    return Batch(events_from_rows(rows, FOLDED_KINDS), scanned,
                 since if last_seq is None else last_seq)


_first = operator.itemgetter(0)


async def _history(db: Database, tenant_id: uuid.UUID, subjects: Sequence[str],
                   up_to: int) -> list[EventLike]:
    """The events (seq ≤ up_to) about these interactions, in seq order."""
    found: list[EventLike] = []
    for start in range(0, len(subjects), LOOKUP_CHUNK):
        chunk = list(subjects[start:start + LOOKUP_CHUNK])
        marks = ", ".join("?" * len(chunk))
        found += await _query_events(
            db, tenant_id, ("subject = ANY($2::text[]) AND seq <= $3",
                            f"subject IN ({marks}) AND seq <= ?"),
            *((chunk, up_to) if db.read_engine.dialect.name == "postgresql"
              else (*chunk, up_to)))
    found.sort(key=operator.attrgetter("seq"))
    return found


async def _rebuild_contacts(db: Database, state: FillState, missing: list[str]) -> None:
    """Put the missing contacts' records (or closed dims) back, from their own events."""
    if not missing:
        return
    history = await _history(db, state.tenant_id, missing, state.fold.last_seq)
    scratch = ContactFold(state.config, _DiscardSink(), track_fcr=False)
    scratch.apply_all(history)
    for interaction_id in missing:
        if interaction_id in scratch.records:
            state.fold.records[interaction_id] = scratch.records[interaction_id]
        elif interaction_id in scratch.closed_dims:
            state.fold.closed_dims[interaction_id] = scratch.closed_dims[interaction_id]


# -- writing ------------------------------------------------------------------------------


COLUMNS = ("tenant_id", "interval_start", *KEY_DIMENSIONS, *MEASURE_FIELDS, *WEIGHTED_COLUMNS)
_ADD = ", ".join(  # NULL is zero: the sum, else the one that is not NULL
    f"{name} = COALESCE(analytics_intervals.{name} + excluded.{name}, "
    f"analytics_intervals.{name}, excluded.{name})" for name in COLUMNS[KEY_WIDTH:])
_ON_KEY_ADD = f" ON CONFLICT ({', '.join(COLUMNS[:KEY_WIDTH])}) DO UPDATE SET {_ADD}"
# Column names below are constants of this module, never input.
_SQLITE_INSERT = (f"INSERT INTO analytics_intervals ({', '.join(COLUMNS)}) "  # noqa: S608
                  f"VALUES ({', '.join('?' * len(COLUMNS))})")
_SQLITE_UPSERT = _SQLITE_INSERT + _ON_KEY_ADD
_PG_STAGE = ("CREATE TEMP TABLE IF NOT EXISTS analytics_intervals_batch "
             "(LIKE analytics_intervals INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
_PG_UPSERT = (
    f"INSERT INTO analytics_intervals ({', '.join(COLUMNS)}) SELECT "  # noqa: S608
    f"{', '.join(COLUMNS)} FROM analytics_intervals_batch" + _ON_KEY_ADD)
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


async def _insert_postgres(session: AsyncSession, new: list[RowValues],
                           others: list[RowValues]) -> None:
    """COPY the new rows; the others into a session-local staging table, then one upsert."""
    raw = await (await session.connection()).get_raw_connection()
    driver: Any = raw.driver_connection
    if new:
        await driver.copy_records_to_table("analytics_intervals", records=new, columns=COLUMNS)
    if others:
        await driver.execute(_PG_STAGE)
        await driver.copy_records_to_table("analytics_intervals_batch", records=others,
                                           columns=COLUMNS)
        await driver.execute(_PG_UPSERT)


async def _insert_sqlite(session: AsyncSession, new: list[RowValues],
                         others: list[RowValues]) -> None:
    """executemany of an insert and of an upsert, values in the forms SQLAlchemy stores."""
    connection = await session.connection()
    for statement, values in ((_SQLITE_INSERT, new), (_SQLITE_UPSERT, others)):
        if values:
            await connection.exec_driver_sql(statement, [
                (row[0].hex, row[1].astimezone(UTC).strftime(SQLITE_TIME), *row[2:])
                for row in values])


async def _store_rows(session: AsyncSession, batch: _Write) -> int:
    """Add the batch's rows to the stored ones (bulk, in the caller's transaction)."""
    values = stored_values(batch.tenant_id, batch.rows)
    new, others = batch.stored.split(values)
    if session.get_bind().dialect.name == "postgresql":
        await _insert_postgres(session, new, others)
    else:
        await _insert_sqlite(session, new, others)
    return len(values)


def _seq_in(seqs: list[int], dialect: str) -> Iterator[Any]:
    """`seq IN seqs` conditions: one `= ANY(array)` on PostgreSQL, chunks of IN on SQLite."""
    if dialect == "postgresql":
        yield PendingFcr.seq == any_(bindparam("seqs", seqs, type_=ARRAY(BigInteger)))
        return
    for start in range(0, len(seqs), LOOKUP_CHUNK):
        yield PendingFcr.seq.in_(seqs[start:start + LOOKUP_CHUNK])


_FCR_COLUMNS = ("tenant_id", "seq", "customer_id", "closed_at", "dims", "contacted_again")


async def _write_fcr(session: AsyncSession, tenant_id: uuid.UUID, journal: _Write) -> None:
    dialect = session.get_bind().dialect.name
    mine = PendingFcr.tenant_id == tenant_id
    unsynchronized = {"synchronize_session": False}  # no ORM objects of these rows are loaded
    for condition in _seq_in(journal.removed, dialect) if journal.removed else ():
        await session.execute(delete(PendingFcr).where(mine, condition),
                              execution_options=unsynchronized)
    for condition in _seq_in(sorted(journal.flagged), dialect) if journal.flagged else ():
        await session.execute(update(PendingFcr).where(mine, condition)
                              .values(contacted_again=True), execution_options=unsynchronized)
    if journal.added and dialect == "postgresql":
        raw = await (await session.connection()).get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.copy_records_to_table(
            "analytics_pending_fcr", columns=_FCR_COLUMNS,
            records=[(tenant_id, seq, customer_id, closed_at, orjson.dumps(list(dims)).decode(),
                      contacted_again)
                     for seq, customer_id, closed_at, dims, contacted_again in journal.added])
    elif journal.added:
        await session.execute(cast(Table, PendingFcr.__table__).insert(), [
            {"tenant_id": tenant_id, "seq": seq, "customer_id": customer_id,
             "closed_at": closed_at, "dims": list(dims), "contacted_again": contacted_again}
            for seq, customer_id, closed_at, dims, contacted_again in journal.added])


@dataclass(slots=True)
class _Write:
    """One batch's writes, taken from the fold so that the next batch can be folded meanwhile.

    Everything is copied or handed over: the fold goes on with fresh rows and journal, so
    folding the next batch never changes what this write stores.
    """

    tenant_id: uuid.UUID
    expected_seq: int
    last_seq: int
    agents: dict[str, Any]
    rows: dict[RowKey, Measures]
    stored: StoredEdge
    added: list[tuple[int, str, datetime, Dims, bool]]
    flagged: set[int]
    removed: list[int]


def _take(state: FillState, expected_seq: int) -> _Write:
    """What the batch just folded must write; the fold starts fresh rows and journal."""
    rows = state.aggregate.sink.take_rows()
    added, flagged, removed = state.fcr.take()
    return _Write(state.tenant_id, expected_seq, state.fold.last_seq, _agents_json(state.fold),
                  rows, state.stored, [(seq, c.customer_id, c.closed_at, c.dims, c.contacted_again)
                         for seq, c in added.items()], flagged, removed)


async def _write(db: Database, batch: _Write, now: datetime) -> int:
    """Rows, FCR journal, agents and checkpoint in one transaction (compare-and-set)."""
    async with db.write() as session:
        moved = await session.execute(
            update(FillCheckpoint)
            .where(FillCheckpoint.tenant_id == batch.tenant_id,
                   FillCheckpoint.last_seq == batch.expected_seq)
            .values(last_seq=batch.last_seq, agents=batch.agents, filled_at=now))
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            raise FillConflict("another process filled these events first", field="tenant")
        written = await _store_rows(session, batch)
        await _write_fcr(session, batch.tenant_id, batch)
    return written


async def _write_batch(db: Database, state: FillState, expected_seq: int,
                       now: datetime) -> int:
    """Write what the fold holds since `expected_seq` (one transaction, compare-and-set)."""
    return await _write(db, _take(state, expected_seq), now)


# -- the job ------------------------------------------------------------------------------


class FillCache:
    """Fold states kept between fills (a state is reused only if the checkpoint agrees)."""

    def __init__(self) -> None:
        self.states: dict[uuid.UUID, FillState] = {}


async def _checkpoint_seq(db: Database, tenant_id: uuid.UUID) -> int | None:
    async with db.read() as session:
        return await session.scalar(
            select(FillCheckpoint.last_seq).where(FillCheckpoint.tenant_id == tenant_id))


async def _state(db: Database, tenant_id: uuid.UUID, cache: FillCache | None) -> FillState:
    cached = cache.states.pop(tenant_id, None) if cache else None
    if cached is not None and await _checkpoint_seq(db, tenant_id) == cached.fold.last_seq:
        return cached
    return await load_state(db, tenant_id)


async def _fold(state: FillState, batch: Batch, settle_at: datetime | None) -> None:
    """Fold the batch on the event loop, a chunk at a time, the reads and writes in between.

    The fold and the database I/O share one interpreter lock either way: in a worker thread
    the compiled fold kept it until the interpreter took it back (5 ms and more each time), so
    every step of a read or a write in flight waited that long. Chunks of about 5 ms with a
    yield between them let the loop serve the sockets with no hand-over at all (and keep a
    server that fills responsive).
    """
    events, apply_all = batch.events, state.fold.apply_all
    for start in range(0, len(events), FOLD_CHUNK):
        apply_all(events[start:start + FOLD_CHUNK])
        await asyncio.sleep(0)
    state.fold.skip_to(batch.last_seq)
    if settle_at is not None:
        state.fold.settle(settle_at)


async def _read_after(writing: asyncio.Future[int] | None, db: Database, tenant_id: uuid.UUID,
                      since: int, limit: int) -> Batch:
    """Read once the previous batch's write has ended: the database does one thing at a time."""
    if writing is not None:
        await asyncio.wait([writing])
    return await read_batch(db, tenant_id, since, limit)


async def _finish(task: asyncio.Future[Any] | None) -> None:
    """Let a task still running end (its error, if any, is not the one raised)."""
    if task is not None and not task.done():
        await asyncio.wait([task])
    if task is not None and not task.cancelled():
        task.exception()


async def fill(db: Database, tenant_id: uuid.UUID, *, now: datetime | None = None,
               batch_events: int = BATCH_EVENTS, max_batches: int | None = None,
               cache: FillCache | None = None) -> FillReport:
    """Fold the tenant's new events into the stored rows, batch by batch; settle at `now`.

    While this batch is folded (on the loop, in chunks), the previous one is written and then
    the next one read: one after the other, so the database works on one core at a time and
    leaves the fold the other (faster than reading beside the write: BENCHMARKS.md, sessions 9
    and 10). Each write is one transaction that moves the checkpoint, so the stored state is
    always that of a whole number of batches. Batches start at FIRST_BATCH_EVENTS events and
    grow fourfold up to `batch_events`.
    """
    with collector.paused():
        return await _fill(db, tenant_id, now or db.clock.now(), batch_events, max_batches,
                           cache)


async def _fill(db: Database, tenant_id: uuid.UUID, now: datetime, batch_events: int,
                max_batches: int | None, cache: FillCache | None) -> FillReport:
    state = await _state(db, tenant_id, cache)
    report = FillReport(tenant_id, last_seq=state.fold.last_seq)
    limit = min(batch_events, FIRST_BATCH_EVENTS)
    reading = asyncio.ensure_future(read_batch(db, tenant_id, state.fold.last_seq, limit))
    writing: asyncio.Future[int] | None = None
    try:
        while max_batches is None or report.batches < max_batches:
            batch = await reading
            report.caught_up = batch.scanned < limit
            if not report.caught_up:  # read the next batch (after the previous write)
                limit = min(batch_events, 4 * limit)
                reading = asyncio.ensure_future(_read_after(writing, db, tenant_id,
                                                            batch.last_seq, limit))
            touched, missing = state.fold.referenced_contacts(batch.events)
            await _rebuild_contacts(db, state, missing)
            expected = state.fold.last_seq
            await _fold(state, batch, now if report.caught_up else None)
            if writing is not None:  # the previous batch's write ran during this fold
                report.rows += await writing
            writing = asyncio.ensure_future(_write(db, _take(state, expected), now))
            state.fold.forget_idle(touched)
            report.events += batch.scanned
            report.batches += 1
            if report.caught_up:
                break
        if writing is not None:
            report.rows += await writing
        report.last_seq = state.fold.last_seq
    finally:
        if not reading.done():
            reading.cancel()
        await _finish(writing)
    if cache is not None:
        cache.states[tenant_id] = state
    return report
