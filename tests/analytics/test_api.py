"""The analytics API: reports equal the pure KPI functions, the live wallboard, CSV, SVG, page."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import matplotlib.colors
import matplotlib.image
import pytest

from omnidesk.analytics.chart import COLOURS
from omnidesk.analytics.config import AnalyticsConfig, CostModel
from omnidesk.analytics.events import Event
from omnidesk.analytics.kpis import all_kpis
from omnidesk.analytics.report import period_measures
from omnidesk.analytics.service import AnalyticsService
from omnidesk.events.record import EventRecord
from tests.analytics.conftest import Log
from tests.analytics.seeding import store_events
from tests.conftest import PASSWORD, Api, make_tenant

DAY1 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)


def two_contacts(start: datetime, wait_s: float = 10) -> Log:
    """One contact answered after `wait_s` and handled 60 s + 30 s ACW; one abandoned at 30 s."""
    return (Log(start)
            .add(0, "interaction.created", "i1", channel="chat", customer_id="c1")
            .add(0, "interaction.queued", "i1", queue_id="q1")
            .add(wait_s, "interaction.connected", "i1", agent_id="a1", queue_id="q1")
            .add(wait_s + 60, "interaction.wrap_up_started", "i1", agent_id="a1")
            .add(wait_s + 90, "interaction.closed", "i1", agent_id="a1", resolved=True)
            .add(100, "interaction.created", "i2", channel="voice", customer_id="c2")
            .add(100, "interaction.queued", "i2", queue_id="q1")
            .add(130, "interaction.abandoned", "i2", queue_id="q1"))


def renamed(events: list[Event], prefix: str) -> list[Event]:
    """The same log with distinct interaction ids (so two days do not share contacts)."""
    return [Event(e.seq, e.type, prefix + e.subject, e.occurred_at, e.payload) for e in events]


def queue_row(report: dict[str, Any], queue: str) -> dict[str, Any]:
    """The totals row of one queue (agent time has a row without a queue)."""
    [row] = [row for row in report["totals"] if row["queue"] == queue]
    return row


@pytest.fixture
async def acme(api: Api) -> dict[str, Any]:
    """Tenant acme with a supervisor and an agent; two days of traffic in its log."""
    tenant_id = await make_tenant(api.db, "acme", admin_email="admin@acme.example")
    admin = await api.login("acme", "admin@acme.example")
    for role in ("supervisor", "agent"):
        response = await api.client.post("/api/v1/users", headers=admin, json={
            "email": f"{role}@acme.example", "name": role, "role": role, "password": PASSWORD})
        assert response.status_code == 201
    day1 = renamed(two_contacts(DAY1, wait_s=10).sorted(), "d1")
    day2 = renamed(two_contacts(DAY2, wait_s=25).sorted(), "d2")
    await store_events(api.db, tenant_id, day1 + day2)
    return {"tenant_id": tenant_id, "admin": admin, "day2": day2,
            "supervisor": await api.login("acme", "supervisor@acme.example"),
            "agent": await api.login("acme", "agent@acme.example")}


async def test_report_figures_are_the_pure_kpis_of_the_same_events(
        api: Api, acme: dict[str, Any]) -> None:
    response = await api.client.get("/api/v1/reports/kpis", headers=acme["supervisor"], params={
        "from": "2026-11-24", "to": "2026-11-25", "by": "queue", "interval": "day",
        "refresh": "true"})
    assert response.status_code == 200, response.text
    report = response.json()
    total = queue_row(report, "q1")
    expected = all_kpis(period_measures(acme["day2"], config=AnalyticsConfig(), start=DAY2,
                                        end=DAY2 + timedelta(days=1), now=api.db.clock.now())[()],
                        "default", CostModel())
    assert total["contacts_offered"] == 2 and total["contacts_handled"] == 1
    assert total["asa_s"] == 25 == expected["asa_s"]
    assert total["aht_s"] == 90 == expected["aht_s"]
    assert total["service_level_pct"] == 0 == expected["service_level_pct"]  # 25 s > 20 s
    assert total["abandonment_rate_pct"] == 50 == expected["abandonment_rate_pct"]
    assert total["previous"]["asa_s"] == 10  # day 1: answered in 10 s
    assert total["previous"]["service_level_pct"] == 50
    assert {(row["interval"], row["queue"]) for row in report["intervals"]} == {
        ("2026-11-24T00:00:00+00:00", "q1"), ("2026-11-24T00:00:00+00:00", None)}


async def test_hourly_rows_and_the_tenant_total(api: Api, acme: dict[str, Any]) -> None:
    response = await api.client.get("/api/v1/reports/kpis", headers=acme["admin"], params={
        "from": "2026-11-23", "to": "2026-11-25", "refresh": "true"})
    report = response.json()
    assert report["interval"] == "hour" and report["by"] == []
    assert report["totals"][0]["contacts_offered"] == 4
    assert [row["interval"][11:16] for row in report["intervals"]] == ["09:00", "09:00"]


async def test_csv_chart_and_page_are_served(api: Api, acme: dict[str, Any]) -> None:
    params = {"from": "2026-11-23", "to": "2026-11-25", "refresh": "true"}
    csv = await api.client.get("/api/v1/reports/kpis.csv", headers=acme["supervisor"],
                               params={**params, "by": "queue,channel"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0].startswith("interval,queue,channel,contacts_offered")
    assert sum(",q1," in line for line in lines) == 4  # two days × (chat, voice)
    svg = await api.client.get("/api/v1/reports/chart.svg", headers=acme["supervisor"],
                               params=params)
    assert svg.headers["content-type"] == "image/svg+xml"
    assert svg.text.startswith("<svg") and "Service level %" in svg.text
    png = await api.client.get("/api/v1/reports/chart.png", headers=acme["supervisor"],
                               params={**params, "interval": "day"})
    assert png.headers["content-type"] == "image/png"
    assert_png_chart(png.content)
    page = await api.client.get("/reports")
    assert page.status_code == 200 and "/api/v1/reports/chart.svg" in page.text


def assert_png_chart(image: bytes) -> None:
    """A 1200×700 PNG with the volume bars drawn in their colour."""
    pixels = matplotlib.image.imread(io.BytesIO(image), format="png")
    assert pixels.shape[:2] == (700, 1200)
    volume_colour = matplotlib.colors.to_rgb(COLOURS["volume"])
    bar_pixels = (abs(pixels[:, :, :3] - volume_colour) < 0.01).all(axis=2).sum()
    assert bar_pixels > 1000


async def test_bad_parameters_name_the_field(api: Api, acme: dict[str, Any]) -> None:
    for params, field in (({"by": "queue,colour"}, "by"), ({"interval": "week"}, "interval"),
                          ({"from": "yesterday"}, "from"),
                          ({"from": "2026-11-24", "to": "2026-11-23"}, "to")):
        response = await api.client.get("/api/v1/reports/kpis", headers=acme["admin"],
                                        params=params)
        assert response.status_code == 422, params
        assert response.json()["error"]["field"] == field


async def test_agents_may_not_read_reports_or_the_wallboard(
        api: Api, acme: dict[str, Any]) -> None:
    for path in ("/api/v1/realtime", "/api/v1/reports/kpis", "/api/v1/reports/kpis.csv",
                 "/api/v1/reports/chart.svg", "/api/v1/reports/chart.png"):
        response = await api.client.get(path, headers=acme["agent"])
        assert response.status_code == 403, path


async def test_the_wallboard_follows_the_log_and_the_bus(api: Api, acme: dict[str, Any]) -> None:
    now = api.db.clock.now()
    waiting = (Log(now - timedelta(minutes=2))
               .add(0, "interaction.created", "w1", channel="chat")
               .add(0, "interaction.queued", "w1", queue_id="q1")).sorted()
    await store_events(api.db, acme["tenant_id"], waiting)
    response = await api.client.get("/api/v1/realtime", headers=acme["supervisor"])
    board = response.json()
    assert board["queues"]["q1"]["waiting"] == 1
    assert board["queues"]["q1"]["longest_wait_s"] == 120
    service: AnalyticsService = api.app.state.analytics
    projection = (await service.tenant(acme["tenant_id"])).projection
    abandon = Event(projection.fold.last_seq + 1, "interaction.abandoned", "w1", now,
                    {"queue_id": "q1"})
    await store_events(api.db, acme["tenant_id"], [abandon])
    await api.db.bus.publish(EventRecord(acme["tenant_id"], abandon.seq, abandon.type,
                                         abandon.subject, dict(abandon.payload), now, "test"))
    for _ in range(100):
        board = (await api.client.get("/api/v1/realtime", headers=acme["supervisor"])).json()
        if board["queues"]["q1"]["waiting"] == 0:
            break
        await asyncio.sleep(0.01)
    assert board["queues"]["q1"]["abandoned_today"] == 1
    assert board["tenant"]["waiting"] == 0


async def test_settings_choose_the_service_level_variant(api: Api, acme: dict[str, Any]) -> None:
    response = await api.client.put("/api/v1/analytics/settings", headers=acme["admin"], json={
        "service_level_variants": {"q1": "connect"}, "cost_model": {"fixed_per_period": "100"}})
    assert response.status_code == 200, response.text
    report = (await api.client.get("/api/v1/reports/kpis", headers=acme["admin"], params={
        "from": "2026-11-23", "by": "queue", "interval": "day", "refresh": "true"})).json()
    total = queue_row(report, "q1")
    assert total["service_level_pct"] == total["service_level_connect_pct"] == 50
    assert total["cost_per_contact"] == 100
    denied = await api.client.put("/api/v1/analytics/settings", headers=acme["supervisor"],
                                  json={})
    assert denied.status_code == 403
