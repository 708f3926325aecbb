"""One WebSocket per client: authenticate, replay what was missed, then follow live events.

Protocol (JSON text frames):
  client → {"type": "auth", "token": "<access token or API key>", "since": <last seq seen>,
            "realtime": true}
           ("since" left out or null: only events from now on; "realtime": staff only)
  server → {"type": "ready", "tenant_seq": <current seq>}
           (with "resync": true when an agent's `since` is more than
           OMNIDESK_STREAM_REPLAY_MAX_EVENTS behind: nothing is replayed, the stream goes on
           after tenant_seq, and the desktop reloads what it shows)
  server → {"type": "realtime", "snapshot": {…}}   (asked-for staff streams: the wallboard's
            figures, as GET /api/v1/realtime answers, at once, then after each change — at
            most every 250 ms — and at least every 5 s; the latest replaces the last)
  server → {"type": "event", "event": {seq, type, subject, payload, occurred_at, actor}} …
  client → {"type": "ping"}   server → {"type": "pong"}
  server → {"type": "signal", "signal": "typing", "interaction_id": …, "who": "customer",
            "typing": true}   (ephemeral: no seq, never replayed)
Admins and supervisors get every event of their tenant, strictly in seq order with no gap and
no duplicate, across reconnects. An agent's stream carries only the events that concern them
(their offers and state, and everything on the interactions they hold), in seq order, with
nothing of theirs lost across reconnects (replayed, or a resync to reload).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from omnidesk.acd.service import AcdService
from omnidesk.analytics.service import AnalyticsService
from omnidesk.auth.principal import STAFF, Principal
from omnidesk.config import Settings
from omnidesk.db import Database
from omnidesk.deps import authenticate
from omnidesk.errors import OmnideskError, Overloaded
from omnidesk.events.bus import Subscription
from omnidesk.events.log import events_since, last_seq
from omnidesk.events.record import EventRecord
from omnidesk.realtime.hub import StreamHub
from omnidesk.realtime.signals import Signal

router = APIRouter(tags=["realtime"])

AUTH_TIMEOUT_SECONDS = 10
POLL_SECONDS = 5.0
REALTIME_THROTTLE_SECONDS = 0.25
REALTIME_IDLE_SECONDS = 5.0
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_BAD_REQUEST = 4400
CLOSE_TRY_AGAIN_LATER = 1013  # RFC 6455 registry: the server is overloaded


def _close_code(error: OmnideskError) -> int:
    """The WebSocket close code that says why the stream could not open."""
    return {403: CLOSE_FORBIDDEN, 503: CLOSE_TRY_AGAIN_LATER}.get(error.status_code,
                                                                  CLOSE_UNAUTHORIZED)


class EventCursor:
    """Sends events over one socket in seq order, filling gaps from the database.

    A staff cursor sees every event, so a skipped seq means a missed event; an agent cursor
    sees a filtered stream, so it trusts the hub's order and fills only reported gaps.
    """

    def __init__(self, db: Database, websocket: WebSocket, tenant_id: uuid.UUID, since: int,
                 wants: Callable[[EventRecord], bool] | None = None) -> None:
        self.db = db
        self.websocket = websocket
        self.tenant_id = tenant_id
        self.last_seq = since
        self.wants = wants

    async def catch_up(self, up_to: int | None = None) -> None:
        """Send every stored event after the last one sent (up to `up_to`) that it wants."""
        while True:
            async with self.db.read() as session:
                batch = await events_since(session, tenant_id=self.tenant_id,
                                           since=self.last_seq, up_to=up_to)
            for record in batch:
                if self.wants is None or self.wants(record):
                    await self._send(record)
                self.last_seq = record.seq
            if len(batch) < 500:
                return

    async def deliver(self, record: EventRecord | None) -> None:
        """Send a live event, or first what came before it if events were lost."""
        if record is None:
            await self.catch_up()
            return
        if record.seq <= self.last_seq:
            return
        if self.wants is None and record.seq > self.last_seq + 1:
            await self.catch_up(up_to=record.seq - 1)
        await self._send(record)

    async def _send(self, record: EventRecord) -> None:
        await self.websocket.send_text(json.dumps({"type": "event", "event": record.to_json()}))
        self.last_seq = record.seq


@dataclass(frozen=True, slots=True)
class StreamRequest:
    """What the client's auth frame asked for."""

    principal: Principal
    since: int | None
    realtime: bool


async def _authenticate(websocket: WebSocket, db: Database, settings: Settings) -> StreamRequest:
    message = json.loads(await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT_SECONDS))
    if not isinstance(message, dict) or message.get("type") != "auth":
        raise ValueError('the first message must be {"type": "auth", ...}')
    since = message.get("since")
    if since is not None and (not isinstance(since, int) or since < 0):
        raise ValueError("since must be a non-negative integer or null")
    realtime = message.get("realtime", False)
    if not isinstance(realtime, bool):
        raise ValueError("realtime must be true or false")
    principal = await authenticate(db, settings, websocket.app.state.known_users,
                                   str(message.get("token", "")))
    if realtime:
        principal.require(*STAFF)
    return StreamRequest(principal, since, realtime)


async def _answer_pings(websocket: WebSocket) -> None:
    while True:
        message: Any = json.loads(await websocket.receive_text())
        if isinstance(message, dict) and message.get("type") == "ping":
            await websocket.send_text('{"type": "pong"}')


async def _forward_signals(websocket: WebSocket, signals: asyncio.Queue[Signal]) -> None:
    """Send ephemeral signals (typing) as they come; they are never stored or replayed."""
    while True:
        signal = await signals.get()
        await websocket.send_text(json.dumps(signal.frame()))


async def _push_realtime(websocket: WebSocket, analytics: AnalyticsService,
                         tenant_id: uuid.UUID) -> None:
    """Send the tenant's wallboard figures now, then after changes (throttled) or when idle."""
    with analytics.watch(tenant_id) as changed:
        while True:
            changed.clear()
            snapshot = await analytics.snapshot(tenant_id)
            await websocket.send_text(json.dumps({"type": "realtime", "snapshot": snapshot}))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), REALTIME_IDLE_SECONDS)
            await asyncio.sleep(REALTIME_THROTTLE_SECONDS)


async def _follow(cursor: EventCursor, live: Subscription) -> None:
    """Deliver live events; staff streams also poll the log for events written by a
    process that shares no bus (the CLI), agent streams rely on the bus alone."""
    poll = POLL_SECONDS if cursor.wants is None else None
    while True:
        try:
            record = await asyncio.wait_for(live.receive(), poll)
        except TimeoutError:
            await cursor.catch_up()
            continue
        await cursor.deliver(record)


@contextlib.asynccontextmanager
async def _desktop(acd: AcdService, principal: Principal,
                   agent_id: uuid.UUID | None) -> AsyncIterator[None]:
    """While an agent's stream is open, the router counts their desktop as connected."""
    if agent_id is not None:
        await acd.desktop_opened(principal.tenant_id, agent_id)
    try:
        yield
    finally:
        if agent_id is not None:
            await acd.desktop_closed(principal.tenant_id, agent_id)


def _agent_filter(hub: StreamHub, tenant_id: uuid.UUID,
                  agent_id: str) -> Callable[[EventRecord], bool]:
    """For catching up from the log: the agent's events, following who held what (from the
    hub's own view: a desktop opening reads nothing for it)."""
    owners = hub.owners(tenant_id)
    return lambda record: agent_id in owners.concerned(record)


@dataclass(frozen=True, slots=True)
class OpenStream:
    """A stream ready to follow: its cursor, its live subscription, and whether it first
    replays the log after `since`."""

    cursor: EventCursor
    live: Subscription
    replays: bool


def _resyncs(since: int | None, tenant_seq: int, *, is_agent: bool, limit: int) -> bool:
    """Whether an agent's stream is too far behind to replay: reading the whole tenant's log
    for one agent's few events would cost ≈ 25 µs an event (a reconnecting crowd of desktops:
    minutes of it), and the desktop reloads what it shows in a few requests instead."""
    return is_agent and since is not None and tenant_seq - since > limit


@contextlib.asynccontextmanager
async def _open_stream(websocket: WebSocket, principal: Principal,
                       since: int | None) -> AsyncIterator[OpenStream]:
    """Staff and integrations (API keys): the tenant's stream. Agents: their own stream, and
    their desktop is online; a user of the agent role without an agent record has nothing of
    their own."""
    db: Database = websocket.app.state.db
    hub: StreamHub = websocket.app.state.hub
    settings: Settings = websocket.app.state.settings
    agent_id = principal.agent_id
    is_agent = principal.user_id is not None and principal.role not in STAFF
    own = str(agent_id) if agent_id is not None else ""  # "": no event names it
    wants = _agent_filter(hub, principal.tenant_id, own) if is_agent else None
    stream = (hub.agent_stream(principal.tenant_id, own) if is_agent
              else hub.staff_stream(principal.tenant_id))
    async with _desktop(websocket.app.state.acd, principal, agent_id), stream as live:
        async with db.read() as session:
            tenant_seq = await last_seq(session, principal.tenant_id)
        resync = _resyncs(since, tenant_seq, is_agent=is_agent,
                          limit=settings.stream_replay_max_events)
        start = tenant_seq if since is None or resync else since
        ready: dict[str, Any] = {"type": "ready", "tenant_seq": tenant_seq}
        if resync:
            ready["resync"] = True
        await websocket.send_text(json.dumps(ready))
        yield OpenStream(EventCursor(db, websocket, principal.tenant_id, start, wants), live,
                         replays=start < tenant_seq)


@router.websocket("/stream")
async def event_stream(websocket: WebSocket) -> None:
    """The tenant's events: replay after `since`, then live, in order, without gaps."""
    db: Database = websocket.app.state.db
    settings: Settings = websocket.app.state.settings
    await websocket.accept()
    try:
        request = await _authenticate(websocket, db, settings)
    except OmnideskError as error:
        await _refuse(websocket, error.message, _close_code(error))
        return
    except (ValueError, TimeoutError, WebSocketDisconnect) as error:
        await _refuse(websocket, str(error), CLOSE_BAD_REQUEST)
        return
    try:
        await _serve_stream(websocket, request)
    except Overloaded as error:
        await _refuse(websocket, error.message, CLOSE_TRY_AGAIN_LATER)


async def _refuse(websocket: WebSocket, message: str, code: int) -> None:
    """Say why in an error frame, then close with the code (if the client is still there)."""
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await websocket.send_text(json.dumps({"type": "error", "error": message}))
        await websocket.close(code)


async def _serve_stream(websocket: WebSocket, request: StreamRequest) -> None:
    """Replay, then follow live events until the socket or one of its tasks ends."""
    async with _open_stream(websocket, request.principal, request.since) as stream:
        cursor, live = stream.cursor, stream.live
        if stream.replays:
            # without `since` the live subscription, open before the tenant's seq was read,
            # holds everything after it: reading the log too cost every new desktop a query
            # per 500 events written meanwhile (2,000 desktops opening at once: minutes of it)
            await cursor.catch_up()
        hub: StreamHub = websocket.app.state.hub
        tasks = [asyncio.create_task(_follow(cursor, live)),
                 asyncio.create_task(_answer_pings(websocket)),
                 asyncio.create_task(_forward_signals(websocket, hub.signals_of(live)))]
        if request.realtime:
            tasks.append(asyncio.create_task(_push_realtime(
                websocket, websocket.app.state.analytics, request.principal.tenant_id)))
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
