"""Blind transfers of a connected call: to another agent, to a queue, to a number.

Asked two ways: from the desktop / API (the ACD's `transfer_to_agent` / `transfer_to_queue`,
or `VoiceService.transfer_to_number`), or by the agent's phone sending REFER (RFC 3515),
whose Refer-To user part is an extension (→ that extension's agent), a queue name, or a
phone number (→ the channel's trunk). Transfers to agents and queues go through the ACD, so
the interaction's events are the same whichever way it was asked (`interaction.transferred`,
then `offer.created` … or `interaction.queued`); the voice side follows those events: the
transferring agent's phone is let go, the caller hears hold music, and the target agent's
phone is rung and bridged like any offer. A REFER is answered 202 and a NOTIFY
`SIP/2.0 100 Trying`, then one final NOTIFY: 200 when the new party answered (a queue: once
queued), else the failure (603 rejected, 408 not answered, the trunk's status …); the
transferring phone is expected to hang up after it (we do after LET_GO_SECONDS).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from omnidesk.agents.models import Agent
from omnidesk.channels.voice.call import OutgoingCall, first
from omnidesk.channels.voice.config import ACTOR
from omnidesk.channels.voice.consult import replace
from omnidesk.channels.voice.refer import Referral
from omnidesk.channels.voice.trunk import answered, dial, is_phone_number
from omnidesk.errors import Conflict, InvalidInput, NotFound
from omnidesk.events.log import record
from omnidesk.events.record import EventRecord
from omnidesk.interactions.actions import change_state
from omnidesk.interactions.models import Interaction
from omnidesk.interactions.schemas import StateChange
from omnidesk.interactions.states import InteractionState
from omnidesk.queues.models import Queue
from omnidesk.tenants.models import Tenant
from omnidesk.users.models import User

if TYPE_CHECKING:
    from omnidesk.channels.voice.service import CallLeg

log = logging.getLogger("omnidesk.voice")
S = InteractionState
TRANSFER_EVENTS = frozenset({"interaction.transferred", "call.bridged", "offer.rejected",
                             "offer.timed_out", "offer.withdrawn", "interaction.abandoned"})
FAILED_OFFER_STATUS = {"offer.rejected": 603, "offer.timed_out": 408, "offer.withdrawn": 487}
LET_GO_SECONDS = 45.0  # the transferring phone's leg is hung up by us after this at the latest
TRANSFERABLE = (S.CONNECTED, S.ON_HOLD)


@dataclass(frozen=True)
class Target:
    """Where a transfer goes: `agent` (agent id), `queue` (queue id) or `number`."""

    kind: str
    value: str


class Transfers:
    """The transfers of one call leg (CallLeg.transfers)."""

    def __init__(self, leg: CallLeg) -> None:
        self.leg = leg
        self.referral: Referral | None = None  # the REFER being carried out
        self.target_agent: str | None = None  # the agent a transfer is ringing
        self.external: OutgoingCall | None = None  # the leg to a number through the trunk

    def watch(self, agent_call: OutgoingCall) -> None:
        """The agent's phone is bridged: its REFERs are transfers of this call."""
        agent_call.on_refer = self.referred

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.leg._tasks.add(task)
        task.add_done_callback(self.leg._tasks.discard)

    # ---- REFER from the agent's phone -----------------------------------------------

    def referred(self, referral: Referral) -> None:
        """A REFER from the bridged agent's phone."""
        self._spawn(self._refer(referral))

    async def _refer(self, referral: Referral) -> None:
        if referral.target.replaces is not None:  # attended: the phone consulted itself
            await replace(self.leg, referral, referral.target.replaces)
            return
        if self.referral is not None and not self.referral.finished:
            referral.reject(491, "a transfer of this call is already under way")
            return
        try:
            target = await self.resolve(referral.target.user)
            interaction = await self._interaction()
        except Exception:
            log.exception("REFER of %s: resolving %s failed", self.leg.call.dialog.call_id,
                          referral.target.uri)
            referral.reject(500)
            return
        if target is None:
            referral.reject(404, f"no extension, queue or number {referral.target.user}")
            return
        if interaction.state not in TRANSFERABLE or self.leg.agent_call is not referral.call:
            referral.reject(403, "the call is not connected to this phone")
            return
        actor = await self._actor_of(interaction.agent_id)
        self.referral = referral
        referral.accept()
        try:
            await self.transfer(interaction, target, actor=actor)
        except (Conflict, NotFound, InvalidInput) as error:
            log.info("REFER of %s to %s refused: %s", self.leg.call.dialog.call_id,
                     referral.target.uri, error)
            self._finish(480 if isinstance(error, Conflict) else 404)

    async def resolve(self, user: str) -> Target | None:
        """An extension of this tenant (its agent), a queue name, or a number when the channel
        has a trunk; None when it is none of these."""
        leg = self.leg
        ua = leg.service.ua
        async with leg.db.read() as session:
            slug = await session.scalar(select(Tenant.slug).where(Tenant.id == leg.tenant_id))
            extension = ua.registrar.extensions.get(user) if ua is not None else None
            if extension is not None and extension.tenant == slug:
                agent_id = await session.scalar(
                    select(Agent.id).join(User, User.id == Agent.user_id)
                    .where(Agent.tenant_id == leg.tenant_id,
                           func.lower(User.email) == extension.agent.lower()))
                if agent_id is not None:
                    return Target("agent", str(agent_id))
            queue_id = await session.scalar(
                select(Queue.id).where(Queue.tenant_id == leg.tenant_id,
                                       func.lower(Queue.name) == user.lower()))
            if queue_id is not None:
                return Target("queue", str(queue_id))
        if leg.voice.trunk is not None and is_phone_number(user):
            return Target("number", user)
        return None

    async def _actor_of(self, agent_id: uuid.UUID | None) -> str:
        """The transferring agent's user, as the API would record them."""
        if agent_id is None:
            return ACTOR
        async with self.leg.db.read() as session:
            user_id = await session.scalar(select(Agent.user_id).where(Agent.id == agent_id))
        return f"user:{user_id}" if user_id else ACTOR

    async def transfer(self, interaction: Interaction, target: Target, *, actor: str) -> None:
        """Carry out a transfer (the ACD's for agents and queues)."""
        acd = self.leg.service.acd
        if target.kind == "number":
            await self.to_number(target.value, actor=actor)
            return
        if acd is None:
            raise Conflict("no router in this process")
        if target.kind == "agent":
            self.target_agent = target.value
            await acd.transfer_to_agent(interaction, uuid.UUID(target.value), actor=actor)
        else:
            await acd.transfer_to_queue(interaction, uuid.UUID(target.value), actor=actor)

    def _finish(self, status: int) -> None:
        """The REFER's outcome (final NOTIFY); the transfer is over."""
        referral, self.referral, self.target_agent = self.referral, None, None
        if referral is not None:
            referral.notify(status)

    # ---- what the ACD's transfer events mean for the call ----------------------------

    def on_event(self, event: EventRecord) -> None:
        """Transfers, and the outcome of a transfer's offer, of this call's interaction."""
        payload = event.payload
        if event.type == "interaction.transferred":
            self._handed_on(payload)
        elif event.type == "interaction.abandoned":
            self._finish(487)
        elif self.target_agent is None or payload.get("agent_id") != self.target_agent:
            return
        elif event.type == "call.bridged":
            self._finish(200)
        elif event.type in FAILED_OFFER_STATUS:
            self._finish(FAILED_OFFER_STATUS[event.type])

    def _handed_on(self, payload: dict[str, Any]) -> None:
        """The interaction went to another agent or a queue: let the agent's phone go."""
        if payload.get("to_agent_id") and self.referral is not None:
            self.target_agent = str(payload["to_agent_id"])
        old = self.release()
        if old is None:
            return
        referral = self.referral
        if referral is not None and referral.call is old:
            if payload.get("to_queue_id"):
                self._finish(200)
            self._spawn(self._let_go(old, referral))
        else:
            old.hangup()

    def release(self) -> OutgoingCall | None:
        """Unbridge the agent's phone from the caller (who hears hold music) and hand it back
        to us; the ringer that bridged it finishes without hanging up the caller."""
        leg = self.leg
        old = leg.agent_call
        if old is None:
            return None
        leg.agent_call = None
        leg.bridged = False
        old.on_hold_change = None
        old.on_refer = None
        media = leg.call.media
        consult = leg.consult
        if media is not None and not (consult is not None and consult.completing):
            media.unbridge()  # (a completed consult has bridged the caller to its party)
            media.background = leg._music or None
        leg._released.set()
        return old

    async def _let_go(self, old: OutgoingCall, referral: Referral) -> None:
        """The transferring phone hangs up after the final NOTIFY; we do if it does not, or
        when the caller is gone."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(LET_GO_SECONDS):
                await first(old.ended, self.leg.call.ended)
        if not self.leg.call.live and self.referral is referral:
            self._finish(487)
        if old.live:
            old.hangup()

    # ---- to a number, through the channel's trunk ---------------------------------------

    def check_number(self, number: str) -> None:
        """Conflict / InvalidInput when this call cannot be transferred to `number` now."""
        if self.leg.voice.trunk is None:
            raise Conflict("this voice channel has no trunk for calls to numbers",
                           field="number")
        if not is_phone_number(number):
            raise InvalidInput(f"not a phone number: {number!r}", field="number")
        if self.leg.agent_call is None or not self.leg.call.live:
            raise Conflict("the call is not connected to an agent's phone", field="state")
        if self.external is not None:
            raise Conflict("a transfer of this call is already under way", field="state")

    async def to_number(self, number: str, *, actor: str) -> None:
        """Dial `number` through the trunk while the caller hears hold music; answered: the
        caller is bridged to it and the agent is done (wrap-up, `call.transferred`); not:
        `call.transfer_failed` and the caller is back with the agent (or in the queue when
        the agent's phone hung up meanwhile)."""
        self.check_number(number)
        leg = self.leg
        trunk, ua = leg.voice.trunk, leg.service.ua
        assert trunk is not None and ua is not None
        referral = self.referral
        old = self.release()
        assert old is not None
        external = self.external = await dial(ua, trunk, number, caller=leg.call.caller,
                                              display=leg.call.caller_display)
        self._spawn(self._external(old, external, number, actor, referral))

    async def _external(self, old: OutgoingCall, external: OutgoingCall, number: str,
                        actor: str, referral: Referral | None) -> None:
        leg = self.leg
        trunk = leg.voice.trunk
        assert trunk is not None
        try:
            ok = await answered(external, trunk.ring_seconds, leg.call.ended)
            if not ok:
                await self._external_failed(old, number, external.failure or 487, actor)
                return
            caller, media = leg.call.media, external.media
            if caller is not None and media is not None:
                caller.stop_playback()
                caller.background = None
                caller.bridge(media)
                leg.bridged = True
            await self._transferred_out(number, actor)
            if referral is not None and referral.call is old:
                self._finish(200)
                self._spawn(self._let_go(old, referral))
            elif old.live:
                old.hangup()
            await first(external.ended, leg.call.ended)
        finally:
            self.external = None
            if external.live:
                external.hangup()
            if external.confirmed.is_set() and leg.call.live:
                leg.call.hangup()

    async def _transferred_out(self, number: str, actor: str) -> None:
        leg = self.leg
        async with leg.db.write() as session:
            interaction = await leg._interaction(session)
            from_agent = str(interaction.agent_id) if interaction.agent_id else None
            await record(session, tenant_id=leg.tenant_id, type="call.transferred",
                         subject=interaction.id, payload={
                             "call_id": leg.call.dialog.call_id, "to_number": number,
                             "from_agent_id": from_agent, "via": "trunk"}, actor=actor)
            if interaction.state in TRANSFERABLE:
                await change_state(session, interaction, StateChange(state=S.WRAP_UP),
                                   actor=ACTOR, details={"transferred_to": number})

    async def _external_failed(self, old: OutgoingCall, number: str, status: int,
                               actor: str) -> None:
        leg = self.leg
        await leg._event("call.transfer_failed", {"call_id": leg.call.dialog.call_id,
                                                  "to_number": number, "status": status})
        self._finish(status)
        if not leg.call.live:
            return
        if old.live:  # back to the agent, as before the transfer
            leg.agent_call = old
            leg._released = asyncio.Event()
            old.on_hold_change = leg._agent_hold
            self.watch(old)
            leg._bridge(old)
            self._spawn(self._with_agent_again(old))
            return
        interaction = await self._interaction()
        acd = leg.service.acd
        if acd is not None and interaction.queue_id is not None \
                and interaction.state in TRANSFERABLE:
            await acd.transfer_to_queue(interaction, interaction.queue_id, actor=actor)
        else:
            leg.call.hangup()

    async def _with_agent_again(self, old: OutgoingCall) -> None:
        """What the ringer does after bridging: the agent hanging up ends the call."""
        leg = self.leg
        await first(old.ended, leg.call.ended, leg._released)
        if leg.call.live and leg.agent_call is old:
            await leg._agent_left()

    async def _interaction(self) -> Interaction:
        async with self.leg.db.read() as session:
            return await self.leg._interaction(session)
