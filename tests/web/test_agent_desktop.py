"""The agent desktop in real Chromium: an offer rings with the screen pop, the agent accepts,
replies, uses a canned response, writes a note, survives a reload and wraps up; an email is
answered and transferred to a colleague in another browser."""

from __future__ import annotations

import json
import re
import smtplib
import time
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from playwright.sync_api import BrowserContext, Page, WebSocketRoute, expect

from omnidesk.channels.api_channel.signature import sign
from tests.server import ServerProcess, free_port
from tests.web.conftest import PASSWORD, assert_accessible, save_screenshot, sign_in, start_center

pytestmark = pytest.mark.server

SECRET = "desktop-test-secret-0123456789"
SUPPORT_ADDRESS = "support@acme.example"
CENTER = """
tenants:
  - slug: acme
    name: Acme
    queues:
      - {name: support, channel: chat, offer_timeout_seconds: 120}
      - {name: mail, channel: email, offer_timeout_seconds: 120}
    users:
      - {email: admin@acme.example, name: Ann Admin, role: admin, password_env: WEB_TEST_PASSWORD}
      - {email: ada@acme.example, name: Ada Lovelace, role: agent,
         password_env: WEB_TEST_PASSWORD}
      - {email: bo@acme.example, name: Bo Diddley, role: agent, password_env: WEB_TEST_PASSWORD}
    agents:
      - {user: ada@acme.example}
      - {user: bo@acme.example}
    channels:
      - {name: crm, kind: api, default_queue: support, secret: %(secret)s}
      - name: support-mail
        kind: email
        default_queue: mail
        settings: {address: %(address)s, from_name: Acme Support, smtp_host: 127.0.0.1,
                   smtp_port: %(relay)d, starttls: false}
    canned_responses:
      - shortcut: thanks
        title: Thank the customer
        body: "Thanks {{customer.first_name}}, {{agent.first_name}} here. I am on it."
      - shortcut: refund
        title: Refund policy
        body: Refunds reach your account within 5 working days.
    dispositions:
      - {code: resolved, label: Resolved}
      - {code: refund, label: Refund issued}
      - {code: callback, label: Call back later, resolved: false}
"""


class Relay:
    """The outbound SMTP relay the email channel sends agents' replies to."""

    def __init__(self) -> None:
        self.mails: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.mails.append(envelope)
        return "250 2.0.0 OK"


@pytest.fixture
def relay() -> Iterator[tuple[Relay, int]]:
    keeper = Relay()
    controller = Controller(keeper, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield keeper, controller.port
    controller.stop()


@pytest.fixture
def server(tmp_path: Path, database_url: str,
           relay: tuple[Relay, int]) -> Iterator[ServerProcess]:
    center = CENTER % {"secret": SECRET, "address": SUPPORT_ADDRESS, "relay": relay[1]}
    process = start_center(tmp_path, database_url, center)
    yield process
    process.stop()


class Center:
    """The server's API, as the test's own eyes (an admin)."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.client = httpx.Client(base_url=server.url, timeout=10)
        token = self.client.post("/api/v1/auth/login", json={
            "tenant": "acme", "email": "admin@acme.example", "password": PASSWORD}).json()
        self.headers = {"Authorization": f"Bearer {token['access_token']}"}
        channels = self.get("/api/v1/channels")
        self.crm = next(c["id"] for c in channels if c["name"] == "crm")

    def get(self, path: str) -> Any:
        response = self.client.get(path, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    def customer_writes(self, text: str, email: str = "ana@example.com",
                        name: str = "Ana Lima") -> str:
        """A message through the signed API channel; returns the interaction id."""
        raw = json.dumps({"customer": {"identity": {"kind": "email", "value": email},
                                       "name": name}, "text": text}).encode()
        stamp = str(int(time.time()))
        response = self.client.post(f"/api/v1/channels/api/{self.crm}/messages", content=raw,
                                    headers={"Content-Type": "application/json",
                                             "X-Omnidesk-Timestamp": stamp,
                                             "X-Omnidesk-Signature": sign(SECRET, stamp, raw)})
        assert response.status_code == 202, response.text
        return str(response.json()["interaction_id"])

    def agent_id(self, email: str) -> str:
        users = {u["id"]: u["email"] for u in self.get("/api/v1/users")}
        return next(a["id"] for a in self.get("/api/v1/agents") if users[a["user_id"]] == email)

    def eventually(self, check: Callable[[], bool], what: str, seconds: float = 10) -> None:
        deadline = time.monotonic() + seconds
        while not check():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.1)


@pytest.fixture
def center(server: ServerProcess) -> Iterator[Center]:
    api = Center(server)
    yield api
    api.client.close()


def open_desktop(new_context: Callable[[], BrowserContext], server: ServerProcess,
                 email: str) -> Page:
    """Sign in to /agent and go available."""
    page = new_context().new_page()
    sign_in(page, server.url + "/agent", "acme", email)
    expect(page.get_by_role("heading", name="omnidesk agent")).to_be_visible()
    page.get_by_label("State").select_option("available|")
    expect(page.locator("body")).to_have_attribute("data-agent-state", "available")
    return page


def conversation(page: Page) -> Any:
    return page.get_by_role("main", name="Conversation")


def test_an_agent_takes_a_contact_from_offer_to_wrap_up(
        server: ServerProcess, center: Center,
        new_context: Callable[[], BrowserContext]) -> None:
    customer = center.client.post("/api/v1/customers", headers=center.headers, json={
        "display_name": "Ana Lima", "attributes": {"plan": "Gold"},
        "identities": [{"kind": "email", "value": "ana@example.com"}]})
    assert customer.status_code == 201
    page = open_desktop(new_context, server, "ada@acme.example")
    expect(page.get_by_role("heading", name="No conversation open")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    assert_accessible(page)

    interaction_id = center.customer_writes("My parcel 1234 never arrived")
    offer = page.get_by_role("region", name="api Ana Lima")
    expect(offer).to_contain_text("My parcel 1234 never arrived")
    expect(offer).to_contain_text("ana@example.com")
    expect(offer).to_contain_text("support")
    expect(offer).to_contain_text(re.compile(r"Expires in [0-9]:[0-9]{2}"))
    expect(page.locator("body")).to_have_attribute("data-ringing", "true")
    page.wait_for_function("Number(document.body.dataset.rings || 0) >= 1")  # WebAudio rang
    expect(page.get_by_role("complementary", name="Customer")).to_contain_text("Gold")
    save_screenshot(page, "agent-desktop-offer")
    assert_accessible(page)

    page.keyboard.press("Alt+a")
    expect(conversation(page).get_by_role("heading", name="Ana Lima")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-ringing", "false")
    expect(page.get_by_role("region", name="api Ana Lima")).to_have_count(0)
    expect(conversation(page).get_by_role("log")).to_contain_text("My parcel 1234 never arrived")

    reply = conversation(page).get_by_label("Reply to Ana Lima")
    reply.fill("Hello Ana, let me check the parcel.")
    reply.press("Control+Enter")
    expect(conversation(page).get_by_role("log")).to_contain_text("let me check the parcel")
    expect(reply).to_have_value("")

    reply.press_sequentially("/tha")
    canned = page.get_by_role("option", name=re.compile(r"\/thanks Thank the customer"))
    expect(canned).to_be_visible()
    reply.press("Tab")
    expect(reply).to_have_value("Thanks Ana, Ada here. I am on it.")
    reply.press("Control+Enter")

    def stored() -> list[tuple[str, str]]:
        messages = center.get(f"/api/v1/interactions/{interaction_id}/messages")
        return [(m["author_kind"], m["body"]) for m in messages]

    center.eventually(lambda: ("agent", "Thanks Ana, Ada here. I am on it.") in stored(),
                      "the canned reply stored")
    assert ("agent", "Hello Ana, let me check the parcel.") in stored()

    center.customer_writes("Thank you, it is order 1234")
    expect(conversation(page).get_by_role("log")).to_contain_text("it is order 1234")

    page.keyboard.press("Alt+h")
    expect(conversation(page).get_by_role("button", name="Resume")).to_be_visible()
    center.eventually(lambda: center.get(f"/api/v1/interactions/{interaction_id}")["state"]
                      == "on_hold", "the hold stored")
    page.keyboard.press("Alt+h")
    expect(conversation(page).get_by_role("button", name="Hold")).to_be_enabled()

    page.keyboard.press("Alt+n")
    note = conversation(page).get_by_label("Internal note on Ana Lima's conversation")
    note.fill("VIP customer: offer express shipping")
    note.press("Control+Enter")
    expect(conversation(page).get_by_role("log")).to_contain_text("Internal note · Ada Lovelace")
    notes = center.get(f"/api/v1/interactions/{interaction_id}/notes")
    assert [n["body"] for n in notes] == ["VIP customer: offer express shipping"]
    assert all("express shipping" not in body for _, body in stored())

    page.reload()
    log = conversation(page).get_by_role("log")
    expect(log).to_contain_text("let me check the parcel")
    expect(log).to_contain_text("it is order 1234")
    expect(log).to_contain_text("VIP customer: offer express shipping")
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    center.customer_writes("Are you still there?")
    expect(log).to_contain_text("Are you still there?")  # live again after the reload
    conversation(page).get_by_label("Reply to Ana Lima").fill("Yes: the parcel leaves today.")
    save_screenshot(page, "agent-desktop")
    assert_accessible(page)

    conversation(page).get_by_role("button", name="Wrap up").click()
    expect(page.get_by_label("State")).to_have_value("after_call_work|wrap_up")
    expect(conversation(page)).to_contain_text("after-contact work")
    assert_accessible(page)
    disposition = conversation(page).get_by_label("Disposition")
    expect(disposition.locator("option")).to_have_text(
        ["Choose…", "Resolved", "Refund issued", "Call back later"])  # the tenant's own
    disposition.select_option("callback")
    expect(conversation(page).get_by_label("Resolved")).not_to_be_checked()
    disposition.select_option("resolved")
    expect(conversation(page).get_by_label("Resolved")).to_be_checked()
    conversation(page).get_by_role("button", name="Finish wrap-up").click()
    expect(page.get_by_role("heading", name="No conversation open")).to_be_visible()
    expect(page.get_by_label("State")).to_have_value("available|")
    final = center.get(f"/api/v1/interactions/{interaction_id}")
    assert final["state"] == "closed"
    closed = [e for e in center.get("/api/v1/events?limit=1000")
              if e["subject"] == interaction_id and e["type"] == "interaction.closed"]
    assert closed[0]["payload"]["disposition"] == "resolved"
    assert closed[0]["payload"]["resolved"] is True


def _send_mail(server: ServerProcess, subject: str, text: str,
               attachment: tuple[str, bytes] | None = None) -> None:
    mail = EmailMessage()
    mail["From"] = "Carl Customer <carl@example.com>"
    mail["To"] = SUPPORT_ADDRESS
    mail["Subject"] = subject
    mail["Message-ID"] = "<first-mail@example.com>"
    mail.set_content(text)
    if attachment is not None:
        mail.add_attachment(attachment[1], maintype="application", subtype="pdf",
                            filename=attachment[0])
    with smtplib.SMTP("127.0.0.1", int(server.env["OMNIDESK_SMTP_PORT"]), timeout=10) as smtp:
        smtp.send_message(mail)


def test_an_email_is_answered_and_transferred_to_a_colleague(
        server: ServerProcess, center: Center, relay: tuple[Relay, int],
        new_context: Callable[[], BrowserContext]) -> None:
    ada = open_desktop(new_context, server, "ada@acme.example")
    _send_mail(server, "Invoice 77 is wrong", "Hello,\nmy invoice 77 charges me twice.\nCarl")
    offer = ada.get_by_role("region", name="email Carl Customer")
    expect(offer).to_contain_text("Invoice 77 is wrong")
    offer.get_by_role("button", name="Accept").click()
    view = conversation(ada)
    expect(view).to_contain_text("Invoice 77 is wrong")
    expect(view.locator(".email-card")).to_contain_text("charges me twice")
    view.get_by_label("Reply to Carl Customer").fill("Dear Carl, we are checking invoice 77.")
    view.get_by_role("button", name="Send").click()
    center.eventually(lambda: any(b"checking invoice 77" in (m.original_content or b"")
                                  for m in relay[0].mails), "the reply at the relay")
    sent = next(m for m in relay[0].mails if b"checking invoice 77" in (m.original_content or b""))
    assert sent.rcpt_tos == ["carl@example.com"]
    assert b"Subject: Re: Invoice 77 is wrong" in (sent.original_content or b"")
    expect(view.get_by_role("log")).to_contain_text("Delivered")

    bo = open_desktop(new_context, server, "bo@acme.example")
    view.get_by_role("button", name="Transfer").click()
    dialog = ada.get_by_role("dialog", name="Transfer Carl Customer")
    dialog.get_by_label("An agent").check()
    dialog.get_by_label("Agent (available ones can take it)").select_option(
        label="Bo Diddley — available")
    dialog.get_by_label("Note for whoever takes it (internal)").fill("Billing issue, refund once")
    assert_accessible(ada)
    dialog.get_by_role("button", name="Transfer").click()
    expect(ada.get_by_role("heading", name="No conversation open")).to_be_visible()

    ringing = bo.get_by_role("region", name="email Carl Customer")
    expect(ringing).to_contain_text("from a colleague")
    bo.keyboard.press("Alt+a")
    log = conversation(bo).get_by_role("log")
    expect(log).to_contain_text("we are checking invoice 77")
    expect(log).to_contain_text("Billing issue, refund once")
    interaction = center.get("/api/v1/interactions?channel=email")[0]
    assert (interaction["state"], interaction["agent_id"]) == (
        "connected", center.agent_id("bo@acme.example"))
    assert_accessible(bo)


def test_a_mails_file_downloads_and_the_reply_carries_one(
        server: ServerProcess, center: Center, relay: tuple[Relay, int],
        new_context: Callable[[], BrowserContext], tmp_path: Path) -> None:
    receipt = b"%PDF-1.4\n" + bytes(range(256)) + b"\n%%EOF\n"
    ada = open_desktop(new_context, server, "ada@acme.example")
    _send_mail(server, "Receipt attached", "Hello,\nthe receipt is attached.\nCarl",
               attachment=("receipt.pdf", receipt))
    ada.get_by_role("region", name="email Carl Customer").get_by_role(
        "button", name="Accept").click()
    view = conversation(ada)
    with ada.expect_download() as download:
        view.get_by_role("button", name="Download receipt.pdf").click()
    assert download.value.suggested_filename == "receipt.pdf"
    assert Path(download.value.path()).read_bytes() == receipt

    note = tmp_path / "refund-note.txt"
    note.write_bytes(b"Refund of 4.90 EUR issued.\n")
    view.get_by_label("Attach files").set_input_files(note)
    expect(view.get_by_role("list", name="Files to send")).to_contain_text("refund-note.txt")
    assert_accessible(ada)
    view.get_by_label("Reply to Carl Customer").fill("Dear Carl, the refund note is attached.")
    view.get_by_role("button", name="Send").click()

    def relayed() -> list[Envelope]:
        return [m for m in relay[0].mails if b"refund note is attached" in
                (m.original_content or b"")]

    center.eventually(lambda: bool(relayed()), "the reply at the relay")
    sent = message_from_bytes(relayed()[0].original_content or b"", policy=policy.default)
    assert isinstance(sent, EmailMessage)
    assert [(part.get_filename(), part.get_payload(decode=True))
            for part in sent.iter_attachments()] == [
        ("refund-note.txt", b"Refund of 4.90 EUR issued.\n")]
    expect(view.get_by_role("list", name="Files to send")).to_be_empty()
    expect(view.get_by_role("log")).to_contain_text("Download refund-note.txt")


RECONNECT_MS = 20_000
"""How long a desktop may take to be live again after the server restarts: its stream retries
with a doubling back-off of up to 10 s (common/omnidesk.js), so the attempt after the server is
back can come seconds later on a slow machine."""


def talking_to_ana(new_context: Callable[[], BrowserContext], server: ServerProcess,
                   center: Center) -> tuple[Page, str, Any]:
    """Ada's desktop, with Ana's contact accepted: the page, the interaction, its log."""
    page = open_desktop(new_context, server, "ada@acme.example")
    interaction_id = center.customer_writes("Hello, anyone there?")
    page.get_by_role("region", name="api Ana Lima").get_by_role("button", name="Accept").click()
    log = conversation(page).get_by_role("log")
    expect(log).to_contain_text("Hello, anyone there?")
    return page, interaction_id, log


def test_a_dropped_connection_resumes_without_losing_a_message(
        server: ServerProcess, center: Center,
        new_context: Callable[[], BrowserContext]) -> None:
    page, interaction_id, log = talking_to_ana(new_context, server, center)

    center.server.kill()  # the network (and the server) goes away
    expect(page.get_by_role("status").filter(has_text="Reconnecting")).to_be_visible()
    center.server.start()
    center.customer_writes("I am still waiting")  # lands while the desktop is reconnecting
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible(
        timeout=RECONNECT_MS)
    expect(log).to_contain_text("I am still waiting")
    conversation(page).get_by_label("Reply to Ana Lima").fill("Sorry, I am here.")
    conversation(page).get_by_role("button", name="Send").click()
    center.eventually(lambda: "Sorry, I am here." in [
        m["body"] for m in center.get(f"/api/v1/interactions/{interaction_id}/messages")],
        "the reply after the reconnect")
    expect(log.get_by_text("I am still waiting")).to_have_count(1)  # once, not twice


def test_a_desktop_too_far_behind_to_replay_reloads_what_it_shows(
        server: ServerProcess, center: Center,
        new_context: Callable[[], BrowserContext]) -> None:
    page, interaction_id, log = talking_to_ana(new_context, server, center)
    held = [True]  # while set, the desktop's reconnects fail before they reach the server

    def reconnect(socket: WebSocketRoute) -> None:
        if held[0]:
            socket.close()
        else:
            socket.connect_to_server()

    page.route_web_socket(re.compile(r".*/api/v1/stream$"), reconnect)
    center.server.kill()
    expect(page.get_by_role("status").filter(has_text="Reconnecting")).to_be_visible()
    center.server.env["OMNIDESK_STREAM_REPLAY_MAX_EVENTS"] = "0"  # any event missed: resync
    center.server.start()
    center.customer_writes("I am still waiting")  # an event the desktop will not be sent
    held[0] = False
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible(
        timeout=RECONNECT_MS)
    expect(log).to_contain_text("I am still waiting")  # read again, not replayed
    expect(log.get_by_text("I am still waiting")).to_have_count(1)
    stored = page.evaluate("JSON.parse(sessionStorage.getItem('omnidesk.desktop')).seq")
    skipped = max(e["seq"] for e in center.get("/api/v1/events?limit=1000")
                  if e["subject"] == interaction_id)
    assert stored >= skipped  # a reload of the page resumes after what was skipped


def test_two_conversations_at_once_and_a_consult_answered_by_a_supervisor(
        server: ServerProcess, center: Center,
        new_context: Callable[[], BrowserContext]) -> None:
    page = open_desktop(new_context, server, "ada@acme.example")
    first = center.customer_writes("First question", email="ana@example.com")
    expect(page.get_by_role("region", name="api Ana Lima")).to_be_visible()
    page.keyboard.press("Alt+a")
    expect(conversation(page).get_by_role("log")).to_contain_text("First question")
    center.customer_writes("Second question", email="zoe@example.com", name="Zoe Park")
    page.get_by_role("region", name="api Zoe Park").get_by_role("button", name="Accept").click()
    chats = page.get_by_role("list", name="My conversations").get_by_role("button")
    expect(chats).to_have_count(2)
    expect(conversation(page).get_by_role("log")).to_contain_text("Second question")
    page.keyboard.press("Alt+1")
    expect(conversation(page).get_by_role("log")).to_contain_text("First question")
    center.customer_writes("Anything new?", email="zoe@example.com", name="Zoe Park")
    expect(chats.nth(1)).to_contain_text("1 new")  # unread on the other conversation

    page.keyboard.press("Alt+c")
    dialog = page.get_by_role("dialog", name="Consult a supervisor")
    dialog.get_by_label("Your question").fill("Can I offer a voucher here?")
    assert_accessible(page)
    dialog.get_by_role("button", name="Ask").click()
    expect(conversation(page).get_by_role("log")).to_contain_text("Consult (to a supervisor)")
    asked = center.get(f"/api/v1/interactions/{first}/notes")
    assert [(n["kind"], n["body"]) for n in asked] == [("consult", "Can I offer a voucher here?")]
    answer = center.client.post(f"/api/v1/interactions/{first}/notes", headers=center.headers,
                                json={"body": "Yes, 10 % at most."})
    assert answer.status_code == 201
    expect(conversation(page).get_by_role("log")).to_contain_text("Yes, 10 % at most.")
    expect(conversation(page).get_by_role("log")).to_contain_text("Internal note · Ann Admin")
