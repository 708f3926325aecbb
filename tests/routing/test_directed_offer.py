"""OfferDirected: a supervisor offers a waiting contact to one agent, outside the queue's order."""

from __future__ import annotations

import pytest

from omnidesk.routing import (
    AgentState,
    OfferConflict,
    OfferDirected,
    OfferExpired,
    UnknownRoutingObject,
)

from .builders import Harness, offers, queue, requirement


def _waiting() -> Harness:
    """A queue needing billing ≥ 3; an agent without it; one contact waiting."""
    h = Harness()
    h.add_queue(queue(requirement=requirement({"billing": 3}), offer_timeout_s=20))
    h.add_agent("novice", {"billing": 1})
    assert offers(h.arrive("i1")) == []
    return h


def test_a_directed_offer_reaches_an_agent_the_queue_would_not_pick() -> None:
    h = _waiting()
    assert offers(h.send(OfferDirected(h.now, "i1", "novice"))) == [("i1", "novice")]
    assert h.engine.queue_status("q", h.now).waiting == 0
    h.accept("i1", "novice")
    assert h.engine.agent_status("novice").active == ("i1",)


def test_a_directed_offer_that_times_out_goes_back_in_line() -> None:
    h = _waiting()
    h.send(OfferDirected(h.now, "i1", "novice"))
    expired = h.advance(21)
    assert [type(d) for d in expired if isinstance(d, OfferExpired)] == [OfferExpired]
    assert h.engine.queue_status("q", h.now).waiting == 1


def test_a_directed_offer_needs_an_available_agent_and_a_waiting_contact() -> None:
    h = _waiting()
    h.set_state("novice", AgentState.BREAK)
    with pytest.raises(OfferConflict) as error:
        h.send(OfferDirected(h.now, "i1", "novice"))
    assert error.value.field == "agent_id"
    with pytest.raises(UnknownRoutingObject):
        h.send(OfferDirected(h.now, "i1", "nobody"))
    with pytest.raises(OfferConflict):
        h.send(OfferDirected(h.now, "gone", "novice"))
    assert h.engine.queue_status("q", h.now).waiting == 1
