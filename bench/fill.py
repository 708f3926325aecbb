"""Fill benchmark: the PostgreSQL fill of one stored day, run again and again, with CPU shares.

Run alone:  .venv/bin/python bench/fill.py                (1,000,000 interactions, 2 runs)
            .venv/bin/python bench/fill.py --quick        (50,000 interactions)
            --runs 3   --postgres postgresql://postgres@127.0.0.1:5432   --drop

The generated day (bench/analytics.py's generator, seed 1) is stored once in a database named
for its size, omnidesk_fillbench_<N>, and kept for the next run (storing 1M interactions takes
minutes; --drop removes it at the end). Each run empties the analytics tables, then times
`fill()` from an empty checkpoint and reports the wall time, the CPU time of this process and
of every PostgreSQL process (from /proc, so the server must run on this machine) and an md5 of
the stored rows (NULL read as 0), which must be the same in every run and every version.

To compare two versions, run them alternately on the same stored day, the older one with
`PYTHONPATH=/path/to/older/checkout/src .venv/bin/python bench/fill.py` (store the day with
the newer one: its schema is the one both write into; before migration 0008 a version writes
zeros where the newer writes NULLs, and the md5 reads both as 0). The machine's speed wanders
by up to 30 % within an hour, so only alternate runs compare. The last line printed is one
JSON object with units in its keys.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

import asyncpg

from analytics import _pg_admin, _pg_insert, _tenant, chunks  # bench/analytics.py, beside this file
from omnidesk.analytics.fill import fill
from omnidesk.analytics.generator import TrafficProfile
from omnidesk.db import Database, upgrade
from omnidesk.events.bus import InProcessBus

ANALYTICS_TABLES = "analytics_intervals, analytics_pending_fcr, analytics_fill_checkpoints"
ROW_ORDER = "tenant_id, interval_start, queue, agent, channel, disposition, role"


def postgres_cpu_s() -> float:
    """CPU seconds of every PostgreSQL process, including backends that have exited."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if comm == "postgres":
            # utime + stime, and for the postmaster its waited-for children's (ended backends)
            total += sum(int(value) for value in fields[11:15])
    return total / tick


async def _exists(server: str, database: str) -> bool:
    connection = await asyncpg.connect(f"{server}/postgres")
    try:
        return bool(await connection.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", database))
    finally:
        await connection.close()


async def _emptied_day(server: str, database: str) -> tuple[uuid.UUID, datetime]:
    """Empty the stored day's analytics tables; its tenant and its last event's time."""
    connection = await asyncpg.connect(f"{server}/{database}")
    try:
        tenant_id = await connection.fetchval("SELECT id FROM tenants WHERE slug = 'bench'")
        last = await connection.fetchval(  # the day's last event (seq 1 is tenant.created)
            "SELECT occurred_at FROM events WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1",
            tenant_id)
        await connection.execute(f"TRUNCATE {ANALYTICS_TABLES}")
        await connection.execute("VACUUM ANALYZE analytics_intervals")
        await connection.execute("CHECKPOINT")
        return tenant_id, last
    finally:
        await connection.close()


def store_day(server: str, database: str, interactions: int) -> None:
    """Create the database and store the generated day in it (not timed)."""
    profile = TrafficProfile(interactions=interactions, seed=1)
    parts, _ = chunks(profile)
    asyncio.run(_pg_admin(server, f"CREATE DATABASE {database}"))
    url = f"{server.replace('postgresql://', 'postgresql+asyncpg://')}/{database}"
    upgrade(url)
    tenant_id = asyncio.run(_tenant(url, profile.time_zone))
    asyncio.run(_pg_insert(server, tenant_id, parts, database=database))


async def _digest(server: str, database: str) -> str:
    connection = await asyncpg.connect(f"{server}/{database}")
    try:
        rows = await connection.fetch(f"SELECT * FROM analytics_intervals ORDER BY {ROW_ORDER}")
    finally:
        await connection.close()
    digest = hashlib.md5(usedforsecurity=False)
    for row in rows:
        digest.update(repr(tuple(0 if value is None else value for value in row)).encode())
    return digest.hexdigest()


async def _fill(url: str, tenant_id: uuid.UUID, now: datetime) -> int:
    db = Database(url, InProcessBus())
    try:
        return (await fill(db, tenant_id, now=now)).rows
    finally:
        await db.dispose()


def one_run(server: str, database: str) -> dict[str, float | int | str]:
    """Empty the analytics tables, then time one fill of the stored day."""
    tenant_id, last = asyncio.run(_emptied_day(server, database))
    url = f"{server.replace('postgresql://', 'postgresql+asyncpg://')}/{database}"
    postgres_before, cpu_before = postgres_cpu_s(), time.process_time()
    started = time.perf_counter()
    rows = asyncio.run(_fill(url, tenant_id, last))
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    time.sleep(0.5)  # let the backends' last accounting land
    postgres = postgres_cpu_s() - postgres_before
    return {"fill_s": round(wall, 1), "fill_cpu_s": round(cpu, 1),
            "postgres_cpu_s": round(postgres, 1), "row_writes": rows,
            "rows_md5": asyncio.run(_digest(server, database))}


def main(argv: list[str]) -> None:
    """Store the day if needed, run the fills, print a line each, then the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50,000 interactions")
    parser.add_argument("--interactions", type=int, default=None)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default=None, help="default omnidesk_fillbench_<N>")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    args = parser.parse_args(argv)
    interactions = args.interactions or (50_000 if args.quick else 1_000_000)
    server = args.postgres.rstrip("/")
    database = args.database or f"omnidesk_fillbench_{interactions}"
    if not asyncio.run(_exists(server, database)):
        print(f"storing {interactions:,} interactions in {database} (once; not timed)")
        store_day(server, database, interactions)
    runs = []
    for number in range(1, args.runs + 1):
        runs.append(one_run(server, database))
        print(f"run {number}: " + ", ".join(f"{key} {value}" for key, value in runs[-1].items()))
    if args.drop:
        asyncio.run(_pg_admin(server, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
    walls = [run["fill_s"] for run in runs]
    print(json.dumps({
        "interactions": interactions, "runs": len(runs),
        "fill_s_min": min(walls), "fill_s_median": statistics.median(walls),
        "fill_cpu_s_median": statistics.median(run["fill_cpu_s"] for run in runs),
        "postgres_cpu_s_median": statistics.median(run["postgres_cpu_s"] for run in runs),
        "fill_target_s_1m_postgres": 60,
        "rows_identical": len({run["rows_md5"] for run in runs}) == 1,
    }))


if __name__ == "__main__":
    main(sys.argv[1:])
