"""Runs self-service flows on the messaging channels: the host side of the flow engine.

Follows `interaction.self_service_started` and customers' `message.created`; for an
interaction in state `self_service` it feeds the customer's new messages to the pure
interpreter, posts the bot's answers, keeps the flow state in the interaction's attributes
and performs the step's action (HTTP outside any transaction, hand-off, end).

A timer on the server clock fires the deadlines the host stores next to the flow state: the
wait's timeout (`TimeoutInput`) and the flow's inactivity limit (`expire`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.acd.mapping import business_hours
from omnidesk.channels.models import Channel
from omnidesk.channels.outbound import OutboundService
from omnidesk.customers.models import Customer
from omnidesk.db import Database, mark_background, session_now
from omnidesk.events.follower import BusFollower
from omnidesk.events.log import record, recorded_events
from omnidesk.events.record import EventRecord
from omnidesk.flows import (
    Action,
    Article,
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
    QueueAction,
    QueueSnapshot,
    SearchKnowledge,
    Step,
    TextInput,
    TimeoutInput,
    TransferAction,
    WaitForInput,
    advance,
    expire,
    start,
)
from omnidesk.interactions.actions import add_message, change_state
from omnidesk.interactions.models import Interaction, Message
from omnidesk.interactions.schemas import StateChange
from omnidesk.interactions.states import InteractionState
from omnidesk.knowledge import service as knowledge
from omnidesk.knowledge.actions import record_use
from omnidesk.knowledge.models import Article as KbArticle
from omnidesk.knowledge.search import search as search_knowledge
from omnidesk.queues.models import Queue
from omnidesk.selfservice.host import FlowHost, bot_messages, perform_http
from omnidesk.tasks import stop_tasks
from omnidesk.tenants.models import Tenant

log = logging.getLogger("omnidesk.selfservice")
S = InteractionState

ACTOR = "selfservice"
STATE_KEY = "flow_state"  # interaction.attributes: the interpreter's FlowState
HOST_KEY = "selfservice"  # interaction.attributes: {"position": last message fed, "http": ...,
#                           "timeout_at", "inactive_at", "due_at": deadlines, see below}
FLOW_KEY = "flow"  # interaction.attributes: what the flow collected, for the agent
SELF_SERVICE_ENDED = "interaction.self_service_ended"
DEFLECTED = "interaction.deflected"
MAX_STEPS_PER_TURN = 50  # a guard: steps without the customer or HTTP in between
# Deadlines, kept in attributes.selfservice as UTC ISO timestamps of one fixed format (so they
# also compare as text in the sweep's query): `timeout_at` the wait's timeout (or, while an
# HTTP request runs, when to perform it again), `inactive_at` the flow's inactivity limit
# after the customer's last message, `due_at` the earlier of the two (None when finished).
TIMEOUT_AT, INACTIVE_AT, DUE_AT = "timeout_at", "inactive_at", "due_at"
SWEEP_SECONDS = 1.0  # how often the timer looks for due deadlines
SWEEP_BATCH = 200  # due interactions fired per sweep at most (the rest: next sweep)
HTTP_GRACE_SECONDS = 30.0  # past an HTTP request's own timeout: it was cut short (restart)


def stamp(moment: datetime) -> str:
    """A deadline as stored: UTC, microseconds, fixed width (sorts as text)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class SelfServiceService(BusFollower):
    """Follows self-service interactions and runs their flows, one turn at a time each."""

    def __init__(self, db: Database, registry: FlowRegistry, *,
                 http: httpx.AsyncClient | None = None, public_url: str = "") -> None:
        super().__init__(db)
        self.host = FlowHost(registry)
        self.public_url = public_url  # base of article links (a channel's `public_url` wins)
        self._http = http  # tests may pass a client; else one per request
        self._outbound = OutboundService(db)
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}
        self._users: dict[uuid.UUID, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._firing: set[uuid.UUID] = set()  # interactions the timer runs a turn for
        # the interactions in self-service, kept from the events: a customer's message on any
        # other (most of them) costs no read
        self._in_flow: set[uuid.UUID] = set()
        self._timer: asyncio.Task[None] | None = None
        self.sweep_seconds = SWEEP_SECONDS

    async def start(self) -> None:
        """Follow the events, then start the timer that fires due deadlines."""
        await super().start()
        self._timer = asyncio.create_task(self._sweep_forever())

    async def prepare(self) -> None:
        """The interactions in self-service now (the events tell of later ones)."""
        self._in_flow = set(await self._candidates(catch_up=True))

    async def on_event(self, record: EventRecord | None) -> None:
        """Start a turn when self-service begins or a customer writes in it; ignore the
        rest."""
        if record is None:  # a gap: catch up on every self-service interaction
            self._in_flow = set(await self._candidates(catch_up=True))
            self._fire(list(self._in_flow))
            return
        if record.type == "interaction.self_service_started":
            self._in_flow.add(uuid.UUID(record.subject))
            self._start_turn(uuid.UUID(record.subject))
        elif record.payload.get("from") == S.SELF_SERVICE.value:  # it left self-service
            self._in_flow.discard(uuid.UUID(record.subject))
        elif (record.type == "message.created"
              and record.payload.get("author_kind") == "customer"
              and uuid.UUID(record.subject) in self._in_flow):
            self._start_turn(uuid.UUID(record.subject))

    def _start_turn(self, interaction_id: uuid.UUID) -> None:
        task = asyncio.create_task(self.run(interaction_id))
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def running_turns(self) -> int:
        """Turns started and not finished yet (from events or the timer)."""
        return len(self._tasks)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("self-service turn failed", exc_info=error)

    async def stop(self) -> None:
        """Stop the timer and following, then cancel the turns still running."""
        await stop_tasks(self._timer)
        self._timer = None
        await super().stop()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def sweep(self, *, catch_up: bool = False) -> int:
        """Run a turn for every interaction whose deadline is due on the server clock (with
        `catch_up`, for every self-service interaction: after a restart or a bus gap) and
        wait for those turns; the number started. A turn decides again, in its write
        transaction, whether the deadline is still due, so racing sweeps fire it once."""
        tasks = self._fire(await self._candidates(catch_up=catch_up))
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        return len(tasks)

    async def _candidates(self, *, catch_up: bool) -> list[uuid.UUID]:
        """Self-service interactions on the messaging channels with a due deadline."""
        due = Interaction.attributes[(HOST_KEY, DUE_AT)].as_string()
        async with self.db.read() as session:
            tenant_ids = (await session.scalars(select(Tenant.id))).all()
            if not tenant_ids:
                return []
            query = select(Interaction.id).where(  # (tenant, state): the state index
                Interaction.tenant_id.in_(tenant_ids), Interaction.state == S.SELF_SERVICE,
                Interaction.channel != "voice")
            if not catch_up:
                query = query.where(due <= stamp(self.db.clock.now())).order_by(due) \
                    .limit(SWEEP_BATCH)
            return list((await session.scalars(query)).all())

    def _fire(self, interaction_ids: list[uuid.UUID]) -> list[asyncio.Task[None]]:
        """A turn for each interaction the timer is not already running one for."""
        tasks: list[asyncio.Task[None]] = []
        for interaction_id in interaction_ids:
            if interaction_id in self._firing:
                continue
            self._firing.add(interaction_id)
            task = asyncio.create_task(self._fired(interaction_id))
            self._tasks.add(task)
            task.add_done_callback(self._finished)
            tasks.append(task)
        return tasks

    async def _fired(self, interaction_id: uuid.UUID) -> None:
        try:
            await self.run(interaction_id)
        finally:
            self._firing.discard(interaction_id)

    async def _sweep_forever(self) -> None:
        mark_background()
        catch_up = True  # the first sweep after a start looks at every interaction
        while True:
            await asyncio.sleep(self.sweep_seconds)
            try:
                self._fire(await self._candidates(catch_up=catch_up))
                catch_up = False
            except Exception:
                log.exception("self-service timer failed")

    async def run(self, interaction_id: uuid.UUID) -> None:
        """One turn for an interaction, serialised with any other turn of the same one."""
        self._users[interaction_id] = self._users.get(interaction_id, 0) + 1
        lock = self._locks.setdefault(interaction_id, asyncio.Lock())
        try:
            async with lock:
                result: HttpResult | None = None
                while True:
                    request, messages = await self._turn(interaction_id, result)
                    for event in messages:
                        await self._deliver(event)
                    if request is None:
                        return
                    result = await self._perform(request)
        finally:
            self._users[interaction_id] -= 1
            if not self._users[interaction_id]:
                del self._users[interaction_id], self._locks[interaction_id]

    async def _deliver(self, event: EventRecord) -> None:
        """Send a bot message through the channel's adapter, as agents' messages are."""
        try:
            await self._outbound.deliver(event)
        except Exception:
            log.exception("could not deliver bot message %s", event.payload.get("message_id"))

    async def _perform(self, request: HttpRequest) -> HttpResult:
        """The flow's HTTP call (never inside a transaction); any failure is an HttpResult."""
        if self._http is not None:
            return await perform_http(self._http, request)
        async with httpx.AsyncClient() as client:
            return await perform_http(client, request)

    async def _turn(self, interaction_id: uuid.UUID,
                    result: HttpResult | None) -> tuple[HttpRequest | None, list[EventRecord]]:
        """Advance the flow as far as it goes without I/O, in one transaction; returns the
        HTTP request to perform next (if any) and the bot messages' events to deliver."""
        async with self.db.read() as reader:  # most customer messages are not ours: no write
            row = (await reader.execute(select(Interaction.state, Interaction.channel)
                                        .where(Interaction.id == interaction_id))).first()
        if row is None or row[0] is not S.SELF_SERVICE or row[1] == "voice":
            return None, []  # voice calls run their flow in the voice service
        async with self.db.write() as session:  # the row lock orders turns across processes
            interaction = await session.get(Interaction, interaction_id, with_for_update=True)
            if interaction is None or interaction.state is not S.SELF_SERVICE:
                return None, []
            channel = (await session.get(Channel, interaction.channel_id)
                       if interaction.channel_id is not None else None)
            conversation = _Conversation(session, interaction, channel, self.host,
                                         await flow_context(session, interaction),
                                         public_url=self.public_url)
            request = await conversation.turn(result)
            events = [event for event in recorded_events(session)
                      if event.type == "message.created" and event.actor == ACTOR]
        return request, events


async def flow_context(session: AsyncSession, interaction: Interaction, *,
                       caller_id: str | None = None) -> FlowContext:
    """What a flow may look at: time, channel, caller id, customer, and per queue name its
    waiting contacts and whether its business hours are open now (`hours.<queue>.open`)."""
    rows = await session.execute(
        select(Queue, func.count(Interaction.id)).select_from(Queue)
        .outerjoin(Interaction, and_(Interaction.queue_id == Queue.id,
                                     Interaction.state == S.QUEUED))
        .where(Queue.tenant_id == interaction.tenant_id).group_by(Queue.id))
    now = session_now(session)
    queues: dict[str, QueueSnapshot] = {}
    hours: dict[str, bool] = {}
    for queue, waiting in rows.all():
        queues[queue.name] = QueueSnapshot(waiting=int(waiting))
        calendar = business_hours(queue)
        hours[queue.name] = calendar is None or calendar.is_open(now.timestamp())
    customer = await session.get(Customer, interaction.customer_id)
    record_: dict[str, Any] = {}
    if customer is not None:
        record_ = {**customer.attributes, "id": str(customer.id),
                   "display_name": customer.display_name}
    return FlowContext(now=now, channel=interaction.channel, caller_id=caller_id,
                       customer=record_, queues=queues, business_hours=hours)


class _Conversation:
    """One turn of one interaction inside a write transaction."""

    def __init__(self, session: AsyncSession, interaction: Interaction, channel: Channel | None,
                 host: FlowHost, context: FlowContext, *, public_url: str = "") -> None:
        self.session = session
        self.interaction = interaction
        self.channel = channel
        self.settings: Mapping[str, Any] = channel.settings if channel is not None else {}
        self.host = host
        self.context = context
        self.book: dict[str, Any] = dict(interaction.attributes.get(HOST_KEY) or {})
        self.public_url = str(self.settings.get("public_url") or public_url).rstrip("/")

    async def turn(self, result: HttpResult | None) -> HttpRequest | None:
        """Run the flow until it waits for the customer or for HTTP, or finishes."""
        stored = self.interaction.attributes.get(STATE_KEY)
        try:
            if stored is None:
                flow = self.host.flow(str(self.settings.get("flow", "")),
                                      self.settings.get("flow_version"), self.settings)
                self._active(flow)
                return await self._drive(flow, start(flow, self.context), None)
            state = FlowState.from_dict(stored)
            if state.finished:
                return None
            flow = self.host.flow(state.flow_id, state.version, self.settings)
            if INACTIVE_AT not in self.book:  # a state stored before the host kept deadlines
                self._active(flow)
            if state.awaiting == "http_result":
                if result is not None:
                    return await self._drive(flow, advance(flow, state, result, self.context),
                                             None)
                if self._due(INACTIVE_AT):
                    return await self._drive(flow, expire(flow, state, self.context), None)
                if self.book.get(TIMEOUT_AT) and not self._due(TIMEOUT_AT):
                    return None  # still being performed, here or by another process
                # a request cut short (restart): perform it again
                request = HttpRequest(**self.book["http"])
                self._save(state, http=self.book["http"], timeout=self._http_deadline(request))
                return request
            return await self._drive(flow, None, state)
        except (FlowVersionError, FlowProtocolError):
            log.exception("interaction %s: the flow cannot run; queueing it",
                          self.interaction.id)
            await self._hand_off(None, {"flow_error": True}, priority=None, outcome="queued")
            return None

    async def _drive(self, flow: Flow, step: Step | None, state: FlowState | None) -> \
            HttpRequest | None:
        for _ in range(MAX_STEPS_PER_TURN):
            if step is not None:
                state = step.state
                await self._apply(step)
                action = step.action
                if isinstance(action, SearchKnowledge):  # the database's own index: no I/O wait
                    results = await self._search_knowledge(action)
                    step = advance(flow, state, results, self.context)
                    continue
                if isinstance(action, HttpRequest):
                    self._save(state, http=dataclasses.asdict(action),
                               timeout=self._http_deadline(action))
                    return action
                if step.finished:
                    self._save(state)
                    await self._finish(action, state)
                    return None
                if isinstance(action, WaitForInput):
                    self.book[TIMEOUT_AT] = stamp(
                        self.context.now + timedelta(seconds=action.timeout_seconds))
            assert state is not None
            message = await self._next_customer_message()
            if message is not None:  # the customer wrote first: no timeout for this wait
                self.book["position"] = message.position
                self._active(flow)
                step = advance(flow, state, TextInput(message.body), self.context)
            elif self._due(INACTIVE_AT):
                step = expire(flow, state, self.context)
            elif self._due(TIMEOUT_AT) and state.awaiting in ("input", "feedback"):
                self.book[TIMEOUT_AT] = None  # fired: the next wait sets its own
                step = advance(flow, state, TimeoutInput(), self.context)
            else:
                self._save(state, timeout=self.book.get(TIMEOUT_AT))
                return None
        raise FlowProtocolError(f"more than {MAX_STEPS_PER_TURN} steps in one turn")

    def _active(self, flow: Flow) -> None:
        """The customer is here (the flow starts, or they wrote): restart the inactivity limit."""
        limit = timedelta(seconds=flow.document.timeouts.inactivity)
        self.book[INACTIVE_AT] = stamp(self.context.now + limit)

    def _http_deadline(self, request: HttpRequest) -> str:
        """When an HTTP request still unanswered was cut short and is to be performed again."""
        seconds = request.timeout_seconds + HTTP_GRACE_SECONDS
        return stamp(self.context.now + timedelta(seconds=seconds))

    def _due(self, key: str) -> bool:
        """Whether the deadline stored under `key` has passed on the server clock."""
        value = self.book.get(key)
        return value is not None and datetime.fromisoformat(value) <= self.context.now

    async def _search_knowledge(self, action: SearchKnowledge) -> KnowledgeResults:
        """The tenant's published articles for the flow's query, best first, with links to
        their help-center pages."""
        tenant_id = self.interaction.tenant_id
        hits = await search_knowledge(self.session, tenant_id=tenant_id, query=action.query,
                                      limit=action.limit)
        if not hits:
            return KnowledgeResults(())
        slug = await knowledge.tenant_slug(self.session, tenant_id)
        return KnowledgeResults(tuple(
            Article(id=str(hit.article.id), title=hit.article.title,
                    body=hit.article.plain_text, score=hit.score,
                    url=f"{self.public_url}{knowledge.article_path(slug, hit.article.slug)}")
            for hit in hits))

    async def _knowledge_record(self, name: str, data: Mapping[str, Any]) -> None:
        """The knowledge base's own usage events for an article the flow showed."""
        try:
            article_id = uuid.UUID(str(data.get("article_id")))
        except ValueError:
            return
        article = await self.session.get(KbArticle, article_id)
        if article is None or article.tenant_id != self.interaction.tenant_id:
            return
        if name == "kb.answer_shown":
            await record(self.session, tenant_id=article.tenant_id,
                         type="knowledge.article_suggested", subject=article.id,
                         payload={"interaction_id": str(self.interaction.id),
                                  "via": "self_service", "channel": self.interaction.channel,
                                  "slug": article.slug, "query": data.get("query")},
                         actor=ACTOR)
        elif name == "kb.feedback":
            helped = data.get("helpful") is True
            self.book["helped_article_id"] = str(article.id) if helped else None
            await record_use(self.session, article, self.interaction, helped=helped,
                             via="self_service", actor=ACTOR)

    async def _next_customer_message(self) -> Message | None:
        message: Message | None = await self.session.scalar(
            select(Message).where(Message.interaction_id == self.interaction.id,
                                  Message.author_kind == "customer",
                                  Message.position > int(self.book.get("position", 0)))
            .order_by(Message.position).limit(1))
        return message

    async def _apply(self, step: Step) -> None:
        """Post the step's outputs as bot messages and record its records as events."""
        for message in bot_messages(step.outputs):
            await add_message(self.session, self.interaction, author_kind="bot",
                              body=message.body, options=message.options_json(), actor=ACTOR)
        for item in step.records:
            payload = {**item.data, "interaction_id": str(self.interaction.id)}
            if item.name == "kb.answer_shown":
                self.book["article_id"] = item.data.get("article_id")
            await record(self.session, tenant_id=self.interaction.tenant_id, type=item.name,
                         subject=self.interaction.id, payload=payload, actor=ACTOR)
            if item.name in ("kb.answer_shown", "kb.feedback"):
                await self._knowledge_record(item.name, item.data)

    def _save(self, state: FlowState, *, http: dict[str, Any] | None = None,
              timeout: str | None = None) -> None:
        """Store the flow state and the host's book: the wait's deadline (`timeout`, None
        for none) and the earlier of it and the inactivity limit, which the timer looks at."""
        self.book["http"] = http
        if state.finished:
            self.book[TIMEOUT_AT] = self.book[INACTIVE_AT] = self.book[DUE_AT] = None
        else:
            self.book[TIMEOUT_AT] = timeout
            deadlines = [value for value in (timeout, self.book.get(INACTIVE_AT)) if value]
            self.book[DUE_AT] = min(deadlines, key=datetime.fromisoformat, default=None)
        self.interaction.attributes = {**self.interaction.attributes,
                                       STATE_KEY: state.to_dict(), HOST_KEY: dict(self.book)}

    async def _finish(self, action: Action, state: FlowState) -> None:
        collected = dict(state.attributes)
        if isinstance(action, QueueAction):
            await self._hand_off(action.queue, {**collected, **action.attributes,
                                                "skills": list(action.skills)},
                                 priority=action.priority, outcome="queued")
        elif isinstance(action, CallbackAction):
            queued = await self._hand_off(action.queue, {
                **collected, "skills": list(action.skills), "callback_number": action.number},
                priority=action.priority, outcome="queued")
            if queued:  # self_service → callback_scheduled goes through queued
                await change_state(self.session, self.interaction,
                                   StateChange(state=S.CALLBACK_SCHEDULED), actor=ACTOR)
        elif isinstance(action, TransferAction):
            await self._hand_off(None, {**collected, "transfer_target": action.target},
                                 priority=None, outcome="queued")
        elif isinstance(action, EndAction):
            self.interaction.attributes = {
                **self.interaction.attributes,
                FLOW_KEY: {**self.interaction.attributes.get(FLOW_KEY, {}), **collected}}
            await self._ended("resolved" if action.resolved else "abandoned")
            if action.resolved and self.book.get("helped_article_id"):
                # answered by an article and closed without an agent
                await record(self.session, tenant_id=self.interaction.tenant_id,
                             type=DEFLECTED, subject=self.interaction.id,
                             payload={"article_id": self.book["helped_article_id"],
                                      "flow_id": state.flow_id, "version": state.version,
                                      "channel": self.interaction.channel}, actor=ACTOR)
            await change_state(self.session, self.interaction,
                               StateChange(state=S.CLOSED, resolved=action.resolved),
                               actor=ACTOR)

    async def _hand_off(self, queue_name: str | None, attributes: dict[str, Any], *,
                        priority: int | None, outcome: str) -> bool:
        """Queue the interaction on the named queue (or the channel's default queue)."""
        queue_id = await self._queue_id(queue_name)
        if queue_id is None:
            log.error("interaction %s: no queue to hand off to (flow queue %r, channel has no "
                      "default queue); it stays in self-service", self.interaction.id,
                      queue_name)
            return False
        self.interaction.attributes = {
            **self.interaction.attributes,
            FLOW_KEY: {**self.interaction.attributes.get(FLOW_KEY, {}), **attributes}}
        await self._ended(outcome)
        await change_state(self.session, self.interaction, StateChange(
            state=S.QUEUED, queue_id=queue_id,
            priority=None if priority is None else max(0, min(100, priority))), actor=ACTOR)
        return True

    async def _queue_id(self, name: str | None) -> uuid.UUID | None:
        if name:
            found: uuid.UUID | None = await self.session.scalar(
                select(Queue.id).where(Queue.tenant_id == self.interaction.tenant_id,
                                       Queue.name == name))
            if found is not None:
                return found
            log.warning("interaction %s: flow queue %r not found; using the channel's default",
                        self.interaction.id, name)
        return self.channel.default_queue_id if self.channel is not None else None

    async def _ended(self, outcome: str) -> None:
        state = self.interaction.attributes.get(STATE_KEY) or {}
        payload: dict[str, Any] = {"outcome": outcome, "flow_id": state.get("flow_id"),
                                   "version": state.get("version")}
        if self.book.get("article_id"):
            payload["article_id"] = self.book["article_id"]
        await record(self.session, tenant_id=self.interaction.tenant_id,
                     type=SELF_SERVICE_ENDED, subject=self.interaction.id, payload=payload,
                     actor=ACTOR)
