"""The routing engine, one behaviour per test."""

from __future__ import annotations

from datetime import date, time

import pytest

from omnidesk.routing import (
    CAUSE_CLOSED,
    CAUSE_MAX_WAIT,
    CAUSE_QUEUE_FULL,
    AgentConfigured,
    AgentState,
    AgentStateForced,
    BusinessHours,
    CallbackRequested,
    DesktopConnected,
    DesktopDisconnected,
    EngineConfig,
    EscalationStep,
    ExpressionSyntaxError,
    InteractionEscalated,
    OfferConflict,
    OfferExpired,
    OfferWithdrawn,
    OpenWindow,
    Outcome,
    OutcomeKind,
    QueueMembership,
    QueueOutcome,
    RoutingConfigError,
    UnknownRoutingObject,
)

from .builders import T0, Harness, agent, offers, queue, requirement


def harness(**queue_settings: object) -> Harness:
    h = Harness()
    h.add_queue(**queue_settings)
    return h


# ---------------------------------------------------------------- skills


def test_offer_goes_to_agent_with_required_skill_and_proficiency() -> None:
    h = harness(requirement=requirement({"billing": 3}))
    h.add_agent("novice", {"billing": 2})
    h.add_agent("none", {})
    h.add_agent("expert", {"billing": 4})
    assert offers(h.arrive("i1")) == [("i1", "expert")]


def test_contact_waits_when_no_agent_has_the_skill() -> None:
    h = harness(requirement=requirement({"billing": 1}))
    h.add_agent("a1", {"sales": 5})
    assert offers(h.arrive("i1")) == []
    assert h.engine.queue_status("q", h.now).waiting == 1


def test_contact_required_skills_add_to_the_queue_requirement() -> None:
    h = harness()
    h.add_agent("en", {"english": 5})
    h.add_agent("fr", {"french": 3})
    assert offers(h.arrive("i1", required_skills={"french": 2})) == [("i1", "fr")]


def test_expression_requirement_matches_agent_to_contact_attributes() -> None:
    h = harness(requirement=requirement(
        expression="agent.language == contact.language AND skill.billing >= 2"))
    h.add_agent("de", {"billing": 5}, attributes={"language": "de"})
    h.add_agent("fr_junior", {"billing": 1}, attributes={"language": "fr"})
    h.add_agent("fr", {"billing": 2}, attributes={"language": "fr"})
    assert offers(h.arrive("i1", attributes={"language": "fr"})) == [("i1", "fr")]


def test_agent_only_expression_is_folded_into_eligibility() -> None:
    h = harness(requirement=requirement(expression='agent.site IN ["paris"]'))
    h.add_agent("lyon", attributes={"site": "lyon"})
    assert offers(h.arrive("i1")) == []
    assert offers(h.add_agent("paris", attributes={"site": "paris"})) == [("i1", "paris")]


def test_bad_expression_in_queue_config_is_rejected_with_its_column() -> None:
    h = Harness()
    with pytest.raises(ExpressionSyntaxError) as caught:
        h.add_queue(requirement=requirement(expression="skill.x >"))
    assert caught.value.column == 10


def test_proficiency_outside_one_to_five_is_rejected() -> None:
    with pytest.raises(RoutingConfigError):
        Harness().add_queue(requirement=requirement({"billing": 6}))


# -------------------------------------------------------- priority and ageing


def test_higher_priority_contact_is_offered_first() -> None:
    h = harness()
    h.arrive("low", priority=1)
    h.advance(1)
    h.arrive("high", priority=5)
    assert offers(h.add_agent("a1")) == [("high", "a1")]


def test_fifo_within_equal_priority() -> None:
    h = harness()
    for n in range(3):
        h.arrive(f"i{n}", priority=2)
        h.advance(1)
    h.add_agent("a1", capacity={"voice": 1})
    assert offers(h.decisions) == [("i0", "a1")]


def test_ageing_lets_a_long_waiting_low_priority_contact_overtake() -> None:
    h = harness(ageing_per_s=0.1)
    h.arrive("old_low", priority=0)
    h.advance(60)  # effective priority 6 by now
    h.arrive("new_high", priority=5)
    assert offers(h.add_agent("a1")) == [("old_low", "a1")]


def test_without_ageing_priority_wins_over_wait() -> None:
    h = harness()
    h.arrive("old_low", priority=0)
    h.advance(600)
    h.arrive("new_high", priority=5)
    assert offers(h.add_agent("a1")) == [("new_high", "a1")]


# ------------------------------------------------------ capacity and blending


def test_chat_agent_takes_up_to_its_chat_capacity() -> None:
    h = harness(channel="chat")
    for n in range(5):
        h.arrive(f"c{n}")
    assert len(offers(h.add_agent("a1", capacity={"chat": 3}))) == 3
    assert h.engine.agent_status("a1").load == {"chat": 3}


def test_voice_call_blocks_new_chats() -> None:
    h = Harness()
    h.add_queue(queue("voice", "voice"))
    h.add_queue(queue("chat", "chat"))
    h.add_agent("a1", queues=("voice", "chat"))
    h.arrive("call", "voice")
    h.accept("call", "a1")
    assert offers(h.arrive("chat1", "chat")) == []
    assert offers(h.end("call")) == [("chat1", "a1")]


def test_open_chat_blocks_a_voice_call_by_default() -> None:
    h = Harness()
    h.add_queue(queue("voice", "voice"))
    h.add_queue(queue("chat", "chat"))
    h.add_agent("a1", queues=("voice", "chat"))
    h.arrive("chat1", "chat")
    assert offers(h.arrive("call", "voice")) == []


def test_blending_can_be_configured_per_agent() -> None:
    h = Harness()
    h.add_queue(queue("voice", "voice"))
    h.add_queue(queue("email", "email"))
    h.add_agent("a1", queues=("voice", "email"), blending={"voice": frozenset()})
    h.arrive("call", "voice")
    assert offers(h.arrive("mail", "email")) == [("mail", "a1")]


def test_blending_can_be_configured_per_tenant() -> None:
    h = Harness(EngineConfig(blending={}))
    h.add_queue(queue("voice", "voice"))
    h.add_queue(queue("chat", "chat"))
    h.add_agent("a1", queues=("voice", "chat"))
    h.arrive("call", "voice")
    assert offers(h.arrive("chat1", "chat")) == [("chat1", "a1")]


# -------------------------------------------------------------- profiles


def test_agent_serves_its_higher_priority_queue_first() -> None:
    h = Harness()
    h.add_queue(queue("sales"))
    h.add_queue(queue("support"))
    h.arrive("s1", "support")
    h.advance(10)
    h.arrive("x1", "sales")
    profile = (QueueMembership("sales", priority=1), QueueMembership("support", priority=2))
    assert offers(h.add_agent("a1", queues=profile)) == [("x1", "a1")]


def test_profile_delay_serves_a_queue_only_after_the_wait() -> None:
    h = Harness()
    h.add_queue(queue("b"))
    h.add_agent("helper", queues=(QueueMembership("b", delay_s=30),))
    assert offers(h.arrive("i1", "b")) == []
    assert offers(h.advance(29)) == []
    assert offers(h.advance(1)) == [("i1", "helper")]


def test_agent_with_delay_picks_only_contacts_waiting_long_enough() -> None:
    h = Harness()
    h.add_queue(queue("b"))
    h.add_agent("helper", queues=(QueueMembership("b", delay_s=30),), available=False)
    h.arrive("old", "b")
    h.advance(40)
    h.arrive("new", "b", priority=9)
    assert offers(h.set_state("helper", AgentState.AVAILABLE)) == [("old", "helper")]


# --------------------------------------------------------------- states


def test_only_available_agents_get_offers() -> None:
    h = harness()
    h.add_agent("a1", available=False)
    for state in (AgentState.BREAK, AgentState.LUNCH, AgentState.TRAINING,
                  AgentState.AFTER_CALL_WORK, AgentState.OFFLINE):
        h.set_state("a1", state, reason="test")
        assert offers(h.arrive(f"i-{state}")) == []
    assert h.engine.agent_status("a1").reason == "test"
    assert len(offers(h.set_state("a1", AgentState.AVAILABLE))) == 1


def test_agent_going_on_break_has_its_live_offer_withdrawn_and_rerouted() -> None:
    h = harness()
    h.add_agent("a1")
    h.arrive("i1")
    h.add_agent("a2")
    out = h.set_state("a1", AgentState.BREAK, "coffee")
    assert [type(x) for x in out] == [OfferWithdrawn, type(out[1])]
    assert offers(out) == [("i1", "a2")]


def test_agent_without_connected_desktop_gets_no_offer() -> None:
    h = harness()
    h.send(AgentConfigured(h.now, agent("a1")))
    h.set_state("a1", AgentState.AVAILABLE)
    assert offers(h.arrive("i1")) == []
    assert offers(h.send(DesktopConnected(h.now, "a1"))) == [("i1", "a1")]


def test_disconnect_within_grace_keeps_agent_routable() -> None:
    h = harness()
    h.add_agent("a1")
    h.send(DesktopDisconnected(h.now, "a1"))
    h.advance(10)
    h.send(DesktopConnected(h.now, "a1"))
    h.advance(60)
    assert h.engine.agent_status("a1").state is AgentState.AVAILABLE
    assert offers(h.arrive("i1")) == [("i1", "a1")]


def test_a_disconnected_agent_gets_no_new_offer_during_the_grace_period() -> None:
    h = harness()
    h.add_agent("a1")
    h.send(DesktopDisconnected(h.now, "a1"))
    h.advance(10)
    assert offers(h.arrive("i1")) == []
    assert h.engine.agent_status("a1").state is AgentState.AVAILABLE  # not forced yet
    assert offers(h.send(DesktopConnected(h.now, "a1"))) == [("i1", "a1")]


def test_disconnect_beyond_grace_withdraws_and_reroutes_the_offer() -> None:
    h = Harness(EngineConfig(disconnect_grace_s=15))
    h.add_queue(offer_timeout_s=60)
    h.add_agent("a1")
    h.arrive("i1")
    h.add_agent("a2")
    h.send(DesktopDisconnected(h.now, "a1"))
    out = h.advance(15)
    assert OfferWithdrawn(h.now, "i1", "a1", "agent_disconnected") in out
    assert AgentStateForced(h.now, "a1", AgentState.OFFLINE, "desktop_disconnected") in out
    assert offers(out) == [("i1", "a2")]
    assert not h.engine.agent_status("a1").routable


# --------------------------------------------------------------- offers


def test_offer_times_out_and_goes_to_next_agent() -> None:
    h = harness(offer_timeout_s=10)
    h.add_agent("a1")
    h.arrive("i1")
    h.add_agent("a2")
    out = h.advance(10)
    assert OfferExpired(h.now, "i1", "a1") in out
    assert offers(out) == [("i1", "a2")]


def test_agent_who_misses_an_offer_goes_to_missed_until_back() -> None:
    h = harness(offer_timeout_s=10)
    h.add_agent("a1")
    h.arrive("i1")
    out = h.advance(10)
    assert AgentStateForced(h.now, "a1", AgentState.MISSED, "offer_timeout") in out
    assert offers(out) == []
    assert offers(h.set_state("a1", AgentState.AVAILABLE)) == [("i1", "a1")]


def test_missed_state_on_timeout_can_be_turned_off() -> None:
    h = Harness(EngineConfig(missed_state_on_timeout=False))
    h.add_queue(offer_timeout_s=10)
    h.add_agent("a1")
    h.arrive("i1")
    out = h.advance(10)
    assert h.engine.agent_status("a1").state is AgentState.AVAILABLE
    assert offers(out) == [("i1", "a1")]  # nobody else can take it


def test_rejected_offer_goes_to_next_agent() -> None:
    h = harness()
    h.add_agent("a1")
    h.arrive("i1")
    h.add_agent("a2")
    assert offers(h.reject("i1", "a1")) == [("i1", "a2")]


def test_rejecting_agent_gets_the_contact_again_only_when_nobody_else_can() -> None:
    h = harness()
    h.add_agent("a1")
    h.add_agent("a2")
    h.arrive("busy")
    h.accept("busy", "a1")
    h.arrive("i1")
    assert offers(h.reject("i1", "a2")) == [("i1", "a2")]  # a1 is busy: nobody else
    h.end("busy")
    assert offers(h.reject("i1", "a2")) == [("i1", "a1")]


def test_rejecting_agent_is_offered_another_contact_first() -> None:
    h = harness()
    h.add_agent("a1", capacity={"voice": 1})
    h.arrive("i1")
    h.advance(1)
    h.arrive("i2")
    assert offers(h.reject("i1", "a1")) == [("i2", "a1")]


def test_accepting_an_expired_offer_is_a_conflict() -> None:
    h = harness(offer_timeout_s=5)
    h.add_agent("a1")
    h.arrive("i1")
    h.advance(6)
    with pytest.raises(OfferConflict):
        h.accept("i1", "a1")


def test_only_one_live_offer_per_interaction() -> None:
    h = harness()
    h.add_agent("a1")
    h.add_agent("a2")
    assert len(offers(h.arrive("i1"))) == 1
    assert offers(h.add_agent("a3")) == []


def test_unknown_agent_is_reported() -> None:
    with pytest.raises(UnknownRoutingObject):
        harness().set_state("ghost", AgentState.AVAILABLE)


# ------------------------------------------------------------- escalation


def test_escalation_lowers_the_proficiency_needed_after_a_wait() -> None:
    h = harness(requirement=requirement({"billing": 4}),
                escalation=(EscalationStep(after_s=30, lower_proficiency_by=2),))
    h.add_agent("junior", {"billing": 2})
    assert offers(h.arrive("i1")) == []
    out = h.advance(30)
    assert InteractionEscalated(h.now, "i1", "q", 1) in out
    assert offers(out) == [("i1", "junior")]


def test_escalation_drops_a_skill() -> None:
    h = harness(requirement=requirement({"billing": 2, "french": 2}),
                escalation=(EscalationStep(after_s=20, drop_skills=frozenset({"french"})),))
    h.add_agent("english", {"billing": 3})
    h.arrive("i1")
    assert offers(h.advance(20)) == [("i1", "english")]


def test_escalation_adds_agents_of_another_team() -> None:
    h = harness(escalation=(EscalationStep(after_s=45, add_teams=frozenset({"backup"})),))
    h.add_agent("b1", queues=(), team="backup")
    h.arrive("i1")
    assert offers(h.advance(44)) == []
    assert offers(h.advance(1)) == [("i1", "b1")]


def test_overflow_moves_the_contact_to_another_queue_keeping_its_time() -> None:
    h = harness(escalation=(EscalationStep(after_s=60, overflow_to="spill"),))
    h.add_queue(queue("spill"))
    h.arrive("i1")
    h.advance(60)
    assert InteractionEscalated(h.now, "i1", "q", 1, "spill") in h.decisions
    estimate = h.engine.wait_estimate("i1", h.now)
    assert (estimate.queue_id, estimate.waited_s) == ("spill", 60)
    assert offers(h.add_agent("s1", queues=("spill",))) == [("i1", "s1")]


def test_max_wait_returns_the_configured_outcome() -> None:
    outcome = Outcome(OutcomeKind.MESSAGE_THEN_END, "Please try again later")
    h = harness(max_wait_s=120, max_wait_outcome=outcome)
    h.arrive("i1")
    out = h.advance(120)
    assert out == [QueueOutcome(h.now, "i1", "q", CAUSE_MAX_WAIT, outcome)]
    assert h.engine.queue_status("q", h.now).in_queue == 0


def test_max_wait_is_held_back_while_an_offer_is_live() -> None:
    h = harness(max_wait_s=30, offer_timeout_s=20)
    h.arrive("i1")
    h.advance(25)
    h.add_agent("a1")
    assert h.advance(10) == []  # at 35 s the offer is still live
    out = h.advance(10)
    assert [type(x) for x in out] == [OfferExpired, AgentStateForced, QueueOutcome]


def test_full_queue_returns_the_configured_outcome() -> None:
    outcome = Outcome(OutcomeKind.CALLBACK_OFFER)
    h = harness(max_size=1, full_outcome=outcome)
    h.arrive("i1")
    assert h.arrive("i2") == [QueueOutcome(h.now, "i2", "q", CAUSE_QUEUE_FULL, outcome)]


# -------------------------------------------------------------- callbacks


def test_queued_callback_keeps_its_place_in_line() -> None:
    h = harness()
    h.arrive("cb", queued_at=T0 - 100, callback=True)
    h.arrive("live")
    assert h.engine.wait_estimate("cb", h.now).position == 1
    assert offers(h.add_agent("a1")) == [("cb", "a1")]


def test_callback_requested_keeps_the_contact_in_order() -> None:
    h = harness(max_wait_s=60)
    h.arrive("i1")
    h.advance(5)
    h.arrive("i2")
    h.send(CallbackRequested(h.now, "i1"))
    h.advance(100)
    assert [e.interaction_id for e in h.engine.waiting("q", h.now)] == ["i1"]
    assert h.engine.wait_estimate("i1", h.now).callback


# ---------------------------------------------------- position and EWT


def test_position_and_estimated_wait_follow_handle_times_and_staffing() -> None:
    h = harness(default_handle_time_s=100)
    h.add_agent("a1")
    h.add_agent("a2")
    for n in range(4):
        h.arrive(f"i{n}")
        h.advance(1)
    estimate = h.engine.wait_estimate("i3", h.now)
    assert estimate.position == 4
    assert estimate.estimated_wait_s == pytest.approx(4 * 100 / 2)
    h.accept("i0", "a1")
    h.end("i0", handle_time_s=40)
    assert h.engine.queue_status("q", h.now).average_handle_time_s == 40
    assert h.engine.wait_estimate("i3", h.now).estimated_wait_s == pytest.approx(3 * 40 / 2)


def test_positions_are_recomputed_as_the_queue_moves() -> None:
    h = harness()
    for n in range(3):
        h.arrive(f"i{n}")
    assert [e.position for e in h.engine.waiting("q", h.now)] == [1, 2, 3]
    h.cancel("i0")
    assert [(e.interaction_id, e.position) for e in h.engine.waiting("q", h.now)] == [
        ("i1", 1), ("i2", 2)]


def test_a_contact_is_queued_while_waiting_or_on_offer_and_not_once_connected() -> None:
    h = harness()
    assert not h.engine.is_queued("i1")
    h.arrive("i1")
    assert h.engine.is_queued("i1")
    assert offers(h.add_agent("a1")) == [("i1", "a1")]
    assert h.engine.is_queued("i1")  # on offer: still in line until accepted
    h.accept("i1", "a1")
    assert not h.engine.is_queued("i1")


def test_estimated_wait_is_unknown_when_nobody_is_staffed() -> None:
    h = harness()
    h.arrive("i1")
    assert h.engine.wait_estimate("i1", h.now).estimated_wait_s is None


# ---------------------------------------------------------- business hours


PARIS_WEEKDAYS = BusinessHours(
    "Europe/Paris", {day: (OpenWindow(time(9), time(17)),) for day in range(5)},
    holidays=frozenset({date(2023, 12, 25)}))


def test_closed_queue_returns_the_closed_outcome() -> None:
    closed = Outcome(OutcomeKind.MESSAGE_THEN_END, "We are closed")
    h = harness(hours=PARIS_WEEKDAYS, closed_outcome=closed)  # T0 is 23:13 in Paris
    assert h.arrive("i1") == [QueueOutcome(h.now, "i1", "q", CAUSE_CLOSED, closed)]


def test_queue_accepts_contacts_inside_opening_hours() -> None:
    h = Harness(start=T0 + 11 * 3600)  # Wednesday 10:13 in Paris
    h.add_queue(hours=PARIS_WEEKDAYS)
    assert h.arrive("i1") == []
    assert h.engine.queue_status("q", h.now).is_open


def test_unknown_time_zone_is_a_config_error() -> None:
    with pytest.raises(RoutingConfigError):
        harness(hours=BusinessHours("Mars/Olympus"))


# ----------------------------------------------------------------- cancel


def test_cancel_withdraws_a_live_offer_and_frees_the_agent() -> None:
    h = harness()
    h.add_agent("a1")
    h.arrive("i1")
    h.arrive("i2")
    out = h.cancel("i1")
    assert out[0] == OfferWithdrawn(h.now, "i1", "a1", "abandoned")
    assert offers(out) == [("i2", "a1")]


def test_cancel_removes_a_waiting_contact() -> None:
    h = harness()
    h.arrive("i1")
    h.cancel("i1")
    assert h.engine.queue_status("q", h.now).in_queue == 0
    assert h.cancel("i1") == []  # a late duplicate is harmless


# ---------------------------------------------------------- workload counters


def test_staffed_capacity_is_a_running_counter() -> None:
    h = harness(channel="chat")
    h.add_agent("a1", capacity={"chat": 3})
    h.add_agent("a2", capacity={"chat": 2})
    assert h.engine.queue_status("q", h.now).staffed_capacity == 5
    h.set_state("a2", AgentState.OFFLINE)
    assert h.engine.queue_status("q", h.now).staffed_capacity == 3
    h.set_state("a2", AgentState.BREAK)
    assert h.engine.queue_status("q", h.now).staffed_capacity == 5
