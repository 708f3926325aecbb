"""One WebSocket per client: authenticate, replay what was missed, then follow live events.

Protocol (JSON text frames):
  client → {"type": "auth", "token": "<access token or API key>", "since": <last seq seen>}
           ("since" left out or null: only events from now on)
  server → {"type": "ready", "tenant_seq": <current seq>}
  server → {"type": "event", "event": {seq, type, subject, payload, occurred_at, actor}} …
  client → {"type": "ping"}   server → {"type": "pong"}
Events arrive strictly in seq order with no gap and no duplicate, across reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlalchemy import select

from omnidesk.acd.service import AcdService
from omnidesk.agents.service import agent_for_user
from omnidesk.auth.principal import Principal
from omnidesk.config import Settings
from omnidesk.db import Database
from omnidesk.deps import authenticate
from omnidesk.errors import OmnideskError
from omnidesk.events.bus import Subscription
from omnidesk.events.log import events_since
from omnidesk.events.record import EventRecord
from omnidesk.tenants.models import Tenant

router = APIRouter(tags=["realtime"])

AUTH_TIMEOUT_SECONDS = 10
POLL_SECONDS = 5.0
CLOSE_UNAUTHORIZED = 4401
CLOSE_BAD_REQUEST = 4400


class EventCursor:
    """Sends a tenant's events over one socket in seq order, filling gaps from the database."""

    def __init__(self, db: Database, websocket: WebSocket, tenant_id: uuid.UUID, since: int):
        self.db = db
        self.websocket = websocket
        self.tenant_id = tenant_id
        self.last_seq = since

    async def catch_up(self, up_to: int | None = None) -> None:
        """Send every stored event after the last one sent (up to `up_to`)."""
        while True:
            async with self.db.read() as session:
                batch = await events_since(session, tenant_id=self.tenant_id,
                                           since=self.last_seq, up_to=up_to)
            for record in batch:
                await self._send(record)
            if len(batch) < 500:
                return

    async def deliver(self, record: EventRecord | None) -> None:
        """Send a live event, or first what came before it if the bus skipped any."""
        if record is None:
            await self.catch_up()
            return
        if record.seq <= self.last_seq:
            return
        if record.seq > self.last_seq + 1:
            await self.catch_up(up_to=record.seq - 1)
        await self._send(record)

    async def _send(self, record: EventRecord) -> None:
        await self.websocket.send_text(json.dumps({"type": "event", "event": record.to_json()}))
        self.last_seq = record.seq


async def _authenticate(websocket: WebSocket, db: Database,
                        settings: Settings) -> tuple[Principal, int | None]:
    message = json.loads(await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT_SECONDS))
    if not isinstance(message, dict) or message.get("type") != "auth":
        raise ValueError('the first message must be {"type": "auth", ...}')
    since = message.get("since")
    if since is not None and (not isinstance(since, int) or since < 0):
        raise ValueError("since must be a non-negative integer or null")
    principal = await authenticate(db, settings, str(message.get("token", "")))
    return principal, since


async def _tenant_seq(db: Database, tenant_id: uuid.UUID) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(Tenant.event_seq).where(Tenant.id == tenant_id))
                   or 0)


async def _answer_pings(websocket: WebSocket) -> None:
    while True:
        message: Any = json.loads(await websocket.receive_text())
        if isinstance(message, dict) and message.get("type") == "ping":
            await websocket.send_text('{"type": "pong"}')


async def _follow(cursor: EventCursor, live: Subscription) -> None:
    while True:
        try:
            record = await asyncio.wait_for(live.receive(), POLL_SECONDS)
        except TimeoutError:
            await cursor.catch_up()  # events written by a process that shares no bus
            continue
        await cursor.deliver(record)


@contextlib.asynccontextmanager
async def _desktop(websocket: WebSocket, principal: Principal) -> AsyncIterator[None]:
    """While an agent's stream is open, the router counts their desktop as connected."""
    db: Database = websocket.app.state.db
    acd: AcdService = websocket.app.state.acd
    agent = None
    if principal.user_id is not None:
        async with db.read() as session:
            agent = await agent_for_user(session, tenant_id=principal.tenant_id,
                                         user_id=principal.user_id)
    if agent is not None:
        await acd.desktop_opened(principal.tenant_id, agent.id)
    try:
        yield
    finally:
        if agent is not None:
            await acd.desktop_closed(principal.tenant_id, agent.id)


@router.websocket("/stream")
async def event_stream(websocket: WebSocket) -> None:
    """The tenant's events: replay after `since`, then live, in order, without gaps."""
    db: Database = websocket.app.state.db
    settings: Settings = websocket.app.state.settings
    await websocket.accept()
    try:
        principal, since = await _authenticate(websocket, db, settings)
    except OmnideskError as error:
        await websocket.send_text(json.dumps({"type": "error", "error": error.message}))
        await websocket.close(CLOSE_UNAUTHORIZED)
        return
    except (ValueError, TimeoutError, WebSocketDisconnect) as error:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.send_text(json.dumps({"type": "error", "error": str(error)}))
            await websocket.close(CLOSE_BAD_REQUEST)
        return
    async with _desktop(websocket, principal), db.bus.subscribe(principal.tenant_id) as live:
        tenant_seq = await _tenant_seq(db, principal.tenant_id)
        cursor = EventCursor(db, websocket, principal.tenant_id,
                             tenant_seq if since is None else since)
        await websocket.send_text(json.dumps({"type": "ready", "tenant_seq": tenant_seq}))
        await cursor.catch_up()
        tasks = [asyncio.create_task(_follow(cursor, live)),
                 asyncio.create_task(_answer_pings(websocket))]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
