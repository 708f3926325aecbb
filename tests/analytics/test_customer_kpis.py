"""Customer KPIs: CSAT, NPS, FCR, self-service containment and deflection by article."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

from omnidesk.analytics import kpis
from omnidesk.analytics.config import AnalyticsConfig
from omnidesk.analytics.report import deflection_by_article

DAY = 86_400


def surveys(log, kind, scores):
    for i, score in enumerate(scores):
        log.add(i, "survey.answered", f"s{i}", interaction_id=f"c{i}", kind=kind, score=score)
    return log.total()


def test_csat_share_of_4_and_5_and_average(log):
    m = surveys(log, "csat", [5, 4, 3, 1])
    # 2 of 4 answers are 4–5 = 50 %; average (5 + 4 + 3 + 1) / 4 = 13/4
    assert kpis.csat(m) == 50
    assert kpis.csat_average(m) == Fraction(13, 4)


def test_nps_promoters_minus_detractors(log):
    # promoters 10, 9; passive 7; detractor none → (2 − 0) / 3 = 66.67
    assert kpis.net_promoter_score(surveys(log, "nps", [10, 9, 7])) == Fraction(200, 3)


def test_nps_can_be_negative(log):
    # promoters 1 (9), detractors 2 (6, 0), passive 8 → (1 − 2) / 4 = −25
    assert kpis.net_promoter_score(surveys(log, "nps", [9, 6, 0, 8])) == -25


def test_survey_is_grouped_by_the_contacts_last_agent(log):
    log.add(0, "interaction.connected", "c1", agent_id="a1", queue_id="q1")
    log.add(60, "interaction.closed", "c1", agent_id="a1", resolved=True)
    log.add(90, "survey.answered", "c1", interaction_id="c1", kind="csat", score=5)
    assert kpis.csat(log.totals(group_by=("agent",))[("a1",)]) == 100


def resolved_contact(log, contact, customer, created_s, channel="chat", resolved=True):
    log.add(
        created_s,
        "interaction.created",
        contact,
        channel=channel,
        direction="inbound",
        customer_id=customer,
    )
    log.add(created_s + 60, "interaction.closed", contact, resolved=resolved)


def fcr_log(log):
    """Window 7 days. Closures on day 0 (all at 60 s):
    k1 (cust A) resolved, A contacts again by email on day 3 → not first contact;
    k2 (cust B) resolved, no further contact → first contact;
    k3 (cust C) unresolved → not counted;
    k4 (cust D) resolved, D's next contact is on day 8 (outside window) → first contact;
    k5 (cust E) resolved, E's next contact exactly 7 days after the closure → not first."""
    resolved_contact(log, "k1", "A", 0)
    resolved_contact(log, "k2", "B", 0)
    resolved_contact(log, "k3", "C", 0, resolved=False)
    resolved_contact(log, "k4", "D", 0)
    resolved_contact(log, "k5", "E", 0)
    resolved_contact(log, "k6", "A", 3 * DAY, channel="email", resolved=False)
    resolved_contact(log, "k7", "D", 8 * DAY, resolved=False)
    resolved_contact(log, "k8", "E", 60 + 7 * DAY, resolved=False)


def test_fcr_counts_resolved_closures_without_further_contact(log):
    fcr_log(log)
    m = log.total(now_s=10 * DAY)
    # resolved k1, k2, k4, k5 → 4; first contact k2, k4 → 50 %
    assert (m.fcr_resolved_closed, m.fcr_first_contact) == (4, 2)
    assert kpis.first_contact_resolution(m) == 50


def test_fcr_waits_until_the_window_has_passed(log):
    fcr_log(log)
    # at day 5 no day-0 closure's 7-day window has passed: nothing is computed yet
    assert kpis.first_contact_resolution(log.total(now_s=5 * DAY)) is None


def test_fcr_window_passes_strictly_after_its_end(log):
    resolved_contact(log, "k1", "A", 0)
    closed_s = 60
    assert log.total(now_s=closed_s + 7 * DAY).fcr_resolved_closed == 0
    assert log.total(now_s=closed_s + 7 * DAY + 1).fcr_resolved_closed == 1


def test_fcr_window_is_configurable(log):
    fcr_log(log)
    # with a 1-day window, A's contact on day 3 is outside it: k1, k2, k4, k5 all first
    config = AnalyticsConfig(fcr_window=timedelta(days=1))
    assert kpis.first_contact_resolution(log.total(config, now_s=2 * DAY)) == 100


def self_service_log(log):
    """c1, c2 resolved by kb-1; c3 resolved by kb-2; c4 went on to a queue; c5 hung up."""
    for contact in ("c1", "c2", "c3", "c4", "c5"):
        log.add(0, "interaction.created", contact, channel="chat", direction="inbound")
        log.add(0, "interaction.self_service_started", contact, flow_id="main")
    log.add(30, "interaction.self_service_ended", "c1", outcome="resolved", article_id="kb-1")
    log.add(30, "interaction.self_service_ended", "c2", outcome="resolved", article_id="kb-1")
    log.add(30, "interaction.self_service_ended", "c3", outcome="resolved", article_id="kb-2")
    log.add(30, "interaction.self_service_ended", "c4", outcome="queued")
    log.add(30, "interaction.queued", "c4", queue_id="q1")
    log.add(30, "interaction.self_service_ended", "c5", outcome="abandoned")
    return log


def test_self_service_containment(log):
    # 3 contained / 5 entered = 60 %
    assert kpis.self_service_containment(self_service_log(log).total()) == 60


def test_deflection_by_article(log):
    events = self_service_log(log).sorted()
    start, end = log.at(0), log.at(3600)
    deflected = deflection_by_article(
        events, config=AnalyticsConfig(), start=start, end=end, now=end
    )
    assert deflected == {"kb-1": 2, "kb-2": 1}
