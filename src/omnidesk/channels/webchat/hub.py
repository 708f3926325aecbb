"""Routes events and signals to the visitors' open sockets in this process.

A socket follows one conversation (its visitor's current interaction). `message.created` on
that interaction wakes it: the socket then reads the stored messages after the last one it
sent, so what a visitor gets is always the database's order, never a duplicate, and a missed
wake-up costs nothing but a delay (the next one, or a reconnect, catches up). A new
interaction of the visitor's customer on this channel moves the socket to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from omnidesk.events.bus import EventTypes
from omnidesk.events.follower import BusFollower
from omnidesk.events.record import EventRecord
from omnidesk.realtime.signals import Signal

WAKE: dict[str, Any] = {"type": "_wake"}
OUTBOX = 200
# What the visitor is told when their conversation changes state.
STATES = {"interaction.queued": "queued", "interaction.requeued": "queued",
          "interaction.self_service_started": "self_service",
          "interaction.connected": "connected", "interaction.resumed": "connected",
          "interaction.held": "on_hold", "interaction.transferred": "transferred",
          "interaction.wrap_up_started": "wrap_up", "interaction.closed": "closed",
          "interaction.abandoned": "abandoned",
          "interaction.callback_scheduled": "callback_scheduled"}


class VisitorConnection:
    """One open visitor socket: what it follows and the frames waiting to go out."""

    def __init__(self, *, tenant_id: uuid.UUID, channel_id: uuid.UUID, visitor_id: uuid.UUID,
                 customer_id: uuid.UUID | None, interaction_id: uuid.UUID | None) -> None:
        self.tenant_id = tenant_id
        self.channel_id = channel_id
        self.visitor_id = visitor_id
        self.customer_id = customer_id
        self.interaction_id = interaction_id
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue(OUTBOX)
        self._woken = False

    def wake(self) -> None:
        """New stored messages may be waiting (coalesced: one wake-up at a time)."""
        if not self._woken and not self.outbox.full():
            self._woken = True
            self.outbox.put_nowait(WAKE)

    def woken(self) -> None:
        """The socket is reading the stored messages now."""
        self._woken = False

    def push(self, frame: dict[str, Any]) -> None:
        """An ephemeral frame (typing, state); dropped when the socket is far behind."""
        if not self.outbox.full():
            self.outbox.put_nowait(frame)


class VisitorHub(BusFollower):
    """The visitors' sockets of this process, by interaction and by customer."""

    FOLLOWS = EventTypes(frozenset({"interaction.created", "message.created", *STATES}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._by_interaction: dict[str, set[VisitorConnection]] = defaultdict(set)
        self._by_customer: dict[str, set[VisitorConnection]] = defaultdict(set)

    @contextlib.contextmanager
    def attach(self, connection: VisitorConnection) -> Iterator[None]:
        """Route to this socket while the block runs."""
        self._index(connection)
        try:
            yield
        finally:
            self._unindex(connection)

    def follow(self, connection: VisitorConnection, *, interaction_id: uuid.UUID | None,
               customer_id: uuid.UUID | None) -> None:
        """The socket's visitor now writes in another conversation or as another customer."""
        self._unindex(connection)
        connection.interaction_id = interaction_id
        connection.customer_id = customer_id
        self._index(connection)

    def _index(self, connection: VisitorConnection) -> None:
        if connection.interaction_id is not None:
            self._by_interaction[str(connection.interaction_id)].add(connection)
        if connection.customer_id is not None:
            self._by_customer[str(connection.customer_id)].add(connection)

    def _unindex(self, connection: VisitorConnection) -> None:
        for index, key in ((self._by_interaction, connection.interaction_id),
                           (self._by_customer, connection.customer_id)):
            if key is not None and (held := index.get(str(key))) is not None:
                held.discard(connection)
                if not held:
                    del index[str(key)]

    async def on_event(self, record: EventRecord | None) -> None:
        """Wake the sockets an event concerns; after a bus gap, every socket catches up."""
        if record is None:
            for followers in tuple(self._by_interaction.values()):
                for follower in followers:
                    follower.wake()
            return
        if record.type == "interaction.created":
            self._new_interaction(record)
            return
        connections = list(self._by_interaction.get(record.subject, ()))
        if record.type == "message.created":
            for connection in connections:
                connection.wake()
        elif (state := STATES.get(record.type)) is not None:
            for connection in connections:
                connection.push({"type": "state", "interaction_id": record.subject,
                                 "state": state})

    def _new_interaction(self, record: EventRecord) -> None:
        customer, channel = record.payload.get("customer_id"), record.payload.get("channel_id")
        new = uuid.UUID(record.subject)
        for connection in tuple(self._by_customer.get(str(customer), ())):
            if str(connection.channel_id) != channel or connection.interaction_id == new:
                continue  # another channel's, or the socket that wrote it follows it already
            previous = connection.interaction_id
            self.follow(connection, interaction_id=new, customer_id=connection.customer_id)
            if previous is not None:
                connection.push({"type": "conversation", "interaction_id": record.subject})
            connection.wake()

    def on_signal(self, signal: Signal) -> None:
        """An agent's typing goes to the visitor's sockets on that interaction."""
        if signal.who == "customer":
            return
        for connection in tuple(self._by_interaction.get(signal.interaction_id, ())):
            if connection.tenant_id == signal.tenant_id:
                connection.push(signal.frame())
