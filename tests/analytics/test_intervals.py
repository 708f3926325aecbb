"""Intervals in the tenant's zone: period semantics, splitting, DST days."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from omnidesk.analytics.config import AnalyticsConfig
from omnidesk.analytics.intervals import IntervalClock, interval_start, next_interval_start
from omnidesk.analytics.report import interval_measures

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_contact_spanning_two_intervals_counts_by_its_defining_events(log_at):
    """Queued 09:14:50, answered 09:15:10: offered in 09:00, handled (ASA 20 s) in 09:15."""
    log = log_at(utc(2026, 5, 4, 9, 14, 50))
    log.add(0, "interaction.queued", "c1", queue_id="q1")
    log.add(20, "interaction.connected", "c1", agent_id="a1", queue_id="q1")
    rows = interval_measures(
        log.sorted(), config=AnalyticsConfig(), granularity="15min", now=log.at(60)
    )
    first, second = rows[(utc(2026, 5, 4, 9, 0),)], rows[(utc(2026, 5, 4, 9, 15),)]
    assert (first.offered, first.handled) == (1, 0)
    assert (second.offered, second.handled, second.answer_time_us) == (0, 1, 20_000_000)


def test_agent_time_is_split_at_interval_boundaries(log_at):
    # logged in 09:10–09:20: 300 s in the 09:00 interval, 300 s in the 09:15 one
    log = log_at(utc(2026, 5, 4, 9, 10))
    log.add(0, "agent.logged_in", "a1")
    log.add(600, "agent.logged_out", "a1")
    rows = interval_measures(
        log.sorted(), config=AnalyticsConfig(), granularity="15min", now=log.at(600)
    )
    assert rows[(utc(2026, 5, 4, 9, 0),)].logged_in_us == 300_000_000
    assert rows[(utc(2026, 5, 4, 9, 15),)].logged_in_us == 300_000_000


def test_spring_forward_day_in_paris_is_23_hours():
    start = interval_start(utc(2026, 3, 29, 12), "day", PARIS)
    assert start == utc(2026, 3, 28, 23)
    assert next_interval_start(start, "day", PARIS) - start == timedelta(hours=23)


def test_spring_forward_hours_in_paris_skip_the_missing_hour():
    # local 01:00 CET = 00:00Z; next local hour is 03:00 CEST = 01:00Z
    one_am = interval_start(utc(2026, 3, 29, 0, 30), "hour", PARIS)
    assert one_am == utc(2026, 3, 29, 0)
    assert next_interval_start(one_am, "hour", PARIS) == utc(2026, 3, 29, 1)


def test_fall_back_day_in_new_york_is_25_hours_with_two_1am_hours():
    start = interval_start(utc(2026, 11, 1, 12), "day", NEW_YORK)
    assert start == utc(2026, 11, 1, 4)
    assert next_interval_start(start, "day", NEW_YORK) - start == timedelta(hours=25)
    # 01:30 EDT (05:30Z) and 01:30 EST (06:30Z) fall in different hours
    assert interval_start(utc(2026, 11, 1, 5, 30), "hour", NEW_YORK) == utc(2026, 11, 1, 5)
    assert interval_start(utc(2026, 11, 1, 6, 30), "hour", NEW_YORK) == utc(2026, 11, 1, 6)


def test_daily_and_hourly_rows_on_a_dst_day_follow_local_time(log_at):
    """Paris, 2026-03-29 (02:00 → 03:00). Offsets from local midnight = 23:00Z on the 28th.
    A call queued 23:50 local on the 28th (−600 s), answered 00:10 (600 s), closed 00:11:
    offered on the 28th, handled on the 29th. Agent logged in 00:05 (300 s) until
    04:30 CEST = 02:30Z (12600 s): 12300 s logged in, though the wall clock says 4 h 25."""
    log = log_at(utc(2026, 3, 28, 23))
    log.add(-600, "interaction.queued", "c1", queue_id="q1")
    log.add(300, "agent.logged_in", "a1")
    log.add(600, "interaction.connected", "c1", agent_id="a1", queue_id="q1")
    log.add(660, "interaction.closed", "c1", agent_id="a1", resolved=True)
    log.add(12600, "agent.logged_out", "a1")
    config = AnalyticsConfig(time_zone="Europe/Paris")
    days = interval_measures(log.sorted(), config=config, granularity="day", now=log.at(12600))
    march_28, march_29 = days[(utc(2026, 3, 27, 23),)], days[(utc(2026, 3, 28, 23),)]
    assert (march_28.offered, march_28.handled) == (1, 0)
    assert (march_29.offered, march_29.handled) == (0, 1)
    assert march_29.logged_in_us == 12300 * 1_000_000
    hours = interval_measures(log.sorted(), config=config, granularity="hour", now=log.at(12600))
    logged = {key[0]: m.logged_in_us // 1_000_000 for key, m in hours.items() if m.logged_in_us}
    # local 00:05–01:00, 01:00–02:00 (CET), 03:00–04:00, 04:00–04:30 (CEST)
    assert logged == {
        utc(2026, 3, 28, 23): 3300,
        utc(2026, 3, 29, 0): 3600,
        utc(2026, 3, 29, 1): 3600,
        utc(2026, 3, 29, 2): 1800,
    }


def test_the_interval_clock_is_exact_in_any_order_and_any_zone_offset():
    """The clock's memo (by 15-minute UTC block) never answers for an instant outside it:
    Amsterdam in 1930 was UTC+00:19:32, so its hours do not start on UTC quarter hours."""
    generator = random.Random(7)
    for zone_name, start in (("Europe/Amsterdam", utc(1930, 3, 1)), ("Asia/Kathmandu",
                                                                     utc(2026, 3, 1)),
                             ("Europe/Paris", utc(2026, 3, 28))):
        zone = ZoneInfo(zone_name)
        for granularity in ("15min", "hour", "day"):
            clock = IntervalClock(granularity, zone)
            for _ in range(2_000):
                at = start + timedelta(seconds=generator.randrange(3 * 86_400),
                                       microseconds=generator.randrange(1_000_000))
                first = interval_start(at, granularity, zone)
                assert clock.bounds(at) == (first, next_interval_start(first, granularity, zone))
                assert clock.start_of(at) == first
