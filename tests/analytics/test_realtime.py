"""The real-time projection: live queue state, sliding window, and today == historical."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from omnidesk.analytics.config import AnalyticsConfig, CostModel
from omnidesk.analytics.generator import TrafficProfile, analytics_config, generate_day
from omnidesk.analytics.intervals import interval_start, next_interval_start
from omnidesk.analytics.kpis import all_kpis
from omnidesk.analytics.realtime import RealtimeProjection, estimated_wait_s
from omnidesk.analytics.report import period_measures

COSTS = CostModel(
    agent_hour_by_role={"agent": Fraction(25), "senior": Fraction(40)},
    voice_minute=Fraction(1, 100),
    sms=Fraction(4, 100),
    fixed_per_period=Fraction(500),
)


def projection_of(log, config=None):
    projection = RealtimeProjection(config or AnalyticsConfig())
    for event in log.sorted():
        projection.apply(event)
    return projection


def test_waiting_and_longest_wait(log):
    log.add(0, "interaction.queued", "c1", queue_id="q1")
    log.add(10, "interaction.queued", "c2", queue_id="q1")
    log.add(15, "interaction.queued", "c3", queue_id="q2")
    rt = projection_of(log)
    tenant = rt.snapshot(log.at(40))["tenant"]
    assert (tenant["waiting"], tenant["longest_wait_s"]) == (3, 40.0)
    log.add(30, "interaction.connected", "c1", agent_id="a1", queue_id="q1")
    queues = projection_of(log).snapshot(log.at(40))["queues"]
    # c1 left: the oldest waiting in q1 is now c2, queued at 10 s
    assert (queues["q1"]["waiting"], queues["q1"]["longest_wait_s"]) == (1, 30.0)
    assert (queues["q2"]["waiting"], queues["q2"]["longest_wait_s"]) == (1, 25.0)


def test_service_level_last_30_minutes_slides(log):
    # c1 answered at 0 s after 100 s (missed X); c2 answered at 40 min after 5 s (within X)
    log.add(-100, "interaction.queued", "c1", queue_id="q1")
    log.add(0, "interaction.connected", "c1", agent_id="a1", queue_id="q1")
    log.add(2395, "interaction.queued", "c2", queue_id="q1")
    log.add(2400, "interaction.connected", "c2", agent_id="a2", queue_id="q1")
    queue = projection_of(log).snapshot(log.at(2700))["queues"]["q1"]
    assert queue["service_level_today_pct"] == 50.0
    assert queue["service_level_30min_pct"] == 100.0
    assert (queue["service_level_goal_pct"], queue["service_level_threshold_s"]) == (80, 20)


def test_agents_by_state_occupancy_now_and_time_in_state(log):
    config = AnalyticsConfig(queue_agents={"q1": frozenset({"a1", "a2", "a3"})})
    log.add(0, "agent.logged_in", "a1")
    log.add(0, "agent.logged_in", "a2")
    log.add(0, "agent.logged_in", "a3")
    log.add(60, "agent.state_changed", "a3", state="break")
    log.add(100, "interaction.connected", "c1", agent_id="a1", queue_id="q1")
    snapshot = projection_of(log, config).snapshot(log.at(160))
    queue, agents = snapshot["queues"]["q1"], snapshot["agents"]
    assert queue["agents_by_state"] == {"available": 2, "break": 1}
    # a1 busy, a2 idle available: 50 % right now
    assert queue["occupancy_now_pct"] == 50.0
    assert agents["a3"]["state"] == "break"
    assert agents["a3"]["time_in_state_s"] == 100.0
    assert agents["a1"]["contacts_now"] == 1


def test_estimated_wait_formula():
    # position 4, no idle agent, 2 staffed, recent AHT 90 s → 4 × 90 / 2 = 180 s
    assert estimated_wait_s(4, 0, 2, Fraction(90)) == 180
    # an idle agent takes the next contact at once
    assert estimated_wait_s(1, 1, 2, Fraction(90)) == 0
    assert estimated_wait_s(1, 0, 0, Fraction(90)) is None
    assert estimated_wait_s(1, 0, 2, None) is None


def test_estimated_wait_uses_recent_handle_times_and_staffing(log):
    """a1 handled 120 s, a2 60 s (mean 90 s); both busy again; 3 waiting → new arrival 4th:
    4 × 90 / 2 staffed = 180 s."""
    config = AnalyticsConfig(queue_agents={"q1": frozenset({"a1", "a2"})})
    log.add(0, "agent.logged_in", "a1")
    log.add(0, "agent.logged_in", "a2")
    for contact, agent, end in (("h1", "a1", 120), ("h2", "a2", 60)):
        log.add(0, "interaction.connected", contact, agent_id=agent, queue_id="q1")
        log.add(end, "interaction.closed", contact, agent_id=agent, resolved=True)
    log.add(200, "interaction.connected", "b1", agent_id="a1", queue_id="q1")
    log.add(200, "interaction.connected", "b2", agent_id="a2", queue_id="q1")
    for contact in ("w1", "w2", "w3"):
        log.add(210, "interaction.queued", contact, queue_id="q1")
    assert (
        projection_of(log, config).snapshot(log.at(220))["queues"]["q1"]["estimated_wait_s"]
        == 180.0
    )


def test_new_local_day_starts_from_zero(log_at):
    log = log_at(datetime(2026, 5, 4, 21, 50, tzinfo=UTC))  # 23:50 in Paris
    config = AnalyticsConfig(time_zone="Europe/Paris")
    log.add(0, "agent.logged_in", "a1")
    log.add(0, "interaction.queued", "c1", queue_id="q1")
    log.add(5, "interaction.connected", "c1", agent_id="a1", queue_id="q1")
    log.add(20 * 60, "interaction.queued", "c2", queue_id="q1")  # 00:10 on the 5th
    rt = projection_of(log, config)
    today = rt.today_measures(log.at(30 * 60))
    assert (today.tenant.offered, today.tenant.handled) == (1, 0)
    # the agent's time today starts at local midnight: 00:00 → 00:20
    assert today.tenant.logged_in_us == 20 * 60 * 1_000_000


@pytest.mark.parametrize("seed", [5, 23])
def test_end_of_day_realtime_equals_historical_for_every_kpi(seed):
    profile = TrafficProfile(interactions=2500, seed=seed, day=datetime(2026, 3, 29).date())
    config = analytics_config(profile)
    events = list(generate_day(profile))
    zone = ZoneInfo(config.time_zone)
    day_start = interval_start(events[0].occurred_at, "day", zone)
    day_end = next_interval_start(day_start, "day", zone)
    assert day_end - day_start == timedelta(hours=23)  # the DST day

    realtime = RealtimeProjection(config)
    for event in events:
        realtime.apply(event)
    today = realtime.today_measures(day_end)

    def historical(group_by):
        return period_measures(
            events, config=config, start=day_start, end=day_end, now=day_end, group_by=group_by
        )

    assert today.tenant == historical(())[()]
    by_queue = {key[0]: m for key, m in historical(("queue",)).items() if key[0] is not None}
    by_agent = {key[0]: m for key, m in historical(("agent",)).items() if key[0] is not None}
    assert today.queues == by_queue
    assert today.agents == by_agent
    variant = config.default_queue.service_level_variant
    expected = all_kpis(historical(())[()], variant, COSTS)
    assert all_kpis(today.tenant, variant, COSTS) == expected
    assert expected["contacts_handled"] > 0 and expected["occupancy_pct"] is not None
    for queue_id, m in today.queues.items():
        queue_variant = config.queue(queue_id).service_level_variant
        assert all_kpis(m, queue_variant, COSTS) == all_kpis(
            by_queue[queue_id], queue_variant, COSTS
        )
    snapshot = realtime.snapshot(day_end)
    assert snapshot["tenant"]["aht_today_s"] == float(expected["aht_s"])
    assert snapshot["tenant"]["service_level_today_pct"] == float(expected["service_level_pct"])
