"""Browser tests: the real server process, real Chromium (Debian's) driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.server import ServerProcess, free_port, omnidesk

pytestmark = pytest.mark.server
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1440, "height": 900}
SERIOUS = {"serious", "critical"}
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--autoplay-policy=no-user-gesture-required"]
PASSWORD = "web-test-password"  # the test center's users


def chromium_path() -> str:
    """Debian's Chromium (Playwright's own browser download cannot reach its host here)."""
    path = os.environ.get("OMNIDESK_TEST_CHROMIUM") or shutil.which("chromium")
    if path is None:
        pytest.fail("Chromium is missing: run scripts/install-test-peers")
    return path


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Playwright's driver, per module: its event loop must be gone before async tests run."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
    yield browser
    browser.close()


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Callable[[], BrowserContext]]:
    """Open browser contexts (separate cookies and storage: one per person); all closed after."""
    contexts: list[BrowserContext] = []

    def open_context() -> BrowserContext:
        context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


def start_center(tmp_path: Path, database_url: str, center_yaml: str,
                 before_start: Callable[[], None] | None = None) -> ServerProcess:
    """Apply a center file to a fresh database, run before_start (seeding), start the server."""
    env = {**os.environ, "OMNIDESK_DATA_DIR": str(tmp_path / "data"),
           "OMNIDESK_DATABASE_URL": database_url,
           "OMNIDESK_SMTP_PORT": str(free_port())}
    env.pop("OMNIDESK_REDIS_URL", None)
    center = tmp_path / "center.yaml"
    center.write_text(center_yaml)
    omnidesk("apply", str(center), env={**env, "WEB_TEST_PASSWORD": PASSWORD})
    if before_start is not None:
        before_start()
    server = ServerProcess(env=env, log_path=tmp_path / "server.log")
    server.start()
    return server


def sign_in(page: Page, url: str, tenant: str, email: str) -> None:
    """Open a page and sign in through its form."""
    page.goto(url)
    page.get_by_label("Tenant").fill(tenant)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def assert_accessible(page: Page) -> None:
    """axe-core finds no serious or critical violation on the page as it is now."""
    results = Axe().run(page)
    serious = [violation for violation in results.response["violations"]
               if violation.get("impact") in SERIOUS]
    assert not serious, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:5]) for v in serious)


def save_screenshot(page: Page, name: str) -> Path:
    """A 1440×900 screenshot for docs/ and the README."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
