"""PATCH /api/v1/channels/{id}: admins change a channel's default queue, settings or secret."""

from __future__ import annotations

from typing import Any

from tests.conftest import PASSWORD, Api, make_tenant


async def _setup(api: Api) -> tuple[dict[str, str], dict[str, Any]]:
    await make_tenant(api.db, "acme", admin_email="admin@acme.example")
    admin = await api.login("acme", "admin@acme.example")
    for name in ("support", "sales"):
        created = await api.client.post("/api/v1/queues", headers=admin, json={"name": name})
        assert created.status_code == 201
    channel = await api.client.post("/api/v1/channels", headers=admin, json={
        "kind": "twilio", "name": "sms", "default_queue": "support",
        "settings": {"account_sid": "AC1"}})
    assert channel.status_code == 201
    return admin, channel.json()


async def test_an_admin_changes_settings_and_the_default_queue_stays_unless_named(
        api: Api) -> None:
    admin, channel = await _setup(api)
    url = f"/api/v1/channels/{channel['id']}"
    url_setting = {"account_sid": "AC1", "public_url": "https://example.com/x/messages"}
    changed = await api.client.patch(url, headers=admin, json={"settings": url_setting})
    assert changed.status_code == 200, changed.text
    assert changed.json()["settings"] == url_setting
    assert changed.json()["default_queue_id"] == channel["default_queue_id"]
    moved = await api.client.patch(url, headers=admin, json={"default_queue": "sales"})
    queues = {q["name"]: q["id"] for q in
              (await api.client.get("/api/v1/queues", headers=admin)).json()}
    assert moved.json()["default_queue_id"] == queues["sales"]
    assert moved.json()["settings"] == url_setting
    events = (await api.client.get("/api/v1/events", headers=admin)).json()
    assert [e["payload"]["default_queue"] for e in events if e["type"] == "channel.updated"] == [
        "support", "sales"]


async def test_bad_channel_changes_name_the_field_and_agents_may_not(api: Api) -> None:
    admin, channel = await _setup(api)
    url = f"/api/v1/channels/{channel['id']}"
    unknown = await api.client.patch(url, headers=admin, json={"default_queue": "nope"})
    assert unknown.status_code in (404, 422)
    assert unknown.json()["error"]["field"] == "default_queue"
    short = await api.client.patch(url, headers=admin, json={"secret": "short"})
    assert short.status_code == 422
    assert "secret" in short.json()["error"]["field"]
    await api.client.post("/api/v1/users", headers=admin, json={
        "email": "a@acme.example", "name": "A", "role": "agent", "password": PASSWORD})
    agent = await api.login("acme", "a@acme.example")
    denied = await api.client.patch(url, headers=agent, json={"settings": {}})
    assert denied.status_code == 403
