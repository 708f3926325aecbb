"""Queued callbacks dialled: when the router offers a callback (a voice interaction with a
`callback_number`, asked for in the IVR or from the web chat, that kept its place in line)
to an agent, omnidesk rings the agent's registered phone; when the agent answers (the offer
is accepted, or was already accepted in the desktop), it dials the customer through the
voice channel's trunk and bridges the two — agent first, as Amazon Connect's and Genesys'
agent-first callbacks do, so the customer never waits for an agent. A customer who does not
answer (or is busy) ends the interaction: `call.callback_failed`, then `closed` with the
disposition `callback_failed`."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from omnidesk.channels.models import Channel
from omnidesk.channels.voice.call import OutgoingCall, first
from omnidesk.channels.voice.config import ACTOR, KIND, Trunk, voice_settings
from omnidesk.channels.voice.offers import decline_offer, take_offer
from omnidesk.channels.voice.trunk import FAILURE_REASONS, answered, close_unanswered, dial
from omnidesk.events.log import record
from omnidesk.events.record import EventRecord
from omnidesk.interactions.actions import change_state
from omnidesk.interactions.models import Interaction
from omnidesk.interactions.schemas import StateChange
from omnidesk.interactions.states import InteractionState

if TYPE_CHECKING:
    from omnidesk.channels.voice.service import VoiceService

log = logging.getLogger("omnidesk.voice")
S = InteractionState
OFFER_GONE = frozenset({"offer.timed_out", "offer.withdrawn", "offer.rejected"})


def callback_number(interaction: Interaction) -> str | None:
    """The number to call back: the web chat's `callback_number`, or the IVR's."""
    attributes = interaction.attributes or {}
    flow = attributes.get("flow") if isinstance(attributes.get("flow"), dict) else {}
    number = attributes.get("callback_number") or (flow or {}).get("callback_number")
    return str(number) if number else None


class CallbackDialler:
    """Dials the callbacks the router offers to agents with a registered phone."""

    def __init__(self, service: VoiceService) -> None:
        self.service = service
        self.running: dict[str, asyncio.Event] = {}  # interaction id → its offer is gone
        self.tasks: set[asyncio.Task[None]] = set()

    def on_offer_event(self, event: EventRecord) -> None:
        """An offer of an interaction that has no live call: maybe a callback to dial."""
        if event.type == "offer.created" and event.payload.get("agent_id") \
                and event.subject not in self.running:
            gone = self.running[event.subject] = asyncio.Event()
            task = asyncio.get_running_loop().create_task(
                self._run(event.tenant_id, uuid.UUID(event.subject),
                          uuid.UUID(str(event.payload["agent_id"])), gone))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        elif event.type in OFFER_GONE and event.subject in self.running:
            self.running[event.subject].set()

    async def stop(self) -> None:
        """Cancel the callbacks being dialled (their calls are hung up)."""
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _run(self, tenant_id: uuid.UUID, interaction_id: uuid.UUID,
                   agent_id: uuid.UUID, gone: asyncio.Event) -> None:
        calls: list[OutgoingCall] = []
        try:
            await self._dial(tenant_id, interaction_id, agent_id, gone, calls)
        except Exception:
            log.exception("callback %s failed", interaction_id)
        finally:
            self.running.pop(str(interaction_id), None)
            for call in calls:
                if call.live:
                    call.hangup()

    async def _what(self, interaction_id: uuid.UUID) -> tuple[Interaction, str, Trunk] | None:
        """The interaction, its number and the trunk to dial it through (the interaction's
        own voice channel's, else the tenant's first voice channel with a trunk)."""
        async with self.service.db.read() as session:
            interaction = await session.get(Interaction, interaction_id)
            if interaction is None or interaction.channel != KIND:
                return None
            number = callback_number(interaction)
            if number is None:
                return None
            channels = list(await session.scalars(
                select(Channel).where(Channel.tenant_id == interaction.tenant_id,
                                      Channel.kind == KIND, Channel.enabled.is_(True))
                .order_by(Channel.name, Channel.id)))
        channels.sort(key=lambda channel: channel.id != interaction.channel_id)
        for channel in channels:
            trunk = voice_settings(channel.settings).trunk
            if trunk is not None:
                return interaction, number, trunk
        log.warning("callback %s: no voice channel has a trunk to dial %s", interaction_id,
                    number)
        return None

    async def _dial(self, tenant_id: uuid.UUID, interaction_id: uuid.UUID,
                    agent_id: uuid.UUID, gone: asyncio.Event,
                    calls: list[OutgoingCall]) -> None:
        found = await self._what(interaction_id)
        ua = self.service.ua
        if found is None or ua is None:
            return
        _, number, trunk = found
        binding = await self.service.phone_of(tenant_id, agent_id)
        if binding is None:
            log.info("callback %s: agent %s has no registered phone; nobody dials",
                     interaction_id, agent_id)
            return
        agent_call = await ua.call_out(binding.contact, caller=number, display="Callback")
        calls.append(agent_call)
        outcome = await first(agent_call.confirmed, agent_call.ended, gone)
        if outcome is not agent_call.confirmed:
            if agent_call.failure is not None and not gone.is_set():
                await decline_offer(self.service.db, self.service.acd, interaction_id, agent_id)
            return
        if not await take_offer(self.service.db, self.service.acd, interaction_id, agent_id,
                                accepted_counts=True):  # the desktop may have accepted
            return
        facts = {"to": number, "agent_id": str(agent_id), "extension": binding.extension,
                 "callback": True}
        await self._event(tenant_id, interaction_id, "call.dialled", facts)
        customer = await dial(ua, trunk, number, display="")
        calls.append(customer)
        if not await answered(customer, trunk.ring_seconds, agent_call.ended):
            await self._failed(interaction_id, number, customer.failure or 487,
                               agent_hung_up=not agent_call.live)
            return
        if agent_call.media is not None and customer.media is not None:
            agent_call.media.bridge(customer.media)
        await self._event(tenant_id, interaction_id, "call.bridged",
                          {**facts, "call_id": customer.dialog.call_id})
        ended = await first(agent_call.ended, customer.ended)
        await self._ended(interaction_id, facts, customer, agent_call,
                          "remote_bye" if ended is customer.ended else "agent_bye")

    async def _failed(self, interaction_id: uuid.UUID, number: str, status: int, *,
                      agent_hung_up: bool) -> None:
        """The customer did not answer: the callback ends (closed, `callback_failed`)."""
        reason = "agent_hung_up" if agent_hung_up else FAILURE_REASONS.get(status, "failed")
        async with self.service.db.write() as session:
            interaction = await session.get(Interaction, interaction_id)
            assert interaction is not None
            await close_unanswered(session, interaction, event_type="call.callback_failed",
                                   payload={"to": number, "status": status},
                                   disposition="callback_failed", reason=reason)

    async def _ended(self, interaction_id: uuid.UUID, facts: dict[str, Any],
                     customer: OutgoingCall, agent_call: OutgoingCall, reason: str) -> None:
        media = customer.media
        async with self.service.db.write() as session:
            interaction = await session.get(Interaction, interaction_id)
            assert interaction is not None
            if interaction.state in (S.CONNECTED, S.ON_HOLD):
                await change_state(session, interaction, StateChange(state=S.WRAP_UP),
                                   actor=ACTOR)
            await record(session, tenant_id=interaction.tenant_id, type="call.ended",
                         subject=interaction.id, payload={
                             **facts, "call_id": customer.dialog.call_id, "reason": reason,
                             "answered": True,
                             "rtp_received": media.stats.received if media else 0,
                             "rtp_lost": media.stats.lost if media else 0,
                             **(media.quality() if media else {}),
                             "agent_rtp_received": agent_call.media.stats.received
                             if agent_call.media else 0}, actor=ACTOR)

    async def _event(self, tenant_id: uuid.UUID, interaction_id: uuid.UUID, type_: str,
                     payload: dict[str, Any]) -> None:
        async with self.service.db.write() as session:
            await record(session, tenant_id=tenant_id, type=type_, subject=interaction_id,
                         payload=payload, actor=ACTOR)
