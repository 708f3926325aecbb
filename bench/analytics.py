"""Analytics benchmark: real-time projection throughput, the historical fold, the DB fill.

Run alone:  .venv/bin/python bench/analytics.py            (1,000,000 interactions)
            .venv/bin/python bench/analytics.py --quick    (50,000 interactions)
            --postgres postgresql://postgres@127.0.0.1:5432  (default; "" skips PostgreSQL)

Events come from the seeded generator in chunks; each chunk is timed separately through
(a) the real-time projection and (b) the pure historical fold into 15-minute rows by
queue, agent and channel, so generation time is never counted. (c) The database fill: the
day's events are written to a fresh SQLite file and a fresh PostgreSQL database (not timed),
then the fill job (omnidesk.analytics.fill) is timed from an empty checkpoint to caught up.
The last line printed is one JSON object with units in its keys.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import resource
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg

from omnidesk.analytics.config import AnalyticsConfig
from omnidesk.analytics.events import Event
from omnidesk.analytics.fold import ContactFold
from omnidesk.analytics.generator import TrafficProfile, analytics_config, generate_day
from omnidesk.analytics.realtime import RealtimeProjection
from omnidesk.analytics.sinks import IntervalSink
from omnidesk.db import Database, upgrade
from omnidesk.events.bus import InProcessBus
from omnidesk.tenants.actions import create_tenant
from omnidesk.tenants.schemas import TenantCreate

CHUNK = 100_000
GROUP_BY = ("queue", "agent", "channel")


def label(interactions: int) -> str:
    """1000000 → "1m", 50000 → "50k"."""
    if interactions % 1_000_000 == 0:
        return f"{interactions // 1_000_000}m"
    if interactions % 1_000 == 0:
        return f"{interactions // 1_000}k"
    return str(interactions)


def chunks(profile: TrafficProfile) -> tuple[list[list[Event]], float]:
    """Generate the whole day as chunks of events; returns them and the generation time."""
    started = time.perf_counter()
    stream = generate_day(profile)
    parts = []
    while part := list(itertools.islice(stream, CHUNK)):
        parts.append(part)
    return parts, time.perf_counter() - started


def time_realtime(parts: list[list[Event]], config: AnalyticsConfig) -> tuple[float, float]:
    """Seconds spent in RealtimeProjection.apply, and in one end-of-day snapshot."""
    projection = RealtimeProjection(config)
    apply, spent = projection.apply, 0.0
    for part in parts:
        started = time.perf_counter()
        for event in part:
            apply(event)
        spent += time.perf_counter() - started
    started = time.perf_counter()
    projection.snapshot(parts[-1][-1].occurred_at)
    return spent, time.perf_counter() - started


def time_fold(parts: list[list[Event]], config: AnalyticsConfig) -> tuple[float, int]:
    """Seconds for the historical fold of every event into rows, and the number of rows."""
    sink = IntervalSink("15min", ZoneInfo(config.time_zone), GROUP_BY)
    fold = ContactFold(config, sink)
    started = time.perf_counter()
    for part in parts:
        fold.apply_all(part)
    fold.settle(parts[-1][-1].occurred_at)
    return time.perf_counter() - started, len(sink.rows)


PG_DATABASE = "omnidesk_bench_analytics"


async def _tenant(url: str, time_zone: str) -> uuid.UUID:
    db = Database(url, InProcessBus())
    try:
        async with db.write() as session:
            tenant = await create_tenant(
                session, TenantCreate(slug="bench", name="Bench", timezone=time_zone),
                actor="bench")
            return tenant.id
    finally:
        await db.dispose()


async def _fill(url: str, tenant_id: uuid.UUID, now: object) -> tuple[float, int]:
    from omnidesk.analytics.fill import fill

    db = Database(url, InProcessBus())
    try:
        started = time.perf_counter()
        report = await fill(db, tenant_id, now=now)  # type: ignore[arg-type]
        return time.perf_counter() - started, report.rows
    finally:
        await db.dispose()


def _sqlite_insert(path: Path, tenant_id: uuid.UUID, parts: list[list[Event]]) -> None:
    """Append the day after tenant.created (seq 1), as SQLAlchemy stores it on SQLite."""
    connection = sqlite3.connect(path)
    rows = ((tenant_id.hex, e.seq + 1, e.type, e.subject, "bench", json.dumps(e.payload),
             e.occurred_at.strftime("%Y-%m-%d %H:%M:%S.%f")) for part in parts for e in part)
    with connection:
        connection.executemany("INSERT INTO events (tenant_id, seq, type, subject, actor, "
                               "payload, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        connection.execute("UPDATE tenants SET event_seq = ?", (parts[-1][-1].seq + 1,))
    connection.close()


def fill_sqlite(parts: list[list[Event]], time_zone: str) -> tuple[float, int]:
    """Seconds to fill a fresh SQLite file holding the day, and rows written."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(url)
        tenant_id = asyncio.run(_tenant(url, time_zone))
        _sqlite_insert(path, tenant_id, parts)
        return asyncio.run(_fill(url, tenant_id, parts[-1][-1].occurred_at))


async def _pg_admin(server: str, statement: str) -> None:
    connection = await asyncpg.connect(f"{server.rstrip('/')}/postgres")
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _pg_insert(server: str, tenant_id: uuid.UUID, parts: list[list[Event]],
                     database: str = PG_DATABASE) -> None:
    connection = await asyncpg.connect(f"{server.rstrip('/')}/{database}")
    try:
        for part in parts:
            await connection.copy_records_to_table(
                "events", columns=["tenant_id", "seq", "type", "subject", "actor", "payload",
                                   "occurred_at"],
                records=[(tenant_id, e.seq + 1, e.type, e.subject, "bench",
                          json.dumps(e.payload), e.occurred_at) for e in part])
        await connection.execute("UPDATE tenants SET event_seq = $1", parts[-1][-1].seq + 1)
        await connection.execute("ANALYZE events")
    finally:
        await connection.close()


def fill_postgres(server: str, parts: list[list[Event]], time_zone: str) -> tuple[float, int]:
    """Seconds to fill a fresh PostgreSQL database holding the day, and rows written."""
    asyncio.run(_pg_admin(server, f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)"))
    asyncio.run(_pg_admin(server, f"CREATE DATABASE {PG_DATABASE}"))
    try:
        url = server.rstrip("/").replace("postgresql://", "postgresql+asyncpg://")
        url = f"{url}/{PG_DATABASE}"
        upgrade(url)
        tenant_id = asyncio.run(_tenant(url, time_zone))
        asyncio.run(_pg_insert(server, tenant_id, parts))
        return asyncio.run(_fill(url, tenant_id, parts[-1][-1].occurred_at))
    finally:
        asyncio.run(_pg_admin(server, f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)"))


def main(argv: list[str]) -> None:
    """Run the benchmark and print a table, then the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50,000 interactions")
    parser.add_argument("--interactions", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432",
                        help='PostgreSQL server for the fill ("" to skip)')
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite fill")
    args = parser.parse_args(argv)
    interactions = args.interactions or (50_000 if args.quick else 1_000_000)
    profile = TrafficProfile(interactions=interactions, seed=args.seed)
    config = analytics_config(profile)

    parts, generate_s = chunks(profile)
    events = sum(len(part) for part in parts)
    realtime_s, snapshot_s = time_realtime(parts, config)
    fold_s, rows = time_fold(parts, config)
    sqlite_s, sqlite_rows = (None, 0) if args.no_sqlite else fill_sqlite(parts, profile.time_zone)
    postgres_s, postgres_rows = (fill_postgres(args.postgres, parts, profile.time_zone)
                                 if args.postgres else (None, 0))
    agents = profile.agents_per_queue() * len(profile.queues)
    tag = label(interactions)
    figures = [
        ("interactions", f"{interactions:,}"),
        ("events", f"{events:,}"),
        ("agents", f"{agents:,}"),
        ("generate (not counted)", f"{generate_s:.1f} s"),
        ("real-time projection", f"{events / realtime_s:,.0f} events/s ({realtime_s:.1f} s)"),
        ("end-of-day snapshot", f"{snapshot_s * 1000:.1f} ms"),
        ("historical fold, 15-min rows", f"{fold_s:.1f} s ({events / fold_s:,.0f} events/s)"),
        ("aggregate rows", f"{rows:,}"),
        ("fill, SQLite (15-min rows by queue, agent, channel, disposition, role)",
         "skipped" if sqlite_s is None else f"{sqlite_s:.1f} s ({events / sqlite_s:,.0f} "
         f"events/s; {sqlite_rows:,} row writes)"),
        ("fill, PostgreSQL", "skipped" if postgres_s is None else
         f"{postgres_s:.1f} s ({events / postgres_s:,.0f} events/s; {postgres_rows:,} "
         "row writes)"),
        ("peak RSS", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB"),
    ]
    width = max(len(name) for name, _ in figures)
    print(f"omnidesk analytics benchmark, seed {args.seed}")
    for name, value in figures:
        print(f"  {name:<{width}}  {value}")
    print(
        json.dumps(
            {
                "interactions": interactions,
                "events": events,
                "realtime_events_per_s": round(events / realtime_s),
                "realtime_target_events_per_s": 100_000,
                "snapshot_ms": round(snapshot_s * 1000, 1),
                "fold_s": round(fold_s, 2),
                f"fold_s_{tag}_interactions": round(fold_s, 2),
                "fold_events_per_s": round(events / fold_s),
                "aggregate_rows": rows,
                "fill_s_sqlite": _round(sqlite_s),
                "fill_s_postgres": _round(postgres_s),
                f"fill_s_{tag}_sqlite": _round(sqlite_s),
                f"fill_s_{tag}_postgres": _round(postgres_s),
                "fill_target_s_1m_postgres": 60,
                "generate_s": round(generate_s, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )


def _round(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 2)


if __name__ == "__main__":
    main(sys.argv[1:])
