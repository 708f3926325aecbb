"""Additive measures and the one definition of what each fact contributes to them.

Every KPI is a ratio of these sums and counts (see kpis.py). Measures are additive, so rows
per interval and dimension can be merged, stored and resumed without ever double counting.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Final, Literal

from omnidesk.analytics.config import AWAY_STATES, LOAD_SCALE, QueueSettings

QueueOutcome = Literal["answered", "abandoned", "callback", "moved", "closed"]
"""How a contact left a queue: moved = re-queued elsewhere, closed = closed while queued."""

MICROS: Final = 1_000_000
SL_OUTCOMES = frozenset({"answered", "abandoned", "callback"})


@dataclass(slots=True, init=False)
class Measures:
    """Sums (microseconds) and counts from which every KPI is computed."""

    offered: int
    queue_exits: int
    queue_time_us: int
    handled: int
    answer_time_us: int
    handled_within_sl: int
    abandoned: int
    abandon_time_us: int
    short_abandoned: int
    callbacks: int
    left_within_sl: int
    handles_completed: int
    talk_us: int
    hold_us: int
    acw_us: int
    transferred: int
    busy_us: int
    idle_us: int
    weighted_busy_units_us: int
    logged_in_us: int
    away_us: int
    logged_in_us_by_role: dict[str, int]
    csat_answers: int
    csat_satisfied: int
    csat_score_sum: int
    nps_answers: int
    nps_promoters: int
    nps_detractors: int
    self_service_entered: int
    self_service_contained: int
    fcr_resolved_closed: int
    fcr_first_contact: int
    voice_us: int
    sms_contacts: int
    outbound_live_answered: int
    outbound_abandoned: int

    def __init__(self) -> None:
        """All zero (written out, as in records.py, so that it is compiled)."""
        self.offered = 0
        self.queue_exits = 0
        self.queue_time_us = 0
        self.handled = 0
        self.answer_time_us = 0
        self.handled_within_sl = 0
        self.abandoned = 0
        self.abandon_time_us = 0
        self.short_abandoned = 0
        self.callbacks = 0
        self.left_within_sl = 0
        self.handles_completed = 0
        self.talk_us = 0
        self.hold_us = 0
        self.acw_us = 0
        self.transferred = 0
        self.busy_us = 0
        self.idle_us = 0
        self.weighted_busy_units_us = 0
        self.logged_in_us = 0
        self.away_us = 0
        self.logged_in_us_by_role = {}
        self.csat_answers = 0
        self.csat_satisfied = 0
        self.csat_score_sum = 0
        self.nps_answers = 0
        self.nps_promoters = 0
        self.nps_detractors = 0
        self.self_service_entered = 0
        self.self_service_contained = 0
        self.fcr_resolved_closed = 0
        self.fcr_first_contact = 0
        self.voice_us = 0
        self.sms_contacts = 0
        self.outbound_live_answered = 0
        self.outbound_abandoned = 0


def measure_columns(m: Measures) -> tuple[int, ...]:
    """The measures stored one column each, in declaration order (models.MEASURE_FIELDS).

    Written out, not read by name, so that the compiled fill reads each field natively.
    """
    return (
        m.offered,
        m.queue_exits,
        m.queue_time_us,
        m.handled,
        m.answer_time_us,
        m.handled_within_sl,
        m.abandoned,
        m.abandon_time_us,
        m.short_abandoned,
        m.callbacks,
        m.left_within_sl,
        m.handles_completed,
        m.talk_us,
        m.hold_us,
        m.acw_us,
        m.transferred,
        m.busy_us,
        m.idle_us,
        m.logged_in_us,
        m.away_us,
        m.csat_answers,
        m.csat_satisfied,
        m.csat_score_sum,
        m.nps_answers,
        m.nps_promoters,
        m.nps_detractors,
        m.self_service_entered,
        m.self_service_contained,
        m.fcr_resolved_closed,
        m.fcr_first_contact,
        m.voice_us,
        m.sms_contacts,
        m.outbound_live_answered,
        m.outbound_abandoned,
    )


_SCALAR_FIELDS = tuple(f.name for f in fields(Measures) if f.name != "logged_in_us_by_role")


def add_measures(target: Measures, source: Measures, sign: int = 1) -> None:
    """Add (sign=1) or subtract (sign=-1) `source` into `target`, field by field."""
    for name in _SCALAR_FIELDS:
        value = getattr(source, name)
        if value:
            setattr(target, name, getattr(target, name) + sign * value)
    for role, micros in source.logged_in_us_by_role.items():
        target.logged_in_us_by_role[role] = target.logged_in_us_by_role.get(role, 0) + sign * micros


def copy_measures(m: Measures) -> Measures:
    """An independent copy of `m`."""
    clone = Measures()
    add_measures(clone, m)
    return clone


def is_short_abandon(wait_us: int, settings: QueueSettings) -> bool:
    """Abandoned within the short-abandon threshold: wait ≤ threshold (inclusive)."""
    return wait_us <= settings.short_abandon_threshold_s * MICROS


def is_within_service_level(wait_us: int, settings: QueueSettings) -> bool:
    """Left the queue within X seconds: wait ≤ X (inclusive)."""
    return wait_us <= settings.service_level_threshold_s * MICROS


def count_offered(m: Measures) -> None:
    """A contact entered the queue (counted at its queued time)."""
    m.offered += 1


def count_queue_exit(
    m: Measures, outcome: QueueOutcome, wait_us: int, settings: QueueSettings
) -> None:
    """A contact left the queue after `wait_us` (counted at the time it left)."""
    m.queue_exits += 1
    m.queue_time_us += wait_us
    within = is_within_service_level(wait_us, settings)
    if outcome in SL_OUTCOMES and within:
        m.left_within_sl += 1
    if outcome == "answered":
        m.handled += 1
        m.answer_time_us += wait_us
        m.handled_within_sl += within
    elif outcome == "abandoned":
        m.abandoned += 1
        m.abandon_time_us += wait_us
        m.short_abandoned += is_short_abandon(wait_us, settings)
    elif outcome == "callback":
        m.callbacks += 1


def count_handle_completed(
    m: Measures, talk_us: int, hold_us: int, acw_us: int, transferred: bool
) -> None:
    """An agent's handling of a contact ended (close, or transfer away)."""
    m.handles_completed += 1
    m.talk_us += talk_us
    m.hold_us += hold_us
    m.acw_us += acw_us
    m.transferred += transferred


@dataclass(slots=True, init=False)
class AgentStatus:
    """What an agent was doing over a stretch: state, cost role, contacts, load (LOAD_SCALE).

    The fold makes one per agent-time stretch: its `__init__` is written out so that it is
    compiled, and compiled code reads its fields and properties directly. Treat it as
    immutable.
    """

    state: str
    role: str
    contacts: int
    load: int

    def __init__(self, state: str = "offline", role: str = "", contacts: int = 0,
                 load: int = 0) -> None:
        self.state = state
        self.role = role
        self.contacts = contacts
        self.load = load

    @property
    def logged_in(self) -> bool:
        """Any state but offline."""
        return self.state != "offline"

    @property
    def away(self) -> bool:
        """On break (break, lunch or training)."""
        return self.state in AWAY_STATES

    @property
    def available(self) -> bool:
        """In the available state."""
        return self.state == "available"

    @property
    def busy(self) -> bool:
        """With at least one contact (talk, hold or ACW)."""
        return self.contacts > 0


def count_agent_time(m: Measures, status: AgentStatus, duration_us: int) -> None:
    """Add `duration_us` spent in `status` to the agent-time measures."""
    if status.logged_in:
        m.logged_in_us += duration_us
        by_role = m.logged_in_us_by_role
        by_role[status.role] = by_role.get(status.role, 0) + duration_us
        if status.away:
            m.away_us += duration_us
    if status.contacts:
        m.busy_us += duration_us
        m.weighted_busy_units_us += min(status.load, LOAD_SCALE) * duration_us
    elif status.available:
        m.idle_us += duration_us


def count_survey(m: Measures, kind: str, score: int) -> None:
    """A CSAT (1–5) or NPS (0–10) answer."""
    if kind == "csat":
        m.csat_answers += 1
        m.csat_score_sum += score
        m.csat_satisfied += score >= 4
    elif kind == "nps":
        m.nps_answers += 1
        m.nps_promoters += score >= 9
        m.nps_detractors += score <= 6


def count_self_service_started(m: Measures) -> None:
    """A contact entered self-service."""
    m.self_service_entered += 1


def count_self_service_contained(m: Measures) -> None:
    """A contact ended in self-service, resolved, without ever queueing."""
    m.self_service_contained += 1


def count_fcr(m: Measures, first_contact: bool) -> None:
    """A resolved closure whose FCR window has passed; first_contact = no further contact."""
    m.fcr_resolved_closed += 1
    m.fcr_first_contact += first_contact


def count_voice(m: Measures, duration_us: int) -> None:
    """A voice call ended after `duration_us` on the carrier (cost per voice minute)."""
    m.voice_us += duration_us


def count_sms_contact(m: Measures) -> None:
    """An SMS contact was created (cost per SMS)."""
    m.sms_contacts += 1


def count_outbound_answer(m: Measures, abandoned: bool) -> None:
    """A live-answered outbound call was settled: connected in time, or abandoned."""
    m.outbound_live_answered += 1
    m.outbound_abandoned += abandoned
