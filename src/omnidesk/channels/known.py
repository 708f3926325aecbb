"""Channels by id for the inbound endpoints, so that a provider's request needs no read to
find its channel. A `channel.*` event forgets that channel (events/cache.py)."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from starlette.requests import HTTPConnection

from omnidesk.channels.models import Channel
from omnidesk.events.bus import EventTypes
from omnidesk.events.cache import BusCache
from omnidesk.events.record import EventRecord


class KnownChannels(BusCache[Channel]):
    """Channel rows by id, read once. They are detached and shared between requests: read
    their columns, never add one to a session or change it."""

    FOLLOWS = EventTypes(prefixes=("channel.",))

    def changed(self, records: list[EventRecord]) -> Collection[uuid.UUID] | None:
        """A `channel.*` event changes that channel."""
        return [uuid.UUID(record.subject) for record in records
                if record.type.startswith("channel.")]

    async def read(self, channel_id: uuid.UUID) -> Channel | None:
        """The channel's row (None if there is none)."""
        async with self.db.lookup() as session:
            return await session.get(Channel, channel_id)


def known_channels(connection: HTTPConnection) -> KnownChannels:
    """The application's channels in memory (for a request or a WebSocket)."""
    channels: KnownChannels = connection.app.state.known_channels
    return channels
