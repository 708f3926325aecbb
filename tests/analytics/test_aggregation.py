"""Restartable, idempotent aggregation: batches from a checkpoint never double count."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from omnidesk.analytics.aggregation import fold_batch, new_aggregate
from omnidesk.analytics.generator import TrafficProfile, analytics_config, generate_day
from omnidesk.analytics.report import interval_measures

PROFILE = TrafficProfile(interactions=600, seed=11)
GROUP_BY = ("queue", "agent", "channel")


def day_events():
    return list(generate_day(PROFILE))


def test_batches_from_checkpoints_equal_one_pass():
    events, config = day_events(), analytics_config(PROFILE)
    now = events[-1].occurred_at
    one_pass = interval_measures(
        events, config=config, granularity="15min", now=now, group_by=GROUP_BY
    )
    state = new_aggregate(config, "15min", GROUP_BY)
    for start in range(0, len(events), 1000):
        batch = events[start : start + 1000]
        state = fold_batch(state, batch, now=batch[-1].occurred_at)
    assert state.last_seq == events[-1].seq
    assert state.rows == one_pass


def test_rerunning_from_an_old_checkpoint_skips_folded_events():
    events, config = day_events(), analytics_config(PROFILE)
    first, rest = events[:2000], events[2000:]
    checkpoint = fold_batch(new_aggregate(config, "hour"), first, now=first[-1].occurred_at)
    once = fold_batch(checkpoint, rest, now=events[-1].occurred_at)
    # a crashed writer re-sends an overlapping batch: seq ≤ last_seq is skipped
    twice = fold_batch(once, events[1500:], now=events[-1].occurred_at)
    assert twice.rows == once.rows
    assert twice.last_seq == once.last_seq


def test_fold_batch_leaves_the_previous_state_untouched():
    events, config = day_events(), analytics_config(PROFILE)
    empty = new_aggregate(config, "day")
    fold_batch(empty, events[:500], now=events[499].occurred_at)
    assert empty.rows == {}
    assert empty.last_seq == 0


SMALL = TrafficProfile(interactions=150, seed=19)
SMALL_EVENTS = list(generate_day(SMALL))
SMALL_CONFIG = analytics_config(SMALL)


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(0, len(SMALL_EVENTS)), max_size=6), replay=st.integers(0, 200))
def test_any_batching_with_replays_equals_one_pass(cuts, replay):
    """Wherever the batches are cut, and however much of the previous batch is re-sent."""
    now = SMALL_EVENTS[-1].occurred_at
    expected = interval_measures(
        SMALL_EVENTS, config=SMALL_CONFIG, granularity="hour", now=now, group_by=GROUP_BY
    )
    state = new_aggregate(SMALL_CONFIG, "hour", GROUP_BY)
    bounds = [0, *sorted(cuts), len(SMALL_EVENTS)]
    for start, end in itertools.pairwise(bounds):
        batch = SMALL_EVENTS[max(0, start - replay) : end]
        if batch:
            state = fold_batch(state, batch, now=batch[-1].occurred_at)
    assert state.rows == expected
