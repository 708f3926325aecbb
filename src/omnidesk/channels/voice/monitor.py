"""A supervisor on a live call: their registered phone is rung and, once it answers, the
call's legs go from the two-party bridge into a `Mixer` in the supervisor's mode (listen,
whisper, barge); the mode can change at any time; when the supervisor leaves (API, or their
phone hangs up) the caller and the agent go back to the plain bridge.

One supervisor per call. The caller or the agent hanging up ends the monitoring too (the
supervisor's phone is hung up). Events: `call.monitor_started` (when the phone answered),
`call.monitor_changed`, `call.monitor_ended` — on the interaction, as the call's other events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from omnidesk.channels.voice.call import Call, EndReason, OutgoingCall
from omnidesk.channels.voice.config import ACTOR, KIND
from omnidesk.channels.voice.mixer import AGENT, CALLER, SUPERVISOR, Mixer, Mode, routes
from omnidesk.channels.voice.registrar import Binding
from omnidesk.errors import Conflict
from omnidesk.events.log import record
from omnidesk.interactions.models import Interaction
from omnidesk.tenants.models import Tenant
from omnidesk.users.models import User

if TYPE_CHECKING:
    from omnidesk.channels.voice.service import CallLeg, VoiceService

log = logging.getLogger("omnidesk.voice")
RINGING, JOINED, ENDED = "ringing", "joined", "ended"


class Monitor:
    """One supervisor's leg on one call, from ringing their phone to hanging it up."""

    def __init__(self, leg: CallLeg, *, user_id: uuid.UUID, binding: Binding, mode: Mode,
                 actor: str, agent_id: uuid.UUID | None) -> None:
        self.leg = leg
        self.user_id = user_id
        self.extension = binding.extension
        self.contact = binding.contact
        self.mode = mode
        self.actor = actor  # who started it (the events' actor)
        self.agent_id = agent_id
        self.mixer = Mixer()
        self.mixing = False
        self.held = False  # the agent's phone holds the caller: the caller is out of the mix
        self.call: OutgoingCall | None = None  # the supervisor's phone
        self.reason: str | None = None  # why it ended (set once)
        self.ended_by = ACTOR
        self._task: asyncio.Task[None] | None = None

    @property
    def interaction_id(self) -> uuid.UUID | None:
        """The monitored interaction."""
        return self.leg.interaction_id

    @property
    def active(self) -> bool:
        """Ringing or joined (not ending)."""
        return self.reason is None

    @property
    def state(self) -> str:
        """ringing, joined or ended."""
        if self.reason is not None:
            return ENDED
        return JOINED if self.mixing else RINGING

    def start(self) -> None:
        """Ring the supervisor's phone (in the background)."""
        self.leg.call.listeners.append(self._caller_ended)
        if self.leg.agent_call is not None:
            self.leg.agent_call.listeners.append(self._agent_ended)
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def change(self, mode: Mode, *, actor: str) -> None:
        """Switch mode; takes effect on the next 20 ms tick."""
        previous, self.mode = self.mode, mode
        self.mixer.route(routes(mode))
        if self.mixing and previous is not mode:
            await self._record("call.monitor_changed",
                               {"mode": str(mode), "previous": str(previous)}, actor=actor)

    async def stop(self, *, actor: str, reason: str = "left") -> None:
        """Hang up the supervisor's phone (the call goes back to the two-party bridge) and
        wait until `call.monitor_ended` is recorded."""
        if self.reason is None:
            self.ended_by = actor
        self._end(reason)
        await self.finished()

    async def finished(self) -> None:
        """Wait for the end of the monitoring (and its event)."""
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._task)

    def hold(self, held: bool, music: bytes) -> None:
        """The agent's phone held the caller (out of the mix, hold music) or took them back;
        the agent and the supervisor stay mixed meanwhile."""
        caller = self.leg.call.media
        if caller is None or held is self.held:
            return
        self.held = held
        if held:
            self.mixer.remove(CALLER)
            caller.background = music
        else:
            caller.background = None
            self.mixer.add(CALLER, caller)

    # ---- the supervisor's leg ---------------------------------------------------------

    async def _run(self) -> None:
        status: int | None = None
        try:
            ua = self.leg.service.ua
            if ua is None:
                self._end("not_answered")
                return
            caller = self.leg.call
            call = self.call = await ua.call_out(
                self.contact, caller=caller.caller,
                display=f"{self.mode} {caller.caller_display or caller.caller}".strip())
            call.listeners.append(self._supervisor_ended)
            if self.reason is not None:  # stopped while the INVITE was being prepared
                call.hangup()
                return
            await _either(call.confirmed, call.ended)
            if not (call.live and self.reason is None and self._join()):
                status = call.failure
                self._end("not_answered")
                return
            await self._record("call.monitor_started", {
                "mode": str(self.mode), "extension": self.extension,
                "supervisor_call_id": call.dialog.call_id}, actor=self.actor)
            await call.ended.wait()
        except Exception:
            log.exception("monitoring call %s failed", self.leg.call.dialog.call_id)
            self._end("failed")
        finally:
            self._end("failed")  # no-op unless something above skipped it
            with contextlib.suppress(Exception):
                await self._record("call.monitor_ended", {
                    "mode": str(self.mode), "reason": self.reason, "status": status,
                    "mixer_dropped_bytes": self.mixer.dropped}, actor=self.ended_by)
            # Forgotten only once its end is recorded: the call's close waits for the
            # monitor it still sees, so `call.ended` always comes after `call.monitor_ended`.
            self._forget()

    def _join(self) -> bool:
        """Move the call's legs from their bridge into the mixer, and add the supervisor."""
        agent_call = self.leg.agent_call
        caller = self.leg.call.media
        agent = agent_call.media if agent_call is not None else None
        supervisor = self.call.media if self.call is not None else None
        if caller is None or agent is None or supervisor is None or agent_call is None \
                or not (self.leg.call.live and agent_call.live):
            return False
        self.held = agent_call.on_hold
        self.mixer.route(routes(self.mode))
        if self.held:  # the caller stays on hold music
            self.mixer.add(AGENT, agent)
        else:
            self.mixer.take_bridge((CALLER, caller), (AGENT, agent))
        self.mixer.add(SUPERVISOR, supervisor)
        self.mixing = True
        return True

    def _leave(self) -> None:
        """Back to the two-party bridge (unless a side is gone or the caller is held), what
        the mixer still had of each side going first: no gap for them."""
        if not self.mixing:
            return
        self.mixing = False
        self.mixer.remove(SUPERVISOR)
        agent_call = self.leg.agent_call
        caller = self.leg.call.media
        agent = agent_call.media if agent_call is not None else None
        if self.held or caller is None or agent is None or agent_call is None \
                or not (self.leg.call.live and agent_call.live):
            self.mixer.remove(CALLER)
            self.mixer.remove(AGENT)
            return
        self.mixer.bridge_back((CALLER, caller), (AGENT, agent))

    def _end(self, reason: str) -> None:
        """Stop (once): out of the mixer, the supervisor's phone hung up."""
        if self.reason is None:
            self.reason = reason
        self._leave()
        if self.call is not None and self.call.live:
            self.call.hangup()

    def _caller_ended(self, _call: Call) -> None:
        self._end("call_ended")

    def _agent_ended(self, _call: Call) -> None:
        self._end("agent_left")

    def _supervisor_ended(self, call: Call) -> None:
        self._end("supervisor_hung_up" if call.end_reason is EndReason.REMOTE_BYE
                  else "not_answered")

    def _forget(self) -> None:
        for call, listener in ((self.leg.call, self._caller_ended),
                               (self.leg.agent_call, self._agent_ended)):
            if call is not None and listener in call.listeners:
                call.listeners.remove(listener)
        if self.leg.monitor is self:
            self.leg.monitor = None

    async def _record(self, type_: str, payload: dict[str, Any], *, actor: str) -> None:
        async with self.leg.db.write() as session:
            await record(session, tenant_id=self.leg.tenant_id, type=type_,
                         subject=self.leg.interaction_id or self.leg.call.id,
                         payload={**payload, "user_id": str(self.user_id),
                                  "agent_id": str(self.agent_id) if self.agent_id else None},
                         actor=actor)


async def _either(first: asyncio.Event, second: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(first.wait()), asyncio.ensure_future(second.wait())]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


# ---- what the supervision API calls ----------------------------------------------------


def live_call(service: VoiceService | None, interaction: Interaction) -> CallLeg:
    """The call of an interaction that is bridged to an agent's phone right now; Conflict
    (field `interaction_id`) otherwise."""
    if interaction.channel != KIND:
        raise Conflict(f"only phone calls can be listened to (this is {interaction.channel})",
                       field="interaction_id")
    if service is None:
        raise Conflict("the voice service is not running", field="interaction_id")
    leg = service.legs.get(interaction.id)
    agent_call = leg.agent_call if leg is not None else None
    if leg is None or not leg.call.live:
        raise Conflict("the call is not live on this server", field="interaction_id")
    if leg.consult is not None and leg.consult.active:
        raise Conflict("the agent is consulting someone on this call", field="interaction_id")
    if agent_call is None or not agent_call.live or not leg.bridged:
        raise Conflict(f"the call is not bridged to an agent's phone (it is "
                       f"{interaction.state.value})", field="interaction_id")
    return leg


async def supervisor_phone(service: VoiceService, *, tenant_id: uuid.UUID,
                           user_id: uuid.UUID | None) -> Binding:
    """The registered phone of a user (extensions.yaml `user:` / `agent:` = their email);
    Conflict (field `phone`) when there is none."""
    if user_id is None:
        raise Conflict("monitoring rings the signed-in user's phone; an API key has none",
                       field="phone")
    async with service.db.read() as session:
        row = (await session.execute(
            select(User.email, Tenant.slug).join(Tenant, Tenant.id == User.tenant_id)
            .where(User.id == user_id, User.tenant_id == tenant_id))).first()
    email, slug = (str(row[0]), str(row[1])) if row is not None else ("", "")
    binding = service.ua.registrar.phone_of(slug, email) if service.ua and row else None
    if binding is None:
        raise Conflict(f"{email or 'this user'} has no registered SIP phone: give them an "
                       f"extension in voice/extensions.yaml (user: {email}) and register it",
                       field="phone")
    return binding


async def monitor(service: VoiceService | None, interaction: Interaction, *, mode: Mode,
                  user_id: uuid.UUID | None, actor: str) -> Monitor:
    """Ring the user's phone to join the call in `mode`, or change the mode when they are
    on it already (Conflict when another supervisor is)."""
    leg = live_call(service, interaction)
    current = leg.monitor
    if current is not None and current.active:
        if current.user_id != user_id:
            raise Conflict("another supervisor is on this call; they must leave first",
                           field="interaction_id")
        await current.change(mode, actor=actor)
        return current
    assert service is not None  # live_call checked it
    binding = await supervisor_phone(service, tenant_id=interaction.tenant_id, user_id=user_id)
    assert user_id is not None  # supervisor_phone refuses API keys
    leg = live_call(service, interaction)  # still live after the look-up?
    if leg.monitor is not None and leg.monitor.active:
        raise Conflict("another supervisor joined this call meanwhile", field="interaction_id")
    started = leg.monitor = Monitor(leg, user_id=user_id, binding=binding, mode=mode,
                                    actor=actor, agent_id=interaction.agent_id)
    started.start()
    return started


def current(service: VoiceService | None, interaction: Interaction) -> Monitor:
    """The supervisor on the call; Conflict (field `interaction_id`) when there is none."""
    leg = service.legs.get(interaction.id) if service is not None else None
    found = leg.monitor if leg is not None else None
    if found is None or not found.active:
        raise Conflict("no supervisor is on this call", field="interaction_id")
    return found
