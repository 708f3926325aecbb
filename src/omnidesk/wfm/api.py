"""Workforce-management API: Erlang staffing, small simulations, forecasts from history."""

from __future__ import annotations

import asyncio
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from omnidesk.db import Database
from omnidesk.deps import DbDep, PrincipalDep
from omnidesk.errors import InvalidInput
from omnidesk.queues.models import Queue
from omnidesk.scoping import get_in_tenant
from omnidesk.users.models import Role
from omnidesk.wfm.erlang import WfmError, traffic_intensity
from omnidesk.wfm.forecast import INTERVALS_S, Forecast, forecast
from omnidesk.wfm.history import queued_counts
from omnidesk.wfm.plan import plan_records, staffing_plan
from omnidesk.wfm.simulate.results import interval_records, kpi_records, simulate
from omnidesk.wfm.simulate.scenario import ScenarioFile, build_scenario
from omnidesk.wfm.staffing import (
    ServiceLevelTarget,
    StaffingTargets,
    plan_staffing,
    staffing_figures,
)
from omnidesk.wfm.units import parse_duration

router = APIRouter(prefix="/wfm", tags=["wfm"])

MAX_API_CONTACTS = 20_000
"""The most contacts one API simulation may have (bigger runs: the CLI)."""
MAX_API_AGENTS = 1_000
"""The most agents one API simulation may have."""
_ROWS_AROUND = 3


class StaffingInputs(BaseModel):
    """Handle time, the targets (at least one), optional patience (Erlang A), shrinkage."""

    model_config = ConfigDict(extra="forbid")

    aht_s: float = Field(gt=0, allow_inf_nan=False)
    service_level_pct: float | None = Field(default=None, gt=0, lt=100)
    service_level_s: float = Field(default=20, ge=0, allow_inf_nan=False)
    max_asa_s: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    max_abandonment_pct: float | None = Field(default=None, gt=0, lt=100)
    max_occupancy_pct: float | None = Field(default=None, gt=0, le=100)
    patience_s: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    shrinkage: float = Field(default=0.0, ge=0, lt=1)


class ErlangRequest(StaffingInputs):
    """Staffing inputs for one period: calls in it, its length."""

    calls: float = Field(gt=0, allow_inf_nan=False)
    period_s: float = Field(default=1800, gt=0, allow_inf_nan=False)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _targets(data: StaffingInputs) -> StaffingTargets:
    """The staffing targets of a request; 422 naming the field when none or inconsistent."""
    if (data.service_level_pct, data.max_asa_s, data.max_abandonment_pct,
            data.max_occupancy_pct) == (None, None, None, None):
        raise InvalidInput("give a target: service_level_pct, max_asa_s, "
                           "max_abandonment_pct or max_occupancy_pct", field="service_level_pct")
    if data.max_abandonment_pct is not None and data.patience_s is None:
        raise InvalidInput("max_abandonment_pct needs patience_s (Erlang A)",
                           field="max_abandonment_pct")
    return StaffingTargets(
        service_level=None if data.service_level_pct is None else ServiceLevelTarget(
            data.service_level_pct / 100, data.service_level_s),
        max_asa_s=data.max_asa_s,
        max_abandonment=None if data.max_abandonment_pct is None
        else data.max_abandonment_pct / 100,
        max_occupancy=None if data.max_occupancy_pct is None else data.max_occupancy_pct / 100,
    )


@router.post("/erlang")
async def erlang_staffing(data: ErlangRequest, principal: PrincipalDep) -> dict[str, Any]:
    """Agents needed for the targets, and the figures a few agents either side."""
    principal.require(Role.ADMIN, Role.SUPERVISOR)
    targets = _targets(data)
    try:
        traffic = traffic_intensity(data.calls, data.period_s, data.aht_s)
        plan = plan_staffing(traffic=traffic, aht_s=data.aht_s, targets=targets,
                             patience_s=data.patience_s, shrinkage=data.shrinkage)
    except WfmError as error:
        raise InvalidInput(str(error), field=str(error).split(" ", 1)[0]) from error
    required = plan.required.agents
    rows = []
    for agents in range(max(1, required - _ROWS_AROUND), required + _ROWS_AROUND + 1):
        figures = staffing_figures(agents, traffic=traffic, aht_s=data.aht_s, targets=targets,
                                   patience_s=data.patience_s)
        row: dict[str, Any] = {
            "agents": agents, "probability_of_waiting": figures.probability_of_waiting,
            "service_level": figures.service_level, "asa_s": _finite(figures.asa),
            "occupancy": figures.occupancy, "required": agents == required,
        }
        if figures.erlang_a is not None:
            row["erlang_a"] = {
                "probability_of_waiting": figures.erlang_a.probability_of_waiting,
                "probability_of_abandonment": figures.erlang_a.probability_of_abandonment,
                "service_level": figures.erlang_a.service_level,
                "asa_s": figures.erlang_a.asa,
            }
        rows.append(row)
    return {"model": plan.model, "traffic_erlangs": traffic, "required_agents": required,
            "agents_to_schedule": plan.agents_to_schedule, "shrinkage": plan.shrinkage,
            "rows": rows}


def _check_simulation_size(data: ScenarioFile) -> None:
    """422 naming the field when the scenario is too big (or reads files) for the API."""
    for index, queue in enumerate(data.queues):
        if queue.arrivals.replay is not None:
            raise InvalidInput("replayed arrivals read a file: use the CLI",
                               field=f"queues.{index}.arrivals.replay")
    agents = sum(group.count for group in data.agents)
    if agents > MAX_API_AGENTS:
        raise InvalidInput(f"{agents} agents; the API simulates at most {MAX_API_AGENTS}",
                           field="agents")
    if data.max_contacts is not None and data.max_contacts > MAX_API_CONTACTS:
        raise InvalidInput(f"max_contacts is {data.max_contacts}; the API simulates at most "
                           f"{MAX_API_CONTACTS} contacts (use the CLI)", field="max_contacts")


@router.post("/simulate")
async def simulate_scenario(data: ScenarioFile, principal: PrincipalDep) -> dict[str, Any]:
    """Run a small scenario (at most MAX_API_CONTACTS contacts) and return its KPIs."""
    principal.require(Role.ADMIN, Role.SUPERVISOR)
    _check_simulation_size(data)
    try:
        scenario = build_scenario(data)
    except WfmError as error:
        field, _, _ = str(error).partition(":")
        raise InvalidInput(str(error), field=field) from error
    expected = scenario.expected_contacts()
    if data.max_contacts is None and expected > MAX_API_CONTACTS:
        raise InvalidInput(
            f"about {expected:,.0f} contacts expected; the API simulates at most "
            f"{MAX_API_CONTACTS}: shorten the duration or set max_contacts", field="duration")
    result = await asyncio.to_thread(simulate, scenario)
    return {
        "scenario": result.scenario, "seed": result.seed, "contacts": result.contacts,
        "window_start": result.window_start, "window_end": result.window_end,
        "wall_s": result.wall_s, "kpis": kpi_records(result),
        "intervals": interval_records(result),
    }


@dataclass(frozen=True, slots=True)
class _Forecast:
    """A forecast from the tenant's history and what it was made of."""

    queue_id: uuid.UUID | None
    queue_name: str | None
    channel: str | None
    history_contacts: float
    result: Forecast


def _interval_seconds(interval: str) -> int:
    try:
        interval_s = parse_duration(interval)
    except WfmError:
        interval_s = -1
    if interval_s not in INTERVALS_S:
        raise InvalidInput(f"expected 15m, 30m or 60m, got {interval!r}", field="interval")
    return int(interval_s)


async def _forecast_from_history(db: Database, tenant_id: uuid.UUID, *,
                                 queue_id: uuid.UUID | None, channel: str | None,
                                 interval: str, weeks: int, days: int) -> _Forecast:
    """Forecast one queue, a channel's queues or the whole tenant from its queued events."""
    interval_s = _interval_seconds(interval)
    async with db.read() as session:
        zone = ZoneInfo("UTC")
        queue_ids: list[uuid.UUID] | None = None
        queue_name: str | None = None
        if queue_id is not None:
            queue = await get_in_tenant(session, Queue, queue_id, tenant_id=tenant_id,
                                        what="queue")
            zone = ZoneInfo(queue.timezone or "UTC")
            queue_ids, queue_name, channel = [queue.id], queue.name, queue.channel
        elif channel is not None:
            rows = await session.scalars(select(Queue.id).where(
                Queue.tenant_id == tenant_id, Queue.channel == channel))
            queue_ids = list(rows)
        now = db.clock.now().astimezone(zone)
        until = datetime(now.year, now.month, now.day, tzinfo=zone).astimezone(UTC)
        history = await queued_counts(session, tenant_id=tenant_id, interval_s=interval_s,
                                      since=until - timedelta(weeks=weeks), until=until,
                                      queue_ids=queue_ids)
    result = forecast(history, periods=days * 86400 // interval_s, zone=str(zone))
    return _Forecast(queue_id, queue_name, channel, sum(history.counts), result)


@router.get("/forecast")
async def forecast_queue(
    db: DbDep,
    principal: PrincipalDep,
    queue_id: uuid.UUID | None = None,
    channel: Annotated[str | None, Query(description="only queues of this channel")] = None,
    interval: Annotated[str, Query(description="15m, 30m or 60m")] = "30m",
    weeks: Annotated[int, Query(ge=1, le=104)] = 8,
    days: Annotated[int, Query(ge=1, le=31)] = 7,
) -> dict[str, Any]:
    """Contacts per interval forecast from history (one queue, a channel or the whole tenant),
    with the MAPE of a held-out week."""
    principal.require(Role.ADMIN, Role.SUPERVISOR)
    made = await _forecast_from_history(db, principal.tenant_id, queue_id=queue_id,
                                        channel=channel, interval=interval, weeks=weeks,
                                        days=days)
    result = made.result
    return {
        "queue_id": None if queue_id is None else str(queue_id), "queue": made.queue_name,
        "channel": made.channel,
        "interval_s": result.series.interval_s, "history_contacts": made.history_contacts,
        "mape_pct": result.accuracy.mape_pct if result.accuracy else None,
        "trend_per_day": result.model.trend_per_day,
        "intervals": [{"interval_start": at, "forecast": count} for at, count in
                      zip(result.series.starts(), result.series.counts, strict=True)],
    }


class PlanRequest(StaffingInputs):
    """Staffing plan inputs: whose history and how far ahead, besides the staffing inputs."""

    queue_id: uuid.UUID | None = None
    channel: str | None = None
    interval: str = "30m"
    weeks: int = Field(default=8, ge=1, le=104)
    days: int = Field(default=1, ge=1, le=31)
    concurrency: int = Field(default=1, ge=1, le=20)


@router.post("/plan")
async def plan(data: PlanRequest, db: DbDep, principal: PrincipalDep) -> dict[str, Any]:
    """Agents needed per interval: the forecast × handle time through Erlang C or A."""
    principal.require(Role.ADMIN, Role.SUPERVISOR)
    targets = _targets(data)
    made = await _forecast_from_history(db, principal.tenant_id, queue_id=data.queue_id,
                                        channel=data.channel, interval=data.interval,
                                        weeks=data.weeks, days=data.days)
    try:
        table = staffing_plan(made.result.series, aht_s=data.aht_s, targets=targets,
                              patience_s=data.patience_s, shrinkage=data.shrinkage,
                              concurrency=data.concurrency)
    except WfmError as error:
        raise InvalidInput(str(error), field=str(error).split(" ", 1)[0]) from error
    accuracy = made.result.accuracy
    return {"model": table.model, "queue": made.queue_name, "channel": made.channel,
            "interval_s": table.interval_s, "history_contacts": made.history_contacts,
            "mape_pct": accuracy.mape_pct if accuracy else None,
            "peak_agents": table.peak_agents, "agent_hours": table.agent_hours,
            "rows": plan_records(table)}
