"""Queue KPIs: offered, handled, ASA, time in queue, abandons, service level."""

from __future__ import annotations

from fractions import Fraction

from omnidesk.analytics import kpis
from omnidesk.analytics.config import AnalyticsConfig, QueueSettings


def five_contacts(log):
    """q1 (X = 20 s, short abandon 5 s), all queued at t=0:
    c1 answered at 10 s, c2 answered at 30 s, c3 abandoned at 5 s (short),
    c4 abandoned at 50 s, c5 took a callback at 25 s."""
    for contact in ("c1", "c2", "c3", "c4", "c5"):
        log.add(0, "interaction.created", contact, channel="voice", direction="inbound")
        log.add(0, "interaction.queued", contact, queue_id="q1", priority=1)
    log.add(10, "interaction.connected", "c1", agent_id="a1", queue_id="q1")
    log.add(30, "interaction.connected", "c2", agent_id="a2", queue_id="q1")
    log.add(5, "interaction.abandoned", "c3", queue_id="q1")
    log.add(50, "interaction.abandoned", "c4", queue_id="q1")
    log.add(25, "interaction.callback_scheduled", "c5", queue_id="q1")
    return log.total()


def test_offered_and_handled_count_queue_entries_and_connections(log):
    m = five_contacts(log)
    assert kpis.contacts_offered(m) == 5
    assert kpis.contacts_handled(m) == 2


def test_asa_averages_wait_of_answered_contacts(log):
    # (10 + 30) / 2 handled = 20 s
    assert kpis.average_speed_of_answer(five_contacts(log)) == 20


def test_time_in_queue_averages_every_outcome(log):
    # (10 + 30 + 5 + 50 + 25) / 5 offered = 24 s
    assert kpis.average_time_in_queue(five_contacts(log)) == 24


def test_callback_is_not_an_abandon(log):
    m = five_contacts(log)
    # c3 and c4 only; c5's callback is not counted
    assert kpis.contacts_abandoned(m) == 2
    assert m.callbacks == 1


def test_abandon_at_exactly_the_threshold_is_short(log):
    # c3 waited exactly 5 s = threshold: "within" is inclusive
    assert kpis.short_abandons(five_contacts(log)) == 1


def test_abandon_just_after_the_threshold_is_not_short(log):
    log.add(0, "interaction.queued", "c1", queue_id="q1")
    log.add(5.000001, "interaction.abandoned", "c1", queue_id="q1")
    assert kpis.short_abandons(log.total()) == 0


def test_abandonment_rate_and_variant_without_short_abandons(log):
    m = five_contacts(log)
    # 2 abandoned / 5 offered = 40 %
    assert kpis.abandonment_rate(m) == 40
    # (2 − 1 short) / (5 − 1 short) = 25 %
    assert kpis.abandonment_rate(m, exclude_short=True) == 25


def test_average_abandon_time(log):
    # (5 + 50) / 2 = 27.5 s
    assert kpis.average_abandon_time(five_contacts(log)) == Fraction(55, 2)


def test_service_level_default_variant(log):
    # handled within 20 s: c1 → 1; handled 2 + abandoned after 5 s: c4 → 1; 1/3 = 33.33 %
    assert kpis.service_level(five_contacts(log), "default") == Fraction(100, 3)


def test_service_level_connect_variant(log):
    # left within 20 s, answered/abandoned/callback: c1 (10 s), c3 (5 s) → 2 / 5 offered = 40 %
    assert kpis.service_level(five_contacts(log), "connect") == 40


def test_service_level_threshold_is_inclusive(log):
    log.add(0, "interaction.queued", "c1", queue_id="q1")
    log.add(20, "interaction.connected", "c1", agent_id="a1", queue_id="q1")
    assert kpis.service_level(log.total()) == 100


def test_queue_settings_are_per_queue(log):
    # q2 has X = 60 s: 30 s wait is within it
    config = AnalyticsConfig(queues={"q2": QueueSettings(service_level_threshold_s=60)})
    log.add(0, "interaction.queued", "c1", queue_id="q2")
    log.add(30, "interaction.connected", "c1", agent_id="a1", queue_id="q2")
    assert kpis.service_level(log.total(config)) == 100
    assert kpis.service_level(log.total()) == 0


def test_transfer_to_another_queue_counts_again_in_the_second_queue(log):
    """c1: q1 at 0, answered by a1 at 10, transferred to q2 at 70, queued q2 at 70,
    answered by a2 at 80, wrap-up at 140, closed at 170."""
    log.add(0, "interaction.created", "c1", channel="voice", direction="inbound")
    log.add(0, "interaction.queued", "c1", queue_id="q1")
    log.add(10, "interaction.connected", "c1", agent_id="a1", queue_id="q1")
    log.add(70, "interaction.transferred", "c1", from_agent_id="a1", to_queue_id="q2")
    log.add(70, "interaction.queued", "c1", queue_id="q2")
    log.add(80, "interaction.connected", "c1", agent_id="a2", queue_id="q2")
    log.add(140, "interaction.wrap_up_started", "c1", agent_id="a2")
    log.add(170, "interaction.closed", "c1", agent_id="a2", resolved=True)
    by_queue = log.totals(group_by=("queue",))
    q1, q2, tenant = by_queue[("q1",)], by_queue[("q2",)], log.total()
    assert (q1.offered, q1.handled, q2.offered, q2.handled) == (1, 1, 1, 1)
    assert (tenant.offered, tenant.handled) == (2, 2)
    # each queue: 10 s wait
    assert kpis.average_speed_of_answer(q1) == kpis.average_speed_of_answer(q2) == 10
    # q1: a1 talked 60 s then transferred (no ACW); q2: a2 talked 60 s + 30 s ACW
    assert kpis.average_handle_time(q1) == 60
    assert kpis.average_handle_time(q2) == 90
    assert kpis.average_handle_time(tenant) == 75
    # 1 of 1 handled in q1 transferred away; tenant: 1 of 2 handled
    assert kpis.transfer_rate(q1) == 100
    assert kpis.transfer_rate(q2) == 0
    assert kpis.transfer_rate(tenant) == 50


def test_requeue_without_answer_ends_the_first_segment_as_moved(log):
    # overflow: q1 at 0, q2 at 30 (no agent), answered at 40: wait 30 in q1, 10 in q2
    log.add(0, "interaction.queued", "c1", queue_id="q1")
    log.add(30, "interaction.queued", "c1", queue_id="q2")
    log.add(40, "interaction.connected", "c1", agent_id="a1", queue_id="q2")
    by_queue = log.totals(group_by=("queue",))
    q1, q2 = by_queue[("q1",)], by_queue[("q2",)]
    assert (q1.offered, q1.handled, q1.abandoned, q1.queue_time_us) == (1, 0, 0, 30_000_000)
    assert kpis.average_speed_of_answer(q2) == 10
    # neither answered, abandoned nor a callback within X in q1: SL connect 0 %
    assert kpis.service_level(q1, "connect") == 0


def test_kpis_without_data_are_none(log):
    m = log.total()
    assert kpis.average_speed_of_answer(m) is None
    assert kpis.service_level(m) is None
    assert kpis.abandonment_rate(m) is None
