"""Opening a stream: "since" replays from the event log, no "since" costs the log nothing,
and an agent too far behind reloads instead."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import event

from omnidesk.events.log import record
from tests.conftest import PASSWORD, Api
from tests.realtime.streams import next_frame, open_stream, post_contact


class EventLogReads:
    """Counts the statements that read the event log, on every engine of the database."""

    def __init__(self, api: Api) -> None:
        self.count = 0
        self.engines = {api.db.read_engine.sync_engine, api.db.write_engine.sync_engine}

    def __enter__(self) -> EventLogReads:
        for engine in self.engines:
            event.listen(engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_: object) -> None:
        for engine in self.engines:
            event.remove(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM events" in statement:
            self.count += 1


def _interaction_event(frame: dict[str, Any]) -> bool:
    return frame["type"] == "event" and frame["event"]["type"] == "interaction.created"


@pytest.mark.usefixtures("queue_id")
async def test_a_stream_opened_without_since_gets_what_follows_without_reading_the_log(
        api: Api, admin: dict[str, str], served: str) -> None:
    await post_contact(api, admin)  # events in the log before the stream opens
    with EventLogReads(api) as reads:
        socket = await open_stream(served, admin)
        ready = await next_frame(socket, lambda frame: frame["type"] == "ready")
        await post_contact(api, admin)
        first = await next_frame(socket, lambda frame: frame["type"] == "event")
        assert first["event"]["seq"] == ready["tenant_seq"] + 1  # nothing before, no gap
        assert reads.count == 0
        await socket.close()

        replaying = await open_stream(served, admin, since=0)
        await next_frame(replaying, lambda frame: frame["type"] == "ready")
        replayed = await next_frame(replaying, _interaction_event)
        assert replayed["event"]["seq"] <= ready["tenant_seq"]  # the first contact's, from the log
        assert reads.count > 0
        await replaying.close()


async def _noise(api: Api, tenant_id: str, count: int) -> None:
    """`count` events of the tenant that concern no agent, written in one transaction."""
    async with api.db.write() as session:
        for number in range(count):
            await record(session, tenant_id=uuid.UUID(tenant_id), type="customer.updated",
                         subject=str(uuid.uuid4()), payload={"number": number})


async def test_an_agent_too_far_behind_is_told_to_reload_instead_of_replaying_the_log(
        api: Api, admin: dict[str, str], served: str) -> None:
    user, agent = await api.add_agent(admin, "alice@acme.example", "Alice")
    alice = await api.login("acme", "alice@acme.example")
    tenant_id = user["tenant_id"]
    limit = api.app.state.settings.stream_replay_max_events
    await _noise(api, tenant_id, limit + 1)
    with EventLogReads(api) as reads:
        socket = await open_stream(served, alice, since=0)
        ready = await next_frame(socket, lambda frame: frame["type"] == "ready")
        assert ready["resync"] is True
        changed = await api.client.put(f"/api/v1/agents/{agent['id']}/state", headers=alice,
                                       json={"state": "available"})
        assert changed.status_code == 200, changed.text
        first = await next_frame(socket, lambda frame: frame["type"] == "event")
        assert first["event"]["type"] == "agent.state_changed"
        assert first["event"]["seq"] == ready["tenant_seq"] + 1  # live, right after
        assert reads.count == 0  # the log was not read for her
        await socket.close()

        near = await open_stream(served, alice, since=first["event"]["seq"] - limit)
        assert "resync" not in await next_frame(near, lambda frame: frame["type"] == "ready")
        replayed = await next_frame(near, lambda frame: frame["type"] == "event")
        assert replayed["event"]["seq"] == first["event"]["seq"]  # replayed from the log
        assert reads.count > 0
        await near.close()

    staff = await open_stream(served, admin, since=0)  # staff replay everything, always
    assert "resync" not in await next_frame(staff, lambda frame: frame["type"] == "ready")
    assert (await next_frame(staff, lambda frame: frame["type"] == "event"))["event"]["seq"] == 1
    last = first["event"]["seq"]
    await next_frame(staff, lambda frame: frame.get("event", {}).get("seq") == last)
    await staff.close()


@pytest.mark.usefixtures("queue_id")
async def test_a_user_of_the_agent_role_without_an_agent_record_gets_nobodys_events(
        api: Api, admin: dict[str, str], served: str) -> None:
    created = await api.client.post("/api/v1/users", headers=admin, json={
        "email": "alice@acme.example", "name": "Alice", "role": "agent", "password": PASSWORD})
    assert created.status_code == 201, created.text
    alice = await api.login("acme", "alice@acme.example")
    hers, staff = await open_stream(served, alice), await open_stream(served, admin)
    for socket in (hers, staff):
        await next_frame(socket, lambda frame: frame["type"] == "ready")
    await post_contact(api, admin)
    await next_frame(staff, _interaction_event)  # the tenant's stream has it
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.5):
            await next_frame(hers, lambda frame: frame["type"] == "event")
    await hers.close()
    await staff.close()
