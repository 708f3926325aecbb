"""Handle-time KPIs: AHT and ACW from talk, hold and after-contact work."""

from __future__ import annotations

from omnidesk.analytics import kpis


def two_handled_contacts(log):
    """c1: queued −10, connected 0, held 20–50, wrap-up 100, closed 130
    → talk 100 − 30 = 70, hold 30, ACW 30: handle 130.
    c2: connected 0, wrap-up 40, closed 60 → talk 40, ACW 20: handle 60."""
    log.add(0, "interaction.queued", "c1", queue_id="q1")
    log.add(10, "interaction.connected", "c1", agent_id="a1", queue_id="q1")
    log.add(30, "interaction.held", "c1", agent_id="a1")
    log.add(60, "interaction.resumed", "c1", agent_id="a1")
    log.add(110, "interaction.wrap_up_started", "c1", agent_id="a1")
    log.add(140, "interaction.closed", "c1", agent_id="a1", resolved=True)
    log.add(10, "interaction.queued", "c2", queue_id="q1")
    log.add(10, "interaction.connected", "c2", agent_id="a2", queue_id="q1")
    log.add(50, "interaction.wrap_up_started", "c2", agent_id="a2")
    log.add(70, "interaction.closed", "c2", agent_id="a2", resolved=True)
    return log.total()


def test_aht_sums_talk_hold_and_acw_per_handled_contact(log):
    m = two_handled_contacts(log)
    assert (m.talk_us, m.hold_us, m.acw_us) == (110_000_000, 30_000_000, 50_000_000)
    # (130 + 60) / 2 = 95 s
    assert kpis.average_handle_time(m) == 95


def test_acw_averages_after_contact_work(log):
    # (30 + 20) / 2 = 25 s
    assert kpis.average_after_contact_work(two_handled_contacts(log)) == 25


def test_hold_open_at_wrap_up_ends_there(log):
    # held at 20, never resumed, wrap-up at 50: hold 30, talk 20
    log.add(0, "interaction.connected", "c1", agent_id="a1", queue_id="q1")
    log.add(20, "interaction.held", "c1", agent_id="a1")
    log.add(50, "interaction.wrap_up_started", "c1", agent_id="a1")
    log.add(50, "interaction.closed", "c1", agent_id="a1", resolved=True)
    m = log.total()
    assert (m.talk_us, m.hold_us, m.acw_us) == (20_000_000, 30_000_000, 0)


def test_contact_closed_while_queued_has_no_handle_time(log):
    # an email closed by automation while waiting: left the queue "closed", no agent
    log.add(0, "interaction.queued", "c1", queue_id="q1")
    log.add(60, "interaction.closed", "c1", resolved=False)
    m = log.total()
    assert (m.offered, m.queue_exits, m.handled, m.abandoned, m.handles_completed) == (
        1,
        1,
        0,
        0,
        0,
    )
    assert kpis.average_handle_time(m) is None


def test_handle_time_by_agent_and_disposition(log):
    log.add(0, "interaction.connected", "c1", agent_id="a1", queue_id="q1")
    log.add(60, "interaction.closed", "c1", agent_id="a1", resolved=True, disposition="sale")
    log.add(0, "interaction.connected", "c2", agent_id="a2", queue_id="q1")
    log.add(30, "interaction.closed", "c2", agent_id="a2", resolved=True, disposition="info")
    rows = log.totals(group_by=("agent", "disposition"))
    assert kpis.average_handle_time(rows[("a1", "sale")]) == 60
    assert kpis.average_handle_time(rows[("a2", "info")]) == 30


def test_direct_transfer_to_an_agent_is_a_second_handling_not_a_second_contact(log):
    """c1 answered from q1 by a1 at 10 s, transferred to a2 at 70 s, a2 connected at 75 s,
    wrap-up 135 s, closed 155 s. Handled 1 (one queue answer), transferred 1 → 100 %;
    handlings: a1 talk 60 s, a2 talk 60 s + ACW 20 s → AHT (60 + 80) / 2 = 70 s."""
    log.add(0, "interaction.queued", "c1", queue_id="q1")
    log.add(10, "interaction.connected", "c1", agent_id="a1", queue_id="q1")
    log.add(70, "interaction.transferred", "c1", from_agent_id="a1", to_agent_id="a2")
    log.add(75, "interaction.connected", "c1", agent_id="a2", queue_id="q1")
    log.add(135, "interaction.wrap_up_started", "c1", agent_id="a2")
    log.add(155, "interaction.closed", "c1", agent_id="a2", resolved=True)
    m = log.total()
    assert (m.offered, m.handled, m.handles_completed) == (1, 1, 2)
    assert kpis.transfer_rate(m) == 100
    assert kpis.average_handle_time(m) == 70


def test_connecting_another_agent_ends_the_open_handling(log):
    # a1 connected at 0; a2 connected at 40 without a transfer event: a1's handling ends at 40
    log.add(0, "agent.logged_in", "a1")
    log.add(0, "interaction.connected", "c1", agent_id="a1", queue_id="q1")
    log.add(40, "interaction.connected", "c1", agent_id="a2", queue_id="q1")
    log.add(100, "interaction.closed", "c1", agent_id="a2", resolved=True)
    log.add(100, "agent.logged_out", "a1")
    rows = log.totals(group_by=("agent",))
    assert rows[("a1",)].busy_us == 40_000_000
    assert kpis.average_handle_time(rows[("a1",)]) == 40
    assert kpis.average_handle_time(rows[("a2",)]) == 60
