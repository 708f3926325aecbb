"""Three people in three browsers: a customer on the web chat widget, an agent on the desktop,
a supervisor on the wallboard — from the first message to the wrap-up with a disposition."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.server import ServerProcess
from tests.web.conftest import PASSWORD, sign_in, start_center

pytestmark = pytest.mark.server

CENTER = """
tenants:
  - slug: acme
    name: Acme
    queues:
      - {name: support, channel: chat, service_level_seconds: 60, offer_timeout_seconds: 120}
    users:
      - {email: ann@acme.example, name: Ann Admin, role: admin, password_env: WEB_TEST_PASSWORD}
      - {email: sam@acme.example, name: Sam Supervisor, role: supervisor,
         password_env: WEB_TEST_PASSWORD}
      - {email: ada@acme.example, name: Ada Lovelace, role: agent,
         password_env: WEB_TEST_PASSWORD}
    agents:
      - {user: ada@acme.example}
    channels:
      - name: website
        kind: webchat
        default_queue: support
        settings: {title: Acme help, topics: [Orders, Billing]}
    dispositions:
      - {code: resolved, label: Resolved}
      - {code: callback, label: Call back later, resolved: false}
"""


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[ServerProcess]:
    process = start_center(tmp_path, database_url, CENTER)
    yield process
    process.stop()


def _webchat_channel(server: ServerProcess) -> str:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        token = client.post("/api/v1/auth/login", json={
            "tenant": "acme", "email": "ann@acme.example", "password": PASSWORD}).json()
        channels = client.get("/api/v1/channels", headers={
            "Authorization": f"Bearer {token['access_token']}"}).json()
    return str(next(c["id"] for c in channels if c["kind"] == "webchat"))


def _wallboard(new_context: Callable[[], BrowserContext], server: ServerProcess) -> Page:
    page = new_context().new_page()
    sign_in(page, server.url + "/supervisor", "acme", "sam@acme.example")
    expect(page.locator(".live-status")).to_have_text("live")
    return page


def _desktop(new_context: Callable[[], BrowserContext], server: ServerProcess) -> Page:
    page = new_context().new_page()
    sign_in(page, server.url + "/agent", "acme", "ada@acme.example")
    expect(page.get_by_role("heading", name="omnidesk agent")).to_be_visible()
    page.get_by_label("State").select_option("available|")
    expect(page.locator("body")).to_have_attribute("data-agent-state", "available")
    return page


def _customer(new_context: Callable[[], BrowserContext], server: ServerProcess) -> Page:
    page = new_context().new_page()
    page.goto(f"{server.url}/widget/demo?channel={_webchat_channel(server)}")
    page.get_by_role("button", name="Chat with us").click()
    page.get_by_label("Name", exact=True).fill("Ana Lima")
    page.get_by_label("Email", exact=True).fill("ana@example.com")
    page.get_by_label("Topic", exact=True).select_option("Orders")
    page.get_by_role("button", name="Start chat").click()
    return page


def test_a_chat_from_the_widget_to_the_wrap_up_moves_the_wallboard(
        server: ServerProcess, new_context: Callable[[], BrowserContext]) -> None:
    wallboard = _wallboard(new_context, server)
    support = wallboard.locator('.queue-card[data-queue-name="support"]')
    expect(support.locator("[data-field=offered-handled]")).to_have_text("0 · 0")
    agent = _desktop(new_context, server)
    ada = wallboard.locator("tr", has_text="Ada Lovelace")
    expect(ada.locator("[data-field=state]")).to_have_text("available")

    customer = _customer(new_context, server)
    customer.get_by_label("Message", exact=True).fill("Where is my order 1234?")
    customer.get_by_role("button", name="Send", exact=True).click()
    chat_log = customer.get_by_role("log", name="Conversation")
    expect(chat_log).to_contain_text("Where is my order 1234?")

    offer = agent.get_by_role("region", name=re.compile("Ana Lima"))
    expect(offer).to_contain_text("Where is my order 1234?")
    expect(agent.locator("body")).to_have_attribute("data-ringing", "true")
    agent.keyboard.press("Alt+a")
    view = agent.get_by_role("main", name="Conversation")
    expect(view.get_by_role("log")).to_contain_text("Where is my order 1234?")
    expect(customer.get_by_role("status")).to_contain_text("An agent joined")
    expect(support.locator("[data-field=offered-handled]")).to_have_text("1 · 1")
    expect(support.locator("[data-field=waiting]")).to_have_text("0")
    expect(ada.locator("[data-field=contacts]")).to_have_text("1")

    customer.get_by_label("Message", exact=True).press_sequentially("It was paid", delay=20)
    expect(view).to_contain_text("Ana Lima is typing…")
    customer.get_by_role("button", name="Send", exact=True).click()
    expect(view.get_by_role("log")).to_contain_text("It was paid")

    reply = view.get_by_label("Reply to Ana Lima")
    reply.fill("Hello Ana, order 1234 leaves the warehouse today.")
    reply.press("Control+Enter")
    expect(chat_log).to_contain_text("order 1234 leaves the warehouse today")

    view.get_by_role("button", name="Wrap up").click()
    view.get_by_label("Disposition").select_option("resolved")
    view.get_by_role("button", name="Finish wrap-up").click()
    expect(agent.get_by_role("heading", name="No conversation open")).to_be_visible()
    expect(agent.get_by_label("State")).to_have_value("available|")
    expect(ada.locator("[data-field=contacts]")).to_have_text("0")
    expect(ada.locator("[data-field=handled]")).to_have_text("1")
