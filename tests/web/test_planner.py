"""The workforce planner page: Erlang staffing and the plan from a queue's history."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect
from sqlalchemy import select

from omnidesk.db import Database
from omnidesk.events.bus import InProcessBus
from omnidesk.events.models import Event
from omnidesk.queues.models import Queue
from omnidesk.wfm.erlang import traffic_intensity
from omnidesk.wfm.staffing import ServiceLevelTarget, StaffingTargets, plan_staffing
from tests.conftest import run_in_thread
from tests.server import ServerProcess
from tests.web.conftest import assert_accessible, save_screenshot, sign_in, start_center

pytestmark = pytest.mark.server

CENTER = """
tenants:
  - slug: acme
    name: Acme
    queues:
      - {name: support, timezone: UTC}
    users:
      - {email: sam@acme.example, name: Sam Supervisor, role: supervisor,
         password_env: WEB_TEST_PASSWORD}
"""


async def _seed_history(database_url: str) -> None:
    """Two weeks of one contact queued every hour from 08:00 to 18:00 (UTC) in support."""
    db = Database(database_url, InProcessBus())
    try:
        async with db.write() as session:
            queue = await session.scalar(select(Queue).where(Queue.name == "support"))
            assert queue is not None
            today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            seq = 1_000_000
            for day in range(14):
                for hour in range(8, 18):
                    seq += 1
                    session.add(Event(
                        tenant_id=queue.tenant_id, seq=seq, type="interaction.queued",
                        subject=str(uuid.uuid4()), actor="test",
                        payload={"queue_id": str(queue.id)},
                        occurred_at=today - timedelta(days=14 - day, hours=-hour, minutes=-10)))
    finally:
        await db.dispose()


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[ServerProcess]:
    process = start_center(tmp_path, database_url, CENTER,
                           before_start=lambda: run_in_thread(lambda: _seed_history(
                               database_url)))
    yield process
    process.stop()


def test_a_planner_sizes_an_interval_and_plans_a_day(
        server: ServerProcess, new_context: Callable[[], BrowserContext]) -> None:
    page = new_context().new_page()
    sign_in(page, server.url + "/planner", "acme", "sam@acme.example")
    page.get_by_label("Contacts per period").fill("250")
    page.get_by_role("button", name="Compute staffing").click()
    expected = plan_staffing(traffic=traffic_intensity(250, 1800, 180), aht_s=180,
                             targets=StaffingTargets(service_level=ServiceLevelTarget(0.8, 20)),
                             shrinkage=0.3)
    expect(page.locator("#required-agents")).to_have_text(str(expected.required.agents))
    expect(page.locator("tr.required td").first).to_have_text(str(expected.required.agents))

    page.get_by_label("Queue").select_option(label="support")
    page.get_by_label("Interval").select_option("60m")
    page.get_by_label("Weeks of history").fill("2")
    page.get_by_label("Shrinkage (0–1)").nth(1).fill("0.5")
    page.get_by_role("button", name="Plan staffing").click()
    # one 180 s contact an hour needs one agent from 08:00 to 18:00, two with 50 % shrinkage
    expect(page.locator("#peak-agents")).to_have_text("1")
    expect(page.get_by_text("20.0 agent hours to schedule")).to_be_visible()
    plan_rows = page.get_by_role("table", name="Agents needed per interval").locator("tbody tr")
    expect(plan_rows).to_have_count(24)
    expect(plan_rows.nth(9).locator("td").nth(3)).to_have_text("1")
    expect(plan_rows.nth(3).locator("td").nth(3)).to_have_text("0")
    expect(page.get_by_role("img", name="Agents needed per interval, peak 2")).to_be_visible()
    assert_accessible(page)
    save_screenshot(page, "planner")


def test_a_bad_input_is_named_on_the_page(server: ServerProcess,
                                          new_context: Callable[[], BrowserContext]) -> None:
    page = new_context().new_page()
    sign_in(page, server.url + "/planner", "acme", "sam@acme.example")
    page.get_by_label("Service level goal (%)").first.fill("")
    page.get_by_role("button", name="Compute staffing").click()
    expect(page.get_by_role("alert")).to_contain_text("service_level_pct")
