"""Deliver agents' messages through their interaction's channel, after the commit."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from pathlib import Path

from sqlalchemy import select

from omnidesk.channels.base import DeliveryError, OutboundFile, OutboundMessage
from omnidesk.channels.models import Channel
from omnidesk.channels.registry import adapter_for
from omnidesk.customers.models import Identity
from omnidesk.db import Database
from omnidesk.events.bus import EventTypes
from omnidesk.events.follower import BusFollower
from omnidesk.events.log import record
from omnidesk.events.record import EventRecord
from omnidesk.interactions import attachments
from omnidesk.interactions.models import Interaction, Message, MessageAttachment

log = logging.getLogger("omnidesk.channels")
OUTBOUND_ACTOR = "outbound"


class OutboundService(BusFollower):
    """Follows `message.created` by agents and hands each to its channel's adapter (with the
    bytes of the files attached to it, read from `data_dir`)."""

    FOLLOWS = EventTypes(frozenset({"message.created"}))

    def __init__(self, db: Database, *, data_dir: Path | None = None) -> None:
        super().__init__(db)
        self.data_dir = data_dir

    async def on_event(self, record: EventRecord | None) -> None:
        """Deliver agents' messages; everything else is not for us."""
        if record is not None and record.type == "message.created" and \
                record.payload.get("author_kind") == "agent":
            await self.deliver(record)

    async def _outbound(
            self, event: EventRecord) -> tuple[OutboundMessage, list[MessageAttachment]] | None:
        """The message as its adapter needs it (and its stored files, not read yet), or None
        when its channel sends nothing."""
        async with self.db.read() as session:
            interaction = await session.get(Interaction, uuid.UUID(event.subject))
            message = await session.get(Message, uuid.UUID(event.payload["message_id"]))
            if interaction is None or message is None or interaction.channel_id is None:
                return None
            channel = await session.get(Channel, interaction.channel_id)
            adapter = adapter_for(interaction.channel)
            if channel is None or adapter is None:
                return None
            recipient = await session.scalar(select(Identity.value).where(
                Identity.customer_id == interaction.customer_id,
                Identity.kind == adapter.identity_kind).limit(1))
            stored = await attachments.of_message(session, message.id)
        if recipient is None:
            return None
        return OutboundMessage(channel=channel, interaction_id=str(interaction.id),
                               message_id=str(message.id), body=message.body,
                               recipient=recipient, subject=interaction.subject,
                               attachments=message.attachments,
                               template=event.payload.get("template"),
                               thread=dict(interaction.attributes.get("thread", {}))), stored

    async def _files(self, rows: list[MessageAttachment]) -> list[OutboundFile]:
        """The stored files' bytes (DeliveryError when one cannot be read)."""
        found: list[OutboundFile] = []
        for row in rows:
            if self.data_dir is None:
                raise DeliveryError("this service was started without the data directory")
            path = attachments.storage_path(self.data_dir, row)
            try:
                data = await asyncio.to_thread(path.read_bytes)
            except OSError as error:
                raise DeliveryError(f"attachment {row.id} cannot be read: "
                                    f"{error.strerror or error}") from error
            found.append(OutboundFile(filename=row.filename, content_type=row.content_type,
                                      data=data))
        return found

    async def deliver(self, event: EventRecord) -> None:
        """Send one agent message and record the outcome as an event."""
        prepared = await self._outbound(event)
        if prepared is None:
            return
        outbound, stored = prepared
        adapter = adapter_for(outbound.channel.kind)
        assert adapter is not None
        try:
            if stored:
                outbound = dataclasses.replace(outbound, files=await self._files(stored))
            provider_id = await adapter.send(outbound)
            kind, payload = "message.delivered", {"provider_message_id": provider_id}
        except DeliveryError as error:
            kind, payload = "message.failed", {"error": str(error)}
        async with self.db.write() as session:
            message = await session.get(Message, uuid.UUID(outbound.message_id))
            if message is not None and kind == "message.delivered":
                message.external_id = payload["provider_message_id"]
            await record(session, tenant_id=event.tenant_id, type=kind, subject=event.subject,
                         payload={"message_id": outbound.message_id, **payload},
                         actor=OUTBOUND_ACTOR)
