"""Routing events to streams: staff see everything, an agent only what concerns them."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from omnidesk.db import Database
from omnidesk.events.bus import Subscription
from omnidesk.events.record import EventRecord
from omnidesk.realtime.hub import Owners, StreamHub

TENANT = uuid.uuid4()
OTHER_TENANT = uuid.uuid4()


def event(seq: int, type: str, subject: str, tenant: uuid.UUID = TENANT,
          **payload: Any) -> EventRecord:
    return EventRecord(tenant_id=tenant, seq=seq, type=type, subject=subject, payload=payload,
                       occurred_at=datetime(2026, 1, 1, tzinfo=UTC), actor="test")


def test_an_offer_makes_the_interaction_the_agents_until_it_is_released() -> None:
    owners = Owners()
    assert owners.concerned(event(1, "message.created", "i1")) == {"i1"}
    assert "alice" in owners.concerned(event(2, "offer.created", "i1", agent_id="alice"))
    assert "alice" in owners.concerned(event(3, "message.created", "i1"))
    assert "alice" in owners.concerned(event(4, "offer.timed_out", "i1", agent_id="alice"))
    assert "alice" not in owners.concerned(event(5, "message.created", "i1"))
    assert "bob" in owners.concerned(event(6, "interaction.connected", "i1", agent_id="bob"))
    assert "bob" in owners.concerned(event(7, "interaction.closed", "i1"))
    assert "bob" not in owners.concerned(event(8, "message.created", "i1"))


def test_an_agent_gets_events_about_themselves() -> None:
    assert "alice" in Owners().concerned(event(1, "agent.state_changed", "alice",
                                               state="missed"))


async def _drain(subscription: Subscription) -> list[int]:
    seqs = []
    while True:
        try:
            record = await asyncio.wait_for(subscription.receive(), 0.01)
        except TimeoutError:
            return seqs
        assert record is not None
        seqs.append(record.seq)


async def test_the_hub_routes_by_index(db: Database) -> None:
    hub = StreamHub(db)
    async with hub.staff_stream(TENANT) as staff, \
            hub.agent_stream(TENANT, "alice") as alice, \
            hub.agent_stream(TENANT, "bob") as bob, \
            hub.staff_stream(OTHER_TENANT) as stranger:
        for record in (event(1, "offer.created", "i1", agent_id="alice"),
                       event(2, "offer.created", "i2", agent_id="bob"),
                       event(3, "message.created", "i1"),
                       event(4, "message.created", "i3"),
                       event(5, "agent.state_changed", "bob", state="break")):
            hub.route(record)
        assert await _drain(staff) == [1, 2, 3, 4, 5]
        assert await _drain(alice) == [1, 3]
        assert await _drain(bob) == [2, 5]
        assert await _drain(stranger) == []
