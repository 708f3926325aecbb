"""Staffing plan: each interval sized by Erlang C/A; the chat concurrency rule."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from omnidesk.wfm.erlang import WfmError, traffic_intensity
from omnidesk.wfm.forecast import CountSeries
from omnidesk.wfm.plan import agents_for_servers, staffing_plan
from omnidesk.wfm.staffing import ServiceLevelTarget, StaffingTargets, required_agents

TARGETS = StaffingTargets(service_level=ServiceLevelTarget(0.8, 20))
SERIES = CountSeries(datetime(2026, 1, 5, 8, tzinfo=UTC), 1800,
                     (0.0, 12.0, 55.5, 100.0, 240.0, 3.0))


@pytest.mark.parametrize("patience_s", [None, 120.0])
def test_every_interval_needs_what_erlang_says(patience_s: float | None) -> None:
    plan = staffing_plan(SERIES, aht_s=180, targets=TARGETS, patience_s=patience_s,
                         shrinkage=0.3)
    assert plan.model == ("erlang_c" if patience_s is None else "erlang_a")
    for row, calls in zip(plan.rows, SERIES.counts, strict=True):
        if calls == 0:
            assert (row.agents, row.agents_to_schedule, row.service_level) == (0, 0, None)
            continue
        expected = required_agents(traffic=traffic_intensity(calls, 1800, 180), aht_s=180,
                                   targets=TARGETS, patience_s=patience_s)
        assert row.agents == row.servers == expected
        assert row.service_level is not None and row.service_level >= 0.8
    if patience_s is None:  # the worked example: 100 calls / 30 min → 14 (20 scheduled)
        assert (plan.rows[3].agents, plan.rows[3].agents_to_schedule) == (14, 20)
    assert plan.peak_agents == max(row.agents for row in plan.rows)


def test_chat_concurrency_counts_each_agent_as_several_servers() -> None:
    chat = staffing_plan(SERIES, aht_s=600, targets=TARGETS, concurrency=3)
    for row in chat.rows[1:]:
        servers = required_agents(traffic=traffic_intensity(row.contacts, 1800, 600),
                                  aht_s=600, targets=TARGETS)
        assert row.servers == servers
        assert row.agents == -(-servers // 3)
    assert agents_for_servers(7, 3) == 3
    assert agents_for_servers(6, 3) == 2
    assert agents_for_servers(5, 1) == 5
    with pytest.raises(WfmError):
        agents_for_servers(5, 0)
