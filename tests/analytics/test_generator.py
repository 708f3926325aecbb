"""The seeded traffic generator."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

from omnidesk.analytics.generator import TrafficProfile, generate_day

PROFILE = TrafficProfile(interactions=300, seed=3)


def test_same_seed_same_day():
    assert list(generate_day(PROFILE)) == list(generate_day(PROFILE))


def test_events_are_in_time_order_with_increasing_seq():
    events = list(generate_day(PROFILE))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert all(a.occurred_at <= b.occurred_at for a, b in pairwise(events))


def test_every_interaction_is_created_once_and_closed_once():
    counts = Counter(e.type for e in generate_day(PROFILE))
    assert counts["interaction.created"] == counts["interaction.closed"] == 300
    assert counts["interaction.connected"] > 0
    assert counts["interaction.abandoned"] > 0
