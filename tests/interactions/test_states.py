"""The interaction state machine."""

from __future__ import annotations

import itertools

import pytest

from omnidesk.interactions.states import (
    TERMINAL_STATES,
    TRANSITIONS,
    InteractionState,
    InvalidTransition,
    check_transition,
)

S = InteractionState
ALLOWED = [(a, b) for a, targets in TRANSITIONS.items() for b in sorted(targets)]
FORBIDDEN = [(a, b) for a in S for b in S if b not in TRANSITIONS[a]]


def test_every_state_has_a_transition_rule() -> None:
    assert set(TRANSITIONS) == set(S)


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_allowed_transition_returns_the_target(current: S, target: S) -> None:
    assert check_transition(current, target) is target


@pytest.mark.parametrize(("current", "target"), FORBIDDEN)
def test_forbidden_transition_raises_a_conflict_naming_both_states(current: S, target: S) -> None:
    with pytest.raises(InvalidTransition) as raised:
        check_transition(current, target)
    assert raised.value.status_code == 409
    assert current.value in raised.value.message and target.value in raised.value.message


def test_closed_and_abandoned_are_final() -> None:
    assert {S.CLOSED, S.ABANDONED} == TERMINAL_STATES


def test_the_happy_path_from_arrival_to_closed_is_allowed() -> None:
    path = [S.NEW, S.SELF_SERVICE, S.QUEUED, S.OFFERED, S.CONNECTED, S.ON_HOLD, S.CONNECTED,
            S.WRAP_UP, S.CLOSED]
    for current, target in itertools.pairwise(path):
        check_transition(current, target)


def test_every_non_final_state_can_reach_an_end() -> None:
    for start in S:
        seen, frontier = {start}, [start]
        while frontier:
            for following in TRANSITIONS[frontier.pop()]:
                if following not in seen:
                    seen.add(following)
                    frontier.append(following)
        assert seen & TERMINAL_STATES, start
