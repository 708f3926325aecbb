"""Agent-time KPIs: occupancy (concurrency and weighted capacity) and utilisation."""

from __future__ import annotations

from fractions import Fraction

from omnidesk.analytics import kpis
from omnidesk.analytics.config import AnalyticsConfig


def one_voice_agent(log):
    """a1: available 0; call 60–180 (talk + ACW); break 300–600; available; logged out 900.
    idle 0–60, 180–300, 600–900 = 480 s; busy 120 s; away 300 s; logged in 900 s."""
    log.add(0, "agent.logged_in", "a1", state="available")
    log.add(60, "interaction.connected", "c1", agent_id="a1", queue_id="q1")
    log.add(150, "interaction.wrap_up_started", "c1", agent_id="a1")
    log.add(180, "interaction.closed", "c1", agent_id="a1", resolved=True)
    log.add(300, "agent.state_changed", "a1", state="break", reason="coffee")
    log.add(600, "agent.state_changed", "a1", state="available")
    log.add(900, "agent.logged_out", "a1")
    return log.total()


def test_occupancy_is_busy_over_busy_plus_idle(log):
    m = one_voice_agent(log)
    assert (m.busy_us, m.idle_us) == (120_000_000, 480_000_000)
    # 120 / (120 + 480) = 20 %
    assert kpis.occupancy(m) == 20


def test_utilisation_excludes_break_time(log):
    # (900 − 300) / 900 = 66.67 %
    assert kpis.utilisation(one_voice_agent(log)) == Fraction(200, 3)


def test_state_offline_is_logged_out(log):
    log.add(0, "agent.state_changed", "a1", state="available")
    log.add(100, "agent.state_changed", "a1", state="offline")
    log.add(200, "agent.state_changed", "a1", state="available")
    log.add(250, "agent.state_changed", "a1", state="lunch")
    log.add(300, "agent.logged_out", "a1")
    m = log.total()
    # logged in 0–100 and 200–300; lunch 250–300
    assert (m.logged_in_us, m.away_us) == (200_000_000, 50_000_000)


def test_concurrent_chats_count_busy_once_and_weighted_by_capacity(log):
    """a2, chat capacity 2: c1 0–100, c2 50–150, logged out 200.
    busy 0–150 (150 s), idle 150–200 (50 s): occupancy 75 %.
    load ½ on 0–50, 1 on 50–100, ½ on 100–150: weighted busy 100 s → 100 / 200 = 50 %."""
    config = AnalyticsConfig(channel_capacity={"chat": 2})
    log.add(0, "agent.logged_in", "a2")
    for contact, start, end in (("c1", 0, 100), ("c2", 50, 150)):
        log.add(start, "interaction.created", contact, channel="chat", direction="inbound")
        log.add(start, "interaction.connected", contact, agent_id="a2", queue_id="q1")
        log.add(end, "interaction.closed", contact, agent_id="a2", resolved=True)
    log.add(200, "agent.logged_out", "a2")
    m = log.total(config)
    assert kpis.occupancy(m) == 75
    assert kpis.weighted_occupancy(m) == 50


def test_open_agent_stretch_is_counted_up_to_now(log):
    # logged in at 0, nothing else; settled at now = 3600 s: one idle hour
    log.add(0, "agent.logged_in", "a1")
    m = log.total(now_s=3600)
    assert (m.logged_in_us, m.idle_us) == (3600_000_000, 3600_000_000)
