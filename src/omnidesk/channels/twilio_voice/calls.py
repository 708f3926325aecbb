"""A Twilio call's life in omnidesk, one webhook at a time: open the interaction, run the IVR
flow (answered as TwiML), queue the caller (<Enqueue> with a wait URL that says the position),
bridge the accepting agent (the Calls REST API), and record how the call ended.

The same pieces as the SIP service (`channels/voice/service.py`): a `voice` interaction on the
customer found by caller id, the flow's state in `attributes.flow_state`, what it collected in
`attributes.flow`, the flow's records as events, `call.answered` / `call.ended`, a caller who
leaves while waiting `abandoned`, the end of an agent's call `wrap_up`. The pure interpreter
runs in between: each webhook advances the flow until it waits for the caller or finishes.
"""

from __future__ import annotations

import logging
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.acd.service import AcdService
from omnidesk.agents.models import Agent
from omnidesk.channels.base import DeliveryError
from omnidesk.channels.models import Channel, IdempotencyRecord
from omnidesk.channels.provider_webhook import (
    actor_of,
    secret_from_env,
    settings_of,
    write_once,
)
from omnidesk.channels.service import find_idempotent
from omnidesk.channels.twilio_voice import twiml
from omnidesk.channels.twilio_voice.client import CallUpdateError, redirect_call
from omnidesk.channels.twilio_voice.config import (
    GATHER_PATH,
    KIND,
    STATUS_PATH,
    WAIT_PATH,
    TwilioVoiceSettings,
)
from omnidesk.channels.twilio_voice.mapping import (
    CallRequest,
    CallStatusUpdate,
    caller_identity,
    flow_input,
)
from omnidesk.channels.voice.prompts import announcement
from omnidesk.customers.actions import find_or_create
from omnidesk.customers.schemas import IdentityIn
from omnidesk.db import Database, session_now
from omnidesk.errors import InvalidInput, NotFound
from omnidesk.events.log import record
from omnidesk.flows import (
    CallbackAction,
    EndAction,
    Flow,
    FlowContext,
    FlowProtocolError,
    FlowRegistry,
    FlowState,
    FlowVersionError,
    HttpRequest,
    HttpResult,
    KnowledgeResults,
    Output,
    QueueAction,
    SearchKnowledge,
    Step,
    TransferAction,
    WaitForInput,
    advance,
    start,
)
from omnidesk.interactions.actions import add_message, change_state, create_interaction
from omnidesk.interactions.models import Interaction
from omnidesk.interactions.schemas import StateChange
from omnidesk.interactions.states import InteractionState
from omnidesk.queues.models import Queue
from omnidesk.selfservice.host import FlowHost, perform_http
from omnidesk.selfservice.service import flow_context
from omnidesk.users.models import User

log = logging.getLogger("omnidesk.twilio_voice")
S = InteractionState
CHANNEL = "voice"  # the interaction's channel: counted, routed and reported as a phone call
HOST_KEY = "twilio_voice"  # attributes: call_sid, account_sid, turn (of <Gather>), twiml (last)
WAITING_STATES = frozenset({S.NEW, S.SELF_SERVICE, S.QUEUED, S.OFFERED})
TALKING_STATES = frozenset({S.CONNECTED, S.ON_HOLD})
MAX_STEPS = 200  # a guard against flows that loop without waiting for the caller
SORRY = "Sorry, we cannot take your call right now. Please call again later."
DEFAULT_PAUSE_SECONDS = 30


def call_key(call_sid: str) -> str:
    """The idempotency key of a call: its interaction, found again by every later webhook."""
    return f"call:{call_sid}"


@dataclass(frozen=True, slots=True)
class Webhook:
    """The channel a request came for, its settings, and its webhook folder as Twilio sees it
    (the URLs we put into TwiML; Twilio signs its requests over them)."""

    channel: Channel
    settings: TwilioVoiceSettings
    base_url: str

    @property
    def voice(self) -> twiml.Voice:
        """How the channel speaks."""
        return twiml.Voice(say_voice=self.settings.say_voice, language=self.settings.language,
                           audio_base_url=self.settings.audio_base_url,
                           speech=self.settings.speech)

    def gather_url(self, turn: int) -> str:
        """Where Twilio posts the answer to the `turn`-th question of the call."""
        return f"{self.base_url}/{GATHER_PATH}?turn={turn}"

    @property
    def wait_url(self) -> str:
        """What a queued caller hears, fetched by Twilio in a loop."""
        return f"{self.base_url}/{WAIT_PATH}"

    @property
    def status_url(self) -> str:
        """Where call statuses come."""
        return self.settings.status_url() or f"{self.base_url}/{STATUS_PATH}"

    @property
    def actor(self) -> str:
        """The actor of what the channel's webhooks record."""
        return actor_of(self.channel)


class CallHost:
    """Answers Twilio's webhooks for calls and redirects calls to agents."""

    def __init__(self, db: Database, flows: FlowRegistry, *,
                 acd: AcdService | None = None) -> None:
        self.db = db
        self.flows = FlowHost(flows)
        self.acd = acd  # position and estimated wait of queued callers
        self._http = httpx.AsyncClient()

    async def close(self) -> None:
        """Close the HTTP client of the flows' requests."""
        await self._http.aclose()

    # ---- the call webhook ---------------------------------------------------------------

    async def answer(self, hook: Webhook, call: CallRequest) -> str:
        """A call comes in: the customer, a new interaction, the flow (or the queue); the
        TwiML to answer with. The same CallSid again gets the same answer again."""

        async def open_call(session: AsyncSession) -> tuple[uuid.UUID, bool]:
            found = await find_idempotent(session, tenant_id=hook.channel.tenant_id,
                                          scope=hook.actor, key=call_key(call.call_sid))
            if found is not None:
                return uuid.UUID(str(found.response["interaction_id"])), False
            interaction = await self._open(session, hook, call)
            return interaction.id, True

        interaction_id, new = await write_once(self.db, open_call)
        async with self.db.read() as session:
            interaction = await self._interaction(session, interaction_id)
        if not new or interaction.state is not S.SELF_SERVICE:
            return await self._current(hook, interaction)
        try:
            flow = self.flows.flow(str(hook.channel.settings.get("flow", "")),
                                   hook.channel.settings.get("flow_version"),
                                   hook.channel.settings)
            context = await self._context(interaction_id)
            step = start(flow, context)
        except (FlowVersionError, FlowProtocolError):
            log.exception("call %s: the flow cannot start; queueing it", call.call_sid)
            return await self._flow_failed(hook, interaction_id)
        return await self._drive(hook, interaction_id, flow, context, step)

    async def _open(self, session: AsyncSession, hook: Webhook,
                    call: CallRequest) -> Interaction:
        channel = hook.channel
        kind, value = caller_identity(call.caller)
        customer = await find_or_create(
            session, tenant_id=channel.tenant_id, display_name=call.caller_name,
            identity=IdentityIn(kind=kind, value=value), actor=hook.actor)
        interaction = await create_interaction(
            session, tenant_id=channel.tenant_id, channel=CHANNEL, channel_id=channel.id,
            customer_id=customer.id, actor=hook.actor,
            attributes={"voice": call.facts(),
                        HOST_KEY: {"call_sid": call.call_sid, "account_sid": call.account_sid,
                                   "turn": 0}})
        await add_message(session, interaction, author_kind="customer", actor=hook.actor,
                          author_id=str(customer.id), external_id=call.call_sid,
                          body=f"Phone call from {call.caller or 'anonymous'} "
                               f"to {call.called}")
        flow = channel.settings.get("flow")
        if flow:
            await change_state(session, interaction, StateChange(state=S.SELF_SERVICE),
                               actor=hook.actor,
                               details={"flow_id": flow,
                                        "version": channel.settings.get("flow_version")})
        elif channel.default_queue_id is not None:
            await change_state(session, interaction, StateChange(
                state=S.QUEUED, queue_id=channel.default_queue_id), actor=hook.actor)
        await record(session, tenant_id=channel.tenant_id, type="call.answered",
                     subject=interaction.id, payload=call.facts(), actor=hook.actor)
        session.add(IdempotencyRecord(
            tenant_id=channel.tenant_id, scope=hook.actor, key=call_key(call.call_sid),
            response={"interaction_id": str(interaction.id)},
            created_at=session_now(session)))
        await session.flush()
        return interaction

    # ---- the caller's answers -----------------------------------------------------------

    async def gather(self, hook: Webhook, call: CallRequest, turn: int) -> str:
        """What the caller keyed or said for the `turn`-th question: the flow goes on. A
        repeated or late answer (another turn) gets the last TwiML again."""
        interaction = await self._find(hook, call.call_sid)
        book = interaction.attributes.get(HOST_KEY) or {}
        if interaction.state is not S.SELF_SERVICE or turn != book.get("turn"):
            return await self._current(hook, interaction)
        try:
            state = FlowState.from_dict(interaction.attributes["flow_state"])
            flow = self.flows.flow(state.flow_id, state.version, hook.channel.settings)
            context = await self._context(interaction.id)
            step = advance(flow, state, flow_input(call), context)
        except (KeyError, ValueError, TypeError, FlowVersionError, FlowProtocolError):
            log.exception("call %s: the flow cannot go on; queueing it", call.call_sid)
            return await self._flow_failed(hook, interaction.id)
        return await self._drive(hook, interaction.id, flow, context, step)

    async def _drive(self, hook: Webhook, interaction_id: uuid.UUID, flow: Flow,
                     context: FlowContext, step: Step) -> str:
        """Run the flow until it waits for the caller or finishes: that step's TwiML."""
        said: list[Output] = []
        try:
            for _ in range(MAX_STEPS):
                answer = await self._step_done(hook, interaction_id, step, said)
                if answer is not None:
                    return answer
                said += step.outputs
                action = step.action
                if isinstance(action, HttpRequest):
                    event: HttpResult | KnowledgeResults = await self._request(action)
                elif isinstance(action, SearchKnowledge):
                    event = KnowledgeResults(())  # as on SIP calls (docs/voice.md)
                else:
                    raise FlowProtocolError(f"unexpected action {type(action).__name__}")
                step = advance(flow, step.state, event, context)
            raise FlowProtocolError(f"more than {MAX_STEPS} steps without finishing")
        except FlowProtocolError:
            log.exception("interaction %s: the flow failed; queueing it", interaction_id)
            return await self._flow_failed(hook, interaction_id)

    async def _step_done(self, hook: Webhook, interaction_id: uuid.UUID, step: Step,
                         said: Sequence[Output]) -> str | None:
        """Keep the flow state, record the step's records and perform a finishing action, in
        one transaction; the TwiML when the step waits for the caller or finishes."""
        async with self.db.write() as session:
            interaction = await self._interaction(session, interaction_id)
            interaction.attributes = {**interaction.attributes,
                                      "flow_state": step.state.to_dict()}
            for item in step.records:
                await record(session, tenant_id=interaction.tenant_id, type=item.name,
                             subject=interaction.id,
                             payload={**item.data, "interaction_id": str(interaction.id)},
                             actor=hook.actor)
            root = twiml.response()
            if step.finished:
                twiml.outputs(root, [*said, *step.outputs], hook.voice)
                await self._finish(session, hook, interaction, step, root)
                return _keep(interaction, root)
            if isinstance(step.action, WaitForInput):
                turn = int((interaction.attributes.get(HOST_KEY) or {}).get("turn", 0)) + 1
                twiml.outputs(root, said, hook.voice)
                asking = twiml.gather(root, step.action, action=hook.gather_url(turn),
                                      voice=hook.voice)
                twiml.outputs(asking, step.outputs, hook.voice)
                return _keep(interaction, root, turn=turn)
            return None

    async def _finish(self, session: AsyncSession, hook: Webhook, interaction: Interaction,
                      step: Step, root: ET.Element) -> None:
        action, collected = step.action, dict(step.state.attributes)
        if isinstance(action, QueueAction):
            queue = await self._hand_off(session, hook, interaction, action.queue, {
                **collected, **action.attributes, "skills": list(action.skills)},
                action.priority)
            self._wait_or_leave(hook, root, queue)
        elif isinstance(action, CallbackAction):
            number = action.number or (interaction.attributes.get("voice") or {}).get("from")
            queue = await self._hand_off(session, hook, interaction, action.queue, {
                **collected, "skills": list(action.skills), "callback_number": number},
                action.priority)
            if queue is not None:  # self_service → callback_scheduled goes through queued
                await change_state(session, interaction,
                                   StateChange(state=S.CALLBACK_SCHEDULED), actor=hook.actor)
            twiml.hangup(root)
        elif isinstance(action, TransferAction):
            if twiml.dialable(action.target):
                _merge_flow(interaction, {**collected, "transfer_target": action.target})
                await _ended(session, hook, interaction, "transferred")
                await change_state(session, interaction, StateChange(state=S.CLOSED),
                                   actor=hook.actor)
                twiml.dial(root, action.target)
            else:  # another flow: a person, as on SIP calls
                queue = await self._hand_off(session, hook, interaction, None, {
                    **collected, "transfer_target": action.target}, None)
                self._wait_or_leave(hook, root, queue)
        elif isinstance(action, EndAction):
            _merge_flow(interaction, collected)
            await _ended(session, hook, interaction,
                         "resolved" if action.resolved else "abandoned")
            await change_state(session, interaction,
                               StateChange(state=S.CLOSED, resolved=action.resolved),
                               actor=hook.actor)
            twiml.hangup(root)

    @staticmethod
    def _wait_or_leave(hook: Webhook, root: ET.Element, queue: Queue | None) -> None:
        if queue is not None:
            twiml.enqueue(root, queue.name, wait_url=hook.wait_url)
        else:
            twiml.say(root, SORRY, hook.voice)
            twiml.hangup(root)

    async def _hand_off(self, session: AsyncSession, hook: Webhook, interaction: Interaction,
                        queue_name: str | None, attributes: dict[str, Any],
                        priority: int | None) -> Queue | None:
        queue = await _queue(session, hook.channel, queue_name)
        if queue is None:
            log.error("interaction %s: no queue to hand off to (%r); hanging up",
                      interaction.id, queue_name)
            return None
        _merge_flow(interaction, attributes)
        await _ended(session, hook, interaction, "queued")
        await change_state(session, interaction, StateChange(
            state=S.QUEUED, queue_id=queue.id,
            priority=None if priority is None else max(0, min(100, priority))),
            actor=hook.actor)
        return queue

    async def _flow_failed(self, hook: Webhook, interaction_id: uuid.UUID) -> str:
        """The flow cannot run: the caller goes to the channel's default queue."""
        async with self.db.write() as session:
            interaction = await self._interaction(session, interaction_id)
            root = twiml.response()
            queue = None
            if interaction.state is S.SELF_SERVICE:
                queue = await self._hand_off(session, hook, interaction, None,
                                             {"flow_error": True}, None)
            self._wait_or_leave(hook, root, queue)
            return _keep(interaction, root)

    async def _current(self, hook: Webhook, interaction: Interaction) -> str:
        """The TwiML for where the call is now: the last one we gave, or by its state."""
        kept = (interaction.attributes.get(HOST_KEY) or {}).get("twiml")
        if kept:
            return str(kept)
        root = twiml.response()
        if interaction.state in (S.QUEUED, S.OFFERED):
            async with self.db.read() as session:
                queue = await session.get(Queue, interaction.queue_id) \
                    if interaction.queue_id else None
            self._wait_or_leave(hook, root, queue)
        else:
            twiml.say(root, SORRY, hook.voice)
            twiml.hangup(root)
        return twiml.render(root)

    async def _context(self, interaction_id: uuid.UUID) -> FlowContext:
        async with self.db.read() as session:
            interaction = await self._interaction(session, interaction_id)
            caller = (interaction.attributes.get("voice") or {}).get("from")
            return await flow_context(session, interaction, caller_id=caller or None)

    async def _request(self, request: HttpRequest) -> HttpResult:
        """The flow's HTTP request; any failure is an HttpResult with `error`."""
        return await perform_http(self._http, request)

    # ---- waiting in the queue -----------------------------------------------------------

    async def wait(self, hook: Webhook, call: CallRequest) -> str:
        """What a queued caller hears next: the position and estimated wait, then hold music
        (Twilio fetches this again when it has played)."""
        interaction = await self._find(hook, call.call_sid)
        settings, root = hook.settings, twiml.response()
        if interaction.state is S.QUEUED and settings.announce_seconds:
            position, estimate = await self.acd.queue_position(interaction) \
                if self.acd is not None else (0, None)
            if position:
                twiml.say(root, announcement(position, estimate), hook.voice)
        if settings.hold_music_url:
            twiml.play(root, settings.hold_music_url)
        else:
            twiml.pause(root, settings.announce_seconds or DEFAULT_PAUSE_SECONDS)
        return twiml.render(root)

    # ---- call statuses ------------------------------------------------------------------

    async def status(self, hook: Webhook, update: CallStatusUpdate) -> bool:
        """A status callback, once per (CallSid, CallStatus, SequenceNumber): a call that
        ends while waiting is abandoned, one with an agent goes to wrap-up; `call.ended`.
        False for a retry or a call omnidesk never answered."""

        async def store(session: AsyncSession) -> bool:
            tenant_id = hook.channel.tenant_id
            if await find_idempotent(session, tenant_id=tenant_id, scope=hook.actor,
                                     key=update.key):
                return False
            found = await find_idempotent(session, tenant_id=tenant_id, scope=hook.actor,
                                          key=call_key(update.call_sid))
            if found is None:
                return False
            session.add(IdempotencyRecord(tenant_id=tenant_id, scope=hook.actor,
                                          key=update.key, response={"status": update.status},
                                          created_at=session_now(session)))
            if update.final:
                interaction = await self._interaction(
                    session, uuid.UUID(str(found.response["interaction_id"])))
                await _call_ended(session, hook, interaction, update)
            await session.flush()
            return True

        return await write_once(self.db, store)

    # ---- the agent ----------------------------------------------------------------------

    async def bridge(self, interaction_id: uuid.UUID, agent_id: uuid.UUID) -> None:
        """The agent accepted the call: redirect the live call to <Dial> the agent's phone
        (`agent_endpoints`); `call.bridged`, or `call.bridge_failed` with the reason."""
        async with self.db.read() as session:
            interaction = await session.get(Interaction, interaction_id)
            if interaction is None or interaction.channel_id is None:
                return
            channel = await session.get(Channel, interaction.channel_id)
            if channel is None or channel.kind != KIND:
                return
            email = await session.scalar(
                select(User.email).join(Agent, Agent.user_id == User.id)
                .where(Agent.id == agent_id, Agent.tenant_id == interaction.tenant_id))
        book = interaction.attributes.get(HOST_KEY) or {}
        call_sid = str(book.get("call_sid") or "")
        if not call_sid:
            return
        facts: dict[str, Any] = {"call_id": call_sid, "agent_id": str(agent_id)}
        try:
            settings = settings_of(channel, TwilioVoiceSettings)
            endpoint = settings.endpoint_of(email) if email else None
            if endpoint is None:
                raise CallUpdateError(f"agent {email or agent_id} has no entry in the "
                                      "channel's agent_endpoints setting")
            account_sid = settings.account_sid or str(book.get("account_sid") or "")
            token = secret_from_env(settings.auth_token_env, setting="auth_token_env",
                                    fallback=channel.secret)
            root = twiml.response()
            twiml.dial(root, endpoint, timeout=settings.dial_timeout_seconds)
            await redirect_call(base_url=settings.api_base_url, account_sid=account_sid,
                                username=settings.api_key_sid or account_sid, password=token,
                                call_sid=call_sid, twiml=twiml.render(root))
        except (CallUpdateError, DeliveryError, InvalidInput) as error:
            log.warning("call %s: not bridged to agent %s: %s", call_sid, agent_id, error)
            await self._event(channel, interaction_id, "call.bridge_failed",
                              {**facts, "error": str(error)})
            return
        await self._event(channel, interaction_id, "call.bridged",
                          {**facts, "endpoint": endpoint})

    async def _event(self, channel: Channel, interaction_id: uuid.UUID, type_: str,
                     payload: dict[str, Any]) -> None:
        async with self.db.write() as session:
            await record(session, tenant_id=channel.tenant_id, type=type_,
                         subject=interaction_id, payload=payload, actor=actor_of(channel))

    # ---- lookups ------------------------------------------------------------------------

    async def _find(self, hook: Webhook, call_sid: str) -> Interaction:
        """The interaction of a call this channel answered (404 naming CallSid otherwise)."""
        async with self.db.read() as session:
            found = await find_idempotent(session, tenant_id=hook.channel.tenant_id,
                                          scope=hook.actor, key=call_key(call_sid))
            if found is None:
                raise NotFound(f"call {call_sid} is not known on this channel",
                               field="CallSid")
            return await self._interaction(
                session, uuid.UUID(str(found.response["interaction_id"])))

    @staticmethod
    async def _interaction(session: AsyncSession, interaction_id: uuid.UUID) -> Interaction:
        interaction = await session.get(Interaction, interaction_id)
        assert interaction is not None
        return interaction


def _keep(interaction: Interaction, root: ET.Element, *, turn: int | None = None) -> str:
    """Render the TwiML and keep it (and the question's turn) on the interaction: a retried
    webhook is answered with it again."""
    document = twiml.render(root)
    book = dict(interaction.attributes.get(HOST_KEY) or {})
    book["twiml"] = document
    if turn is not None:
        book["turn"] = turn
    interaction.attributes = {**interaction.attributes, HOST_KEY: book}
    return document


def _merge_flow(interaction: Interaction, attributes: dict[str, Any]) -> None:
    interaction.attributes = {**interaction.attributes, "flow": {
        **interaction.attributes.get("flow", {}), **attributes}}


async def _queue(session: AsyncSession, channel: Channel, name: str | None) -> Queue | None:
    """The flow's queue by name, else the channel's default queue."""
    if name:
        found = await session.scalar(
            select(Queue).where(Queue.tenant_id == channel.tenant_id, Queue.name == name))
        if found is not None:
            return found
        log.warning("flow queue %r not found; using the channel's default", name)
    if channel.default_queue_id is None:
        return None
    return await session.get(Queue, channel.default_queue_id)


async def _ended(session: AsyncSession, hook: Webhook, interaction: Interaction,
                 outcome: str) -> None:
    """`interaction.self_service_ended` with how the flow ended."""
    state = interaction.attributes.get("flow_state") or {}
    await record(session, tenant_id=interaction.tenant_id,
                 type="interaction.self_service_ended", subject=interaction.id, payload={
                     "outcome": outcome, "flow_id": state.get("flow_id"),
                     "version": state.get("version")}, actor=hook.actor)


async def _call_ended(session: AsyncSession, hook: Webhook, interaction: Interaction,
                      update: CallStatusUpdate) -> None:
    """The call is over: abandoned while waiting, wrap-up after an agent; `call.ended`."""
    if interaction.state in WAITING_STATES:
        if interaction.state is S.SELF_SERVICE:
            await _ended(session, hook, interaction, "abandoned")
        await change_state(session, interaction, StateChange(state=S.ABANDONED),
                           actor=hook.actor)
    elif interaction.state in TALKING_STATES:
        await change_state(session, interaction, StateChange(state=S.WRAP_UP),
                           actor=hook.actor)
    await record(session, tenant_id=interaction.tenant_id, type="call.ended",
                 subject=interaction.id, payload={
                     **(interaction.attributes.get("voice") or {}),
                     "reason": update.status, "answered": update.status == "completed",
                     "duration_seconds": update.duration}, actor=hook.actor)
