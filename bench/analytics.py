"""Analytics benchmark: real-time projection throughput and the historical fold of a day.

Run alone:  .venv/bin/python bench/analytics.py            (1,000,000 interactions)
            .venv/bin/python bench/analytics.py --quick    (50,000 interactions)

Events come from the seeded generator in chunks; each chunk is timed separately through
(a) the real-time projection and (b) the pure historical fold into 15-minute rows by
queue, agent and channel, so generation time is never counted. The last line printed is
one JSON object with units in its keys.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import sys
import time
from zoneinfo import ZoneInfo

from omnidesk.analytics.config import AnalyticsConfig
from omnidesk.analytics.events import Event
from omnidesk.analytics.fold import ContactFold
from omnidesk.analytics.generator import TrafficProfile, analytics_config, generate_day
from omnidesk.analytics.realtime import RealtimeProjection
from omnidesk.analytics.sinks import IntervalSink

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


def main(argv: list[str]) -> None:
    """Run the benchmark and print a table, then the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50,000 interactions")
    parser.add_argument("--interactions", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    interactions = args.interactions or (50_000 if args.quick else 1_000_000)
    profile = TrafficProfile(interactions=interactions, seed=args.seed)
    config = analytics_config(profile)

    parts, generate_s = chunks(profile)
    events = sum(len(part) for part in parts)
    realtime_s, snapshot_s = time_realtime(parts, config)
    fold_s, rows = time_fold(parts, config)
    # Database fill (SQLite / PostgreSQL) of the folded rows: not measured yet — omnidesk
    # has no persistence layer for analytics. The lead adds it here, timing the write of
    # `rows` aggregate rows plus the checkpoint (last seq) on both databases.
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
        ("database fill", "not measured (no persistence layer yet)"),
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
                "generate_s": round(generate_s, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
