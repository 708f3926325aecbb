"""The visitor's WebSocket: `/api/v1/channels/webchat/{channel_id}/ws` (docs/channels/webchat.md).

The first frame is `hello` (with the visitor token kept by the widget, and the last message id
it saw); the server answers `welcome`, replays what the visitor has not seen, then follows the
conversation live. Every visitor message is acknowledged only after it is committed, once per
client id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlalchemy.exc import IntegrityError

from omnidesk.acd.service import AcdService
from omnidesk.channels.models import Channel
from omnidesk.channels.webchat import actions, protocol, service, tokens
from omnidesk.channels.webchat.config import WebchatSettings
from omnidesk.channels.webchat.hub import WAKE, VisitorConnection, VisitorHub
from omnidesk.channels.webchat.models import WebchatVisitor
from omnidesk.channels.webchat.transcript import send_transcript
from omnidesk.config import Settings
from omnidesk.db import Database, session_now
from omnidesk.errors import Forbidden, InvalidInput, NotFound, OmnideskError, Unauthorized
from omnidesk.realtime.signals import Signal, SignalBus

router = APIRouter(prefix="/channels/webchat", tags=["channels"])
log = logging.getLogger("omnidesk.webchat")

HELLO_TIMEOUT_SECONDS = 10
CLOSE_BAD_REQUEST, CLOSE_UNAUTHORIZED, CLOSE_FORBIDDEN, CLOSE_NOT_FOUND = 4400, 4401, 4403, 4404
CLOSE_CODES = {Unauthorized: CLOSE_UNAUTHORIZED, Forbidden: CLOSE_FORBIDDEN,
               NotFound: CLOSE_NOT_FOUND}


def error_frame(error: OmnideskError, ref: str | None = None) -> dict[str, Any]:
    """The frame that reports a refused request (the socket stays open); `retry_after_s`
    when the server is overloaded and the same frame should be sent again after it."""
    frame: dict[str, Any] = {"type": "error", "code": error.code, "message": error.message,
                             "field": error.field}
    if ref is not None:
        frame["ref"] = ref
    if error.retry_after_s is not None:
        frame["retry_after_s"] = error.retry_after_s
    return frame


def origin_allowed(chat: WebchatSettings, origin: str | None) -> bool:
    """True when the page's origin may use this channel (any, when none are configured)."""
    return not chat.allowed_origins or (origin or "") in chat.allowed_origins


async def _write(db: Database, work: Callable[[Any], Awaitable[Any]]) -> Any:
    """One write; a concurrent twin with the same key committing first makes it run again."""
    try:
        async with db.write() as session:
            return await work(session)
    except IntegrityError:
        async with db.write() as session:
            return await work(session)


class VisitorSocket:
    """One visitor's socket: hello, then frames in, messages and signals out."""

    def __init__(self, websocket: WebSocket, channel: Channel, chat: WebchatSettings) -> None:
        self.websocket = websocket
        self.db: Database = websocket.app.state.db
        self.settings: Settings = websocket.app.state.settings
        self.hub: VisitorHub = websocket.app.state.webchat
        self.signals: SignalBus = websocket.app.state.signals
        self.channel = channel
        self.chat = chat
        self._send_lock = asyncio.Lock()
        self.visitor: WebchatVisitor
        self.connection: VisitorConnection
        self._cursor: tuple[uuid.UUID | None, int] = (None, 0)
        self._pending_visitor: WebchatVisitor | None = None

    async def send(self, frame: dict[str, Any]) -> None:
        """Send one frame (frames from the pump and from replies never interleave)."""
        async with self._send_lock:
            await self.websocket.send_text(json.dumps(frame))

    # -- hello ---------------------------------------------------------------------------

    async def hello(self) -> protocol.Hello:
        """Read the first frame, find or create the visitor; raises what the client is told."""
        try:
            raw = await asyncio.wait_for(self.websocket.receive_text(), HELLO_TIMEOUT_SECONDS)
        except TimeoutError:
            raise InvalidInput("send hello first", field="type") from None
        frame = protocol.parse(raw)
        if not isinstance(frame, protocol.Hello):
            raise InvalidInput('the first frame must be {"type": "hello", ...}', field="type")
        key = self.settings.resolved_secret_key.get_secret_value()
        visitor_id = (tokens.verify(key, frame.visitor_token, tenant_id=self.channel.tenant_id,
                                    channel_id=self.channel.id)
                      if frame.visitor_token else None)

        async def find_or_create(session: Any) -> WebchatVisitor:
            if visitor_id is None:
                return await actions.new_visitor(session, self.channel)
            visitor = await session.get(WebchatVisitor, visitor_id)
            if visitor is None or visitor.channel_id != self.channel.id:
                raise Unauthorized("unknown visitor", field=tokens.FIELD)
            visitor.last_seen_at = session_now(session)
            return visitor  # type: ignore[no-any-return]

        self.visitor = await _write(self.db, find_or_create)
        return frame

    async def welcome(self, hello: protocol.Hello) -> None:
        """Tell the widget who it is, whether someone can chat, and what it may send."""
        acd: AcdService = self.websocket.app.state.acd
        availability = await service.availability(acd, self.channel, self.chat)
        interaction = None
        async with self.db.read() as session:
            current = await actions.current_interaction(session, self.visitor)
            if current is not None:
                interaction = {"id": str(current.id), "state": current.state.value}
                position = await service.position_of(session, current.id, hello.last_seen_id)
                self._cursor = (current.id, position)
        visitor = self.visitor
        key = self.settings.resolved_secret_key.get_secret_value()
        await self.send({
            "type": "welcome",
            "visitor_id": str(visitor.id),
            "visitor_token": tokens.issue(key, tenant_id=visitor.tenant_id,
                                          channel_id=visitor.channel_id, visitor_id=visitor.id),
            "profile": ({"name": visitor.name, "email": visitor.email, "topic": visitor.topic}
                        if visitor.email else None),
            "interaction": interaction,
            "availability": availability.to_json(),
            "settings": {"title": self.chat.title, "greeting": self.chat.greeting,
                         "prechat_required": self.chat.prechat_required,
                         "topics": list(self.chat.topics),
                         "max_upload_bytes": self.chat.max_upload_bytes,
                         "allowed_content_types": list(self.chat.allowed_content_types)},
            "upload_url": f"/api/v1/channels/webchat/{self.channel.id}/uploads",
        })

    # -- out -----------------------------------------------------------------------------

    async def pump(self) -> None:
        """Send what the hub routes here; on a wake-up, the stored messages not sent yet."""
        while True:
            frame = await self.connection.outbox.get()
            if frame is WAKE:
                self.connection.woken()
                await self.send_new_messages()
            else:
                await self.send(frame)

    async def send_new_messages(self) -> None:
        """The conversation's stored messages after the last one sent, in order."""
        interaction_id = self.connection.interaction_id
        if interaction_id is None:
            return
        cursor_interaction, position = self._cursor
        if cursor_interaction != interaction_id:
            position = 0
        async with self.db.read() as session:
            messages = await service.messages_after(session, interaction_id, position)
        for message in messages:
            if message.author_kind in service.VISIBLE_AUTHORS:
                await self.send(service.message_frame(message, self.channel.id))
            position = message.position
        self._cursor = (interaction_id, position)

    # -- in ------------------------------------------------------------------------------

    async def receive(self) -> None:
        """Handle the visitor's frames one by one; a bad one gets an error frame."""
        while True:
            raw = await self.websocket.receive_text()
            ref: str | None = None
            try:
                frame = protocol.parse(raw)
                ref = getattr(frame, "client_id", None) or getattr(frame, "ref", None)
                await self.handle(frame)
            except OmnideskError as error:
                await self.send(error_frame(error, ref))

    async def handle(self, frame: protocol.ClientFrame) -> None:
        """One frame."""
        match frame:
            case protocol.Ping():
                await self.send({"type": "pong"})
            case protocol.Hello():
                raise InvalidInput("hello was sent already", field="type")
            case protocol.Prechat():
                await self.prechat(frame)
            case protocol.ChatMessage():
                await self.message(frame)
            case protocol.Typing():
                await self.typing(frame)
            case protocol.LeaveMessage():
                await self.leave_message(frame)
            case protocol.Transcript():
                sent_to = await send_transcript(self.db, self.channel, self.chat, self.visitor,
                                                frame.email)
                await self.send({"type": "transcript_sent", "email": sent_to})
            case protocol.Continue():
                await self.continue_elsewhere(frame)

    def _refresh(self, visitor: WebchatVisitor) -> None:
        """Keep the visitor row in hand and the hub's routing current after a write."""
        self.visitor = visitor
        self.hub.follow(self.connection, interaction_id=visitor.interaction_id,
                        customer_id=visitor.customer_id)

    async def _with_visitor(self, work: Callable[[Any, WebchatVisitor], Awaitable[Any]]) -> Any:
        async def run(session: Any) -> Any:
            visitor = await session.get(WebchatVisitor, self.visitor.id)
            if visitor is None:
                raise Unauthorized("unknown visitor", field=tokens.FIELD)
            result = await work(session, visitor)
            await session.flush()
            self._pending_visitor = visitor
            return result

        result = await _write(self.db, run)
        assert self._pending_visitor is not None
        self._refresh(self._pending_visitor)
        return result

    def _topic(self, topic: str) -> str:
        if self.chat.topics and topic and topic not in self.chat.topics:
            raise InvalidInput(f"topic must be one of: {', '.join(self.chat.topics)}",
                               field="topic")
        return topic

    async def prechat(self, frame: protocol.Prechat) -> None:
        """Name, email, topic: the visitor becomes that customer."""
        topic = self._topic(frame.topic)

        async def work(session: Any, visitor: WebchatVisitor) -> None:
            await actions.identify(session, self.channel, visitor, name=frame.name,
                                   address=frame.email, topic=topic)

        await self._with_visitor(work)
        await self.send({"type": "prechat_ok",
                         "profile": {"name": self.visitor.name, "email": self.visitor.email,
                                     "topic": self.visitor.topic}})

    async def message(self, frame: protocol.ChatMessage) -> None:
        """Store the message (once per client id), then ack it."""
        if self.chat.prechat_required and not self.visitor.email:
            raise InvalidInput("fill in the pre-chat form first", field="prechat")

        async def work(session: Any, visitor: WebchatVisitor) -> dict[str, Any]:
            return await actions.post_message(session, self.channel, visitor,
                                              client_id=frame.client_id, text=frame.text.strip(),
                                              upload_ids=list(frame.attachments))

        answer: dict[str, Any] = await self._with_visitor(work)
        await self.send({"type": "ack", **answer})
        self.connection.wake()

    async def typing(self, frame: protocol.Typing) -> None:
        """Tell the agent (ephemeral; nothing is stored)."""
        interaction_id = self.connection.interaction_id
        if interaction_id is None:
            return
        await self.signals.publish(Signal(tenant_id=self.channel.tenant_id,
                                          interaction_id=str(interaction_id), signal="typing",
                                          who="customer", data={"typing": frame.typing}))

    async def leave_message(self, frame: protocol.LeaveMessage) -> None:
        """A message for later; acked once stored."""
        acd: AcdService = self.websocket.app.state.acd
        availability = await service.availability(acd, self.channel, self.chat)

        async def work(session: Any, visitor: WebchatVisitor) -> str:
            interaction = await actions.leave_message(
                session, self.channel, self.chat, visitor, name=frame.name, address=frame.email,
                text=frame.text, reason=availability.reason or "visitor_choice")
            return str(interaction.id)

        interaction_id = await self._with_visitor(work)
        await self.send({"type": "message_left", "interaction_id": interaction_id,
                         "ref": frame.ref})
        self.connection.wake()

    async def continue_elsewhere(self, frame: protocol.Continue) -> None:
        """Continue by email or ask for a call back: a new, linked interaction."""
        contact = (frame.email or self.visitor.email) if frame.via == "email" else frame.phone
        if not contact:
            field = "email" if frame.via == "email" else "phone"
            raise InvalidInput(f"give the {field} to continue on", field=field)

        async def work(session: Any, visitor: WebchatVisitor) -> str:
            interaction = await actions.continue_elsewhere(
                session, self.channel, self.chat, visitor, via=frame.via, contact=contact,
                note=frame.note)
            return str(interaction.id)

        interaction_id = await self._with_visitor(work)
        await self.send({"type": "continued", "via": frame.via,
                         "interaction_id": interaction_id})

    # -- the whole socket ----------------------------------------------------------------

    async def run(self, hello: protocol.Hello) -> None:
        """Follow the conversation until the visitor goes away."""
        visitor = self.visitor
        self.connection = VisitorConnection(
            tenant_id=visitor.tenant_id, channel_id=visitor.channel_id, visitor_id=visitor.id,
            customer_id=visitor.customer_id, interaction_id=visitor.interaction_id)
        with self.hub.attach(self.connection):  # before the replay: nothing falls between
            await self.welcome(hello)
            self.connection.wake()
            tasks = [asyncio.create_task(self.pump()), asyncio.create_task(self.receive())]
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
                results = await asyncio.gather(*tasks, return_exceptions=True)
            for result in results:
                if isinstance(result, Exception) and not isinstance(
                        result, WebSocketDisconnect | RuntimeError | asyncio.CancelledError):
                    log.error("visitor socket failed", exc_info=result)


async def _refuse(websocket: WebSocket, error: OmnideskError) -> None:
    code = next((code for kind, code in CLOSE_CODES.items() if isinstance(error, kind)),
                CLOSE_BAD_REQUEST)
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await websocket.send_text(json.dumps(error_frame(error)))
        await websocket.close(code)


@router.websocket("/{channel_id}/ws")
async def visitor_socket(websocket: WebSocket, channel_id: str) -> None:
    """A web chat visitor's socket (the widget's, or any client that speaks the protocol)."""
    await websocket.accept()
    try:
        channel = await service.load_channel(websocket, channel_id)
        chat = service.settings(channel)
        if not origin_allowed(chat, websocket.headers.get("origin")):
            raise Forbidden("this page may not use this chat", field="origin")
        socket = VisitorSocket(websocket, channel, chat)
        hello = await socket.hello()
    except OmnideskError as error:
        await _refuse(websocket, error)
        return
    except WebSocketDisconnect:
        return
    await socket.run(hello)
