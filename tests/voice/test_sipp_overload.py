"""An overloaded server refuses a new call with 503 and Retry-After, never 500, and the call
after the overload is taken as usual (SIPp as the caller)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from omnidesk.config import Settings
from omnidesk.db import mark_background
from omnidesk.events.models import Event
from tests.conftest import eventually
from tests.test_overload import POOL_TIMEOUT_S, every_read_connection_taken
from tests.voice.conftest import Phone


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The voice settings with a short wait for a database connection."""
    settings.database_pool_timeout_seconds = POOL_TIMEOUT_S
    return settings


async def test_a_call_the_server_has_no_connection_for_gets_503_with_retry_after(
        phone: Phone) -> None:
    async with every_read_connection_taken(phone.api.db) as taken:
        result = await phone.sipp("overloaded.xml", "-s", "100")
    assert taken > 0
    assert result.returncode == 0, phone.explain("overloaded.xml")
    assert "Retry-After: 1" in phone.explain("overloaded.xml")
    assert await phone.interactions() == []
    after = await phone.sipp("call_info.xml", "-s", "100", "-d", "1500")
    assert after.returncode == 0, phone.explain("call_info.xml")
    await phone.wait_for_event("call.ended")
    assert len(await phone.interactions()) == 1


async def test_a_new_call_while_routing_lags_gets_503_with_retry_after(phone: Phone) -> None:
    phone.api.db.intake.watch(lambda: 4.2)  # as if the router were 4.2 s behind
    result = await phone.sipp("overloaded.xml", "-s", "100")
    assert result.returncode == 0, phone.explain("overloaded.xml")
    assert "Retry-After: 5" in phone.explain("overloaded.xml")
    assert await phone.interactions() == []


async def test_a_call_taken_before_the_overload_still_has_its_end_recorded(
        phone: Phone) -> None:
    call = asyncio.create_task(phone.sipp("call_info.xml", "-s", "100", "-d", "1500"))
    await phone.wait_for_event("interaction.created")
    async with every_read_connection_taken(phone.api.db):
        result = await call  # the caller hangs up while requests are being shed
        ended = await asyncio.create_task(_calls_ended(phone))  # recorded meanwhile
    assert result.returncode == 0, phone.explain("call_info.xml")
    assert len(ended) == 1


async def _calls_ended(phone: Phone) -> list[Event]:
    """The call.ended events once there is one, read as the server's own work reads (never
    shed; run it as a task of its own, so that only that task is marked)."""
    mark_background()
    ended: list[Event] = []

    async def recorded() -> bool:
        async with phone.api.db.read() as session:
            ended[:] = await session.scalars(select(Event).where(Event.type == "call.ended"))
        return bool(ended)

    await eventually(recorded, "the end of the call to be recorded", seconds=10)
    return ended
