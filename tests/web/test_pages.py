"""The pages are served and a user signs in through the shared form."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.server import ServerProcess
from tests.web.conftest import assert_accessible, sign_in, start_center

pytestmark = pytest.mark.server

CENTER = """
tenants:
  - slug: acme
    name: Acme
    users:
      - {email: ann@acme.example, name: Ann Admin, role: admin, password_env: WEB_TEST_PASSWORD}
"""


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[ServerProcess]:
    process = start_center(tmp_path, database_url, CENTER)
    yield process
    process.stop()


def test_the_start_page_links_every_page(server: ServerProcess,
                                         new_context: Callable[[], BrowserContext]) -> None:
    page = new_context().new_page()
    page.goto(server.url + "/")
    for name in ("Agent desktop", "Supervisor wallboard", "Admin", "Reports"):
        expect(page.get_by_role("link", name=name)).to_be_visible()
    assert_accessible(page)


def test_a_wrong_password_is_refused_with_a_message(
        server: ServerProcess, new_context: Callable[[], BrowserContext]) -> None:
    page = new_context().new_page()
    page.goto(server.url + "/admin")
    page.get_by_label("Tenant").fill("acme")
    page.get_by_label("Email").fill("ann@acme.example")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("password")
    assert_accessible(page)


def test_signing_in_survives_a_reload(server: ServerProcess,
                                      new_context: Callable[[], BrowserContext]) -> None:
    page = new_context().new_page()
    sign_in(page, server.url + "/planner", "acme", "ann@acme.example")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()  # signed in now
    page.reload()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in")).to_have_count(0)
