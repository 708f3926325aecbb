"""Opening a stream: "since" replays from the event log, no "since" costs the log nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from tests.conftest import Api
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
