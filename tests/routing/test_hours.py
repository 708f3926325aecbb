"""Business hours and holidays in the queue's own time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from omnidesk.routing import BusinessHours, OpenWindow


def epoch(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


NEW_YORK = BusinessHours(
    "America/New_York",
    {0: (OpenWindow(time(8), time(12)), OpenWindow(time(13), time(18))),
     5: (OpenWindow(time(22)),)},
    holidays=frozenset({date(2024, 7, 1)}))


def test_open_inside_a_window_in_the_queue_time_zone() -> None:
    assert NEW_YORK.is_open(epoch(2024, 6, 24, 12, 30))  # Monday 08:30 EDT


def test_closed_over_the_lunch_gap_and_before_opening() -> None:
    assert not NEW_YORK.is_open(epoch(2024, 6, 24, 16, 30))  # 12:30 EDT
    assert not NEW_YORK.is_open(epoch(2024, 6, 24, 11, 59))  # 07:59 EDT


def test_window_ending_at_midnight_runs_to_the_end_of_the_day() -> None:
    assert NEW_YORK.is_open(epoch(2024, 6, 30, 3, 59))  # Saturday 23:59 EDT


def test_holiday_closes_the_whole_day() -> None:
    assert not NEW_YORK.is_open(epoch(2024, 7, 1, 14, 0))  # Monday 10:00 EDT, holiday


def test_daylight_saving_time_is_respected() -> None:
    assert NEW_YORK.is_open(epoch(2024, 1, 8, 13, 30))  # Monday 08:30 EST (UTC-5)
    assert not NEW_YORK.is_open(epoch(2024, 1, 8, 12, 30))  # 07:30 EST
