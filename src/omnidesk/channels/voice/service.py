"""The voice service: SIP endpoint + user agent in the app's event loop, and what a call
does in omnidesk: find its voice channel, open an interaction, run the IVR flow, queue it,
play hold music and positions, ring and bridge the agent's phone, ask the channel's survey by
DTMF when the agent hangs up, and record abandons and call ends as events. Transfers
(`transfer.py`) and queued callbacks (`callback.py`) hook in here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.acd.service import AcdService
from omnidesk.agents.models import Agent
from omnidesk.channels.models import Channel
from omnidesk.channels.voice.audio import hold_music, read_wav
from omnidesk.channels.voice.call import Call, CallEnded, EndReason, OutgoingCall, first
from omnidesk.channels.voice.callback import CallbackDialler
from omnidesk.channels.voice.config import ACTOR, KIND, VoiceSettings, voice_settings
from omnidesk.channels.voice.consult import Consult, PhoneCalls
from omnidesk.channels.voice.ivr import run_ivr
from omnidesk.channels.voice.offers import decline_offer, take_offer
from omnidesk.channels.voice.prompts import Prompts
from omnidesk.channels.voice.registrar import (
    EXTENSIONS_FILE,
    Binding,
    Registrar,
    load_extensions,
)
from omnidesk.channels.voice.rtp import MediaClock
from omnidesk.channels.voice.sip.timers import LoopScheduler
from omnidesk.channels.voice.sip.transport import SipEndpoint
from omnidesk.channels.voice.survey import GOODBYE, ask_score
from omnidesk.channels.voice.transfer import TRANSFER_EVENTS, Transfers
from omnidesk.channels.voice.ua import UserAgent, describe
from omnidesk.channels.voice.webrtc import BrowserPhones
from omnidesk.config import Settings
from omnidesk.customers.actions import find_or_create
from omnidesk.customers.identities import normalise
from omnidesk.customers.schemas import IdentityIn
from omnidesk.db import Database, mark_background
from omnidesk.errors import Conflict, InvalidInput, Overloaded
from omnidesk.events.bus import EventTypes
from omnidesk.events.follower import BusFollower
from omnidesk.events.log import record
from omnidesk.events.record import EventRecord
from omnidesk.flows import (
    AudioOutput,
    CallbackAction,
    EndAction,
    FlowContext,
    FlowProtocolError,
    FlowRegistry,
    FlowVersionError,
    HttpRequest,
    HttpResult,
    Output,
    QueueAction,
    Step,
    TransferAction,
)
from omnidesk.interactions.actions import add_message, change_state, create_interaction
from omnidesk.interactions.models import Interaction
from omnidesk.interactions.schemas import StateChange
from omnidesk.interactions.states import InteractionState
from omnidesk.queues.models import Queue
from omnidesk.selfservice.host import FlowHost, perform_http
from omnidesk.selfservice.service import flow_context
from omnidesk.surveys.actions import (
    CallSurvey,
    close_call_survey,
    open_call_survey,
    survey_config,
)
from omnidesk.tenants.models import Tenant
from omnidesk.users.models import User

if TYPE_CHECKING:
    from omnidesk.channels.voice.monitor import Monitor

log = logging.getLogger("omnidesk.voice")
S = InteractionState
CALLER_GONE = frozenset({EndReason.CANCELLED, EndReason.REMOTE_BYE, EndReason.NO_ACK})
WAITING_STATES = frozenset({S.NEW, S.SELF_SERVICE, S.QUEUED, S.OFFERED})


class VoiceService:
    """Owns the SIP endpoint, the user agent and the media clock of one server process."""

    def __init__(self, db: Database, settings: Settings, flows: FlowRegistry, *,
                 acd: AcdService | None = None) -> None:
        self.db = db
        self.settings = settings
        self.acd = acd  # answers offers when an agent picks up their phone
        self.legs: dict[uuid.UUID, CallLeg] = {}  # live calls by interaction id
        self._closing: set[asyncio.Task[None]] = set()  # calls' ends being recorded
        self.offers = _OfferFollower(db, self)
        self.callbacks = CallbackDialler(self)
        self.phone_calls = PhoneCalls(self)  # agents' phones calling each other (consult.py)
        self.flows = FlowHost(flows)
        folder = settings.data_dir / "voice"
        self.prompts = Prompts(folder / "prompts")
        self.recordings = folder / "recordings"
        self.clock = MediaClock()
        self.browser_phones = BrowserPhones(db, self.clock)  # agents' WebRTC phones
        self.endpoint = SipEndpoint(settings.sip_host, settings.sip_port)
        self.ua: UserAgent | None = None

    @property
    def port(self) -> int:
        """The SIP port (UDP and TCP)."""
        return self.endpoint.port

    async def start(self) -> None:
        """Load the extensions, bind the SIP port and start answering."""
        realm = self.settings.sip_realm
        extensions = await asyncio.to_thread(
            load_extensions, self.settings.data_dir / EXTENSIONS_FILE, realm)
        await self.endpoint.start()
        ports = range(self.settings.sip_rtp_port_min, self.settings.sip_rtp_port_max + 1)
        loop = asyncio.get_running_loop()
        self.ua = UserAgent(
            self.endpoint.send, LoopScheduler(), handler=self.handle, port=self.endpoint.port,
            media_clock=self.clock, rtp_host=self.settings.sip_host, rtp_ports=ports,
            advertised=self.settings.sip_address, realm=realm,
            registrar=Registrar(extensions, loop.time))
        self.endpoint.receive = self.ua.layer.receive
        await self.offers.start()
        await self.browser_phones.start()
        log.info("voice service on port %d with %d extension(s)", self.port, len(extensions))

    async def stop(self) -> None:
        """Hang up, stop the media clock, close the sockets."""
        await self.offers.stop()
        await self.browser_phones.stop()
        await self.callbacks.stop()
        if self.ua is not None:
            await self.ua.shutdown()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        await self.clock.stop()
        await self.endpoint.stop()

    async def handle(self, call: Call) -> None:
        """What omnidesk does with an inbound call (the UA's call handler). An overloaded
        server refuses a new call with 503 and Retry-After (the caller's side may try again);
        once its interaction is stored, the call's own writes wait for the database instead
        of being shed, so its end is always recorded."""
        try:
            leg = await self._admit(call)
        except Overloaded as error:
            log.warning("call %s refused: %s", call.dialog.call_id, error)
            call.reject(503, extra={"Retry-After": str(error.retry_after_s)})
            return
        if leg is not None:
            mark_background()
            await self._run_to_end(leg)

    async def _admit(self, call: Call) -> CallLeg | None:
        """The call's leg with its interaction stored, or None when the call was handled
        otherwise (a registered phone calling an extension) or refused (404)."""
        if await self.phone_calls.handle(call):
            return None
        found = await self._channel_for(call)
        if found is None:
            log.info("call to %s from %s: no voice channel takes it", call.callee,
                     call.peer.host)
            call.reject(404)
            return None
        channel_id, tenant_id, settings = found
        self.db.intake.admit()  # a new contact: refused while routing lags (omnidesk.intake)
        call.ring()
        leg = CallLeg(self, call, channel_id, tenant_id, settings)
        try:
            await leg.open()
        except BaseException:
            await leg.close()  # nothing was stored: only its resources go
            raise
        return leg

    async def _run_to_end(self, leg: CallLeg) -> None:
        """Run an admitted call to its end, and record the end (even during a shutdown)."""
        assert leg.interaction_id is not None
        self.legs[leg.interaction_id] = leg
        try:
            await leg.run()
        finally:
            self.legs.pop(leg.interaction_id, None)
            closing = asyncio.get_running_loop().create_task(leg.close())
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)
            await asyncio.shield(closing)  # a shutdown still records the call's end

    def on_offer_event(self, record: EventRecord) -> None:
        """An offer of a live call: ring the agent's phone; an offer that ended: stop."""
        leg = self.legs.get(uuid.UUID(record.subject)) if _is_uuid(record.subject) else None
        if leg is None:
            self.callbacks.on_offer_event(record)  # an offer of a queued callback
            return
        if record.type in TRANSFER_EVENTS:
            leg.transfers.on_event(record)
        if record.type == "offer.created" and record.payload.get("agent_id"):
            leg.offered(uuid.UUID(str(record.payload["agent_id"])))
        elif record.type in OFFER_ENDED:
            leg.offer_ended()

    async def transfer_to_number(self, interaction: Interaction, number: str, *,
                                 actor: str) -> None:
        """Blind-transfer a live call to a number through its channel's trunk (the API's
        transfer with `number`); Conflict when there is no such call or no trunk."""
        leg = self.legs.get(interaction.id)
        if leg is None:
            raise Conflict("this interaction has no live call here", field="number")
        await leg.transfers.to_number(number, actor=actor)

    async def phone_of(self, tenant_id: uuid.UUID, agent_id: uuid.UUID) -> Binding | None:
        """The live registration of the agent's phone (extensions.yaml: tenant + email)."""
        if self.ua is None:
            return None
        async with self.db.read() as session:
            row = (await session.execute(
                select(User.email, Tenant.slug).select_from(Agent)
                .join(User, User.id == Agent.user_id).join(Tenant, Tenant.id == Agent.tenant_id)
                .where(Agent.id == agent_id, Agent.tenant_id == tenant_id))).first()
        if row is None:
            return None
        return self.ua.registrar.phone_of(str(row[1]), str(row[0]))

    async def _channel_for(self, call: Call) -> tuple[uuid.UUID, uuid.UUID,
                                                      dict[str, Any]] | None:
        """The first enabled voice channel (by name) whose numbers and trunks match."""
        async with self.db.read() as session:
            channels = await session.scalars(
                select(Channel).where(Channel.kind == KIND, Channel.enabled.is_(True))
                .order_by(Channel.name, Channel.id))
            for channel in channels:
                if voice_settings(channel.settings).matches(dialled=call.callee,
                                                            source=call.peer.host):
                    return channel.id, channel.tenant_id, dict(channel.settings)
        return None


def caller_identity(call: Call) -> tuple[str, str]:
    """(kind, value) of the caller: an E.164 phone when it is one, else the SIP address."""
    try:
        return normalise("phone", call.caller)
    except InvalidInput:
        return "external", f"sip:{call.caller or 'anonymous'}@{call.peer.host}"


class CallLeg:
    """One call's life in omnidesk: interaction, IVR, queue, the end."""

    def __init__(self, service: VoiceService, call: Call, channel_id: uuid.UUID,
                 tenant_id: uuid.UUID, settings: dict[str, Any]) -> None:
        self.service = service
        self.db = service.db
        self.call = call
        self.channel_id = channel_id
        self.tenant_id = tenant_id
        self.settings = settings
        self.voice: VoiceSettings = voice_settings(settings)
        self.interaction_id: uuid.UUID | None = None
        self.answered = False
        self.recording: Path | None = None
        self.agent_call: OutgoingCall | None = None
        self.bridged = False
        self.monitor: Monitor | None = None  # a supervisor on the call (monitor.py)
        self.consult: Consult | None = None  # the agent consulting someone (consult.py)
        self._offer_gone = asyncio.Event()
        self._released = asyncio.Event()  # a transfer took the agent's phone off this call
        self._ringer: asyncio.Task[None] | None = None
        self.transfers = Transfers(self)
        self._surveying = False  # the agent hung up; the ringer task finishes the call
        self._music = b""
        self._tasks: set[asyncio.Task[None]] = set()
        self._http = httpx.AsyncClient()

    async def open(self) -> None:
        """Find or create the caller and open a new interaction (every call is its own,
        even when the caller has another one open): self-service, or queued."""
        kind, value = caller_identity(self.call)
        async with self.db.write() as session:
            channel = await session.get(Channel, self.channel_id)
            assert channel is not None
            customer = await find_or_create(
                session, tenant_id=self.tenant_id, display_name=self.call.caller_display,
                identity=IdentityIn(kind=kind, value=value), actor=ACTOR)
            interaction = await create_interaction(
                session, tenant_id=self.tenant_id, channel=KIND, channel_id=channel.id,
                customer_id=customer.id, attributes={"voice": describe(self.call)},
                actor=ACTOR)
            await add_message(session, interaction, author_kind="customer", actor=ACTOR,
                              author_id=str(customer.id), external_id=self.call.dialog.call_id,
                              body=f"Phone call from {self.call.caller or 'anonymous'} "
                                   f"to {self.call.callee}")
            flow = channel.settings.get("flow")
            if flow:
                await change_state(session, interaction,
                                   StateChange(state=S.SELF_SERVICE), actor=ACTOR,
                                   details={"flow_id": flow,
                                            "version": channel.settings.get("flow_version")})
            elif channel.default_queue_id is not None:
                await change_state(session, interaction, StateChange(
                    state=S.QUEUED, queue_id=channel.default_queue_id), actor=ACTOR)
        self.interaction_id = interaction.id  # only once committed: close() records its end

    async def run(self) -> None:
        """Ring, answer, run the flow, wait in the queue; returns when the call is over."""
        if self.voice.ring_seconds:
            await _ring(self.call, self.voice.ring_seconds)
        await self.call.answer()
        self.answered = True
        await self._event("call.answered", describe(self.call))
        if self.voice.record and self.call.media is not None:
            await self._recording_notice()
            self.service.recordings.mkdir(parents=True, exist_ok=True)
            self.recording = self.service.recordings / f"{self.interaction_id}.wav"
            self.call.media.record_to(self.recording)
        if await self._state() is S.SELF_SERVICE:
            await self._run_flow()
        state = await self._state()
        if state in (S.QUEUED, S.OFFERED):
            await self._wait_in_queue()
        elif state in (S.CLOSED, S.CALLBACK_SCHEDULED):  # a callback: we call them back
            self.call.hangup()
        else:
            await self.call.ended.wait()

    async def _recording_notice(self) -> None:
        """The channel's recording notice, before the IVR; recording starts after it."""
        audio, text = self.voice.recording_notice_audio, self.voice.recording_notice
        if audio:  # the WAV, else its text spoken
            await self.say((AudioOutput(audio, text),))
        elif text:
            await self.speak(text)

    async def _state(self) -> InteractionState | None:
        async with self.db.read() as session:
            state: InteractionState | None = await session.scalar(
                select(Interaction.state).where(Interaction.id == self.interaction_id))
            return state

    # ---- the IVR ----------------------------------------------------------------------

    async def _run_flow(self) -> None:
        try:
            flow = self.service.flows.flow(str(self.settings.get("flow", "")),
                                           self.settings.get("flow_version"), self.settings)
            context = await self._context()
            await run_ivr(flow, context, self)
        except (FlowVersionError, FlowProtocolError):
            log.exception("call %s: the flow cannot run; queueing it", self.call.dialog.call_id)
            async with self.db.write() as session:
                interaction = await self._interaction(session)
                await self._hand_off(session, interaction, None, {"flow_error": True}, None)

    async def _context(self) -> FlowContext:
        async with self.db.read() as session:
            return await flow_context(session, await self._interaction(session),
                                      caller_id=self.call.caller or None)

    async def say(self, outputs: tuple[Output, ...]) -> None:
        """Play a step's prompts, in order; all are rendered at once, so the next one is
        ready when the one before it ends (no gap while espeak-ng works)."""
        prompts = self.service.prompts
        renders = [asyncio.ensure_future(prompts.audio(output)) for output in outputs]
        try:
            for render in renders:
                pcm = await render
                if pcm:
                    await self.call.play(pcm)
        finally:
            for render in renders:  # those not played (the renderings themselves are shared)
                if not render.cancel() and not render.cancelled():
                    render.exception()  # retrieved, never reported as unhandled

    async def next_digit(self, wait_seconds: float) -> str | None:
        """The caller's next key (RFC 4733 or SIP INFO)."""
        return await self.call.next_digit(wait_seconds)

    async def http(self, request: HttpRequest) -> HttpResult:
        """The flow's HTTP request; any failure is an HttpResult with `error`."""
        return await perform_http(self._http, request)

    async def step_done(self, step: Step) -> None:
        """Keep the flow state on the interaction, record the step's records, and perform a
        finishing action (queue, callback, transfer, end) in the same transaction."""
        async with self.db.write() as session:
            interaction = await self._interaction(session)
            interaction.attributes = {**interaction.attributes,
                                      "flow_state": step.state.to_dict()}
            for item in step.records:
                await record(session, tenant_id=self.tenant_id, type=item.name,
                             subject=interaction.id,
                             payload={**item.data, "interaction_id": str(interaction.id)},
                             actor=ACTOR)
            if step.finished:
                await self._finish(session, interaction, step)

    async def _finish(self, session: AsyncSession, interaction: Interaction,
                      step: Step) -> None:
        action, collected = step.action, dict(step.state.attributes)
        if isinstance(action, QueueAction):
            await self._hand_off(session, interaction, action.queue,
                                 {**collected, **action.attributes,
                                  "skills": list(action.skills)}, action.priority)
        elif isinstance(action, CallbackAction):
            await self._hand_off(session, interaction, action.queue,
                                 {**collected, "callback_number": action.number
                                  or self.call.caller}, action.priority)
            if interaction.state is S.QUEUED:  # keeps its place; callback.py dials it
                await change_state(session, interaction,
                                   StateChange(state=S.CALLBACK_SCHEDULED), actor=ACTOR)
        elif isinstance(action, TransferAction):
            await self._hand_off(session, interaction, None,
                                 {**collected, "transfer_target": action.target}, None)
        elif isinstance(action, EndAction):
            self._merge_flow(interaction, collected)
            await self._ended(session, interaction,
                              "resolved" if action.resolved else "abandoned")
            await change_state(session, interaction,
                               StateChange(state=S.CLOSED, resolved=action.resolved),
                               actor=ACTOR)

    async def _hand_off(self, session: AsyncSession, interaction: Interaction,
                        queue_name: str | None, attributes: dict[str, Any],
                        priority: int | None) -> None:
        queue_id = await self._queue_id(session, queue_name)
        if queue_id is None:
            log.error("call %s: no queue to hand off to (%r); hanging up",
                      self.call.dialog.call_id, queue_name)
            return
        self._merge_flow(interaction, attributes)
        await self._ended(session, interaction, "queued")
        await change_state(session, interaction, StateChange(
            state=S.QUEUED, queue_id=queue_id,
            priority=None if priority is None else max(0, min(100, priority))), actor=ACTOR)

    @staticmethod
    def _merge_flow(interaction: Interaction, attributes: dict[str, Any]) -> None:
        interaction.attributes = {**interaction.attributes, "flow": {
            **interaction.attributes.get("flow", {}), **attributes}}

    async def _queue_id(self, session: AsyncSession, name: str | None) -> uuid.UUID | None:
        if name:
            found: uuid.UUID | None = await session.scalar(
                select(Queue.id).where(Queue.tenant_id == self.tenant_id, Queue.name == name))
            if found is not None:
                return found
            log.warning("flow queue %r not found; using the channel's default", name)
        channel = await session.get(Channel, self.channel_id)
        return channel.default_queue_id if channel is not None else None

    async def _ended(self, session: AsyncSession, interaction: Interaction,
                     outcome: str) -> None:
        state = interaction.attributes.get("flow_state") or {}
        await record(session, tenant_id=self.tenant_id, type="interaction.self_service_ended",
                     subject=interaction.id, payload={
                         "outcome": outcome, "flow_id": state.get("flow_id"),
                         "version": state.get("version")}, actor=ACTOR)

    async def _interaction(self, session: AsyncSession) -> Interaction:
        interaction = await session.get(Interaction, self.interaction_id)
        assert interaction is not None
        return interaction

    # ---- the queue --------------------------------------------------------------------

    async def _wait_in_queue(self) -> None:
        """Hold music, and the caller's position and estimated wait every `announce_seconds`,
        until the end."""
        media = self.call.media
        if media is None:
            return
        media.background = await self._hold_music()
        every = self.voice.announce_seconds
        while self.call.live:
            try:
                await asyncio.wait_for(self.call.ended.wait(), every if every > 0 else None)
            except TimeoutError:
                position, estimate = (0, None) if self.bridged else await self._position()
                if position:
                    await self.call.play(await self.service.prompts.position(position, estimate))

    async def _hold_music(self) -> bytes:
        name = self.voice.hold_music
        if name:
            path = self.service.prompts.folder / name if self.service.prompts.folder \
                else Path(name)
            try:
                return await asyncio.to_thread(read_wav, path)
            except (OSError, ValueError) as error:
                log.warning("hold music %s not playable: %s", path, error)
        return hold_music()

    async def _position(self) -> tuple[int, float | None]:
        """The caller's place in line and estimated wait ((0, None) once not queued)."""
        acd = self.service.acd
        if acd is None:
            return 0, None
        async with self.db.read() as session:
            interaction = await self._interaction(session)
        return await acd.queue_position(interaction)

    # ---- the agent's phone ------------------------------------------------------------

    def offered(self, agent_id: uuid.UUID) -> None:
        """The ACD offered this call to an agent: ring their phone (if it is registered)."""
        previous = self._ringer
        if previous is not None and not previous.done() and not self._released.is_set():
            return
        self._offer_gone = asyncio.Event()
        self._released = asyncio.Event()
        self._ringer = asyncio.get_running_loop().create_task(
            self._ring_agent(agent_id, after=previous))

    def offer_ended(self) -> None:
        """The offer timed out, was withdrawn or rejected: stop ringing."""
        self._offer_gone.set()

    async def _ring_agent(self, agent_id: uuid.UUID, *,
                          after: asyncio.Task[None] | None = None) -> None:
        if after is not None:  # the ringer of the agent who transferred the call winds down
            await asyncio.wait([after])
        try:
            await self._ring_and_bridge(agent_id)
        except CallEnded:
            pass
        except Exception:
            log.exception("ringing agent %s for call %s failed", agent_id,
                          self.call.dialog.call_id)
        finally:
            if self.agent_call is not None and self.agent_call.live:
                self.agent_call.hangup()

    async def _ring_and_bridge(self, agent_id: uuid.UUID) -> None:
        browser = self.service.browser_phones.online(agent_id)
        if browser is not None:  # the agent's browser phone rings instead (webrtc.py)
            await browser.take(self)
            return
        consulted = self.consult.handover(agent_id) if self.consult is not None else None
        if consulted is not None:  # a completed consult: that phone is on the line already
            agent_call, extension = consulted
            self.agent_call = agent_call
        else:
            binding = await self.service.phone_of(self.tenant_id, agent_id)
            ua = self.service.ua
            if binding is None or ua is None:
                log.info("agent %s has no registered phone; the offer waits for the desktop",
                         agent_id)
                return
            extension = binding.extension
            agent_call = self.agent_call = await ua.call_out(
                binding.contact, caller=self.call.caller, display=self.call.caller_display)
        assert self.interaction_id is not None  # offers come after the call is queued
        outcome = await first(agent_call.confirmed, agent_call.ended, self.call.ended,
                               self._offer_gone)
        if outcome is not agent_call.confirmed or not self.call.live:
            if agent_call.failure is not None and not self._offer_gone.is_set():
                await decline_offer(self.db, self.service.acd, self.interaction_id, agent_id)
            return
        if not await take_offer(self.db, self.service.acd, self.interaction_id, agent_id,
                                accepted_counts=False):
            return
        self._music = await self._hold_music()
        self._bridge(agent_call)
        agent_call.on_hold_change = self._agent_hold
        self.transfers.watch(agent_call)
        await self._event("call.bridged", {**describe(self.call), "agent_id": str(agent_id),
                                           "extension": extension})
        await first(agent_call.ended, self.call.ended, self._released)
        if self.call.live and self.agent_call is agent_call:  # the agent hung up (no transfer)
            await self._agent_left()

    def _bridge(self, agent_call: OutgoingCall) -> None:
        caller, agent = self.call.media, agent_call.media
        if caller is None or agent is None:
            return
        caller.stop_playback()
        caller.background = None
        caller.bridge(agent)
        self.bridged = True
        if self.recording is not None:
            agent.record_to(self.recording.with_suffix(".agent.wav"))

    def _agent_hold(self, held: bool) -> None:
        """The agent's phone put the caller on hold (music, `on_hold`) or took them back."""
        caller = self.call.media
        agent = self.agent_call.media if self.agent_call is not None else None
        if caller is None or agent is None or not self.call.live:
            return
        if self.monitor is not None and self.monitor.mixing:
            self.monitor.hold(held, self._music)  # the legs are in its mixer, not bridged
        elif held:
            caller.unbridge()
            caller.background = self._music
        else:
            caller.background = None
            caller.bridge(agent)
        task = asyncio.get_running_loop().create_task(
            self._set_state(S.ON_HOLD if held else S.CONNECTED))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _set_state(self, state: InteractionState) -> None:
        try:
            async with self.db.write() as session:
                interaction = await self._interaction(session)
                if interaction.state in (S.CONNECTED, S.ON_HOLD) \
                        and interaction.state is not state:
                    await change_state(session, interaction, StateChange(state=state),
                                       actor=ACTOR)
        except Exception:
            log.exception("call %s: recording hold / resume failed", self.call.dialog.call_id)

    # ---- the survey after the agent hung up ---------------------------------------------

    async def _agent_left(self) -> None:
        """The agent's side ended the bridged call. When the channel asks for a survey, the
        interaction goes to wrap-up at once and the caller, still on the line, is asked by
        DTMF; the answer is recorded as on every channel; then thanks and BYE. Without a
        survey the caller is hung up at once."""
        if survey_config(self.settings) is None:
            self.call.hangup()
            return
        self._surveying = True  # close() now waits for us instead of cancelling
        survey: CallSurvey | None = None
        closed = False
        try:
            survey = await self._open_survey()
            if survey is None or not self.call.live:
                return
            media = self.call.media
            if media is not None:
                media.unbridge()
                media.stop_playback()
                media.background = None
            while not self.call.digits.empty():  # keys pressed while talking to the agent
                self.call.digits.get_nowait()
            score = await ask_score(self, kind=survey.kind, question=survey.question,
                                    timeout_seconds=survey.timeout_seconds)
            await self._close_survey(survey, score)
            closed = True
            await self.speak(survey.thanks if score is not None else GOODBYE)
        except CallEnded:
            pass  # the caller hung up first: no answer
        except Exception:
            log.exception("call %s: the survey failed", self.call.dialog.call_id)
        finally:
            if survey is not None and not closed:
                await self._close_survey(survey, None)  # no answer: skipped
            self.call.hangup()

    async def _open_survey(self) -> CallSurvey | None:
        async with self.db.write() as session:
            interaction = await self._interaction(session)
            if interaction.state in (S.CONNECTED, S.ON_HOLD):
                await change_state(session, interaction, StateChange(state=S.WRAP_UP),
                                   actor=ACTOR)
            return await open_call_survey(session, interaction, actor=ACTOR)

    async def _close_survey(self, survey: CallSurvey, score: int | None) -> None:
        try:
            async with self.db.write() as session:
                await close_call_survey(session, survey.survey_id, score, actor=ACTOR)
        except Exception:
            log.exception("call %s: recording the survey failed", self.call.dialog.call_id)

    async def speak(self, text: str) -> None:
        """Say a text to the caller (espeak-ng, or a beep without it)."""
        pcm = await self.service.prompts.speech(text)
        if pcm:
            await self.call.play(pcm)

    # ---- the end ----------------------------------------------------------------------

    async def close(self) -> None:
        """Record how the call ended; a caller who left while waiting abandoned."""
        await self._http.aclose()
        if self.consult is not None:  # the consulted party is hung up
            await self.consult.stop()
        if self.monitor is not None:  # its end is recorded before the call's
            await self.monitor.stop(actor=ACTOR, reason="call_ended")
        if self._ringer is not None and not self._ringer.done():
            if not self._surveying:  # a survey ends by itself once the call ended
                self._ringer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ringer
        if self.agent_call is not None and self.agent_call.live:
            self.agent_call.hangup()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.interaction_id is None:
            return
        reason = self.call.end_reason
        try:
            async with self.db.write() as session:
                interaction = await self._interaction(session)
                if reason in CALLER_GONE and interaction.state in WAITING_STATES:
                    if interaction.state is S.SELF_SERVICE:
                        await self._ended(session, interaction, "abandoned")
                    await change_state(session, interaction,
                                       StateChange(state=S.ABANDONED), actor=ACTOR)
                elif interaction.state in (S.CONNECTED, S.ON_HOLD):
                    await change_state(session, interaction,
                                       StateChange(state=S.WRAP_UP), actor=ACTOR)
                media = self.call.media
                await record(session, tenant_id=self.tenant_id, type="call.ended",
                             subject=interaction.id, payload={
                                 **describe(self.call),
                                 "reason": str(reason) if reason else None,
                                 "answered": self.answered,
                                 "recording": str(self.recording) if self.recording else None,
                                 "rtp_received": media.stats.received if media else 0,
                                 "rtp_lost": media.stats.lost if media else 0,
                                 **(media.quality() if media else {}),
                                 **self._agent_leg_stats()}, actor=ACTOR)
        except Exception:
            log.exception("recording the end of call %s failed", self.call.dialog.call_id)

    def _agent_leg_stats(self) -> dict[str, Any]:
        media = self.agent_call.media if self.agent_call is not None else None
        if media is None or not self.bridged:
            return {}
        caller = self.call.media
        dropped = media.bridge_dropped + (caller.bridge_dropped if caller else 0)
        return {"agent_rtp_received": media.stats.received, "agent_rtp_lost": media.stats.lost,
                "agent_jitter_ms": media.quality()["jitter_ms"],
                "bridge_dropped_bytes": dropped}

    async def _event(self, type_: str, payload: dict[str, Any]) -> None:
        async with self.db.write() as session:
            await record(session, tenant_id=self.tenant_id, type=type_,
                         subject=self.interaction_id or self.call.id, payload=payload,
                         actor=ACTOR)


OFFER_ENDED = frozenset({"offer.timed_out", "offer.withdrawn", "offer.rejected",
                         "interaction.abandoned"})


class _OfferFollower(BusFollower):
    """Hands offers of calls to the voice service (which rings the agent's phone)."""

    FOLLOWS = EventTypes(frozenset({"offer.created"}) | OFFER_ENDED | TRANSFER_EVENTS)

    def __init__(self, db: Database, service: VoiceService) -> None:
        super().__init__(db)
        self.service = service

    async def on_event(self, record: EventRecord | None) -> None:
        """Offers and their ends; everything else is not ours."""
        if record is not None and (record.type == "offer.created"
                                   or record.type in OFFER_ENDED
                                   or record.type in TRANSFER_EVENTS):
            self.service.on_offer_event(record)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True




async def _ring(call: Call, seconds: float) -> None:
    """Let it ring; CallEnded if the caller gives up first."""
    try:
        await asyncio.wait_for(call.ended.wait(), seconds)
    except TimeoutError:
        return
    raise CallEnded(str(call.end_reason))


async def start_voice_service(db: Database, settings: Settings, flows: FlowRegistry, *,
                              acd: AcdService | None = None) -> VoiceService | None:
    """Start the voice service when enabled (OMNIDESK_SIP_ENABLED or OMNIDESK_SIP_PORT)."""
    if not (settings.sip_enabled or "sip_port" in settings.model_fields_set):
        return None
    service = VoiceService(db, settings, flows, acd=acd)
    await service.start()
    return service
