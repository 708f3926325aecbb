"""Signals reach every listener, in one process or across processes through Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from omnidesk.realtime.signals import InProcessSignals, RedisSignals, Signal, SignalBus
from tests.conftest import IN_CI, REDIS_URL


@pytest.fixture(params=["in_process", pytest.param("redis", marks=pytest.mark.redis)])
async def signals(request: pytest.FixtureRequest) -> AsyncIterator[SignalBus]:
    if request.param == "in_process":
        yield InProcessSignals()
        return
    if not REDIS_URL:
        if IN_CI:
            pytest.fail("CI must run the Redis signal tests: set OMNIDESK_TEST_REDIS_URL")
        pytest.skip("OMNIDESK_TEST_REDIS_URL not set")
    bus = RedisSignals(REDIS_URL)
    try:
        await bus._redis.ping()
    except (RedisConnectionError, OSError) as error:
        await bus.close()
        pytest.fail(f"Redis at {REDIS_URL} is unreachable: {error}")
    yield bus
    await bus.close()


async def test_a_signal_reaches_every_listener_and_a_broken_one_stops_nobody(
        signals: SignalBus) -> None:
    heard: list[Signal] = []
    arrived = asyncio.Event()

    def broken(_: Signal) -> None:
        raise RuntimeError("a listener that fails")

    def listener(signal: Signal) -> None:
        heard.append(signal)
        arrived.set()

    signals.listen(broken)
    signals.listen(listener)
    sent = Signal(tenant_id=uuid.uuid4(), interaction_id=str(uuid.uuid4()), signal="typing",
                  who="customer", data={"typing": True})
    for _ in range(200):  # Redis: the subscription may take a moment to be in place
        await signals.publish(sent)
        try:
            async with asyncio.timeout(0.05):
                await arrived.wait()
            break
        except TimeoutError:
            continue
    assert heard and heard[0] == sent
    assert sent.frame() == {"type": "signal", "signal": "typing",
                            "interaction_id": sent.interaction_id, "who": "customer",
                            "typing": True}


def test_a_signal_survives_its_wire_form() -> None:
    signal = Signal(tenant_id=uuid.uuid4(), interaction_id="i-1", signal="typing", who="agent",
                    data={"typing": False})
    assert Signal.loads(signal.dumps()) == signal
