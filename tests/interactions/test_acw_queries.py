"""The wrap-up and close reads of an agent's other contacts go by index, not by scan."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Select, create_engine, event

from omnidesk.db import upgrade
from omnidesk.interactions.acw import _WHEN_CLOSING, _WHEN_WRAPPING_UP


@pytest.mark.parametrize("query", [_WHEN_WRAPPING_UP, _WHEN_CLOSING],
                         ids=["wrapping up", "closing"])
def test_an_agents_other_contacts_are_counted_through_the_agent_index(
        tmp_path: Path, query: Select[Any]) -> None:
    path = tmp_path / "plan.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    engine = create_engine(f"sqlite:///{path}")
    sent: list[tuple[str, Any]] = []
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _k, statement, parameters, *_: sent.append((statement, parameters)))
    with engine.connect() as connection:
        connection.execute(query, {"tenant_id": uuid.uuid4(), "agent_id": uuid.uuid4(),
                                   "id": uuid.uuid4()})
        statement, parameters = sent[-1]
        plan = [row[3] for row in connection.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {statement}", parameters)]
    engine.dispose()
    counting = [step for step in plan if "interactions" in step]
    assert len(counting) == 1, plan
    assert counting[0].startswith("SEARCH interactions USING"), plan
    assert "ix_interactions_tenant_agent_state (tenant_id=? AND agent_id=? AND state=?)" in \
        counting[0], plan
