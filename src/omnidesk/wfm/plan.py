"""Staffing plan: forecast contacts per interval × handle time → agents per interval.

Pure. Each interval is sized on its own as a steady-state queue:

* **voice** (and any channel with concurrency 1): Erlang C, or Erlang A when the
  customers' mean patience is known — ``staffing.required_agents`` unchanged;
* **chat** and other concurrent channels, **concurrency rule**: an agent who handles up
  to ``c`` contacts at once is counted as ``c`` independent servers, each serving one
  contact for the chat's handle time *as measured under concurrency* (chats are slower
  when agents juggle several, so use the AHT observed at that load). The requirement
  is the Erlang C/A number of servers ``s`` for the targets, and the agents are
  ``⌈s / c⌉``. With ``c = 1`` this is exactly the voice rule.

An interval with no contacts needs no agents. Agents to schedule add shrinkage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from omnidesk.wfm.erlang import WfmError, traffic_intensity
from omnidesk.wfm.forecast import CountSeries
from omnidesk.wfm.staffing import StaffingTargets, agents_to_schedule, staffing_figures
from omnidesk.wfm.staffing import required_agents as required_servers


@dataclass(frozen=True, slots=True)
class PlanRow:
    """One interval: contacts, traffic, agents needed and to schedule, expected service."""

    start: datetime
    contacts: float
    traffic_erlangs: float
    servers: int
    agents: int
    agents_to_schedule: int
    service_level: float | None
    asa_s: float | None
    occupancy: float | None
    abandonment: float | None


@dataclass(frozen=True, slots=True)
class StaffingPlanTable:
    """The plan of every interval, and how it was sized."""

    model: str
    interval_s: int
    aht_s: float
    concurrency: int
    shrinkage: float
    patience_s: float | None
    rows: tuple[PlanRow, ...]

    @property
    def peak_agents(self) -> int:
        """The largest requirement of any interval."""
        return max((row.agents for row in self.rows), default=0)

    @property
    def agent_hours(self) -> float:
        """Agent hours to schedule over the plan."""
        return sum(row.agents_to_schedule for row in self.rows) * self.interval_s / 3600


def agents_for_servers(servers: int, concurrency: int) -> int:
    """The chat concurrency rule: ``⌈servers / concurrency⌉`` agents."""
    if concurrency < 1:
        raise WfmError(f"concurrency must be ≥ 1, got {concurrency}")
    return -(-servers // concurrency)


def staffing_plan(
    forecast: CountSeries,
    *,
    aht_s: float,
    targets: StaffingTargets,
    patience_s: float | None = None,
    shrinkage: float = 0.0,
    concurrency: int = 1,
) -> StaffingPlanTable:
    """Agents needed in every interval of the forecast (Erlang C, or A with a patience)."""
    if not 0 < aht_s < math.inf:
        raise WfmError(f"aht_s must be a finite number > 0, got {aht_s!r}")
    agents_for_servers(1, concurrency)  # checks concurrency
    rows = []
    for start, contacts in zip(forecast.starts(), forecast.counts, strict=True):
        if contacts <= 0:
            rows.append(PlanRow(start, contacts, 0.0, 0, 0, 0, None, None, None, None))
            continue
        traffic = traffic_intensity(contacts, forecast.interval_s, aht_s)
        servers = required_servers(traffic=traffic, aht_s=aht_s, targets=targets,
                                   patience_s=patience_s)
        figures = staffing_figures(servers, traffic=traffic, aht_s=aht_s, targets=targets,
                                   patience_s=patience_s)
        agents = agents_for_servers(servers, concurrency)
        erlang_a = figures.erlang_a
        rows.append(PlanRow(
            start=start, contacts=contacts, traffic_erlangs=traffic, servers=servers,
            agents=agents, agents_to_schedule=agents_to_schedule(agents, shrinkage),
            service_level=(erlang_a.service_level if erlang_a else figures.service_level),
            asa_s=erlang_a.asa if erlang_a else figures.asa,
            occupancy=erlang_a.occupancy if erlang_a else figures.occupancy,
            abandonment=erlang_a.probability_of_abandonment if erlang_a else None,
        ))
    return StaffingPlanTable(
        model="erlang_a" if patience_s is not None else "erlang_c",
        interval_s=forecast.interval_s, aht_s=aht_s, concurrency=concurrency,
        shrinkage=shrinkage, patience_s=patience_s, rows=tuple(rows),
    )


def plan_records(plan: StaffingPlanTable) -> list[dict[str, object]]:
    """The plan's rows as plain dicts (CSV / JSON / API)."""
    return [{
        "interval_start": row.start.isoformat(), "contacts": round(row.contacts, 3),
        "traffic_erlangs": round(row.traffic_erlangs, 4), "servers": row.servers,
        "agents": row.agents, "agents_to_schedule": row.agents_to_schedule,
        "service_level": row.service_level, "asa_s": row.asa_s, "occupancy": row.occupancy,
        "abandonment": row.abandonment,
    } for row in plan.rows]
