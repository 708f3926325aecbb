"""Every route, as tenant A, on tenant B's objects: 403 or 404, and lists never show B's rows.

The routes come from the served OpenAPI document, so a new route without the tenant check
(or without an entry below) fails this test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from omnidesk.app import create_app
from omnidesk.clock import FixedClock
from omnidesk.config import Settings
from tests.conftest import (
    CLOCK_START,
    PASSWORD,
    Api,
    clone_database,
    drop_database,
    make_tenant,
    run_in_thread,
    running_api,
    settings_for,
)

# A valid body per route that takes one, so the request reaches the tenant check.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("patch", "/api/v1/tenants/{tenant_id}"): {"name": "Renamed"},
    ("patch", "/api/v1/users/{user_id}"): {"name": "Renamed"},
    ("patch", "/api/v1/agents/{agent_id}"): {"name": "Renamed"},
    ("put", "/api/v1/agents/{agent_id}/state"): {"state": "available"},
    ("patch", "/api/v1/queues/{queue_id}"): {"priority": 3},
    ("patch", "/api/v1/customers/{customer_id}"): {"display_name": "Renamed"},
    ("post", "/api/v1/customers/{customer_id}/merge"): {"other_customer_id": "{own_customer}"},
    ("post", "/api/v1/interactions/{interaction_id}/messages"): {"body": "hello"},
    ("post", "/api/v1/interactions/{interaction_id}/state"): {"state": "closed"},
    ("post", "/api/v1/interactions/{interaction_id}/accept"): {},
    ("post", "/api/v1/interactions/{interaction_id}/reject"): {},
    ("post", "/api/v1/interactions/{interaction_id}/notes"): {"body": "internal"},
    ("post", "/api/v1/interactions/{interaction_id}/transfer"): {"queue_id": "{queue_id}"},
    ("post", "/api/v1/interactions/{interaction_id}/consult"): {"agent_id": "{agent_id}"},
    ("post", "/api/v1/interactions/{interaction_id}/consult/complete"): {},
    ("post", "/api/v1/interactions/{interaction_id}/consult/conference"): {},
    ("patch", "/api/v1/canned-responses/{canned_response_id}"): {"title": "Renamed"},
    ("post", "/api/v1/interactions/{interaction_id}/whisper"): {"body": "a word"},
    ("post", "/api/v1/interactions/{interaction_id}/move"): {"queue_id": "{queue_id}"},
    ("post", "/api/v1/interactions/{interaction_id}/monitor"): {"mode": "listen"},
    ("patch", "/api/v1/interactions/{interaction_id}/monitor"): {"mode": "barge"},
    ("patch", "/api/v1/channels/{channel_id}"): {"settings": {}},
    ("post", "/api/v1/channels/api/{channel_id}/messages"): {
        "customer": {"identity": {"kind": "chat", "value": "v1"}}, "text": "hi"},
    ("post", "/api/v1/channels/twilio/{channel_id}/messages"): {
        "MessageSid": "SM1", "From": "+14155550100", "To": "+14155550199", "Body": "hi"},
    ("post", "/api/v1/channels/twilio/{channel_id}/status"): {
        "MessageSid": "SM1", "MessageStatus": "delivered"},
    ("post", "/api/v1/channels/twilio_voice/{channel_id}/voice"): {
        "CallSid": "CA1", "From": "+14155550100", "To": "+14155550199",
        "CallStatus": "ringing"},
    ("post", "/api/v1/channels/twilio_voice/{channel_id}/gather"): {
        "CallSid": "CA1", "Digits": "1"},
    ("post", "/api/v1/channels/twilio_voice/{channel_id}/wait"): {
        "CallSid": "CA1", "QueuePosition": "1"},
    ("post", "/api/v1/channels/twilio_voice/{channel_id}/status"): {
        "CallSid": "CA1", "CallStatus": "completed", "SequenceNumber": "1"},
    ("post", "/api/v1/channels/whatsapp/{channel_id}/webhook"): {
        "object": "whatsapp_business_account", "entry": []},
    ("post", "/api/v1/channels/telegram/{channel_id}/webhook"): {
        "update_id": 1, "message": {"message_id": 1, "chat": {"id": 7}, "date": 0, "text": "hi"}},
    ("post", "/api/v1/channels/webchat/{channel_id}/uploads"): {},  # the raw file is the body
    ("post", "/api/v1/interactions/{interaction_id}/attachments"): {},  # the raw file too
    ("post", "/api/v1/interactions/{interaction_id}/typing"): {"typing": True},
    ("patch", "/api/v1/knowledge/articles/{article_id}"): {"title": "Renamed"},
    ("post", "/api/v1/knowledge/articles/{article_id}/uses"): {
        "interaction_id": "{interaction_id}"},
}
DENIED = {401, 403, 404}


def _routes() -> list[tuple[str, str]]:
    settings = Settings(database_url="sqlite:///unused.db", _env_file=None)  # type: ignore[call-arg]
    paths = create_app(settings, migrate=False).openapi()["paths"]
    return [(method, path) for path, item in paths.items() for method in item
            if path.startswith("/api/v1")]


ROUTES = _routes()


async def _seed(api: Api, slug: str) -> dict[str, str]:
    """A tenant with one object of every kind; returns their ids and the admin's headers."""
    tenant_id = await make_tenant(api.db, slug, admin_email=f"admin@{slug}.example")
    admin = await api.login(slug, f"admin@{slug}.example")

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await api.client.post(f"/api/v1{path}", headers=admin, json=body)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    user = await post("/users", {"email": f"agent@{slug}.example", "name": "Agent",
                                 "role": "agent", "password": PASSWORD})
    await post("/skills", {"name": f"skill-{slug}"})
    await post("/teams", {"name": f"team-{slug}"})
    queue = await post("/queues", {"name": f"queue-{slug}"})
    agent = await post("/agents", {"user_id": user["id"]})
    customer = await post("/customers", {"display_name": f"Customer {slug}"})
    own_customer = await post("/customers", {"display_name": f"Other {slug}"})
    channel = await post("/channels", {"kind": "api", "name": f"api-{slug}",
                                       "default_queue": f"queue-{slug}"})
    api_key = await post("/api-keys", {"name": f"key-{slug}"})
    canned = await post("/canned-responses", {"shortcut": "hi", "title": "Hi", "body": "Hi!"})
    disposition = await post("/dispositions", {"code": "solved", "label": "Solved"})
    interaction = await api.client.post(
        f"/api/v1/customers/{customer['id']}/merge", headers=admin,
        json={"other_customer_id": own_customer["id"]})
    assert interaction.status_code == 200
    from tests.channels.test_api_channel import message, signed

    raw, headers = signed(message(phone="+14155550100"), api.db.clock, secret=channel["secret"])
    landed = await api.client.post(f"/api/v1/channels/api/{channel['id']}/messages",
                                   content=raw, headers=headers)
    assert landed.status_code == 202, landed.text
    from tests.channels.webchat.seeding import seed_upload

    webchat = await post("/channels", {"kind": "webchat", "name": f"chat-{slug}",
                                       "default_queue": f"queue-{slug}"})
    upload_id = await seed_upload(api, webchat["id"])
    attachment = await api.client.post(
        f"/api/v1/interactions/{landed.json()['interaction_id']}/attachments",
        params={"filename": "note.txt"}, content=b"a note",
        headers={**admin, "Content-Type": "text/plain"})
    assert attachment.status_code == 201, attachment.text
    article = await post("/knowledge/articles", {"title": f"Returns at {slug}",
                                                 "status": "published", "body": "30 days."})
    return {"tenant_id": str(tenant_id), "user_id": user["id"], "agent_id": agent["id"],
            "queue_id": queue["id"], "customer_id": customer["id"],
            "interaction_id": landed.json()["interaction_id"], "channel_id": channel["id"],
            "api_key_id": api_key["id"], "canned_response_id": canned["id"],
            "disposition_id": disposition["id"],
            "own_customer": own_customer["id"], "upload_id": upload_id,
            "attachment_id": attachment.json()["id"],
            "article_id": article["id"], "authorization": admin["Authorization"]}


Seeded = tuple[dict[str, str], dict[str, str]]


@pytest.fixture(scope="module")
def seeded(template_database: str,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seeded]]:
    """Tenants alpha and bravo seeded once, into a database each test gets a copy of."""
    folder = tmp_path_factory.mktemp("isolation")
    handle, url = clone_database(template_database, folder)

    async def seed() -> Seeded:
        async with running_api(settings_for(url, folder / "data"),
                               FixedClock(CLOCK_START)) as api:
            return await _seed(api, "alpha"), await _seed(api, "bravo")

    tenants = run_in_thread(seed)
    yield handle, tenants
    drop_database(handle)


@pytest.fixture
def database_url(seeded: tuple[str, Seeded], tmp_path: Path) -> Iterator[str]:
    """A copy of the seeded database for one test."""
    handle, url = clone_database(seeded[0], tmp_path)
    yield url
    drop_database(handle)


@pytest.fixture
def tenants(seeded: tuple[str, Seeded], database_url: str) -> Seeded:
    return seeded[1]


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    return value


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
async def test_tenant_a_cannot_reach_tenant_b(
        api: Api, tenants: tuple[dict[str, str], dict[str, str]], method: str,
        path: str) -> None:
    alpha, bravo = tenants
    headers = {"Authorization": alpha["authorization"]}
    params = re.findall(r"{(\w+)}", path)
    if not params:
        if method != "get":
            return  # creation routes act only on the caller's own tenant
        response = await api.client.get(path, headers=headers)
        assert response.status_code in {200, 403}, response.text
        for name, value in bravo.items():
            if name != "authorization":
                assert value not in response.text, f"{path} leaks bravo's {name}"
        return
    unknown = [name for name in params if name not in bravo]
    assert not unknown, f"add {unknown} to the seeded objects of this test"
    url = path.format(**{name: bravo[name] for name in params})
    body = BODIES.get((method, path))
    assert body is not None or method in ("get", "delete"), \
        f"add a valid example body for {method.upper()} {path} to BODIES"
    response = await api.client.request(method.upper(), url, headers=headers,
                                        json=_fill(body, alpha) if body else None)
    assert response.status_code in DENIED, f"{method.upper()} {path}: {response.status_code}"
    assert response.json()["error"]["code"] in {"not_found", "forbidden", "unauthorized"}


async def test_merging_another_tenants_customer_is_not_found(
        api: Api, tenants: tuple[dict[str, str], dict[str, str]]) -> None:
    alpha, bravo = tenants
    response = await api.client.post(
        f"/api/v1/customers/{alpha['customer_id']}/merge",
        headers={"Authorization": alpha["authorization"]},
        json={"other_customer_id": bravo["customer_id"]})
    assert response.status_code == 404
    assert response.json()["error"]["field"] == "other_customer_id"


async def test_tenant_b_objects_are_untouched_after_the_attempts(
        api: Api, tenants: tuple[dict[str, str], dict[str, str]]) -> None:
    alpha, bravo = tenants
    await api.client.patch(f"/api/v1/queues/{bravo['queue_id']}",
                           headers={"Authorization": alpha["authorization"]},
                           json={"priority": 9})
    queue = await api.client.get(f"/api/v1/queues/{bravo['queue_id']}",
                                 headers={"Authorization": bravo["authorization"]})
    assert queue.json()["priority"] == 0
