"""The supervisor page in real Chromium: the wallboard moves with the events, alerts colour a
queue, a supervisor forces a state, watches a conversation, whispers and moves a contact."""

from __future__ import annotations

import contextlib
import csv
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect
from websockets.sync.client import ClientConnection, connect

from omnidesk.channels.api_channel.signature import sign
from tests.server import ServerProcess
from tests.web.conftest import PASSWORD, assert_accessible, save_screenshot, sign_in, start_center

pytestmark = pytest.mark.server
SECRET = "supervisor-web-test-secret"
CENTER = f"""
tenants:
  - slug: acme
    name: Acme
    skills: [english, billing]
    queues:
      - {{name: support, service_level_seconds: 20, service_level_goal_pct: 80,
          skills: [{{skill: english}}]}}
      - {{name: billing, service_level_seconds: 30, service_level_goal_pct: 90,
          skills: [{{skill: billing}}]}}
    users:
      - {{email: sam@acme.example, name: Sam Supervisor, role: supervisor,
          password_env: WEB_TEST_PASSWORD}}
      - {{email: bob@acme.example, name: Bob, role: agent, password_env: WEB_TEST_PASSWORD}}
      - {{email: cleo@acme.example, name: Cleo, role: agent, password_env: WEB_TEST_PASSWORD}}
      - {{email: dan@acme.example, name: Dan, role: agent, password_env: WEB_TEST_PASSWORD}}
    agents:
      - {{user: bob@acme.example, skills: {{english: 4}}, capacity: {{chat: 2}}}}
      - {{user: cleo@acme.example, skills: {{billing: 5}}, capacity: {{chat: 2}}}}
      - {{user: dan@acme.example, skills: {{english: 2, billing: 2}}, capacity: {{chat: 1}}}}
    channels:
      - {{name: shop, kind: api, default_queue: support, secret: {SECRET}}}
"""


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[ServerProcess]:
    process = start_center(tmp_path, database_url, CENTER)
    yield process
    process.stop()


class Center:
    """The test's side door: the REST API and agents' streams, as the other people would."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=10)
        self.tokens: dict[str, str] = {}
        self.streams = contextlib.ExitStack()

    def token(self, who: str) -> str:
        if who not in self.tokens:
            response = self.http.post("/api/v1/auth/login", json={
                "tenant": "acme", "email": f"{who}@acme.example", "password": PASSWORD})
            assert response.status_code == 200, response.text
            self.tokens[who] = response.json()["access_token"]
        return self.tokens[who]

    def call(self, who: str, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"/api/v1/{path}", json=body,
                                     headers={"Authorization": f"Bearer {self.token(who)}"})
        assert response.status_code < 300, f"{method} {path}: {response.text}"
        return response.json()

    def ids(self, what: str) -> dict[str, str]:
        return {row["name"]: row["id"] for row in self.call("sam", "GET", what)}

    def channel_id(self) -> str:
        return str(self.call("sam", "GET", "channels")[0]["id"])

    def contact(self, text: str, email: str) -> str:
        raw = json.dumps({"customer": {"identity": {"kind": "email", "value": email},
                                       "name": email.split("@")[0].title()},
                          "text": text}).encode()
        stamp = str(int(time.time()))
        response = self.http.post(
            f"/api/v1/channels/api/{self.channel_id()}/messages", content=raw, headers={
                "Content-Type": "application/json", "X-Omnidesk-Timestamp": stamp,
                "X-Omnidesk-Signature": sign(SECRET, stamp, raw)})
        assert response.status_code == 202, response.text
        return str(response.json()["interaction_id"])

    def desktop(self, who: str) -> ClientConnection:
        """The agent's desktop stream (the router offers only to agents with one open)."""
        socket = self.streams.enter_context(
            connect(self.server.url.replace("http", "ws") + "/api/v1/stream"))
        socket.send(json.dumps({"type": "auth", "token": self.token(who), "since": None}))
        assert json.loads(socket.recv(timeout=10))["type"] == "ready"
        return socket

    def available(self, who: str, name: str) -> ClientConnection:
        socket = self.desktop(who)
        self.call(who, "PUT", f"agents/{self.ids('agents')[name]}/state", {"state": "available"})
        return socket

    def wait_for(self, check: Callable[[], bool], what: str, seconds: float = 10) -> None:
        deadline = time.monotonic() + seconds
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.05)

    def state_of(self, interaction_id: str) -> dict[str, Any]:
        return dict(self.call("sam", "GET", f"interactions/{interaction_id}"))

    def close(self) -> None:
        self.streams.close()
        self.http.close()


@pytest.fixture
def center(server: ServerProcess) -> Iterator[Center]:
    side = Center(server)
    yield side
    side.close()


def _card(page: Page, queue: str) -> Any:
    return page.locator(f'.queue-card[data-queue-name="{queue}"]')


def _signed_in(page: Page, server: ServerProcess) -> None:
    sign_in(page, server.url + "/supervisor", "acme", "sam@acme.example")
    expect(page.locator(".live-status")).to_have_text("live")


def test_the_wallboard_moves_when_a_contact_is_queued_and_answered_and_alerts_on_wait(
        server: ServerProcess, center: Center,
        new_context: Callable[[], BrowserContext]) -> None:
    page = new_context().new_page()
    _signed_in(page, server)
    support = _card(page, "support")
    expect(support.locator("[data-field=waiting]")).to_have_text("0")
    expect(support).not_to_have_class(re.compile(r"\balert\b"))
    page.get_by_text("Alert thresholds (this browser)").click()
    wait_limit = page.get_by_label("Longest wait alert in seconds for support")
    wait_limit.fill("2")
    wait_limit.press("Tab")

    contact = center.contact("My parcel never arrived", "ana@example.com")
    expect(support.locator("[data-field=waiting]")).to_have_text("1")
    expect(support.locator("[data-field=offered-handled]")).to_have_text("1 · 0")
    expect(support.locator("[data-field=longest-wait]")).to_have_text(re.compile(r"0:0[1-9]"))
    expect(support).to_have_class(re.compile(r"\balert\b"))
    expect(support.locator("[data-field=alerts]")).to_have_text("Longest wait over 2 s")
    expect(page.locator("body")).to_have_attribute("data-alert-sounds", "1")
    assert page.locator(".queue-card.alert").evaluate(
        "card => getComputedStyle(card).borderTopColor") == "rgb(179, 38, 30)"
    expect(_card(page, "billing")).not_to_have_class(re.compile(r"\balert\b"))
    expect(page.locator(f'tr[data-interaction-id="{contact}"]')).to_contain_text("Ana")

    center.available("bob", "Bob")
    center.wait_for(lambda: center.state_of(contact)["state"] == "offered", "the offer to Bob")
    center.call("bob", "POST", f"interactions/{contact}/accept")
    expect(support.locator("[data-field=waiting]")).to_have_text("0")
    expect(support.locator("[data-field=offered-handled]")).to_have_text("1 · 1")
    expect(support.locator("[data-field=asa]")).not_to_have_text("–")
    expect(support.locator("[data-field=service-level]")).to_contain_text("100 % / goal 80 %")
    expect(support).not_to_have_class(re.compile(r"\balert\b"))
    bob = page.locator('tr[data-agent-name="Bob"]')
    expect(bob.locator("[data-field=state]")).to_have_text("available")
    expect(bob.locator("[data-field=contacts]")).to_have_text("1")
    expect(page.locator(f'tr[data-interaction-id="{contact}"]')).to_contain_text("connected")
    assert_accessible(page)


def test_a_supervisor_forces_a_state_watches_whispers_and_moves_contacts(
        server: ServerProcess, center: Center,
        new_context: Callable[[], BrowserContext]) -> None:
    page = new_context().new_page()
    _signed_in(page, server)
    bob_desktop = center.available("bob", "Bob")
    center.available("cleo", "Cleo")
    talking = center.contact("Can I change my delivery address?", "ana@example.com")
    center.wait_for(lambda: center.state_of(talking)["state"] == "offered", "the offer to Bob")
    center.call("bob", "POST", f"interactions/{talking}/accept")
    center.call("bob", "POST", f"interactions/{talking}/messages",
                {"body": "Hello Ana, which address should we use?"})

    # Force Dan's state from the agents table: the event names the supervisor.
    page.get_by_label("State of Dan").select_option("break")
    dan = page.locator('tr[data-agent-name="Dan"]')
    expect(dan.locator("[data-field=state]")).to_have_text("break")
    dan_id = center.ids("agents")["Dan"]
    sam_id = center.call("sam", "GET", "auth/me")["id"]
    changes = [e for e in center.call("sam", "GET", "events?limit=1000")
               if e["type"] == "agent.state_changed" and e["subject"] == dan_id]
    assert (changes[-1]["payload"]["state"], changes[-1]["actor"]) == ("break", f"user:{sam_id}")

    # Watch the live conversation; whisper to Bob, who gets it on his stream.
    page.get_by_role("button", name=f"Watch conversation {talking[:8]}").click()
    monitor = page.locator(".monitor")
    expect(monitor.get_by_role("log")).to_contain_text("Can I change my delivery address?")
    expect(monitor.get_by_role("log")).to_contain_text("which address should we use?")
    center.contact("It is 12 Rose Street", "ana@example.com")
    expect(monitor.get_by_role("log")).to_contain_text("It is 12 Rose Street")
    monitor.get_by_label("Whisper to the agent (the customer does not see it)").fill(
        "Check the order is not shipped yet")
    monitor.get_by_role("button", name="Send whisper").click()
    expect(monitor.get_by_role("log")).to_contain_text("Check the order is not shipped yet")
    deadline = time.monotonic() + 10
    whisper = None
    while whisper is None and time.monotonic() < deadline:
        frame = json.loads(bob_desktop.recv(timeout=10))
        event = frame.get("event", {})
        if event.get("type") == "message.created" and \
                event["payload"]["author_kind"] == "whisper":
            whisper = event
    assert whisper is not None and whisper["subject"] == talking
    assert whisper["payload"]["body"] == "Check the order is not shipped yet"

    # Bob is full at 2 chats? No: capacity 2. Fill him, then a third contact waits.
    second = center.contact("Refund please", "ben@example.com")
    center.wait_for(lambda: center.state_of(second)["state"] == "offered", "the second offer")
    center.call("bob", "POST", f"interactions/{second}/accept")
    waiting = center.contact("Invoice is wrong", "cy@example.com")
    support = _card(page, "support")
    expect(support.locator("[data-field=waiting]")).to_have_text("1")

    # Move the waiting contact to billing, where Cleo takes it.
    page.get_by_role("button", name=f"Watch conversation {waiting[:8]}").click()
    expect(monitor.locator(".monitor-state")).to_contain_text("State: queued")
    monitor.get_by_label("Move to").select_option(label="billing")
    monitor.get_by_role("button", name="Move", exact=True).click()
    center.wait_for(lambda: center.state_of(waiting)["agent_id"] == center.ids("agents")["Cleo"],
                    "the offer to Cleo")
    queues = center.ids("queues")
    assert center.state_of(waiting)["queue_id"] == queues["billing"]
    center.call("cleo", "POST", f"interactions/{waiting}/accept")
    expect(support.locator("[data-field=waiting]")).to_have_text("0")
    expect(_card(page, "billing").locator("[data-field=offered-handled]")).to_have_text("1 · 1")

    # One more waiting contact for the screenshot, watched in the monitor.
    center.contact("Where is my parcel?", "di@example.com")
    expect(support.locator("[data-field=waiting]")).to_have_text("1")
    page.get_by_role("button", name=f"Watch conversation {talking[:8]}").click()
    expect(monitor.get_by_role("log")).to_contain_text("Check the order is not shipped yet")
    assert_accessible(page)
    page.evaluate("document.getElementById('notices')?.replaceChildren(); scrollTo(0, 0)")
    save_screenshot(page, "supervisor")

    # Offer the waiting contact to one agent: Dan is on break (refused), Cleo takes the offer
    # although the queue needs english, which she lacks.
    last = page.locator('tr[data-state="queued"]').get_attribute("data-interaction-id")
    assert last is not None
    page.get_by_role("button", name=f"Watch conversation {last[:8]}").click()
    expect(monitor.locator(".monitor-state")).to_contain_text("State: queued")
    monitor.get_by_label("Move to").select_option(label="Dan")
    monitor.get_by_role("button", name="Move", exact=True).click()
    expect(page.locator(".notice.error")).to_contain_text("not available")
    monitor.get_by_label("Move to").select_option(label="Cleo")
    monitor.get_by_role("button", name="Move", exact=True).click()
    expect(monitor.locator(".monitor-state")).to_contain_text("State: offered")
    expect(monitor.locator(".monitor-state")).to_contain_text("agent Cleo")
    assert center.state_of(last)["agent_id"] == center.ids("agents")["Cleo"]


def test_the_reports_view_shows_the_chart_the_kpis_and_downloads_the_csv(
        server: ServerProcess, center: Center,
        new_context: Callable[[], BrowserContext]) -> None:
    center.available("bob", "Bob")
    contact = center.contact("Hello", "ana@example.com")
    center.wait_for(lambda: center.state_of(contact)["state"] == "offered", "the offer to Bob")
    center.call("bob", "POST", f"interactions/{contact}/accept")
    page = new_context().new_page()
    _signed_in(page, server)
    page.get_by_role("button", name="Reports").click()
    expect(page.locator(".reports-chart svg")).to_be_visible()
    expect(page.locator('tr[data-kpi="contacts_offered"] td').first).to_have_text("1")
    expect(page.locator('tr[data-kpi="contacts_handled"] td').first).to_have_text("1")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    rows = list(csv.DictReader(Path(download.value.path()).read_text().splitlines()))
    assert sum(int(row["contacts_offered"] or 0) for row in rows) == 1
    assert sum(int(row["contacts_handled"] or 0) for row in rows) == 1
    assert_accessible(page)


def test_an_agent_is_turned_away_from_the_wallboard_and_the_admin_page(
        server: ServerProcess, new_context: Callable[[], BrowserContext]) -> None:
    page = new_context().new_page()
    sign_in(page, server.url + "/supervisor", "acme", "bob@acme.example")
    expect(page.get_by_role("alert")).to_have_text("The wallboard is for supervisors and admins.")
    expect(page.locator(".queue-card")).to_have_count(0)
    page.goto(server.url + "/admin")
    expect(page.get_by_role("alert")).to_have_text("The admin pages are for admins.")
