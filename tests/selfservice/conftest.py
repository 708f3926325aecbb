"""Fixtures for the self-service tests: flow files in the data directory before the app starts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from omnidesk.app import create_app
from omnidesk.clock import FixedClock
from omnidesk.config import Settings
from tests.conftest import Api

# A tiny flow that asks one question and ends resolved (or not).
HELPED_FLOW = """\
id: helped_bot
version: 1
start: ask
default_queue: support
nodes:
  ask:
    type: menu
    text: "Did the FAQ answer your question?"
    options:
      - {key: "1", label: "Yes", match: ["yes"], goto: bye}
      - {key: "2", label: "No", match: ["no"], goto: sorry}
  bye: {type: end, resolved: true, text: "Glad I could help!"}
  sorry: {type: end, resolved: false, text: "Sorry about that."}
"""

# A flow that answers differently when the support queue's business hours are closed.
HOURS_FLOW = """\
id: hours_bot
version: 1
start: check
default_queue: support
nodes:
  check:
    type: condition
    branches:
      - {when: hours.support.closed, goto: closed}
    else: open
  closed: {type: end, resolved: false, text: "We are closed; we open at 9."}
  open: {type: end, resolved: false, text: "We are open."}
"""

# A flow that hands straight over, asking for a French speaker (and a skill nobody defined).
SKILLS_FLOW = """\
id: skills_bot
version: 1
start: to_agent
default_queue: support
nodes:
  to_agent: {type: queue, queue: support, skills: [french, klingon], text: "One moment."}
"""


@pytest.fixture
def flow_files(settings: Settings) -> Path:
    """`<data_dir>/flows/` with the helped_bot, hours_bot and skills_bot flows and one broken
    file (skipped, logged)."""
    folder = settings.data_dir / "flows"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "helped.yaml").write_text(HELPED_FLOW)
    (folder / "hours.yaml").write_text(HOURS_FLOW)
    (folder / "skills.yaml").write_text(SKILLS_FLOW)
    (folder / "broken.yaml").write_text("id: broken\nversion: 1\nstart: nowhere\nnodes: {}\n")
    return folder


@pytest.fixture
async def api(settings: Settings, clock: FixedClock, flow_files: Path) -> AsyncIterator[Api]:
    """The app in-process (lifespan running), started after the flow files were written."""
    app = create_app(settings, clock=clock, migrate=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Api(client=client, db=app.state.db, app=app)
