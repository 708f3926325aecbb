"""The interaction state machine: explicit states, allowed transitions, errors on the rest."""

from __future__ import annotations

import enum

from omnidesk.errors import Conflict


class InteractionState(enum.StrEnum):
    """Where a contact is in its life."""

    NEW = "new"
    SELF_SERVICE = "self_service"
    QUEUED = "queued"
    OFFERED = "offered"
    CONNECTED = "connected"
    ON_HOLD = "on_hold"
    WRAP_UP = "wrap_up"
    TRANSFERRED = "transferred"
    CALLBACK_SCHEDULED = "callback_scheduled"
    CLOSED = "closed"
    ABANDONED = "abandoned"


S = InteractionState

TRANSITIONS: dict[InteractionState, frozenset[InteractionState]] = {
    S.NEW: frozenset({S.SELF_SERVICE, S.QUEUED, S.CONNECTED, S.CLOSED, S.ABANDONED}),
    S.SELF_SERVICE: frozenset({S.QUEUED, S.CLOSED, S.ABANDONED}),
    S.QUEUED: frozenset({S.OFFERED, S.QUEUED, S.CALLBACK_SCHEDULED, S.ABANDONED, S.CLOSED}),
    S.OFFERED: frozenset({S.CONNECTED, S.QUEUED, S.ABANDONED}),
    S.CONNECTED: frozenset({S.ON_HOLD, S.WRAP_UP, S.TRANSFERRED}),
    S.ON_HOLD: frozenset({S.CONNECTED, S.WRAP_UP, S.TRANSFERRED}),
    S.TRANSFERRED: frozenset({S.QUEUED, S.OFFERED, S.CONNECTED, S.ABANDONED}),
    S.CALLBACK_SCHEDULED: frozenset({S.QUEUED, S.OFFERED, S.CLOSED}),
    S.WRAP_UP: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
    S.ABANDONED: frozenset(),
}

TERMINAL_STATES = frozenset(state for state, nexts in TRANSITIONS.items() if not nexts)


class InvalidTransition(Conflict):
    """A state change the machine does not allow (HTTP 409)."""

    code = "invalid_transition"


def check_transition(current: InteractionState, target: InteractionState) -> InteractionState:
    """Return the target if current → target is allowed, else raise InvalidTransition."""
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (final state)"
        raise InvalidTransition(
            f"cannot go from {current.value} to {target.value}; allowed: {allowed}",
            field="state")
    return target
