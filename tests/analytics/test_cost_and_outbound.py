"""Cost per contact and outbound abandonment rate."""

from __future__ import annotations

from fractions import Fraction

from omnidesk.analytics import kpis
from omnidesk.analytics.config import AnalyticsConfig, CostModel


def test_cost_per_contact_sums_configured_costs_over_handled(log):
    """a1 (role agent, 30/h) logged in 2 h; a2 (senior, 60/h) logged in 1 h;
    a 3-minute voice call (created → wrap-up) at 0.02/min; one SMS contact at 0.05; fixed 100.
    Cost 60 + 60 + 0.06 + 0.05 + 100 = 220.11 over 2 handled = 110.055."""
    config = AnalyticsConfig(agent_roles={"a2": "senior"})
    model = CostModel(
        agent_hour_by_role={"agent": Fraction(30), "senior": Fraction(60)},
        voice_minute=Fraction(2, 100),
        sms=Fraction(5, 100),
        fixed_per_period=Fraction(100),
    )
    log.add(0, "agent.logged_in", "a1")
    log.add(0, "agent.logged_in", "a2")
    log.add(0, "interaction.created", "v1", channel="voice", direction="inbound")
    log.add(0, "interaction.queued", "v1", queue_id="q1")
    log.add(10, "interaction.connected", "v1", agent_id="a1", queue_id="q1")
    log.add(180, "interaction.wrap_up_started", "v1", agent_id="a1")
    log.add(200, "interaction.closed", "v1", agent_id="a1", resolved=True)
    log.add(300, "interaction.created", "s1", channel="sms", direction="inbound")
    log.add(300, "interaction.queued", "s1", queue_id="q1")
    log.add(300, "interaction.connected", "s1", agent_id="a2", queue_id="q1")
    log.add(400, "interaction.closed", "s1", agent_id="a2", resolved=True)
    log.add(3600, "agent.logged_out", "a2")
    log.add(7200, "agent.logged_out", "a1")
    m = log.total(config)
    assert kpis.total_cost(m, model) == Fraction(22011, 100)
    assert kpis.cost_per_contact(m, model) == Fraction(22011, 200)


def outbound_call(log, contact, answered_by, connect_after=None, abandon_after=None):
    log.add(
        0,
        "interaction.created",
        contact,
        channel="voice",
        direction="outbound",
        customer_id=contact,
        campaign_id="renewals",
    )
    log.add(10, "interaction.answered", contact, answered_by=answered_by)
    if connect_after is not None:
        log.add(10 + connect_after, "interaction.connected", contact, agent_id="a1", queue_id="out")
    if abandon_after is not None:
        log.add(10, "interaction.queued", contact, queue_id="out")
        log.add(10 + abandon_after, "interaction.abandoned", contact, queue_id="out")


def test_outbound_abandonment_counts_live_answers_not_connected_within_2_s(log):
    """o1 connected exactly 2 s after answer (in time); o2 after 2.5 s (abandoned);
    o3 hung up in the queue after 3 s (abandoned); o4 reached a machine (not live).
    2 / 3 live-answered = 66.67 %."""
    outbound_call(log, "o1", "human", connect_after=2)
    outbound_call(log, "o2", "human", connect_after=2.5)
    outbound_call(log, "o3", "human", abandon_after=3)
    outbound_call(log, "o4", "machine")
    rows = log.totals(group_by=("campaign",))
    assert kpis.outbound_abandonment_rate(rows[("renewals",)]) == Fraction(200, 3)
