"""Calls the agent places from the desktop's browser phone (click-to-dial): an outbound
`voice` interaction for the customer with that phone number, connected to the agent at once
(the attempt is the agent's work), the number dialled through the voice channel's trunk and
the answered leg bridged to the agent's `BrowserLeg`. Busy / no answer / the agent hanging
up while it rings: `call.dial_failed` and the interaction closed (`dial_failed`); either side
hanging up after the answer: `call.ended` and wrap-up, as with inbound calls."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from omnidesk.channels.models import Channel
from omnidesk.channels.voice.call import OutgoingCall, first
from omnidesk.channels.voice.config import ACTOR, KIND, Trunk, dialled, voice_settings
from omnidesk.channels.voice.trunk import (
    FAILURE_REASONS,
    answered,
    close_unanswered,
    dial,
    is_phone_number,
)
from omnidesk.customers.actions import find_or_create
from omnidesk.customers.identities import e164
from omnidesk.customers.schemas import IdentityIn
from omnidesk.db import Database
from omnidesk.errors import Conflict, InvalidInput
from omnidesk.events.log import record
from omnidesk.interactions.actions import change_state, create_interaction
from omnidesk.interactions.models import Interaction
from omnidesk.interactions.schemas import StateChange
from omnidesk.interactions.states import InteractionState

if TYPE_CHECKING:
    from omnidesk.channels.voice.ua import UserAgent
    from omnidesk.channels.voice.webrtc import BrowserPhone

log = logging.getLogger("omnidesk.voice.webrtc")
S = InteractionState


@dataclass(frozen=True)
class DialResult:
    """How the attempt went: answered (and bridged), or why not."""

    interaction_id: uuid.UUID
    answered: bool
    status: int | None = None  # the trunk's final status when not answered
    reason: str | None = None  # busy, no_answer, declined, cancelled, failed


def check_number(number: str) -> str:
    """The number as the trunk gets it; 422 (`number`) when it is not a phone number."""
    if not is_phone_number(number):
        raise InvalidInput(f"not a phone number to dial: {number!r}", field="number")
    return dialled(number)


async def trunk_of(db: Database, tenant_id: uuid.UUID,
                   channel_id: uuid.UUID | None) -> tuple[uuid.UUID, Trunk]:
    """The voice channel to call through (the one named, else the tenant's first enabled
    voice channel with a trunk) and its trunk; 409 (`channel_id`) when there is none."""
    async with db.read() as session:
        query = select(Channel).where(Channel.tenant_id == tenant_id, Channel.kind == KIND,
                                      Channel.enabled.is_(True))
        if channel_id is not None:
            query = query.where(Channel.id == channel_id)
        channels = list(await session.scalars(query.order_by(Channel.name, Channel.id)))
    for channel in channels:
        trunk = voice_settings(channel.settings).trunk
        if trunk is not None:
            return channel.id, trunk
    if channel_id is not None:
        raise Conflict("that channel is not an enabled voice channel with a SIP trunk",
                       field="channel_id")
    raise Conflict("no enabled voice channel of yours has a SIP trunk to dial out through",
                   field="channel_id")


async def open_interaction(db: Database, *, tenant_id: uuid.UUID, channel_id: uuid.UUID,
                           agent_id: uuid.UUID, number: str) -> uuid.UUID:
    """The outbound voice interaction for the customer with this number, connected to the
    agent."""
    phone = e164(number, field="number")
    async with db.write() as session:
        customer = await find_or_create(session, tenant_id=tenant_id, display_name=phone,
                                        identity=IdentityIn(kind="phone", value=phone),
                                        actor=ACTOR)
        interaction = await create_interaction(
            session, tenant_id=tenant_id, channel=KIND, channel_id=channel_id,
            customer_id=customer.id, direction="outbound", subject=f"Call to {phone}",
            attributes={"voice": {"to": number, "phone": "browser"}}, actor=ACTOR)
        await change_state(session, interaction,
                           StateChange(state=S.CONNECTED, agent_id=agent_id), actor=ACTOR)
        return interaction.id


class DialOut:
    """One call the agent places from the browser phone, from dialling to its end."""

    def __init__(self, db: Database, ua: UserAgent, phone: BrowserPhone, trunk: Trunk, *,
                 tenant_id: uuid.UUID, interaction_id: uuid.UUID, number: str) -> None:
        self.db = db
        self.ua = ua
        self.phone = phone
        self.trunk = trunk
        self.tenant_id = tenant_id
        self.interaction_id = interaction_id
        self.number = number
        self.result: asyncio.Future[DialResult] = asyncio.get_running_loop().create_future()
        self.customer: OutgoingCall | None = None
        self.facts: dict[str, Any] = {"to": number, "agent_id": str(phone.agent_id),
                                      "phone": "browser", "direction": "outbound"}

    def _settle(self, result: DialResult) -> None:
        if not self.result.done():
            self.result.set_result(result)

    async def run(self) -> None:
        """Dial, bridge, wait for the end (the phone is busy with the call meanwhile)."""
        try:
            await self._event("call.dialled", self.facts)
            if not await self.phone.place(self.interaction_id, self._call):
                await self._failed((self.customer.failure if self.customer else None) or 487)
        except Exception as error:
            log.exception("dialling %s for %s failed", self.number, self.interaction_id)
            if not self.result.done():
                await self._failed((self.customer.failure if self.customer else None) or 500)
            if not self.result.done():
                self.result.set_exception(error)
        finally:
            self.phone.reserved = False
            if not self.result.done():  # cancelled (the service stopping)
                self.result.set_exception(Conflict("the call ended before it was answered",
                                                   field="phone"))
            if self.customer is not None and self.customer.live:
                self.customer.hangup()

    async def _call(self, hung_up: asyncio.Event, closed: asyncio.Event) -> bool:
        """Dial and ring (until answered, refused, `ring_seconds`, or the agent hanging up);
        once answered and bridged, wait for either side to hang up. False when never
        answered."""
        customer = self.customer = await dial(self.ua, self.trunk, self.number)
        if not await answered(customer, self.trunk.ring_seconds, hung_up, closed):
            return False
        media = customer.media
        if media is None:
            customer.failure = 488
            customer.hangup()
            return False
        media.bridge(self.phone.leg)
        await self._event("call.bridged", {**self.facts, "call_id": customer.dialog.call_id})
        self._settle(DialResult(self.interaction_id, answered=True))
        ended = await first(hung_up, closed, customer.ended)
        reason = "remote_bye" if ended is customer.ended else "agent_bye"
        if customer.live:
            customer.hangup()
        await self._ended(customer, reason)
        return True

    async def _failed(self, status: int) -> None:
        reason = FAILURE_REASONS.get(status, "failed")
        async with self.db.write() as session:
            interaction = await session.get(Interaction, self.interaction_id)
            assert interaction is not None
            await close_unanswered(session, interaction, event_type="call.dial_failed",
                                   payload={**self.facts, "status": status},
                                   disposition="dial_failed", reason=reason)
        self._settle(DialResult(self.interaction_id, answered=False, status=status,
                                reason=reason))

    async def _ended(self, customer: OutgoingCall, reason: str) -> None:
        media = customer.media
        async with self.db.write() as session:
            interaction = await session.get(Interaction, self.interaction_id)
            assert interaction is not None
            if interaction.state in (S.CONNECTED, S.ON_HOLD):
                await change_state(session, interaction, StateChange(state=S.WRAP_UP),
                                   actor=ACTOR)
            await record(session, tenant_id=self.tenant_id, type="call.ended",
                         subject=interaction.id, payload={
                             **self.facts, "call_id": customer.dialog.call_id,
                             "reason": reason, "answered": True,
                             "rtp_received": media.stats.received if media else 0,
                             "rtp_lost": media.stats.lost if media else 0,
                             **(media.quality() if media else {}),
                             "agent_frames_received": self.phone.leg.frames_received},
                         actor=ACTOR)

    async def _event(self, type_: str, payload: dict[str, Any]) -> None:
        async with self.db.write() as session:
            await record(session, tenant_id=self.tenant_id, type=type_,
                         subject=self.interaction_id, payload=payload, actor=ACTOR)
