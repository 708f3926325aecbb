"""The admin page in real Chromium: users and agents, queues with business hours, channels with
their webhook URLs, canned responses; what the page creates is what `omnidesk export` shows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from playwright.sync_api import BrowserContext, Page, expect

from tests.server import ServerProcess, omnidesk
from tests.web.conftest import PASSWORD, assert_accessible, save_screenshot, sign_in, start_center

pytestmark = pytest.mark.server
CENTER = """
tenants:
  - slug: acme
    name: Acme
    skills: [english]
    teams: [frontline]
    queues:
      - {name: support, skills: [{skill: english}]}
    users:
      - {email: ann@acme.example, name: Ann Admin, role: admin, password_env: WEB_TEST_PASSWORD}
      - {email: bob@acme.example, name: Bob, role: agent, password_env: WEB_TEST_PASSWORD}
    agents:
      - {user: bob@acme.example, team: frontline, skills: {english: 4}, capacity: {chat: 3}}
"""


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[ServerProcess]:
    process = start_center(tmp_path, database_url, CENTER)
    yield process
    process.stop()


def _admin(server: ServerProcess, new_context: Callable[[], BrowserContext]) -> Page:
    page = new_context().new_page()
    sign_in(page, server.url + "/admin", "acme", "ann@acme.example")
    expect(page.get_by_role("heading", name="Users and agents")).to_be_visible()
    return page


def test_a_queue_and_an_agent_made_on_the_page_are_in_the_export(
        server: ServerProcess, new_context: Callable[[], BrowserContext]) -> None:
    page = _admin(server, new_context)
    assert_accessible(page)

    page.get_by_role("button", name="Skills and teams").click()
    page.get_by_label("New skill name").fill("french")
    page.get_by_role("button", name="Add skill").click()
    expect(page.get_by_role("listitem").filter(has_text="french")).to_be_visible()

    page.get_by_role("button", name="Queues", exact=True).click()
    form = page.get_by_role("form", name="New queue")
    form.get_by_label("Queue name").fill("vip")
    form.get_by_label("Strategy").select_option("most_skilled")
    form.get_by_label("Service level seconds").fill("30")
    form.get_by_label("Service level goal %").fill("90")
    form.get_by_label("french minimum proficiency").fill("2")
    form.get_by_label("Time zone").fill("Europe/Paris")
    form.get_by_label("Mon", exact=True).fill("08:00-12:00, 13:00-18:00")
    form.get_by_label("Sat", exact=True).fill("09:00-13:00")
    form.get_by_label("Holidays (closed all day)").fill("2026-12-25")
    form.get_by_role("button", name="Create queue").click()
    vip = page.locator('tr[data-queue-name="vip"]')
    expect(vip).to_contain_text("most skilled")
    expect(vip).to_contain_text("90 % in 30 s")
    expect(vip).to_contain_text("mon 08:00–12:00, 13:00–18:00; sat 09:00–13:00")
    expect(vip).to_contain_text("holidays: 2026-12-25")
    assert_accessible(page)

    page.get_by_role("button", name="Users and agents").click()
    form = page.get_by_role("form", name="New user")
    form.get_by_label("Name", exact=True).fill("Zoe Zhang")
    form.get_by_label("Email", exact=True).fill("zoe@acme.example")
    form.get_by_label("Role", exact=True).select_option("agent")
    form.get_by_label("Password", exact=True).fill(PASSWORD)
    form.get_by_label("Team").select_option("frontline")
    form.get_by_label("french proficiency").fill("4")
    form.get_by_label("english proficiency").fill("2")
    form.get_by_label("chat capacity").fill("2")
    form.get_by_label("voice capacity").fill("0")
    form.get_by_label("email capacity").fill("4")
    form.get_by_role("button", name="Create user").click()
    zoe = page.locator('tr[data-user-email="zoe@acme.example"]')
    expect(zoe).to_contain_text("english 2")
    expect(zoe).to_contain_text("french 4")
    expect(zoe).to_contain_text("chat 2")

    # Editing: Bob becomes a supervisor with more chats, serving support after 30 s only.
    page.get_by_role("button", name="Edit Bob").click()
    form = page.get_by_role("form", name="Edit Bob")
    form.get_by_label("Role", exact=True).select_option("supervisor")
    form.get_by_label("chat capacity").fill("5")
    form.get_by_label("Every queue, by the queues' priority").uncheck()
    form.get_by_label("support priority").fill("1")
    form.get_by_label("support delay seconds").fill("30")
    form.get_by_role("button", name="Save user").click()
    bob = page.locator('tr[data-user-email="bob@acme.example"]')
    expect(bob).to_contain_text("supervisor")
    expect(bob).to_contain_text("chat 5")
    expect(bob).to_contain_text("serves support 1 (after 30 s)")

    exported = omnidesk("export", "--tenant", "acme", env=server.env).stdout
    tenant = yaml.safe_load(exported)["tenants"][0]
    queue = next(q for q in tenant["queues"] if q["name"] == "vip")
    assert queue["strategy"] == "most_skilled"
    assert (queue["service_level_seconds"], queue["service_level_goal_pct"]) == (30, 90)
    assert queue["skills"] == [{"skill": "french", "min_proficiency": 2}]
    assert queue["timezone"] == "Europe/Paris"
    assert queue["business_hours"] == {"mon": [["08:00", "12:00"], ["13:00", "18:00"]],
                                       "sat": [["09:00", "13:00"]]}
    assert [str(day) for day in queue["holidays"]] == ["2026-12-25"]
    user = next(u for u in tenant["users"] if u["email"] == "zoe@acme.example")
    assert (user["name"], user["role"]) == ("Zoe Zhang", "agent")
    agent = next(a for a in tenant["agents"] if a["user"] == "zoe@acme.example")
    assert agent["skills"] == {"english": 2, "french": 4}
    assert agent["team"] == "frontline"
    assert {k: v for k, v in agent["capacity"].items() if v} == {"chat": 2, "email": 4}
    assert "routing_profile" not in agent  # every queue
    bob_agent = next(a for a in tenant["agents"] if a["user"] == "bob@acme.example")
    assert bob_agent["routing_profile"] == [{"queue": "support", "delay_seconds": 30.0}]
    assert "french" in tenant["skills"]
    bob_user = next(u for u in tenant["users"] if u["email"] == "bob@acme.example")
    assert bob_user["role"] == "supervisor"
    page.get_by_role("button", name="Queues", exact=True).click()
    page.get_by_role("button", name="Edit queue vip").click()
    expect(page.get_by_role("form", name="Edit queue vip").get_by_label(
        "Mon", exact=True)).to_have_value("08:00-12:00, 13:00-18:00")
    page.evaluate("document.getElementById('notices')?.replaceChildren()")
    save_screenshot(page, "admin")


def test_channels_show_their_webhook_urls_and_canned_responses_are_managed(
        server: ServerProcess, new_context: Callable[[], BrowserContext]) -> None:
    page = _admin(server, new_context)
    page.get_by_role("button", name="Channels").click()
    form = page.get_by_role("form", name="New channel")
    form.get_by_label("Kind", exact=True).select_option("twilio")
    form.get_by_label("Channel name").fill("sms")
    form.get_by_label("Default queue").select_option("support")
    form.get_by_label("Settings (JSON)").fill(
        '{"account_sid": "AC123", "from_number": "+14155550100"}')
    form.get_by_role("button", name="Create channel").click()
    expect(page.locator(".secret .channel-secret")).not_to_be_empty()
    row = page.locator('tr[data-channel-name="sms"]')
    channel = httpx.get(f"{server.url}/api/v1/channels", headers={
        "Authorization": "Bearer " + page.evaluate(
            "JSON.parse(sessionStorage.getItem('omnidesk.session')).access_token")}).json()[0]
    messages_url = f"{server.url}/api/v1/channels/twilio/{channel['id']}/messages"
    expect(row).to_contain_text(messages_url)
    expect(row).to_contain_text(f"{server.url}/api/v1/channels/twilio/{channel['id']}/status")
    assert channel["settings"]["public_url"] == messages_url  # what Twilio signs

    form.get_by_label("Kind", exact=True).select_option("api")
    form.get_by_label("Channel name").fill("shop")
    form.get_by_role("button", name="Create channel").click()
    expect(page.locator('tr[data-channel-name="shop"]')).to_contain_text("/api/v1/channels/api/")

    form = page.get_by_role("form", name="New channel")
    form.get_by_label("Settings (JSON)").fill("{not json")
    form.get_by_label("Channel name").fill("broken")
    form.get_by_role("button", name="Create channel").click()
    expect(form.get_by_role("alert")).to_have_text("settings: not valid JSON")
    assert_accessible(page)

    page.get_by_role("button", name="Canned responses").click()
    form = page.get_by_role("form", name="New canned response")
    form.get_by_label("Shortcut").fill("hello")
    form.get_by_label("Title", exact=True).fill("Greeting")
    form.get_by_label("Text", exact=True).fill("Hello, thanks for contacting Acme! How can I help?")
    form.get_by_role("button", name="Create response").click()
    expect(page.locator('tr[data-shortcut="hello"]')).to_contain_text("Greeting")
    page.get_by_role("button", name="Edit /hello").click()
    form = page.get_by_role("form", name="Edit /hello")
    form.get_by_label("Title", exact=True).fill("Warm greeting")
    form.get_by_role("button", name="Save response").click()
    expect(page.locator('tr[data-shortcut="hello"]')).to_contain_text("Warm greeting")
    form = page.get_by_role("form", name="New canned response")
    form.get_by_label("Shortcut").fill("hello")
    form.get_by_label("Title", exact=True).fill("Twin")
    form.get_by_label("Text", exact=True).fill("Again")
    form.get_by_role("button", name="Create response").click()
    expect(form.get_by_role("alert")).to_contain_text("shortcut")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete /hello").click()
    expect(page.locator('tr[data-shortcut="hello"]')).to_have_count(0)
    assert_accessible(page)


def test_bad_business_hours_name_the_day_and_a_queue_is_edited(
        server: ServerProcess, new_context: Callable[[], BrowserContext]) -> None:
    page = _admin(server, new_context)
    page.get_by_role("button", name="Queues", exact=True).click()
    page.get_by_role("button", name="Edit queue support").click()
    form = page.get_by_role("form", name="Edit queue support")
    form.get_by_label("Tue", exact=True).fill("8-18")
    form.get_by_role("button", name="Save queue").click()
    expect(form.get_by_role("alert")).to_contain_text("business_hours.tue")
    form.get_by_label("Tue", exact=True).fill("08:00-18:00")
    form.get_by_label("Mon", exact=True).fill("08:00-18:00")
    form.get_by_label("Service level goal %").fill("85")
    form.get_by_role("button", name="Save queue").click()
    support = page.locator('tr[data-queue-name="support"]')
    expect(support).to_contain_text("85 % in 20 s")
    expect(support).to_contain_text("mon 08:00–18:00; tue 08:00–18:00")
    page.get_by_role("button", name="Users and agents").click()
    expect(page.locator('tr[data-user-email="bob@acme.example"]')).to_contain_text("english 4")
    assert_accessible(page)
