"""One function per KPI of KPIS.md, each a ratio of additive Measures.

Durations are in seconds and every result is an exact Fraction; None means the
denominator is zero (no data), never a made-up 0.
"""

from __future__ import annotations

from fractions import Fraction

from omnidesk.analytics.config import LOAD_SCALE, CostModel, ServiceLevelVariant
from omnidesk.analytics.measures import MICROS, Measures

Ratio = Fraction | None


def _ratio(numerator: int | Fraction, denominator: int | Fraction) -> Ratio:
    return Fraction(numerator) / denominator if denominator else None


def _percent(numerator: int | Fraction, denominator: int | Fraction) -> Ratio:
    return _ratio(100 * Fraction(numerator), denominator)


def _seconds(total_us: int, count: int) -> Ratio:
    return _ratio(total_us, count * MICROS)


def contacts_offered(m: Measures) -> int:
    """Contacts that entered a queue (counted at queued time; re-entries count again)."""
    return m.offered


def contacts_handled(m: Measures) -> int:
    """Contacts connected to an agent from a queue (counted at connected time)."""
    return m.handled


def average_speed_of_answer(m: Measures) -> Ratio:
    """ASA: Σ(connected − queued) / handled, in seconds."""
    return _seconds(m.answer_time_us, m.handled)


def average_time_in_queue(m: Measures) -> Ratio:
    """Σ(left queue − queued) / offered contacts that left the queue, whatever the outcome."""
    return _seconds(m.queue_time_us, m.queue_exits)


def average_handle_time(m: Measures) -> Ratio:
    """AHT: Σ(talk + hold + after-contact work) / handlings completed, in seconds."""
    return _seconds(m.talk_us + m.hold_us + m.acw_us, m.handles_completed)


def average_after_contact_work(m: Measures) -> Ratio:
    """ACW: Σ after-contact-work time / handlings completed, in seconds."""
    return _seconds(m.acw_us, m.handles_completed)


def contacts_abandoned(m: Measures) -> int:
    """Left the queue without reaching an agent (a callback is not an abandon)."""
    return m.abandoned


def short_abandons(m: Measures) -> int:
    """Abandoned with wait ≤ the queue's short-abandon threshold."""
    return m.short_abandoned


def abandonment_rate(m: Measures, *, exclude_short: bool = False) -> Ratio:
    """abandoned / offered × 100; with exclude_short, short abandons leave both sides."""
    short = m.short_abandoned if exclude_short else 0
    return _percent(m.abandoned - short, m.offered - short)


def average_abandon_time(m: Measures) -> Ratio:
    """Σ(abandoned − queued) / abandoned, in seconds."""
    return _seconds(m.abandon_time_us, m.abandoned)


def service_level(m: Measures, variant: ServiceLevelVariant = "default") -> Ratio:
    """Service level in X s: "default" or "connect" variant of KPIS.md, in percent."""
    if variant == "connect":
        return _percent(m.left_within_sl, m.offered)
    long_abandons = m.abandoned - m.short_abandoned
    return _percent(m.handled_within_sl, m.handled + long_abandons)


def occupancy(m: Measures) -> Ratio:
    """Time with ≥1 contact / (that + available idle time) × 100 (concurrency rule)."""
    return _percent(m.busy_us, m.busy_us + m.idle_us)


def weighted_occupancy(m: Measures) -> Ratio:
    """∫ min(1, Σ 1/capacity of open contacts) dt / (busy + available idle time) × 100."""
    return _percent(Fraction(m.weighted_busy_units_us, LOAD_SCALE), m.busy_us + m.idle_us)


def utilisation(m: Measures) -> Ratio:
    """Time logged in and not on break / time logged in × 100."""
    return _percent(m.logged_in_us - m.away_us, m.logged_in_us)


def first_contact_resolution(m: Measures) -> Ratio:
    """Resolved closures with no further inbound contact within the window / resolved × 100."""
    return _percent(m.fcr_first_contact, m.fcr_resolved_closed)


def transfer_rate(m: Measures) -> Ratio:
    """Handled contacts transferred away / handled × 100."""
    return _percent(m.transferred, m.handled)


def csat(m: Measures) -> Ratio:
    """Answers of 4 or 5 / answers × 100."""
    return _percent(m.csat_satisfied, m.csat_answers)


def csat_average(m: Measures) -> Ratio:
    """Average CSAT score (1–5)."""
    return _ratio(m.csat_score_sum, m.csat_answers)


def net_promoter_score(m: Measures) -> Ratio:
    """% answers 9–10 − % answers 0–6."""
    return _percent(m.nps_promoters - m.nps_detractors, m.nps_answers)


def self_service_containment(m: Measures) -> Ratio:
    """Ended in self-service, resolved, never queued / entered self-service × 100."""
    return _percent(m.self_service_contained, m.self_service_entered)


def total_cost(m: Measures, model: CostModel) -> Fraction:
    """Agent hours × rate by role + voice minutes × rate + SMS × rate + fixed cost."""
    agent_cost = sum(
        (
            model.agent_hour_by_role.get(role, Fraction(0)) * Fraction(micros, 3600 * MICROS)
            for role, micros in m.logged_in_us_by_role.items()
        ),
        Fraction(0),
    )
    voice_cost = model.voice_minute * Fraction(m.voice_us, 60 * MICROS)
    return agent_cost + voice_cost + model.sms * m.sms_contacts + model.fixed_per_period


def cost_per_contact(m: Measures, model: CostModel) -> Ratio:
    """Total configured cost / handled."""
    return _ratio(total_cost(m, model), m.handled)


def outbound_abandonment_rate(m: Measures) -> Ratio:
    """Live-answered outbound calls not connected within the limit / live-answered × 100."""
    return _percent(m.outbound_abandoned, m.outbound_live_answered)


def all_kpis(m: Measures, variant: ServiceLevelVariant, model: CostModel) -> dict[str, Ratio]:
    """Every Measures-based KPI by name (what reports, the API and the wallboard show)."""
    return {
        "contacts_offered": Fraction(contacts_offered(m)),
        "contacts_handled": Fraction(contacts_handled(m)),
        "asa_s": average_speed_of_answer(m),
        "average_time_in_queue_s": average_time_in_queue(m),
        "aht_s": average_handle_time(m),
        "acw_s": average_after_contact_work(m),
        "contacts_abandoned": Fraction(contacts_abandoned(m)),
        "short_abandons": Fraction(short_abandons(m)),
        "abandonment_rate_pct": abandonment_rate(m),
        "abandonment_rate_excl_short_pct": abandonment_rate(m, exclude_short=True),
        "average_abandon_time_s": average_abandon_time(m),
        "service_level_pct": service_level(m, variant),
        "service_level_default_pct": service_level(m, "default"),
        "service_level_connect_pct": service_level(m, "connect"),
        "occupancy_pct": occupancy(m),
        "weighted_occupancy_pct": weighted_occupancy(m),
        "utilisation_pct": utilisation(m),
        "fcr_pct": first_contact_resolution(m),
        "transfer_rate_pct": transfer_rate(m),
        "csat_pct": csat(m),
        "csat_average": csat_average(m),
        "nps": net_promoter_score(m),
        "self_service_containment_pct": self_service_containment(m),
        "cost_per_contact": cost_per_contact(m, model),
        "outbound_abandonment_rate_pct": outbound_abandonment_rate(m),
    }
