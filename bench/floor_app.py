"""The least a contact can cost on omnidesk's stack: bench/load.py's protocol with no product.

A FastAPI app under uvicorn (the same WebSocket implementation as `omnidesk serve`) on one
SQLite file (WAL, `synchronous=FULL`) through SQLAlchemy — its ORM (load, change, flush), or
with `FLOOR_SQL=core` statements built once (an UPDATE guarded by the expected state, no
read) — run inline on the event loop (no thread hop per statement: the cheapest way). It
answers exactly the requests bench/load.py's desktops and posts make, and per contact does
what no contact center can skip:

- the post checks the channel's signature, then in one transaction inserts the interaction,
  the message and the `interaction.queued` event;
- a router (one task, FIFO contacts, longest-idle agents, one chat each) writes the offer and
  its event, then sends the `offer.created` frame on the agent's stream;
- accept, wrap-up and close each check the interaction's state and agent, change it and
  insert the event, in a transaction of their own; a close frees the agent.

Everything a product adds is missing: tenants and roles (a bearer token names its agent
without a check), customers, skills, queues, timers, the event log's numbering and replay,
analytics, admission. bench/stack_floor.py runs it under bench/load.py's generator.

    FLOOR_DB=/tmp/floor.db uvicorn floor_app:app --app-dir bench --ws websockets-sansio
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import os
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ValidationError
from sqlalchemy import ForeignKey, String, Text, bindparam, create_engine, event, insert, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from omnidesk.channels.api_channel.signature import verify
from omnidesk.errors import OmnideskError

CHANNEL_ID = "00000000-0000-0000-0000-00000000c4a1"
CHANNEL_SECRET = "load-bench-channel-secret"  # bench/load.py's
AGENTS = int(os.environ.get("FLOOR_AGENTS", "200"))


class Base(DeclarativeBase):
    pass


class Interaction(Base):
    __tablename__ = "interactions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    visitor: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[str | None] = mapped_column(String(36))


class Message(Base):
    __tablename__ = "messages"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    interaction_id: Mapped[str] = mapped_column(ForeignKey("interactions.id"))
    text: Mapped[str] = mapped_column(Text)


class Event(Base):
    __tablename__ = "events"
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(36))
    payload: Mapped[str] = mapped_column(Text)


engine = create_engine(f"sqlite:///{os.environ.get('FLOOR_DB', 'floor.db')}")


@event.listens_for(engine, "connect")
def _pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


class OrmStore:
    """The contact's writes through the ORM's unit of work (load, change, flush)."""

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session

    def queue(self, interaction_id: str, visitor: str, text: str) -> None:
        with self.transaction() as session:
            session.add(Interaction(id=interaction_id, state="queued", visitor=visitor))
            session.add(Message(id=str(uuid.uuid4()), interaction_id=interaction_id, text=text))
            session.add(event_row("interaction.queued", interaction_id))

    def move(self, interaction_id: str, agent_id: str, to: str) -> None:
        with self.transaction() as session:
            interaction = session.get(Interaction, interaction_id)
            if interaction is None or (to != "offered" and interaction.agent_id != agent_id):
                raise HTTPException(404, "no such interaction of yours")
            if NEXT_STATE.get(interaction.state) != to:
                raise HTTPException(409, f"cannot go from {interaction.state} to {to}")
            interaction.state, interaction.agent_id = to, agent_id
            session.add(event_row(EVENT_OF_STATE[to], interaction_id, agent_id=agent_id))


class CoreStore:
    """The same writes as statements built once: an UPDATE guarded by the expected state."""

    insert_interaction = insert(Interaction)
    insert_message = insert(Message)
    insert_event = insert(Event)
    update_state = (update(Interaction)
                    .where(Interaction.id == bindparam("key"),
                           Interaction.state == bindparam("expected"),
                           Interaction.agent_id.is_not_distinct_from(bindparam("holder")))
                    .values(state=bindparam("to"), agent_id=bindparam("agent")))

    def queue(self, interaction_id: str, visitor: str, text: str) -> None:
        with engine.begin() as connection:
            connection.execute(self.insert_interaction, {
                "id": interaction_id, "state": "queued", "visitor": visitor, "agent_id": None})
            connection.execute(self.insert_message, {
                "id": str(uuid.uuid4()), "interaction_id": interaction_id, "text": text})
            connection.execute(self.insert_event, event_values("interaction.queued",
                                                               interaction_id))

    def move(self, interaction_id: str, agent_id: str, to: str) -> None:
        expected = PREVIOUS_STATE.get(to)
        if expected is None:
            raise HTTPException(409, f"no step leads to {to}")
        with engine.begin() as connection:
            moved = connection.execute(self.update_state, {
                "key": interaction_id, "expected": expected, "to": to, "agent": agent_id,
                "holder": None if to == "offered" else agent_id})
            if moved.rowcount != 1:
                raise HTTPException(409, f"not an interaction of yours in {expected}")
            connection.execute(self.insert_event, event_values(
                EVENT_OF_STATE[to], interaction_id, agent_id=agent_id))


NEXT_STATE = {"queued": "offered", "offered": "connected", "connected": "wrap_up",
              "wrap_up": "closed"}
PREVIOUS_STATE = {after: before for before, after in NEXT_STATE.items()}
EVENT_OF_STATE = {"offered": "offer.created", "connected": "offer.accepted",
                  "wrap_up": "interaction.wrap_up", "closed": "interaction.closed"}


def event_values(kind: str, subject: str, **payload: str) -> dict[str, str]:
    return {"type": kind, "subject": subject, "payload": json.dumps(payload)}


def event_row(kind: str, subject: str, **payload: str) -> Event:
    return Event(**event_values(kind, subject, **payload))


store = CoreStore() if os.environ.get("FLOOR_SQL") == "core" else OrmStore()


class Router:
    """Contacts in arrival order to the agent idle longest; one contact per agent."""

    def __init__(self) -> None:
        self.waiting: deque[str] = deque()
        self.idle: dict[str, None] = {}  # in the order they became idle
        self.streams: dict[str, WebSocket] = {}
        self.wake = asyncio.Event()

    async def run(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.waiting and self.idle:
                agent_id = next(iter(self.idle))
                del self.idle[agent_id]
                await self.offer(self.waiting.popleft(), agent_id)

    async def offer(self, interaction_id: str, agent_id: str) -> None:
        store.move(interaction_id, agent_id, "offered")
        await self.streams[agent_id].send_text(json.dumps({"event": {
            "type": "offer.created", "subject": interaction_id,
            "payload": {"agent_id": agent_id}}}))

    def available(self, agent_id: str) -> None:
        """The agent takes offers again, if their desktop's stream is open."""
        if agent_id in self.streams and agent_id not in self.idle:
            self.idle[agent_id] = None
            self.wake.set()

    def gone(self, agent_id: str) -> None:
        """The agent's stream closed: no more offers to them."""
        self.streams.pop(agent_id, None)
        self.idle.pop(agent_id, None)

    def queued(self, interaction_id: str) -> None:
        self.waiting.append(interaction_id)
        self.wake.set()


router = Router()


@asynccontextmanager
async def lifespan(_app: FastAPI) -> Any:
    Base.metadata.create_all(engine)
    task = asyncio.create_task(router.run())
    yield
    task.cancel()


app = FastAPI(lifespan=lifespan)
AGENT_OF_USER = {str(uuid.UUID(int=number + 1_000_000)): str(uuid.UUID(int=number + 1))
                 for number in range(AGENTS)}
TENANT_ID = str(uuid.UUID(int=7))


@functools.lru_cache(maxsize=4096)
def agent_of(token: str) -> str:
    """The agent whose user a bench token names (its claims read, its signature not checked)."""
    try:
        claims = token.removeprefix("Bearer ").split(".")[1]
        return AGENT_OF_USER[json.loads(base64.urlsafe_b64decode(claims + "=="))["sub"]]
    except (IndexError, KeyError, ValueError) as error:
        raise HTTPException(401, "not a bench agent's token") from error


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/readyz")
async def readyz() -> dict[str, str]:
    return {"status": "ready"}


@app.post("/api/v1/auth/login")
async def login() -> dict[str, str]:
    return {"access_token": "floor"}


@app.get("/api/v1/auth/me")
async def me() -> dict[str, str]:
    return {"tenant_id": TENANT_ID}


@app.get("/api/v1/agents")
async def agents() -> list[dict[str, str]]:
    return [{"id": agent, "user_id": user} for user, agent in AGENT_OF_USER.items()]


@app.get("/api/v1/channels")
async def channels() -> list[dict[str, str]]:
    return [{"id": CHANNEL_ID}]


@app.websocket("/api/v1/stream")
async def stream(socket: WebSocket) -> None:
    await socket.accept()
    try:
        agent_id = agent_of(str(json.loads(await socket.receive_text()).get("token", "")))
    except (HTTPException, ValueError, AttributeError):
        await socket.close(4401)
        return
    router.streams[agent_id] = socket
    await socket.send_text(json.dumps({"type": "ready"}))
    try:
        while True:
            await socket.receive_text()
    except WebSocketDisconnect:
        router.gone(agent_id)


class StateChange(BaseModel):
    state: str


@app.put("/api/v1/agents/{agent_id}/state")
async def agent_state(agent_id: str, change: StateChange) -> dict[str, str]:
    if agent_id not in router.streams:
        raise HTTPException(409, "open the desktop's stream first")
    if change.state == "available":
        router.available(agent_id)
    return {"id": agent_id, "state": change.state}


class Identity(BaseModel):
    kind: str
    value: str


class Customer(BaseModel):
    identity: Identity


class Inbound(BaseModel):
    customer: Customer
    text: str


@app.post("/api/v1/channels/api/{channel_id}/messages", status_code=202)
async def inbound(channel_id: str, request: Request) -> dict[str, str]:
    body = await request.body()
    if channel_id != CHANNEL_ID:
        raise HTTPException(404, "no such channel")
    try:
        verify(CHANNEL_SECRET, signature=request.headers.get("X-Omnidesk-Signature"),
               timestamp=request.headers.get("X-Omnidesk-Timestamp"), body=body,
               now=time.time())
    except OmnideskError as error:
        raise HTTPException(403, str(error)) from error
    try:
        message = Inbound.model_validate_json(body)
    except ValidationError as error:
        raise HTTPException(422, error.errors(include_url=False)) from error
    interaction_id = str(uuid.uuid4())
    store.queue(interaction_id, message.customer.identity.value, message.text)
    router.queued(interaction_id)
    return {"interaction_id": interaction_id}


def caller_agent(request: Request) -> str:
    return agent_of(request.headers.get("Authorization", ""))


@app.post("/api/v1/interactions/{interaction_id}/accept")
async def accept(interaction_id: str, request: Request) -> dict[str, str]:
    store.move(interaction_id, caller_agent(request), "connected")
    return {"id": interaction_id, "state": "connected"}


@app.post("/api/v1/interactions/{interaction_id}/state")
async def change_state(interaction_id: str, change: StateChange,
                       request: Request) -> dict[str, str]:
    agent_id = caller_agent(request)
    store.move(interaction_id, agent_id, change.state)
    if change.state == "closed":
        router.available(agent_id)
    return {"id": interaction_id, "state": change.state}
