"""The demo bot on the web chat, in real browsers: it looks an order up in a (local, fake)
order service, answers a question from the knowledge base, and hands the customer to an agent
whose screen pop shows the bot's transcript and what it collected."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.server import ServerProcess
from tests.web.conftest import assert_accessible, sign_in, start_center
from tests.web.test_end_to_end import _webchat_channel

pytestmark = pytest.mark.server

CENTER = """
tenants:
  - slug: acme
    name: Acme
    skills: [orders, english]
    queues:
      - {name: support, channel: chat, offer_timeout_seconds: 120}
    users:
      - {email: ann@acme.example, name: Ann Admin, role: admin, password_env: WEB_TEST_PASSWORD}
      - {email: ada@acme.example, name: Ada Lovelace, role: agent,
         password_env: WEB_TEST_PASSWORD}
    agents:
      - {user: ada@acme.example, skills: {orders: 3, english: 4}}
    channels:
      - name: website
        kind: webchat
        default_queue: support
        settings: {title: Acme help, flow: webshop_support, order_api: "%(orders)s"}
    knowledge:
      - slug: shipping-costs
        title: Shipping costs
        category: delivery
        tags: [shipping, delivery]
        body: Standard shipping costs 4.90 EUR and is free for orders over 50 EUR.
"""


class _Orders(BaseHTTPRequestHandler):
    """GET /orders/1234 → shipped; anything else → 404 (a shop's order API)."""

    server: _OrderServer

    def do_GET(self) -> None:
        self.server.asked.append(self.path)
        found = self.path == "/orders/1234"
        body = json.dumps({"status": "shipped", "eta": "2026-11-27"} if found
                          else {"error": "not found"}).encode()
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


class _OrderServer(ThreadingHTTPServer):
    """The fake order API, noting the paths it was asked for."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Orders)
        self.asked: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def orders() -> Iterator[_OrderServer]:
    server = _OrderServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def server(tmp_path: Path, database_url: str,
           orders: _OrderServer) -> Iterator[ServerProcess]:
    process = start_center(tmp_path, database_url, CENTER % {"orders": orders.url})
    yield process
    process.stop()


def _say(customer: Page, text: str) -> None:
    customer.get_by_label("Message", exact=True).fill(text)
    customer.get_by_role("button", name="Send", exact=True).click()


def test_the_bot_answers_an_order_and_a_faq_then_hands_over_with_its_transcript(
        server: ServerProcess, orders: _OrderServer,
        new_context: Callable[[], BrowserContext]) -> None:
    agent = new_context().new_page()
    sign_in(agent, server.url + "/agent", "acme", "ada@acme.example")
    agent.get_by_label("State").select_option("available|")
    expect(agent.locator("body")).to_have_attribute("data-agent-state", "available")

    customer = new_context().new_page()
    customer.goto(f"{server.url}/widget/demo?channel={_webchat_channel(server)}")
    customer.get_by_role("button", name="Chat with us").click()
    customer.get_by_label("Name", exact=True).fill("Ana Lima")
    customer.get_by_label("Email", exact=True).fill("ana@example.com")
    customer.get_by_role("button", name="Start chat").click()
    chat = customer.get_by_role("log", name="Conversation")

    _say(customer, "where is my order 1234")
    expect(chat).to_contain_text("Order 1234 is shipped. Expected delivery: 2026-11-27.")
    assert orders.asked == ["/orders/1234"]
    expect(chat).to_contain_text("Can I help with anything else?")
    choice = chat.get_by_role("button", name="Something else")  # the menu's option, a button
    choice.click()
    expect(chat).to_contain_text("How can I help?")
    expect(choice).to_be_disabled()  # answered: only the latest message's buttons stay live
    _say(customer, "how much is shipping")
    expect(chat).to_contain_text("Shipping costs")
    expect(chat).to_contain_text("/help/acme/shipping-costs")
    expect(agent.locator("body")).to_have_attribute("data-ringing", "false")  # no one yet
    _say(customer, "agent")
    expect(chat).to_contain_text("I'm connecting you with our support team.")
    assert_accessible(customer)

    offer = agent.get_by_role("region", name=re.compile("Ana Lima"))
    expect(offer).to_contain_text("where is my order 1234")
    agent.keyboard.press("Alt+a")
    pop = agent.get_by_role("complementary", name="Customer")
    collected = pop.get_by_role("region", name="Self-service collected")
    expect(collected).to_contain_text("order_id")
    expect(collected).to_contain_text("1234")
    expect(collected).to_contain_text("order_status")
    log = agent.get_by_role("main", name="Conversation").get_by_role("log")
    expect(log).to_contain_text("Order 1234 is shipped")  # the bot's transcript
    expect(log).to_contain_text("Shipping costs")
    assert_accessible(agent)
