"""Consults of a live call: attended transfer and three-way calls (issue #9).

From the desktop / API: the agent on a bridged call consults another agent (their
registered phone) or a number (through the channel's trunk). The caller hears hold music
(`on_hold`), the consulted phone rings and, answered, is bridged to the consulting agent.
Then the agent **completes** (the caller is bridged to the consulted party and the agent's
phone is hung up; for an agent through the ACD's `transfer_to_agent`, so the interaction
and its events are those of a blind transfer, the offer taken at once by the phone already
on the line; for a number as a blind transfer to a number: `call.transferred`, wrap-up),
makes a **conference** (the three legs in a `Mixer`, everyone hears everyone; completing
then lets the agent leave, the two others stay bridged) or **cancels** (the consulted leg is
hung up, the caller is back with the agent). The agent's phone hanging up while the
consulted party is on the line completes the transfer; the consulted party hanging up
cancels it.

From the agent's phone (RFC 5589 attended transfer): the phone holds the caller, calls the
other extension through us (`PhoneCalls`: a registered phone calling an extension is
bridged to that extension's phone, a minimal B2BUA), then REFERs the caller's dialog with
`Refer-To: <sip:…?Replaces=…>` naming that call (RFC 3891): the caller is bridged to the
extension's phone and both of the phone's legs are let go (the REFER answered 202 and
NOTIFYed as a blind transfer's; an unknown dialog → NOTIFY 481).

Events: `call.consult_started`, `call.consult_answered`, then `call.consult_completed`,
`call.conference_started` or `call.consult_cancelled` (`reason`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from omnidesk.agents.models import Agent
from omnidesk.channels.voice.call import Call, CallEnded, OutgoingCall, first
from omnidesk.channels.voice.config import KIND
from omnidesk.channels.voice.mixer import AGENT, CALLER, Mixer
from omnidesk.channels.voice.refer import Referral
from omnidesk.channels.voice.trunk import dial, is_phone_number
from omnidesk.errors import Conflict, InvalidInput, NotFound
from omnidesk.events.log import record
from omnidesk.interactions.models import Interaction
from omnidesk.interactions.states import InteractionState

if TYPE_CHECKING:
    from omnidesk.channels.voice.service import CallLeg, VoiceService

log = logging.getLogger("omnidesk.voice")
S = InteractionState
CONSULTED = "consulted"
RING_SECONDS = 30.0  # a consulted agent's phone rings this long (a number: the trunk's)
RINGING, TALKING, CONFERENCE, COMPLETED, CANCELLED = (
    "ringing", "talking", "conference", "completed", "cancelled")
LIVE = (RINGING, TALKING, CONFERENCE)
THREE_WAY = {CALLER: frozenset({AGENT, CONSULTED}), AGENT: frozenset({CALLER, CONSULTED}),
             CONSULTED: frozenset({CALLER, AGENT})}
CONSULTABLE = (S.CONNECTED, S.ON_HOLD)


class Consult:
    """One consult of one call (CallLeg.consult), from ringing the consulted party to its
    end: completed (the call is theirs), cancelled (back to the agent)."""

    def __init__(self, leg: CallLeg, agent_call: OutgoingCall, *, agent_id: uuid.UUID | None,
                 number: str | None, extension: str | None, contact: str | None,
                 from_agent: uuid.UUID | None, actor: str) -> None:
        self.leg = leg
        self.agent_call = agent_call  # the consulting agent's phone
        self.agent_id = agent_id  # the consulted agent (None: a number)
        self.number = number
        self.extension = extension  # the consulted agent's phone
        self.contact = contact
        self.from_agent = from_agent
        self.actor = actor
        self.call: OutgoingCall | None = None  # the consulted party's leg
        self.state = RINGING
        self.mixer: Mixer | None = None
        self.completing = False  # the caller's media is ours to move (transfer.release)
        self.via = "api"
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        """Ringing, talking or in conference."""
        return self.state in LIVE

    def describe(self) -> dict[str, Any]:
        """The consult's facts, for events."""
        return {"call_id": self.leg.call.dialog.call_id,
                "agent_id": str(self.agent_id) if self.agent_id else None,
                "to_number": self.number, "extension": self.extension,
                "from_agent_id": str(self.from_agent) if self.from_agent else None,
                "consult_call_id": self.call.dialog.call_id if self.call else None}

    # ---- ringing ------------------------------------------------------------------------

    async def start(self) -> None:
        """Put the caller on hold and ring the consulted party (answered in the background)."""
        leg, ua = self.leg, self.leg.service.ua
        assert ua is not None
        self._hold_caller()
        await leg._set_state(S.ON_HOLD)
        shown = f"consult {leg.call.caller_display or leg.call.caller}".strip()
        try:
            if self.number is not None:
                assert leg.voice.trunk is not None
                self.call = await dial(ua, leg.voice.trunk, self.number,
                                       caller=leg.call.caller, display=shown)
            else:
                assert self.contact is not None
                self.call = await ua.call_out(self.contact, caller=leg.call.caller,
                                              display=shown)
        except Exception:
            self.state = CANCELLED
            self._back_to_agent()
            await leg._set_state(S.CONNECTED)
            raise
        self.agent_call.listeners.append(self._agent_gone)
        await self._record("call.consult_started", {}, actor=self.actor)
        self._task = asyncio.get_running_loop().create_task(self._run())

    def _hold_caller(self) -> None:
        caller = self.leg.call.media
        self.agent_call.on_hold_change = None  # the phone's hold does nothing meanwhile
        if caller is not None:
            caller.unbridge()
            caller.background = self.leg._music or None

    async def _run(self) -> None:
        leg, call = self.leg, self.call
        assert call is not None
        try:
            trunk = leg.voice.trunk
            seconds = trunk.ring_seconds if self.number is not None and trunk else RING_SECONDS
            outcome = await first(call.confirmed, call.ended, leg.call.ended,
                                  self.agent_call.ended, self._changed, within=seconds)
            if self.state is not RINGING:
                return  # cancelled meanwhile
            if outcome is not call.confirmed or not call.live:
                if call.live:
                    call.failure = 408 if outcome is None else 487
                    call.hangup()
                reason = "caller_hung_up" if not leg.call.live else \
                    "agent_hung_up" if not self.agent_call.live else \
                    "not_answered" if call.failure in (None, 408, 480, 487) else "failed"
                await self._cancel(reason, status=call.failure)
                return
            self._talk()
            await self._record("call.consult_answered", {})
            while self.state in (TALKING, CONFERENCE):
                self._changed.clear()
                outcome = await first(leg.call.ended, call.ended, self.agent_call.ended,
                                      self._changed)
                if self.state not in (TALKING, CONFERENCE):
                    break
                if outcome is leg.call.ended:
                    await self._cancel("caller_hung_up")
                elif outcome is self.agent_call.ended:  # the agent hung up: the call is theirs
                    try:
                        await self.complete(actor=await self._agent_actor())
                    except (Conflict, NotFound) as error:
                        log.info("call %s: completing on the agent's hang-up failed: %s",
                                 leg.call.dialog.call_id, error)
                        await self._orphaned()
                elif outcome is call.ended:
                    await self._cancel("consulted_hung_up")
        except Exception:
            log.exception("consult of call %s failed", leg.call.dialog.call_id)
            if self.active:
                with contextlib.suppress(Exception):
                    await self._cancel("failed")

    def _talk(self) -> None:
        """The consulted party answered: bridged to the consulting agent."""
        agent = self.agent_call.media
        consulted = self.call.media if self.call is not None else None
        self.state = TALKING
        if agent is not None and consulted is not None:
            agent.unbridge()
            consulted.unbridge()
            agent.bridge(consulted)

    def _agent_gone(self, _call: Call) -> None:
        """The consulting agent's phone hung up (synchronously, before the ringer sees it):
        with the consulted party on the line the call goes to them, so the caller is not
        hung up; while it still rings the consult ends with the agent's call."""
        if self.state in (TALKING, CONFERENCE) and self.leg.call.live:
            self.completing = True
            self.leg.transfers.release()
        self._changed.set()

    async def _agent_actor(self) -> str:
        if self.from_agent is None:
            return "voice"
        async with self.leg.db.read() as session:
            user_id = await session.scalar(select(Agent.user_id)
                                           .where(Agent.id == self.from_agent))
        return f"user:{user_id}" if user_id else "voice"

    # ---- what the agent asks ------------------------------------------------------------

    async def complete(self, *, actor: str) -> None:
        """Hand the caller to the consulted party; the consulting agent's phone is let go."""
        if self.state is RINGING:
            raise Conflict("the consulted party has not answered yet: cancel, or wait",
                           field="state")
        if self.state not in (TALKING, CONFERENCE):
            raise Conflict(f"the consult is {self.state}", field="state")
        leg = self.leg
        call = self.call
        assert call is not None
        interaction = await self._interaction()
        agent_left = not self.agent_call.live
        was = self.state
        if self.agent_id is not None:
            acd = leg.service.acd
            if acd is None:
                raise Conflict("no router in this process", field="agent_id")
            await _available(leg.service, leg.tenant_id, self.agent_id)
            self.state, self.completing = COMPLETED, True  # the ringer may hand over now
            try:
                await acd.transfer_to_agent(interaction, self.agent_id, actor=actor)
            except (Conflict, NotFound):
                self.state, self.completing = was, agent_left
                raise
        self.state, self.completing = COMPLETED, True
        self._changed.set()
        self._join_caller()
        if self.agent_id is None:
            await self._to_number(actor)
        await self._record("call.consult_completed", {
            "conference": was is CONFERENCE, "via": self.via, "agent_left": agent_left},
            actor=actor)

    async def _to_number(self, actor: str) -> None:
        """A number answered: a blind transfer to it from here on."""
        leg, call = self.leg, self.call
        assert call is not None and self.number is not None
        old = leg.transfers.release()
        if old is not None and old.live:
            old.hangup()
        leg.transfers.external = call
        leg.bridged = True
        await leg.transfers._transferred_out(self.number, actor)
        leg.consult = None
        leg.transfers._spawn(self._external(call))

    async def _external(self, call: OutgoingCall) -> None:
        leg = self.leg
        try:
            await first(call.ended, leg.call.ended)
        finally:
            leg.transfers.external = None
            if call.live:
                call.hangup()
            if leg.call.live:
                leg.call.hangup()

    def _join_caller(self) -> None:
        """The caller bridged to the consulted party (out of the mixer, or off hold)."""
        caller = self.leg.call.media
        consulted = self.call.media if self.call is not None else None
        agent = self.agent_call.media
        if self.mixer is not None:
            self.mixer.remove(AGENT)
            if caller is not None and consulted is not None:
                self.mixer.bridge_back((CALLER, caller), (CONSULTED, consulted))
            self.mixer = None
        elif caller is not None and consulted is not None:
            if agent is not None and agent.forward_to is not None:
                agent.unbridge()
            consulted.unbridge()
            caller.unbridge()
            caller.stop_playback()
            caller.background = None
            caller.bridge(consulted)

    def handover(self, agent_id: uuid.UUID) -> tuple[OutgoingCall, str] | None:
        """The consulted phone, already answered, for the new agent's offer (the ringer
        bridges it instead of ringing again); None when this is not that transfer."""
        call = self.call
        if self.state is not COMPLETED or self.agent_id != agent_id or call is None \
                or not call.live:
            return None
        self.leg.consult = None
        return call, self.extension or ""

    async def conference(self, *, actor: str) -> None:
        """The three legs in one mixer: everyone hears everyone."""
        if self.state is not TALKING:
            raise Conflict(f"only a consult whose party answered can become a conference; "
                           f"it is {self.state}", field="state")
        caller, agent = self.leg.call.media, self.agent_call.media
        consulted = self.call.media if self.call is not None else None
        if caller is None or agent is None or consulted is None:
            raise Conflict("the call has no media", field="state")
        mixer = self.mixer = Mixer(THREE_WAY)
        mixer.take_bridge((AGENT, agent), (CONSULTED, consulted))
        caller.stop_playback()
        caller.background = None
        mixer.add(CALLER, caller)
        self.state = CONFERENCE
        await self.leg._set_state(S.CONNECTED)
        await self._record("call.conference_started", {}, actor=actor)

    async def cancel(self, *, actor: str) -> None:
        """Hang up the consulted party; the caller is back with the agent."""
        if not self.active:
            raise Conflict(f"the consult is {self.state}", field="state")
        await self._cancel("cancelled", actor=actor)

    async def stop(self) -> None:
        """The call is ending: hang up the consulted party (if still ours), wait for the end."""
        if self.active:
            await self._cancel("caller_hung_up")
        call = self.call
        if self.state is COMPLETED and self.leg.consult is self and call is not None \
                and call.live and call is not self.leg.agent_call:  # never handed over
            call.hangup()
        if self._task is not None and self._task is not asyncio.current_task():
            with contextlib.suppress(Exception):
                await asyncio.shield(self._task)

    async def _cancel(self, reason: str, *, status: int | None = None,
                      actor: str = "voice") -> None:
        if not self.active:
            return
        self.state = CANCELLED
        self._changed.set()
        if self.call is not None and self.call.live:
            self.call.hangup()
        self._back_to_agent()
        if self.leg.call.live and self.agent_call.live:
            await self.leg._set_state(S.ON_HOLD if self.agent_call.on_hold else S.CONNECTED)
        await self._record("call.consult_cancelled", {"reason": reason, "status": status},
                           actor=actor)

    def _back_to_agent(self) -> None:
        """The consulted leg out; caller and agent bridged again (hold music while the
        agent's phone holds the caller)."""
        leg = self.leg
        caller, agent = leg.call.media, self.agent_call.media
        if leg.consult is self:
            leg.consult = None
        if self.agent_call.live:
            self.agent_call.on_hold_change = leg._agent_hold
        if self.mixer is not None:
            self.mixer.remove(CONSULTED)
            if caller is not None and agent is not None and leg.call.live \
                    and self.agent_call.live:
                self.mixer.bridge_back((CALLER, caller), (AGENT, agent))
            else:
                self.mixer.remove(CALLER)
                self.mixer.remove(AGENT)
            self.mixer = None
            return
        if agent is not None:
            agent.unbridge()
        if caller is None or agent is None or not (leg.call.live and self.agent_call.live):
            return
        if self.agent_call.on_hold:
            caller.background = leg._music or None
        else:
            caller.stop_playback()
            caller.background = None
            caller.bridge(agent)

    async def _orphaned(self) -> None:
        """The agent hung up and the consulted party could not take the call: the caller
        goes back to their queue (else is hung up)."""
        self.state = CANCELLED
        if self.call is not None and self.call.live:
            self.call.hangup()
        if self.leg.consult is self:
            self.leg.consult = None
        await self._record("call.consult_cancelled", {"reason": "agent_hung_up",
                                                      "status": None})
        interaction = await self._interaction()
        acd = self.leg.service.acd
        if acd is not None and interaction.queue_id is not None \
                and interaction.state in CONSULTABLE and self.leg.call.live:
            await acd.transfer_to_queue(interaction, interaction.queue_id, actor="voice")
        else:
            self.leg.call.hangup()

    async def _interaction(self) -> Interaction:
        async with self.leg.db.read() as session:
            return await self.leg._interaction(session)

    async def _record(self, type_: str, payload: dict[str, Any], *,
                      actor: str = "voice") -> None:
        leg = self.leg
        async with leg.db.write() as session:
            await record(session, tenant_id=leg.tenant_id, type=type_,
                         subject=leg.interaction_id or leg.call.id,
                         payload=self.describe() | payload, actor=actor)


# ---- what the API calls -------------------------------------------------------------------


def _bridged_call(service: VoiceService | None, interaction: Interaction) -> CallLeg:
    if interaction.channel != KIND:
        raise Conflict(f"only phone calls can be consulted on (this is {interaction.channel})",
                       field="interaction_id")
    if service is None:
        raise Conflict("the voice service is not running", field="interaction_id")
    leg = service.legs.get(interaction.id)
    if leg is None or not leg.call.live:
        raise Conflict("the call is not live on this server", field="interaction_id")
    if leg.agent_call is None or not leg.agent_call.live:
        raise Conflict("the call is not connected to an agent's SIP phone",
                       field="interaction_id")
    return leg


async def start(service: VoiceService | None, interaction: Interaction, *,
                agent_id: uuid.UUID | None, number: str | None, actor: str) -> Consult:
    """Put the caller on hold and ring the consulted agent's phone or number (202)."""
    if interaction.state not in CONSULTABLE:
        raise Conflict(f"only a connected or held call can be consulted on; it is "
                       f"{interaction.state.value}", field="state")
    leg = _bridged_call(service, interaction)
    assert service is not None and leg.agent_call is not None
    if leg.consult is not None and leg.consult.active:
        raise Conflict("a consult of this call is already under way", field="state")
    if leg.transfers.external is not None or leg.transfers.referral is not None:
        raise Conflict("a transfer of this call is already under way", field="state")
    if leg.monitor is not None and leg.monitor.active:
        raise Conflict("a supervisor is on this call; they must leave first", field="state")
    contact = extension = None
    if agent_id is not None:
        if agent_id == interaction.agent_id:
            raise InvalidInput("the interaction is already with that agent", field="agent_id")
        await _available(service, interaction.tenant_id, agent_id)
        binding = await service.phone_of(interaction.tenant_id, agent_id)
        if binding is None:
            raise Conflict("that agent has no registered SIP phone to consult on",
                           field="agent_id")
        contact, extension = binding.contact, binding.extension
    else:
        assert number is not None
        if leg.voice.trunk is None:
            raise Conflict("this voice channel has no trunk for calls to numbers",
                           field="number")
        if not is_phone_number(number):
            raise InvalidInput(f"not a phone number: {number!r}", field="number")
    found = leg.consult = Consult(leg, leg.agent_call, agent_id=agent_id, number=number,
                                  extension=extension, contact=contact,
                                  from_agent=interaction.agent_id, actor=actor)
    try:
        await found.start()
    except Exception:
        if leg.consult is found:
            leg.consult = None
        raise
    return found


async def _available(service: VoiceService, tenant_id: uuid.UUID, agent_id: uuid.UUID) -> None:
    acd = service.acd
    if acd is None:
        return
    (await acd.current_router(tenant_id)).require_available(str(agent_id))


def current(service: VoiceService | None, interaction: Interaction) -> Consult:
    """The consult under way on the call; Conflict (field `state`) when there is none."""
    leg = service.legs.get(interaction.id) if service is not None else None
    found = leg.consult if leg is not None else None
    if found is None or not found.active:
        raise Conflict("no consult is under way on this call", field="state")
    return found


# ---- phone to phone, and REFER with Replaces ----------------------------------------------


@dataclass(eq=False)
class PhoneCall:
    """A registered phone calling another extension through us: two legs bridged."""

    inbound: Call  # from the calling phone
    outbound: OutgoingCall  # to the called extension's phone
    callee: str  # the called extension
    replaced: asyncio.Event  # a REFER with Replaces took the called phone's leg
    replacing: bool = False  # … is being carried out: the calling phone may hang up

    def matches(self, call_id: str, tags: frozenset[str]) -> bool:
        """The dialog a Replaces names (RFC 3891): Call-ID and both tags, in either order
        (phones differ on whose tag is `to-tag` when the REFER names our dialog)."""
        dialog = self.inbound.dialog
        return dialog.call_id == call_id and tags == {dialog.local_tag, dialog.remote_tag}


class PhoneCalls:
    """Calls between agents' registered phones (the minimal case attended transfer needs:
    the phone consults another extension itself)."""

    def __init__(self, service: VoiceService) -> None:
        self.service = service
        self.calls: set[PhoneCall] = set()

    def find(self, call_id: str, to_tag: str, from_tag: str) -> PhoneCall | None:
        """The live phone call a Replaces names."""
        tags = frozenset({to_tag, from_tag})
        return next((found for found in self.calls if found.matches(call_id, tags)
                     and found.inbound.live and found.outbound.live), None)

    async def handle(self, call: Call) -> bool:
        """An INVITE from a registered phone (its From user an extension registered from
        that address) to another extension of its tenant: ring that phone and bridge the
        two; False when it is not such a call (a channel takes it)."""
        ua = self.service.ua
        if ua is None:
            return False
        registrar = ua.registrar
        calling = registrar.extensions.get(call.caller)
        binding = registrar.lookup(call.caller) if calling is not None else None
        called = registrar.extensions.get(call.callee)
        if calling is None or binding is None or binding.peer.host != call.peer.host \
                or called is None or called.tenant != calling.tenant \
                or call.callee == call.caller:
            return False
        target = registrar.lookup(call.callee)
        if target is None:
            call.reject(480, "that extension's phone is not registered")
            return True
        call.ring()
        outbound = await ua.call_out(target.contact, caller=call.caller,
                                     display=call.caller_display)
        found = PhoneCall(call, outbound, call.callee, asyncio.Event())
        self.calls.add(found)
        try:
            outcome = await first(outbound.confirmed, outbound.ended, call.ended)
            if outcome is not outbound.confirmed:
                call.reject(outbound.failure if outbound.failure and
                            400 <= outbound.failure < 700 else 480)
                return True
            await call.answer()
            if call.media is not None and outbound.media is not None:
                call.media.bridge(outbound.media)
            await first(call.ended, outbound.ended, found.replaced)
        except CallEnded:
            pass
        finally:
            self.calls.discard(found)
            if not (found.replaced.is_set() or found.replacing) and outbound.live:
                outbound.hangup()
            if call.live:
                call.hangup()
        return True


async def replace(leg: CallLeg, referral: Referral, replaces: tuple[str, str, str]) -> None:
    """REFER with Replaces from the agent's phone: the caller goes to the phone call it
    names (an attended transfer); 202, then NOTIFY 200 once bridged, 481 for an unknown
    dialog, 480 when the other extension's agent cannot take the call."""
    transfers = leg.transfers
    if (transfers.referral is not None and not transfers.referral.finished) \
            or transfers.external is not None or (leg.consult is not None and leg.consult.active):
        referral.reject(491, "a transfer of this call is already under way")
        return
    async with leg.db.read() as session:
        interaction = await leg._interaction(session)
    if interaction.state not in CONSULTABLE or leg.agent_call is not referral.call:
        referral.reject(403, "the call is not connected to this phone")
        return
    referral.accept()
    found = leg.service.phone_calls.find(*replaces)
    target = await transfers.resolve(found.callee) if found is not None else None
    if found is None or target is None or target.kind != "agent":
        log.info("REFER of %s: no call %s to replace", leg.call.dialog.call_id, replaces[0])
        referral.notify(481 if found is None else 404)
        return
    agent_id = uuid.UUID(target.value)
    consult = leg.consult = Consult(leg, referral.call, agent_id=agent_id, number=None,
                                    extension=found.callee, contact=None,
                                    from_agent=interaction.agent_id,
                                    actor=await transfers._actor_of(interaction.agent_id))
    consult.call = found.outbound
    consult.state = TALKING
    consult.via = "refer"
    transfers.referral = referral
    transfers.target_agent = str(agent_id)
    found.replacing = True
    try:
        await consult.complete(actor=consult.actor)
    except (Conflict, NotFound, InvalidInput) as error:
        log.info("REFER of %s with Replaces refused: %s", leg.call.dialog.call_id, error)
        consult.state = CANCELLED
        leg.consult = None
        found.replacing = False
        transfers._finish(480)
        if not found.inbound.live and found.outbound.live:
            found.outbound.hangup()
        return
    found.replaced.set()  # the phone's own leg of that call is hung up; its other leg is ours
