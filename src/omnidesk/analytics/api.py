"""Analytics API: the live wallboard, KPI reports (JSON, CSV), the chart, and the page."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from omnidesk.analytics.chart import ChartData, chart_data, png_chart, svg_chart
from omnidesk.analytics.page import REPORTS_PAGE
from omnidesk.analytics.report import to_csv
from omnidesk.analytics.reports import (
    KpiReport,
    kpi_report,
    parse_granularity,
    parse_group_by,
    period,
    zone_of,
)
from omnidesk.analytics.service import AnalyticsService
from omnidesk.analytics.settings import (
    AnalyticsSettingsDocument,
    save_settings,
    settings_document,
    tenant_time_zone,
)
from omnidesk.auth.principal import STAFF, Principal
from omnidesk.db import Database
from omnidesk.deps import DbDep, PrincipalDep
from omnidesk.users.models import Role

router = APIRouter(tags=["analytics"])
page_router = APIRouter(tags=["analytics"], include_in_schema=False)

From = Annotated[str | None, Query(alias="from", description="local date or ISO datetime")]
To = Annotated[str | None, Query(description="exclusive; default: the day after `from`")]
By = Annotated[str, Query(description="comma-separated: queue, agent, channel, "
                                      "disposition, role")]
Interval = Annotated[Literal["15m", "15min", "hour", "day"], Query()]
Refresh = Annotated[bool, Query(description="fill the aggregates first")]


def _service(request: Request) -> AnalyticsService:
    service: AnalyticsService = request.app.state.analytics
    return service


@router.get("/realtime")
async def realtime(request: Request, principal: PrincipalDep) -> dict[str, Any]:
    """The tenant's wallboard now: queues, agents and today's KPIs."""
    principal.require(*STAFF)
    return await _service(request).snapshot(principal.tenant_id)


async def _report(request: Request, db: DbDep, principal: Principal, start: str | None,
                  end: str | None, by: str, interval: str, refresh: bool) -> KpiReport:
    principal.require(*STAFF)
    group_by, granularity = parse_group_by(by), parse_granularity(interval)
    if refresh:
        await _service(request).fill_tenant(principal.tenant_id)
    async with db.read() as session:
        zone = zone_of(await tenant_time_zone(session, principal.tenant_id))
        span = period(start, end, zone, db.clock.now().astimezone(zone).date())
        return await kpi_report(session, principal.tenant_id, span, group_by=group_by,
                                granularity=granularity)


@router.get("/reports/kpis")
async def report_kpis(request: Request, db: DbDep, principal: PrincipalDep,
                      start: From = None, to: To = None, by: By = "",
                      interval: Interval = "hour", refresh: Refresh = False) -> dict[str, Any]:
    """Every KPI per group and interval from the stored aggregates, with the previous period."""
    report = await _report(request, db, principal, start, to, by, interval, refresh)
    return report.to_json()


@router.get("/reports/kpis.csv", response_class=Response)
async def report_kpis_csv(request: Request, db: DbDep, principal: PrincipalDep,
                          start: From = None, to: To = None, by: By = "",
                          interval: Interval = "hour", refresh: Refresh = False) -> Response:
    """The same KPIs per interval as a CSV download."""
    report = await _report(request, db, principal, start, to, by, interval, refresh)
    return Response(to_csv(report.intervals), media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="kpis.csv"'})


async def _chart(request: Request, db: Database, principal: Principal, start: str | None,
                 to: str | None, interval: str, refresh: bool) -> ChartData:
    report = await _report(request, db, principal, start, to, "", interval, refresh)
    async with db.read() as session:
        zone = zone_of(await tenant_time_zone(session, principal.tenant_id))
    title = f"{report.span.start.date()} – {report.span.end.date()} (to, exclusive), by " \
            f"{report.granularity}"
    return chart_data(title, report.intervals, zone)


@router.get("/reports/chart.svg", response_class=Response)
async def report_chart(request: Request, db: DbDep, principal: PrincipalDep,
                       start: From = None, to: To = None, interval: Interval = "hour",
                       refresh: Refresh = False) -> Response:
    """Volume, service level and ASA per interval (tenant totals) as an SVG chart."""
    data = await _chart(request, db, principal, start, to, interval, refresh)
    return Response(svg_chart(data), media_type="image/svg+xml")


@router.get("/reports/chart.png", response_class=Response)
async def report_chart_png(request: Request, db: DbDep, principal: PrincipalDep,
                           start: From = None, to: To = None, interval: Interval = "hour",
                           refresh: Refresh = False) -> Response:
    """The same chart as a PNG image (for slides and e-mail)."""
    data = await _chart(request, db, principal, start, to, interval, refresh)
    image = await asyncio.to_thread(png_chart, data)
    return Response(image, media_type="image/png",
                    headers={"Content-Disposition": 'attachment; filename="chart.png"'})


@router.get("/analytics/settings")
async def get_settings(db: DbDep, principal: PrincipalDep) -> AnalyticsSettingsDocument:
    """The cost model, each queue's service-level variant and agents' cost roles."""
    principal.require(*STAFF)
    async with db.read() as session:
        return await settings_document(session, principal.tenant_id)


@router.put("/analytics/settings")
async def put_settings(data: AnalyticsSettingsDocument, request: Request, db: DbDep,
                       principal: PrincipalDep) -> AnalyticsSettingsDocument:
    """Replace the analytics settings (admins); the wallboard picks them up at once."""
    principal.require(Role.ADMIN)
    async with db.write() as session:
        await save_settings(session, principal.tenant_id, data)
    _service(request).live.pop(principal.tenant_id, None)
    return data


@page_router.get("/reports", response_class=HTMLResponse)
async def reports_page() -> HTMLResponse:
    """The reports page (it signs in and fetches the chart and KPIs with the API)."""
    return HTMLResponse(REPORTS_PAGE)
