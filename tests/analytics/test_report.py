"""Report helpers: contact records, KPI tables and CSV, the rolling outbound window."""

from __future__ import annotations

import uuid
from datetime import timedelta
from fractions import Fraction

import pytest

from omnidesk.analytics.config import AnalyticsConfig, CostModel, QueueSettings
from omnidesk.analytics.report import (
    contact_records,
    kpi_rows,
    outbound_abandonment_last_30_days,
    period_measures,
    to_csv,
)
from omnidesk.events.record import EventRecord


def test_contact_record_has_segments_and_durations(log):
    log.add(
        0, "interaction.created", "c1", channel="voice", direction="inbound", customer_id="cust-1"
    )
    log.add(0, "interaction.queued", "c1", queue_id="q1")
    log.add(12, "interaction.connected", "c1", agent_id="a1", queue_id="q1")
    log.add(40, "interaction.held", "c1", agent_id="a1")
    log.add(50, "interaction.resumed", "c1", agent_id="a1")
    log.add(100, "interaction.wrap_up_started", "c1", agent_id="a1")
    log.add(130, "interaction.closed", "c1", agent_id="a1", resolved=True, disposition="sale")
    record = contact_records(log.sorted())["c1"]
    (queue,) = record.queue_segments
    (agent,) = record.agent_segments
    assert (queue.queue_id, queue.outcome, queue.left_at) == ("q1", "answered", log.at(12))
    # talk 12 → 100 less 10 s hold = 78 s; ACW 30 s
    assert (agent.talk_us(), agent.hold_us, agent.acw_us()) == (78_000_000, 10_000_000, 30_000_000)
    assert (record.customer_id, record.resolved, record.disposition) == ("cust-1", True, "sale")


def test_kpi_rows_use_each_queues_service_level_variant(log):
    config = AnalyticsConfig(queues={"q2": QueueSettings(service_level_variant="connect")})
    for queue in ("q1", "q2"):
        log.add(0, "interaction.queued", f"{queue}-c", queue_id=queue)
        log.add(5, "interaction.abandoned", f"{queue}-c", queue_id=queue)
    events = log.sorted()
    rows = period_measures(
        events, config=config, start=log.at(0), end=log.at(60), now=log.at(60), group_by=("queue",)
    )
    table = kpi_rows(rows, config=config, cost_model=CostModel(), columns=("queue",))
    by_queue = {row["queue"]: row for row in table}
    # a short abandon only: default SL has an empty denominator; connect: left within X = 100 %
    assert by_queue["q1"]["service_level_pct"] is None
    assert by_queue["q2"]["service_level_pct"] == 100


def test_csv_renders_fractions_as_decimals_and_none_as_empty():
    text = to_csv([{"queue": "q1", "asa_s": Fraction(1, 3), "aht_s": None}])
    assert text == "queue,asa_s,aht_s\nq1,0.333333,\n"


def test_outbound_abandonment_over_the_rolling_30_days(log):
    """o-old (abandoned) ended 31 days before now: outside. o1 in time, o2 abandoned: 50 %."""
    for contact, day, delay in (("o-old", 0, 5), ("o1", 20, 1), ("o2", 25, 3)):
        at = day * 86_400
        log.add(
            at,
            "interaction.created",
            contact,
            channel="voice",
            direction="outbound",
            campaign_id="renewals",
        )
        log.add(at + 10, "interaction.answered", contact, answered_by="human")
        log.add(at + 10 + delay, "interaction.connected", contact, agent_id="a1", queue_id="out")
    now = log.at(0) + timedelta(days=31, seconds=30)
    rates = outbound_abandonment_last_30_days(log.sorted(), config=AnalyticsConfig(), now=now)
    assert rates == {"renewals": 50}


def test_unknown_dimension_is_a_clear_error(log):
    with pytest.raises(ValueError, match="unknown dimensions"):
        period_measures(
            [],
            config=AnalyticsConfig(),
            start=log.at(0),
            end=log.at(1),
            now=log.at(1),
            group_by=("colour",),
        )


def test_capacity_that_cannot_be_exact_is_rejected():
    with pytest.raises(ValueError, match="channel_capacity"):
        AnalyticsConfig(channel_capacity={"chat": 17})


def test_the_event_bus_record_can_be_folded_directly(log):
    """The lead's EventRecord (bus / WebSocket form) satisfies EventLike as it is."""
    tenant = uuid.uuid4()
    events = [
        EventRecord(tenant, 1, "interaction.queued", "c1", {"queue_id": "q1"}, log.at(0), "x"),
        EventRecord(
            tenant,
            2,
            "interaction.connected",
            "c1",
            {"agent_id": "a1", "queue_id": "q1"},
            log.at(8),
            "x",
        ),
    ]
    rows = period_measures(
        events, config=AnalyticsConfig(), start=log.at(0), end=log.at(60), now=log.at(60)
    )
    assert (rows[()].handled, rows[()].answer_time_us) == (1, 8_000_000)
