"""Ephemeral signals (typing indicators): sent to whoever is listening now, never stored.

Unlike events, a signal has no sequence number and is not in the event log: a client that is
not connected when it is sent never sees it, and nothing replays it. In one process the
signals go straight to the listeners (the agents' stream hub, the web chat visitors' hub);
with `OMNIDESK_REDIS_URL` set they travel over Redis pub/sub so every process hears them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from omnidesk.tasks import stop_tasks

CHANNEL_PREFIX = "omnidesk:signals:"
RECONNECT_SECONDS = 0.5
log = logging.getLogger("omnidesk.signals")


@dataclass(frozen=True, slots=True)
class Signal:
    """Something happening now on an interaction (`typing`), and who does it."""

    tenant_id: uuid.UUID
    interaction_id: str
    signal: str  # "typing"
    who: str  # "customer" or "agent"
    data: dict[str, Any]

    def frame(self) -> dict[str, Any]:
        """The JSON frame clients get."""
        return {"type": "signal", "signal": self.signal, "interaction_id": self.interaction_id,
                "who": self.who, **self.data}

    def dumps(self) -> str:
        """Serialise for Redis."""
        return json.dumps({"tenant_id": str(self.tenant_id), "interaction_id": self.interaction_id,
                           "signal": self.signal, "who": self.who, "data": self.data})

    @classmethod
    def loads(cls, text: str | bytes) -> Signal:
        """Parse what dumps() wrote."""
        data = json.loads(text)
        return cls(tenant_id=uuid.UUID(data["tenant_id"]), interaction_id=data["interaction_id"],
                   signal=data["signal"], who=data["who"], data=dict(data["data"]))


Listener = Callable[[Signal], None]


class SignalBus(Protocol):
    """Publish a signal to every listener of every process."""

    def listen(self, listener: Listener) -> None: ...

    async def publish(self, signal: Signal) -> None: ...

    async def close(self) -> None: ...


class _Listeners:
    def __init__(self) -> None:
        self.listeners: list[Listener] = []

    def listen(self, listener: Listener) -> None:
        """Call `listener` with every signal (it must not block)."""
        self.listeners.append(listener)

    def deliver(self, signal: Signal) -> None:
        for listener in tuple(self.listeners):
            try:
                listener(signal)
            except Exception:  # one broken listener must not silence the others
                log.exception("signal listener failed on %s", signal)


class InProcessSignals(_Listeners):
    """Signals within this process (the default)."""

    async def publish(self, signal: Signal) -> None:
        """Hand the signal to the listeners at once."""
        self.deliver(signal)

    async def close(self) -> None:
        """Nothing to release."""


class RedisSignals(_Listeners):
    """Signals over Redis pub/sub: published there, read back by every process."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._redis: Redis = Redis.from_url(url)
        self._reader: asyncio.Task[None] | None = None

    def listen(self, listener: Listener) -> None:
        """Call `listener` with every signal; starts reading Redis on first use."""
        super().listen(listener)
        if self._reader is None:
            self._reader = asyncio.create_task(self._read_forever())

    async def publish(self, signal: Signal) -> None:
        """Publish to Redis (a lost signal is harmless: the next keystroke sends another)."""
        try:
            await self._redis.publish(CHANNEL_PREFIX + str(signal.tenant_id), signal.dumps())
        except (RedisConnectionError, OSError) as error:
            log.warning("signal not sent, Redis unavailable (%s)", type(error).__name__)

    async def _read_forever(self) -> None:
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(CHANNEL_PREFIX + "*")
                async for message in pubsub.listen():
                    if message.get("type") == "pmessage":
                        self.deliver(Signal.loads(message["data"]))
            except (RedisConnectionError, OSError) as error:
                log.warning("signals lost Redis (%s); reconnecting", type(error).__name__)
            finally:
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # untyped in redis-py
            await asyncio.sleep(RECONNECT_SECONDS)

    async def close(self) -> None:
        """Stop reading and close the connection."""
        await stop_tasks(self._reader)
        await self._redis.aclose()


def create_signal_bus(redis_url: str | None) -> SignalBus:
    """Redis signals when a URL is configured, else in-process."""
    return RedisSignals(redis_url) if redis_url else InProcessSignals()
