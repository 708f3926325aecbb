"""The web chat widget in a real browser: pre-chat, a message, an agent's reply, a reload."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, WebSocketRoute, expect
from websockets.sync.client import connect

from tests.server import ServerProcess
from tests.web.conftest import PASSWORD, assert_accessible, save_screenshot, start_center

pytestmark = pytest.mark.server

CENTER = """
tenants:
  - slug: acme
    name: Acme
    queues:
      - {name: support, channel: chat}
    users:
      - {email: ann@acme.example, name: Ann Admin, role: admin, password_env: WEB_TEST_PASSWORD}
      - {email: alice@acme.example, name: Alice, role: agent, password_env: WEB_TEST_PASSWORD}
    agents:
      - {user: alice@acme.example}
    channels:
      - name: website
        kind: webchat
        default_queue: support
        settings: {title: Acme help, topics: [Orders, Billing]}
"""


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[ServerProcess]:
    process = start_center(tmp_path, database_url, CENTER)
    yield process
    process.stop()


def _login(client: httpx.Client, email: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={
        "tenant": "acme", "email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _eventually(check: Callable[[], Any], what: str, seconds: float = 15.0) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
    return found


def test_a_customer_chats_with_an_agent_through_the_widget_and_a_reload_keeps_it(
        server: ServerProcess, new_context: Callable[[], BrowserContext]) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        _chat_and_reload(server, client, new_context)


def _chat_and_reload(server: ServerProcess, client: httpx.Client,
                     new_context: Callable[[], BrowserContext]) -> None:
    admin = _login(client, "ann@acme.example")
    channel = next(c for c in client.get("/api/v1/channels", headers=admin).json()
                   if c["kind"] == "webchat")
    alice = _login(client, "alice@acme.example")
    me = client.get("/api/v1/auth/me", headers=alice).json()
    agent_id = next(a["id"] for a in client.get("/api/v1/agents", headers=alice).json()
                    if a["user_id"] == me["id"])
    with connect(server.url.replace("http", "ws") + "/api/v1/stream") as desktop:
        desktop.send(json.dumps({"type": "auth",
                                 "token": alice["Authorization"].removeprefix("Bearer ")}))
        assert json.loads(desktop.recv(timeout=10))["type"] == "ready"
        went = client.put(f"/api/v1/agents/{agent_id}/state", headers=alice,
                          json={"state": "available"})
        assert went.status_code == 200, went.text

        page = new_context().new_page()
        page.goto(f"{server.url}/widget/demo?channel={channel['id']}")
        launcher = page.get_by_role("button", name="Chat with us")
        launcher.click()
        expect(page.get_by_role("heading", name="Acme help")).to_be_visible()
        page.get_by_label("Name", exact=True).fill("Ana Lima")
        page.get_by_label("Email", exact=True).fill("ana@example.com")
        page.get_by_label("Topic", exact=True).select_option("Orders")
        page.get_by_role("button", name="Start chat").click()
        page.get_by_label("Message", exact=True).fill("Where is my order 1234?")
        page.get_by_role("button", name="Send", exact=True).click()
        log = page.get_by_role("log", name="Conversation")
        expect(log).to_contain_text("Where is my order 1234?")
        expect(log).not_to_contain_text("sending…")  # acknowledged after the write

        def offered() -> str | None:
            rows = client.get("/api/v1/interactions", headers=admin,
                              params={"state": "offered"}).json()
            return next((r["id"] for r in rows if r["agent_id"] == agent_id), None)

        interaction_id = _eventually(offered, "the offer to Alice")
        accepted = client.post(f"/api/v1/interactions/{interaction_id}/accept", headers=alice)
        assert accepted.status_code == 200, accepted.text
        expect(page.get_by_role("status")).to_contain_text("An agent joined")
        replied = client.post(f"/api/v1/interactions/{interaction_id}/messages", headers=alice,
                              json={"body": "Hello Ana, it ships tomorrow."})
        assert replied.status_code == 201, replied.text
        expect(log).to_contain_text("Hello Ana, it ships tomorrow.")
        assert_accessible(page)
        save_screenshot(page, "widget")

        page.reload()
        log = page.get_by_role("log", name="Conversation")
        expect(log).to_contain_text("Where is my order 1234?")
        expect(log).to_contain_text("Hello Ana, it ships tomorrow.")
        expect(page.get_by_label("Email", exact=True)).to_be_hidden()  # known visitor
        expect(log.locator(".odw-msg")).to_have_count(2)  # nothing doubled
        stored = client.get(f"/api/v1/interactions/{interaction_id}/messages",
                            headers=admin).json()
        assert [m["body"] for m in stored] == ["Where is my order 1234?",
                                               "Hello Ana, it ships tomorrow."]


def test_a_message_a_busy_server_refused_is_sent_again_after_retry_after(
        server: ServerProcess, new_context: Callable[[], BrowserContext]) -> None:
    refused: list[str] = []

    def refuse_the_first_message(socket: WebSocketRoute) -> None:
        """Between the widget and the real server: the first message is answered as an
        overloaded server answers it (tests/channels/webchat/test_socket.py makes the server
        itself refuse one), the rest goes through."""
        upstream = socket.connect_to_server()

        def from_page(raw: str | bytes) -> None:
            frame = json.loads(raw)
            if frame["type"] == "message" and not refused:
                refused.append(frame["client_id"])
                socket.send(json.dumps({"type": "error", "code": "overloaded", "field": None,
                                        "message": "the server is 3.2 s behind; retry shortly",
                                        "ref": frame["client_id"], "retry_after_s": 1}))
            else:
                upstream.send(raw)

        socket.on_message(from_page)

    with httpx.Client(base_url=server.url, timeout=10) as client:
        admin = _login(client, "ann@acme.example")
        channel = next(c for c in client.get("/api/v1/channels", headers=admin).json()
                       if c["kind"] == "webchat")
        page = new_context().new_page()
        page.route_web_socket(re.compile(r".*/webchat/.*/ws$"), refuse_the_first_message)
        page.goto(f"{server.url}/widget/demo?channel={channel['id']}")
        page.get_by_role("button", name="Chat with us").click()
        page.get_by_label("Name", exact=True).fill("Ana Lima")
        page.get_by_label("Email", exact=True).fill("ana@example.com")
        page.get_by_role("button", name="Start chat").click()
        page.get_by_label("Message", exact=True).fill("Is anyone there?")
        page.get_by_role("button", name="Send", exact=True).click()
        expect(page.get_by_role("alert")).to_contain_text("very busy")
        log = page.get_by_role("log", name="Conversation")
        expect(log).not_to_contain_text("sending…")  # sent again, stored, acknowledged
        expect(page.get_by_role("alert")).to_be_empty()
        rows = [r for r in client.get("/api/v1/interactions", headers=admin).json()
                if r["channel"] == "webchat"]
        assert len(refused) == 1 and len(rows) == 1
        stored = client.get(f"/api/v1/interactions/{rows[0]['id']}/messages",
                            headers=admin).json()
        assert [(m["body"], m["external_id"]) for m in stored] == [
            ("Is anyone there?", refused[0])]
