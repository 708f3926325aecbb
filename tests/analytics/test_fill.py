"""The database fill: restartable, idempotent, and equal to the pure fold of the same events."""

from __future__ import annotations

import gc
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from omnidesk.analytics.config import LOAD_SCALE
from omnidesk.analytics.events import Event
from omnidesk.analytics.fill import (
    COLUMNS,
    FillCache,
    FillConflict,
    StoredEdge,
    _write_batch,
    fill,
    load_state,
)
from omnidesk.analytics.generator import TrafficProfile, generate_day
from omnidesk.analytics.measures import Measures
from omnidesk.analytics.models import KEY_DIMENSIONS, MEASURE_FIELDS, PendingFcr
from omnidesk.analytics.report import interval_measures
from omnidesk.analytics.reports import Period, stored_measures
from omnidesk.analytics.settings import load_config
from omnidesk.analytics.sinks import stored_values
from omnidesk.db import Database
from tests.analytics.conftest import Log
from tests.analytics.seeding import store_events
from tests.conftest import make_tenant

PROFILE = TrafficProfile(interactions=300, seed=5, time_zone="UTC")
EVERYTHING = Period(datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC")),
                    datetime(2100, 1, 1, tzinfo=ZoneInfo("UTC")))


def day() -> list[Event]:
    """A small generated day (events renumbered from 1 as the stored log numbers them)."""
    return list(generate_day(PROFILE))


async def stored(db: Database, tenant_id: uuid.UUID) -> dict[tuple[object, ...], Measures]:
    """Every stored 15-minute row of the tenant, keyed (interval, *KEY_DIMENSIONS)."""
    async with db.read() as session:
        return await stored_measures(session, tenant_id, EVERYTHING, group_by=KEY_DIMENSIONS,
                                     granularity="15min")


async def pending_fcr(db: Database, tenant_id: uuid.UUID) -> list[tuple[object, ...]]:
    """The stored pending FCR closures."""
    async with db.read() as session:
        rows = (await session.scalars(select(PendingFcr).where(
            PendingFcr.tenant_id == tenant_id).order_by(PendingFcr.seq))).all()
    return [(r.seq, r.customer_id, r.closed_at, tuple(r.dims), r.contacted_again) for r in rows]


async def seeded(db: Database, slug: str, events: list[Event]) -> uuid.UUID:
    """A tenant whose event log holds `events` (seq 2.. after tenant.created)."""
    tenant_id = await make_tenant(db, slug)
    await store_events(db, tenant_id, events)
    return tenant_id


def non_empty(rows: dict[tuple[object, ...], Measures]) -> dict[tuple[object, ...], Measures]:
    """Rows with at least one non-zero measure (the fill does not store empty rows)."""
    return {key: m for key, m in rows.items() if m != Measures()}


async def test_one_fill_stores_exactly_the_pure_folds_rows(db: Database) -> None:
    events = day()
    tenant_id = await seeded(db, "acme", events)
    now = events[-1].occurred_at + timedelta(days=8)  # every FCR window has passed
    report = await fill(db, tenant_id, now=now)
    async with db.read() as session:
        config, _ = await load_config(session, tenant_id)
    renumbered = [Event(e.seq + 1, e.type, e.subject, e.occurred_at, e.payload) for e in events]
    expected = interval_measures(renumbered, config=config, granularity="15min", now=now,
                                 group_by=KEY_DIMENSIONS)
    assert report.caught_up and report.last_seq == len(events) + 1
    rows = await stored(db, tenant_id)
    assert rows == non_empty(expected)
    assert sum(m.fcr_resolved_closed for m in rows.values()) > 0
    assert sum(m.csat_answers + m.nps_answers for m in rows.values()) > 0


async def test_a_crash_between_batches_neither_loses_nor_double_counts(db: Database) -> None:
    events = day()
    now = events[-1].occurred_at + timedelta(days=8)
    whole = await seeded(db, "whole", events)
    split = await seeded(db, "split", events)
    await fill(db, whole, now=now, batch_events=700)
    first = await fill(db, split, now=now, batch_events=700, max_batches=2)  # then "killed"
    assert not first.caught_up and first.batches == 2
    assert await pending_fcr(db, split)  # closures in their window survive the crash
    await fill(db, split, now=now, batch_events=500)  # a new process: fresh fold state
    assert await stored(db, split) == await stored(db, whole)
    assert await pending_fcr(db, split) == await pending_fcr(db, whole)


async def test_rerunning_the_fill_changes_nothing(db: Database) -> None:
    events = day()
    tenant_id = await seeded(db, "acme", events)
    now = events[-1].occurred_at + timedelta(hours=1)
    await fill(db, tenant_id, now=now)
    before = await stored(db, tenant_id)
    again = await fill(db, tenant_id, now=now)
    assert again.events == 0
    assert await stored(db, tenant_id) == before


async def test_fcr_flags_and_surveys_cross_fills(db: Database) -> None:
    log = (Log()
           .add(0, "interaction.created", "i1", channel="chat", customer_id="c1")
           .add(1, "interaction.queued", "i1", queue_id="q")
           .add(4, "interaction.connected", "i1", agent_id="a", queue_id="q")
           .add(60, "interaction.closed", "i1", agent_id="a", resolved=True, disposition="ok")
           .add(90, "interaction.created", "i2", channel="voice", customer_id="c2")
           .add(91, "interaction.queued", "i2", queue_id="q")
           .add(99, "interaction.abandoned", "i2", queue_id="q")
           .add(3600, "survey.answered", "s1", interaction_id="i1", kind="csat", score=5)
           .add(3700, "survey.answered", "s2", interaction_id="i2", kind="nps", score=3)
           .add(86_400, "interaction.created", "i3", channel="email", customer_id="c1"))
    events = log.sorted()
    now = log.at(9 * 86_400)
    whole = await seeded(db, "whole", events)
    split = await seeded(db, "split", events)
    await fill(db, whole, now=now)
    for _ in range(len(events) + 1):  # one event per process (tenant.created first)
        await fill(db, split, batch_events=1, max_batches=1, now=now)
    await fill(db, split, now=now)  # caught up: settled as of now
    rows = await stored(db, split)
    assert rows == await stored(db, whole)
    totals = Measures()
    for m in rows.values():
        totals.fcr_resolved_closed += m.fcr_resolved_closed
        totals.fcr_first_contact += m.fcr_first_contact
        totals.csat_answers += m.csat_answers
        totals.nps_answers += m.nps_answers
    assert (totals.fcr_resolved_closed, totals.fcr_first_contact) == (1, 0)  # i3 came back
    survey_rows = {key[1:3]: m for key, m in rows.items() if m.csat_answers or m.nps_answers}
    assert survey_rows[("q", "a")].csat_answers == 1  # the survey kept the handling's dims
    assert survey_rows[("q", None)].nps_answers == 1


async def test_a_second_process_cannot_count_the_same_batch(db: Database) -> None:
    events = day()[:200]
    tenant_id = await seeded(db, "acme", events)
    late = await load_state(db, tenant_id)
    await fill(db, tenant_id, now=events[-1].occurred_at)
    late.fold.apply_all(events)
    with pytest.raises(FillConflict):
        await _write_batch(db, late, 0, events[-1].occurred_at)


async def test_the_cache_reuses_the_fold_only_while_the_checkpoint_agrees(db: Database) -> None:
    events = day()
    tenant_id = await seeded(db, "acme", events)
    cache = FillCache()
    now = events[-1].occurred_at + timedelta(hours=1)
    await fill(db, tenant_id, now=now, batch_events=1000, max_batches=1, cache=cache)
    kept = cache.states[tenant_id]
    await fill(db, tenant_id, now=now, cache=cache)
    assert cache.states[tenant_id] is kept
    other = await seeded(db, "other", events)
    await fill(db, other, now=now)
    assert await stored(db, tenant_id) == await stored(db, other)


async def test_events_the_fold_ignores_still_move_the_checkpoint(db: Database) -> None:
    log = (Log()
           .add(0, "interaction.created", "i1", channel="chat", customer_id="c1")
           .add(1, "interaction.queued", "i1", queue_id="q")
           .add(2, "offer.created", "o1", interaction_id="i1", agent_id="a")
           .add(3, "offer.accepted", "o1", interaction_id="i1", agent_id="a"))
    events = log.sorted()
    tenant_id = await seeded(db, "acme", events)
    first = await fill(db, tenant_id, now=log.at(10))
    assert first.caught_up and first.last_seq == len(events) + 1
    again = await fill(db, tenant_id, now=log.at(10))
    assert (again.events, again.last_seq) == (0, len(events) + 1)


async def test_the_collector_is_paused_only_while_a_fill_runs(db: Database) -> None:
    events = day()[:300]
    tenant_id = await seeded(db, "acme", events)
    assert gc.isenabled()
    await fill(db, tenant_id, now=events[-1].occurred_at, batch_events=100)
    assert gc.isenabled()


async def test_what_a_fill_keeps_goes_to_the_oldest_generation_not_to_the_young_one(
        db: Database) -> None:
    events = day()[:300]
    tenant_id = await seeded(db, "acme", events)
    cache = FillCache()
    await fill(db, tenant_id, now=events[-1].occurred_at, batch_events=100, cache=cache)
    state = cache.states[tenant_id]
    oldest = {id(thing) for thing in gc.get_objects(generation=2)}
    assert id(state) in oldest and id(state.fold.records) in oldest
    assert gc.get_freeze_count() == 0


def test_rows_past_the_stored_edge_are_inserted_and_the_others_added() -> None:
    tenant = uuid.uuid4()
    nine, quarter_past = (datetime(2026, 3, 2, 9, minute, tzinfo=ZoneInfo("UTC"))
                          for minute in (0, 15))

    def row(at: datetime, queue: str) -> tuple[object, ...]:
        return (tenant, at, queue, "", "voice", "", "", 1)

    edge = StoredEdge()
    assert edge.split([row(nine, "a"), row(quarter_past, "a")]) == (
        [row(nine, "a"), row(quarter_past, "a")], [])
    # 9:15 is now the edge, holding queue a: a is added to, b is new; 9:00 may be stored.
    new, others = edge.split([row(nine, "b"), row(quarter_past, "a"), row(quarter_past, "b")])
    assert new == [row(quarter_past, "b")]
    assert others == [row(nine, "b"), row(quarter_past, "a")]
    assert (edge.interval, edge.keys) == (quarter_past, {row(quarter_past, q)[:7] for q in "ab"})


def test_stored_values_follow_the_tables_columns() -> None:
    interval = datetime(2026, 3, 1, 9, 15, tzinfo=ZoneInfo("UTC"))
    m = Measures()
    for number, name in enumerate(MEASURE_FIELDS, start=1):
        setattr(m, name, number)
    m.callbacks = 0
    m.weighted_busy_units_us = 3 * LOAD_SCALE
    tenant_id = uuid.uuid4()
    rows = {(interval, "sales", None, "chat", None, "agent"): m,
            (interval, "support", None, "chat", None, "agent"): Measures()}
    [values] = stored_values(tenant_id, rows)
    by_column = dict(zip(COLUMNS, values, strict=True))
    assert by_column == {
        "tenant_id": tenant_id, "interval_start": interval, "queue": "sales", "agent": "",
        "channel": "chat", "disposition": "", "role": "agent",
        **{name: getattr(m, name) for name in MEASURE_FIELDS}, "callbacks": None,  # zero
        "weighted_busy_load_us": 3, "weighted_busy_rem": None}
