"""Sends surveys when contacts close and delivers the survey's own messages."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import select

from omnidesk.channels.models import Channel
from omnidesk.channels.outbound import OutboundService
from omnidesk.db import Database
from omnidesk.events.bus import EventTypes
from omnidesk.events.follower import BusFollower
from omnidesk.events.record import EventRecord
from omnidesk.interactions.models import Interaction
from omnidesk.surveys.actions import ACTOR, send_survey, survey_config

log = logging.getLogger("omnidesk.surveys")


class SurveyService(BusFollower):
    """Follows `interaction.closed` (sends the channel's survey) and the survey's messages
    (delivers them through the channel's adapter, as agents' messages are)."""

    FOLLOWS = EventTypes(frozenset({"interaction.closed", "message.created"}), ("channel.",))

    def __init__(self, db: Database, *, key: str, public_url: str) -> None:
        super().__init__(db)
        self._key = key
        self._public_url = public_url
        self._outbound = OutboundService(db)
        # per tenant: whether any of its channels sends surveys (until a channel changes)
        self._surveying: dict[uuid.UUID, bool] = {}

    async def on_event(self, record: EventRecord | None) -> None:
        """Send on close; deliver the survey's bot messages; ignore the rest."""
        if record is None:
            self._surveying.clear()
            return  # a gap: surveys of contacts closed meanwhile are not sent
        if record.type.startswith("channel."):
            self._surveying.pop(record.tenant_id, None)
        elif record.type == "interaction.closed" and await self._surveys_in(record.tenant_id):
            await self.send(uuid.UUID(record.subject))
        elif record.type == "message.created" and record.actor == ACTOR:
            try:
                await self._outbound.deliver(record)
            except Exception:
                log.exception("could not deliver survey message %s",
                              record.payload.get("message_id"))

    async def _surveys_in(self, tenant_id: uuid.UUID) -> bool:
        """Whether any channel of the tenant sends surveys (most closes then need no read)."""
        known = self._surveying.get(tenant_id)
        if known is None:
            async with self.db.read() as reader:
                every = (await reader.scalars(
                    select(Channel.settings).where(Channel.tenant_id == tenant_id))).all()
            known = self._surveying[tenant_id] = any(
                settings and survey_config(settings) is not None for settings in every)
        return known

    async def send(self, interaction_id: uuid.UUID) -> None:
        """Send the survey of one closed contact, if its channel asks for one."""
        async with self.db.read() as reader:  # most closes need no survey: no write lock
            settings = await reader.scalar(
                select(Channel.settings).join(Interaction, Interaction.channel_id == Channel.id)
                .where(Interaction.id == interaction_id))
        if not settings or survey_config(settings) is None:
            return
        async with self.db.write() as session:
            interaction = await session.get(Interaction, interaction_id)
            if interaction is not None:
                await send_survey(session, interaction, key=self._key,
                                  public_url=self._public_url)
