"""Self-service timeouts on the messaging channels: the server clock fires the flow's waits."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from omnidesk.channels import registry
from omnidesk.channels.actions import create_channel
from omnidesk.channels.inbound import InboundMessage, accept_inbound
from omnidesk.channels.models import Channel
from omnidesk.channels.schemas import ChannelCreate
from omnidesk.clock import FixedClock
from omnidesk.config import Settings
from omnidesk.db import Database
from omnidesk.events.bus import InProcessBus
from omnidesk.events.models import Event
from omnidesk.interactions.models import Interaction, Message
from omnidesk.queues.actions import create_queue
from omnidesk.queues.schemas import QueueCreate
from omnidesk.selfservice import SelfServiceService
from omnidesk.selfservice import service as selfservice
from tests.channels.loopback import Recorder, serve
from tests.channels.test_outbound import RecordingAdapter
from tests.conftest import Api, eventually, make_tenant, running_api

# Asks for an order number, waits 60 s; one "are you still there?", then ends unresolved.
QUIET_FLOW = """\
id: quiet_bot
version: 1
start: menu
default_queue: support
nodes:
  menu:
    type: menu
    text: "Hi! What can I do for you?"
    options:
      - {key: "1", label: "Track an order", match: ["order"], goto: ask_order}
  ask_order:
    type: collect
    text: "What is your order number?"
    attribute: order_id
    pattern: "[0-9]{4}"
    timeout_seconds: 60
    retries: 1
    no_input: "Are you still there?"
    on_failure: give_up
    next: noted
  noted: {type: end, resolved: true, text: "Thanks, I noted your order."}
  give_up: {type: end, resolved: false, text: "I'll close this chat now. Write again any time."}
"""
# A menu that asks again for ever on silence (only the inactivity limit ends it) and a
# question without on_failure (silence reaches a person).
PATIENT_FLOW = """\
id: patient_bot
version: 1
start: menu
default_queue: support
timeouts: {text: 120, inactivity: 600}
nodes:
  menu:
    type: menu
    text: "Hi! What can I do for you?"
    options:
      - {key: "1", label: "Track an order", match: ["order"], goto: ask_email}
    retries: 0
    on_failure: menu
  ask_email: {type: collect, text: "Your email address?", attribute: email, next: done}
  done: {type: end, resolved: true, text: "Thanks."}
"""
STILL_THERE = ("bot", "Are you still there?")
ASK_ORDER = ("bot", "What is your order number?")
GIVE_UP = ("bot", "I'll close this chat now. Write again any time.")


@pytest.fixture
def flow_files(flow_files: Path) -> Path:
    """The shared flow files plus the two flows with timeouts."""
    (flow_files / "quiet.yaml").write_text(QUIET_FLOW)
    (flow_files / "patient.yaml").write_text(PATIENT_FLOW)
    return flow_files


@pytest.fixture
def adapter() -> Iterator[RecordingAdapter]:
    """A channel kind that records what the bot sends."""
    recording = RecordingAdapter()
    registry.register(recording)
    yield recording
    registry._adapters.pop(RecordingAdapter.kind)


@pytest.fixture
def manual_timer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's timer sleeps for an hour: the tests call `sweep()` themselves."""
    monkeypatch.setattr(selfservice, "SWEEP_SECONDS", 3600.0)


@pytest.fixture
async def api(manual_timer: None, settings: Settings, clock: FixedClock,
              flow_files: Path) -> AsyncIterator[Api]:
    """The app with the flow files and a timer that only the test fires."""
    async with running_api(settings, clock) as running:
        yield running


class Chat:
    """A customer on a `recording` channel that runs a flow."""

    def __init__(self, api: Api, channel_id: uuid.UUID) -> None:
        self.api = api
        self.channel_id = channel_id
        self.interaction_id: uuid.UUID | None = None

    @classmethod
    async def open(cls, api: Api, flow: str, **settings: Any) -> Chat:
        """Tenant, queue `support` and a channel running `flow`."""
        tenant_id = await make_tenant(api.db, "acme")
        async with api.db.write() as session:
            await create_queue(session, QueueCreate(name="support"), tenant_id=tenant_id,
                               actor="test")
            channel = await create_channel(session, ChannelCreate(
                kind="recording", name="bot chat", default_queue="support",
                settings={"flow": flow, **settings}), tenant_id=tenant_id, actor="test")
        return cls(api, channel.id)

    async def say(self, text: str) -> None:
        """The customer writes."""
        async with self.api.db.write() as session:
            channel = await session.get(Channel, self.channel_id)
            assert channel is not None
            accepted = await accept_inbound(session, channel, InboundMessage(
                identity_kind="chat", identity_value="visitor-7", body=text), actor="test")
            self.interaction_id = accepted.interaction.id

    async def row(self) -> Interaction:
        """The interaction as stored."""
        async with self.api.db.read() as session:
            row = await session.get(Interaction, self.interaction_id)
        assert row is not None
        return row

    async def messages(self) -> list[tuple[str, str]]:
        """(author kind, body) of every message, in order."""
        async with self.api.db.read() as session:
            rows = (await session.scalars(select(Message).where(
                Message.interaction_id == self.interaction_id)
                .order_by(Message.position))).all()
        return [(row.author_kind, row.body) for row in rows]

    async def events(self) -> list[tuple[str, dict[str, Any]]]:
        """(type, payload) of the interaction's events."""
        async with self.api.db.read() as session:
            rows = (await session.scalars(select(Event).where(
                Event.subject == str(self.interaction_id)).order_by(Event.id))).all()
        return [(row.type, row.payload) for row in rows]

    async def shows(self, message: tuple[str, str], count: int = 1) -> bool:
        """The message was posted `count` times."""
        return (await self.messages()).count(message) == count

    async def wait_for(self, message: tuple[str, str], count: int = 1) -> None:
        """Until the bot posted `message` `count` times."""
        await eventually(lambda: self.shows(message, count), f"{message[1]!r} ×{count}")

    async def state(self) -> str:
        """The interaction's state."""
        return str((await self.row()).state.value)


def _service(api: Api) -> SelfServiceService:
    service: SelfServiceService = api.app.state.selfservice
    return service


def _transcript_count(row: Interaction, text: str) -> int:
    return sum(entry["text"] == text for entry in row.attributes["flow_state"]["transcript"])


async def _silent_at_the_order_question(api: Api) -> Chat:
    chat = await Chat.open(api, "quiet_bot")
    await chat.say("where is my order")
    await chat.wait_for(ASK_ORDER)
    await _turns_finished(api)
    return chat


async def _turns_finished(api: Api) -> None:
    """Every turn started so far has ended (the customer's message and the start of
    self-service each start one): a late one would read the clock after a test moved it."""
    service = _service(api)

    async def idle() -> bool:
        return service.running_turns() == 0

    await eventually(idle, "the self-service turns to end")


async def test_a_silent_customer_gets_the_retry_prompt_then_the_timeout_branch(
        api: Api, clock: FixedClock, adapter: RecordingAdapter) -> None:
    chat = await _silent_at_the_order_question(api)
    book = (await chat.row()).attributes["selfservice"]
    assert book["timeout_at"] == selfservice.stamp(clock.now() + timedelta(seconds=60))
    assert book["inactive_at"] == selfservice.stamp(clock.now() + timedelta(seconds=1800))
    assert book["due_at"] == book["timeout_at"]

    clock.advance(59)
    assert await _service(api).sweep() == 0  # not due yet
    assert not await chat.shows(STILL_THERE)

    clock.advance(1)
    assert await _service(api).sweep() == 1
    assert (await chat.messages())[-2:] == [STILL_THERE, ASK_ORDER]
    assert await chat.state() == "self_service"
    sent = [message.body for message in adapter.sent]
    assert sent[-2:] == ["Are you still there?", "What is your order number?"]  # on the channel

    clock.advance(60)
    await _service(api).sweep()
    assert (await chat.messages())[-1] == GIVE_UP
    assert adapter.sent[-1].body == GIVE_UP[1]
    row = await chat.row()
    assert row.state.value == "closed"
    assert row.attributes["selfservice"]["due_at"] is None
    events = await chat.events()
    ended = [payload for kind, payload in events if kind == "interaction.self_service_ended"]
    assert [payload["outcome"] for payload in ended] == ["abandoned"]
    assert [payload["resolved"] for kind, payload in events
            if kind == "interaction.closed"] == [False]
    assert "flow.retries_exhausted" in [kind for kind, _ in events]
    assert await _service(api).sweep() == 0


async def test_the_customer_answering_before_the_deadline_cancels_it(
        api: Api, clock: FixedClock, adapter: RecordingAdapter) -> None:
    chat = await _silent_at_the_order_question(api)
    clock.advance(59)
    await chat.say("1234")

    async def closed() -> bool:
        return await chat.state() == "closed"

    await eventually(closed, "the resolved end")
    clock.advance(3600)
    assert await _service(api).sweep() == 0
    assert not await chat.shows(STILL_THERE)
    assert (await chat.messages())[-1] == ("bot", "Thanks, I noted your order.")
    assert (await chat.row()).attributes["flow"]["order_id"] == "1234"


async def test_a_message_waiting_to_be_read_wins_over_a_due_timeout(
        api: Api, clock: FixedClock, adapter: RecordingAdapter) -> None:
    chat = await _silent_at_the_order_question(api)
    service = _service(api)
    assert chat.interaction_id is not None
    lock = service._locks.setdefault(chat.interaction_id, asyncio.Lock())
    async with lock:  # hold the turns back while the message arrives and the deadline passes
        await chat.say("1234")
        clock.advance(120)
        sweeping = asyncio.create_task(service.sweep())
        await asyncio.sleep(0.05)
    await sweeping

    async def closed() -> bool:
        return await chat.state() == "closed"

    await eventually(closed, "the resolved end")
    assert not await chat.shows(STILL_THERE)
    assert (await chat.messages())[-1] == ("bot", "Thanks, I noted your order.")


async def test_two_sweeps_racing_fire_a_deadline_once(
        api: Api, clock: FixedClock, adapter: RecordingAdapter) -> None:
    chat = await _silent_at_the_order_question(api)
    other_db = Database(api.db.url, InProcessBus(), clock)  # another process, same database
    other = SelfServiceService(other_db, api.app.state.flows)
    try:
        clock.advance(61)
        await asyncio.gather(_service(api).sweep(), other.sweep(), other.sweep(),
                             _service(api).sweep())
    finally:
        await other_db.dispose()
    assert await chat.shows(STILL_THERE, count=1)
    assert [message.body for message in adapter.sent].count(STILL_THERE[1]) == 1
    assert _transcript_count(await chat.row(), "no input (timeout)") == 1
    assert await chat.state() == "self_service"


async def test_a_deadline_survives_a_restart(
        settings: Settings, clock: FixedClock, flow_files: Path,
        adapter: RecordingAdapter) -> None:
    async with running_api(settings, clock) as first:
        chat = await _silent_at_the_order_question(first)
    clock.advance(61)  # the deadline passes while the server is down
    async with running_api(settings, clock) as second:  # the timer runs on its own
        chat.api = second
        await chat.wait_for(STILL_THERE)
        assert (await chat.messages())[-1] == ASK_ORDER
        clock.advance(60)
        await chat.wait_for(GIVE_UP)

        async def closed() -> bool:
            return await chat.state() == "closed"

        await eventually(closed, "the end after the restart")
    assert [message.body for message in adapter.sent].count(STILL_THERE[1]) == 1


async def test_silence_without_on_failure_hands_over_to_a_person(
        api: Api, clock: FixedClock, adapter: RecordingAdapter) -> None:
    chat = await Chat.open(api, "patient_bot")
    await chat.say("my order please")
    await chat.wait_for(("bot", "Your email address?"))
    for _ in range(2):  # the flow's text timeout (120 s), two retries
        clock.advance(120)
        assert await _service(api).sweep() == 1
    assert await chat.shows(("bot", "Sorry, I didn't hear anything."), count=2)
    clock.advance(120)
    await _service(api).sweep()
    assert (await chat.messages())[-1] == ("bot", "Let me connect you with a person.")
    row = await chat.row()
    assert row.state.value == "queued"
    assert row.attributes["flow"]["reason"] == "retries_exhausted"
    ended = [payload for kind, payload in await chat.events()
             if kind == "interaction.self_service_ended"]
    assert [payload["outcome"] for payload in ended] == ["queued"]


async def test_a_flow_that_loops_on_silence_ends_after_its_inactivity_limit(
        api: Api, clock: FixedClock, adapter: RecordingAdapter) -> None:
    chat = await Chat.open(api, "patient_bot")
    await chat.say("hello")
    await chat.wait_for(("bot", "Hi! What can I do for you?\n1 – Track an order"), count=2)
    for _ in range(4):  # asked again every 120 s …
        clock.advance(120)
        await _service(api).sweep()
        assert await chat.state() == "self_service"
    clock.advance(120)  # … until 600 s after the customer's last message
    await _service(api).sweep()
    inactive = "We haven't heard from you for a while, so I'm closing this chat. " \
        "Write again any time."
    assert (await chat.messages())[-1] == ("bot", inactive)
    assert adapter.sent[-1].body == inactive
    row = await chat.row()
    assert row.state.value == "closed"
    events = await chat.events()
    assert "flow.inactive" in [kind for kind, _ in events]
    assert [payload["outcome"] for kind, payload in events
            if kind == "interaction.self_service_ended"] == ["abandoned"]
    assert [payload["resolved"] for kind, payload in events
            if kind == "interaction.closed"] == [False]


async def test_writing_again_restarts_the_inactivity_limit(
        api: Api, clock: FixedClock, adapter: RecordingAdapter) -> None:
    chat = await Chat.open(api, "patient_bot")
    await chat.say("hello")
    await chat.wait_for(("bot", "Hi! What can I do for you?\n1 – Track an order"), count=2)
    clock.advance(500)  # the background timer may re-ask the menu (120 s) before "hm" is read
    await chat.say("hm")
    restarted_at = selfservice.stamp(clock.now() + timedelta(seconds=600))

    async def restarted() -> bool:
        return (await chat.row()).attributes["selfservice"]["inactive_at"] == restarted_at

    await eventually(restarted, "the inactivity limit restarted by the customer's message")
    clock.advance(120)
    await _service(api).sweep()
    assert await chat.state() == "self_service"  # 620 s after "hello", 120 s after "hm"


async def test_an_http_request_cut_short_by_a_restart_is_performed_again_at_its_deadline(
        settings: Settings, clock: FixedClock, flow_files: Path,
        adapter: RecordingAdapter) -> None:
    orders, answer = Recorder(), asyncio.Event()

    async def order(request: Request) -> JSONResponse:
        await orders.note(request)
        await answer.wait()  # the first request hangs until the server it came from is gone
        return JSONResponse({"status": "shipped", "eta": "2026-11-27"})

    async with serve(Starlette(routes=[Route("/orders/{order_id}", order)])) as base_url:
        async with running_api(settings, clock) as first:
            chat = await Chat.open(first, "webshop_support", order_api=base_url)
            await chat.say("where is my order 1234")

            async def asked() -> bool:
                return len(orders.requests) == 1

            await eventually(asked, "the order lookup")
        answer.set()
        book = (await _row_after_restart(settings, clock, chat)).attributes["selfservice"]
        assert book["timeout_at"] == selfservice.stamp(clock.now() + timedelta(seconds=4 + 30))
        clock.advance(4 + 30)
        async with running_api(settings, clock) as second:
            chat.api = second
            await chat.wait_for(("bot", "Order 1234 is shipped. Expected delivery: 2026-11-27."))
    assert len(orders.requests) == 2


async def _row_after_restart(settings: Settings, clock: FixedClock, chat: Chat) -> Interaction:
    database = Database(settings.resolved_database_url, InProcessBus(), clock)
    try:
        async with database.read() as session:
            row = await session.get(Interaction, chat.interaction_id)
    finally:
        await database.dispose()
    assert row is not None
    return row
