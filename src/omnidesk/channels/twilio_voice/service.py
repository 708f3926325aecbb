"""The Twilio voice service of a server process: answers the channel's webhooks (through its
`CallHost`) and, following the event log, bridges calls whose offer an agent accepted."""

from __future__ import annotations

import asyncio
import logging
import uuid

from omnidesk.acd.service import AcdService
from omnidesk.channels.twilio_voice.calls import CHANNEL, CallHost
from omnidesk.db import Database
from omnidesk.events.bus import EventTypes
from omnidesk.events.follower import BusFollower
from omnidesk.events.record import EventRecord
from omnidesk.flows import FlowRegistry

log = logging.getLogger("omnidesk.twilio_voice")


class TwilioVoiceService(BusFollower):
    """Owns the call host; on `offer.accepted` of a Twilio call, redirects it to the agent."""

    FOLLOWS = EventTypes(frozenset({"offer.accepted"}))

    def __init__(self, db: Database, flows: FlowRegistry, *,
                 acd: AcdService | None = None) -> None:
        super().__init__(db)
        self.calls = CallHost(db, flows, acd=acd)
        self._tasks: set[asyncio.Task[None]] = set()

    async def on_event(self, record: EventRecord | None) -> None:
        """An accepted offer: bridge it if it is a Twilio call (in the background)."""
        if (record is None or record.type != "offer.accepted"
                or record.payload.get("channel", CHANNEL) != CHANNEL):  # chats need no read
            return
        agent_id = record.payload.get("agent_id")
        try:
            interaction_id, agent = uuid.UUID(record.subject), uuid.UUID(str(agent_id))
        except ValueError:
            return
        task = asyncio.create_task(self.calls.bridge(interaction_id, agent))
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("bridging a Twilio call failed", exc_info=error)

    async def stop(self) -> None:
        """Stop following, let the bridges under way finish, close the HTTP client."""
        await super().stop()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.calls.close()
