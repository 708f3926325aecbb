"""The /wfm API and the history loader: tenant-scoped, authenticated, sizes capped."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from omnidesk.clock import FixedClock
from omnidesk.db import Database
from omnidesk.events.models import Event
from omnidesk.queues.models import Queue
from omnidesk.wfm.history import queued_counts
from tests.conftest import Api, make_tenant

SCENARIO = {
    "name": "api", "seed": 3, "duration": "1h", "warmup": "15m",
    "queues": [{"id": "voice", "arrivals": {"per_hour": 60},
                "handle_time": {"kind": "exponential", "mean": 180}}],
    "agents": [{"name": "a", "count": 4, "queues": ["voice"]}],
}


async def _queue_with_history(db: Database, tenant_id: uuid.UUID, until: datetime,
                              weeks: int = 2) -> tuple[uuid.UUID, int]:
    """A queue with one contact queued every hour from 08:00 to 17:00 each day."""
    async with db.write() as session:
        queue = Queue(tenant_id=tenant_id, name="support", channel="voice")
        other = Queue(tenant_id=tenant_id, name="sales", channel="voice")
        session.add_all([queue, other])
        await session.flush()
        seq = 1_000_000  # above the tenant's own events
        start = until - timedelta(weeks=weeks)
        for day in range(7 * weeks):
            for hour in range(8, 18):
                at = start + timedelta(days=day, hours=hour, minutes=10)
                for target in (queue.id, other.id) if hour == 9 else (queue.id,):
                    seq += 1
                    session.add(Event(tenant_id=tenant_id, seq=seq, type="interaction.queued",
                                      subject=str(uuid.uuid4()), actor="test",
                                      payload={"queue_id": str(target)}, occurred_at=at))
        return queue.id, seq


async def test_history_counts_queued_contacts_per_interval_and_queue(db: Database) -> None:
    tenant_id = await make_tenant(db, "acme")
    until = datetime(2026, 11, 23, tzinfo=UTC)
    queue_id, _ = await _queue_with_history(db, tenant_id, until)
    async with db.read() as session:
        series = await queued_counts(session, tenant_id=tenant_id, interval_s=3600,
                                     since=until - timedelta(weeks=2), until=until,
                                     queue_ids=[queue_id])
        everything = await queued_counts(session, tenant_id=tenant_id, interval_s=3600,
                                         since=until - timedelta(weeks=2), until=until)
        elsewhere = await queued_counts(session, tenant_id=uuid.uuid4(), interval_s=3600,
                                        since=until - timedelta(weeks=2), until=until)
    assert len(series.counts) == 14 * 24
    assert series.counts[:24] == tuple(1.0 if 8 <= h < 18 else 0.0 for h in range(24))
    assert sum(everything.counts) == sum(series.counts) + 14
    assert sum(elsewhere.counts) == 0


async def test_forecast_route_uses_the_tenants_history(api: Api, clock: FixedClock) -> None:
    tenant_id = await make_tenant(api.db, "acme", admin_email="admin@acme.example")
    now = clock.now()
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC)
    queue_id, _ = await _queue_with_history(api.db, tenant_id, midnight)
    headers = await api.login("acme", "admin@acme.example")
    response = await api.client.get("/api/v1/wfm/forecast", headers=headers,
                                    params={"queue_id": str(queue_id), "interval": "60m",
                                            "weeks": 2, "days": 1})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["history_contacts"] == 140
    assert body["mape_pct"] == 0.0
    assert [round(i["forecast"], 6) for i in body["intervals"]] == [
        1.0 if 8 <= h < 18 else 0.0 for h in range(24)]
    assert body["intervals"][0]["interval_start"].startswith(midnight.date().isoformat())
    for params, contacts in (({}, 154), ({"channel": "voice"}, 154), ({"channel": "chat"}, 0)):
        response = await api.client.get("/api/v1/wfm/forecast", headers=headers,
                                        params={**params, "interval": "60m", "weeks": 2})
        assert response.status_code == 200, response.text
        assert response.json()["history_contacts"] == contacts

    await make_tenant(api.db, "other", admin_email="admin@other.example")
    other = await api.login("other", "admin@other.example")
    response = await api.client.get("/api/v1/wfm/forecast", headers=other,
                                    params={"queue_id": str(queue_id)})
    assert response.status_code == 404
    response = await api.client.get("/api/v1/wfm/forecast", headers=headers,
                                    params={"queue_id": str(queue_id), "interval": "20m"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "interval"


async def test_erlang_route_gives_the_staffing_table(api: Api) -> None:
    await make_tenant(api.db, "acme", admin_email="admin@acme.example")
    headers = await api.login("acme", "admin@acme.example")
    response = await api.client.post("/api/v1/wfm/erlang", headers=headers, json={
        "calls": 100, "period_s": 1800, "aht_s": 180, "service_level_pct": 80,
        "service_level_s": 20, "shrinkage": 0.3})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["required_agents"], body["agents_to_schedule"]) == (14, 20)
    assert [row["agents"] for row in body["rows"]] == list(range(11, 18))
    response = await api.client.post("/api/v1/wfm/erlang", headers=headers,
                                     json={"calls": 100, "aht_s": 180})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "service_level_pct"


async def test_plan_route_sizes_every_forecast_interval(api: Api, clock: FixedClock) -> None:
    tenant_id = await make_tenant(api.db, "acme", admin_email="admin@acme.example")
    now = clock.now()
    queue_id, _ = await _queue_with_history(api.db, tenant_id,
                                            datetime(now.year, now.month, now.day, tzinfo=UTC))
    headers = await api.login("acme", "admin@acme.example")
    request = {"queue_id": str(queue_id), "interval": "60m", "weeks": 2, "days": 1,
               "aht_s": 180, "service_level_pct": 80, "service_level_s": 20,
               "shrinkage": 0.5}
    response = await api.client.post("/api/v1/wfm/plan", headers=headers, json=request)
    assert response.status_code == 200, response.text
    body = response.json()
    # one contact an hour from 08:00 to 18:00 at 180 s is 0.05 Erlang: one agent meets 80/20,
    # and 50 % shrinkage doubles the agents to schedule: 10 hours × 2 agents.
    assert [row["agents"] for row in body["rows"]] == [1 if 8 <= h < 18 else 0
                                                       for h in range(24)]
    assert (body["model"], body["peak_agents"], body["agent_hours"]) == ("erlang_c", 1, 20.0)
    assert body["queue"] == "support" and body["mape_pct"] == 0.0
    for change, field in (({"service_level_pct": None}, "service_level_pct"),
                          ({"interval": "20m"}, "interval"), ({"concurrency": 0}, "concurrency"),
                          ({"max_abandonment_pct": 5}, "max_abandonment_pct")):
        response = await api.client.post("/api/v1/wfm/plan", headers=headers,
                                         json={**request, **change})
        assert response.status_code == 422, change
        assert response.json()["error"]["field"] == field, change
    await make_tenant(api.db, "other", admin_email="admin@other.example")
    other = await api.login("other", "admin@other.example")
    response = await api.client.post("/api/v1/wfm/plan", headers=other, json=request)
    assert response.status_code == 404


async def test_simulate_route_runs_small_scenarios_and_caps_big_ones(api: Api) -> None:
    await make_tenant(api.db, "acme", admin_email="admin@acme.example")
    headers = await api.login("acme", "admin@acme.example")
    response = await api.client.post("/api/v1/wfm/simulate", headers=headers, json=SCENARIO)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["seed"] == 3 and body["contacts"] > 0
    assert {row["queue_id"] for row in body["kpis"]} == {"voice", "all"}
    too_many = {**SCENARIO, "max_contacts": 10_000_000}
    response = await api.client.post("/api/v1/wfm/simulate", headers=headers, json=too_many)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "max_contacts"
    too_long = {**SCENARIO, "duration": "2000h"}
    response = await api.client.post("/api/v1/wfm/simulate", headers=headers, json=too_long)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "duration"
    bad = {**SCENARIO, "queues": [{**SCENARIO["queues"][0],  # type: ignore[dict-item]
                                   "handle_time": {"kind": "gamma"}}]}
    response = await api.client.post("/api/v1/wfm/simulate", headers=headers, json=bad)
    assert response.status_code == 422
    assert response.json()["error"]["field"].startswith("queues.0.handle_time")


async def test_every_route_needs_a_signed_in_supervisor(api: Api) -> None:
    response = await api.client.post("/api/v1/wfm/simulate", json=SCENARIO)
    assert response.status_code == 401
    response = await api.client.post("/api/v1/wfm/erlang", json={"calls": 1, "aht_s": 1})
    assert response.status_code == 401
    response = await api.client.post("/api/v1/wfm/plan", json={"aht_s": 1})
    assert response.status_code == 401
    response = await api.client.get("/api/v1/wfm/forecast",
                                    params={"queue_id": str(uuid.uuid4())})
    assert response.status_code == 401
