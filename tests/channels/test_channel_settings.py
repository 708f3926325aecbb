"""A channel's kind and settings are checked when it is created or changed, not when the first
webhook or reply arrives: 422 naming `kind` or `settings.<name>`."""

from __future__ import annotations

from typing import Any

import pytest

from omnidesk.channels.models import Channel
from omnidesk.channels.provider_webhook import settings_of
from omnidesk.channels.registry import known_kinds, validate_settings
from omnidesk.channels.whatsapp.config import WhatsAppSettings
from tests.conftest import Api


async def _create(api: Api, admin: dict[str, str], kind: str, values: dict[str, Any],
                  name: str = "channel") -> Any:
    return await api.client.post("/api/v1/channels", headers=admin, json={
        "kind": kind, "name": name, "default_queue": "support", "settings": values})


def test_every_built_in_kind_is_known() -> None:
    assert {"api", "email", "telegram", "twilio", "voice", "webchat",
            "whatsapp"} <= set(known_kinds())


async def test_an_unknown_kind_is_422_naming_kind_and_the_known_kinds(
        api: Api, admin: dict[str, str]) -> None:
    response = await _create(api, admin, "fax", {})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == "kind"
    assert error["message"].startswith("kind: unknown channel kind 'fax'; known: api, email")
    assert "whatsapp" in error["message"]
    assert (await api.client.get("/api/v1/channels", headers=admin)).json() == []


@pytest.mark.parametrize(("kind", "values", "field", "message"), [
    ("whatsapp", {"phone_number_id": "1065", "api_version": "21"}, "settings.api_version",
     "String should match pattern"),
    ("whatsapp", {"access_token_env": "my token"}, "settings.access_token_env",
     "String should match pattern"),
    ("twilio", {"acount_sid": "AC1"}, "settings.acount_sid", "Extra inputs are not permitted"),
    ("telegram", {"bot_token": "123:abc"}, "settings.bot_token",
     "Extra inputs are not permitted"),
    ("email", {"from_name": "Support"}, "settings.address", "Field required"),
    ("email", {"address": "not an address"}, "settings.address", "email"),
    ("email", {"address": "support@acme.example",
               "imap": {"host": "mail.acme.example", "username": "u", "password_env": "P",
                        "port": 0}}, "settings.imap.port", "greater than or equal to 1"),
    ("webchat", {"max_upload_bytes": 0}, "settings.max_upload_bytes",
     "greater than or equal to 1"),
    ("webchat", {"topics": ["Orders", ""]}, "settings.topics.1", "at least 1 character"),
    ("voice", {"ring_seconds": -1}, "settings.ring_seconds", "greater than or equal to 0"),
    ("voice", {"record": "sometimes"}, "settings.record", "valid boolean"),
])
async def test_bad_settings_are_422_naming_the_setting(
        api: Api, admin: dict[str, str], kind: str, values: dict[str, Any], field: str,
        message: str) -> None:
    response = await _create(api, admin, kind, values)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("invalid", field)
    assert error["message"].startswith(f"{field}: ") and message in error["message"]
    assert (await api.client.get("/api/v1/channels", headers=admin)).json() == []


@pytest.mark.parametrize(("kind", "values"), [
    ("whatsapp", {"phone_number_id": "106540352242922", "access_token_env": "WA_TOKEN",
                  "api_version": "v22.0"}),
    ("twilio", {"account_sid": "AC1", "public_url": "https://example.com/x/messages"}),
    ("telegram", {"bot_token_env": "TG_TOKEN"}),
    ("webchat", {"title": "Help", "topics": ["Orders"], "flow": "webshop_support",
                 "order_api": "https://orders.example.com"}),
    ("voice", {"numbers": ["+49 30 100"], "ring_seconds": 10, "flow": "phone_ivr"}),
    ("api", {"survey": "csat", "anything": {"the": "flow reads"}}),
    ("api", {}),
])
async def test_good_settings_are_stored_as_given(
        api: Api, admin: dict[str, str], kind: str, values: dict[str, Any]) -> None:
    response = await _create(api, admin, kind, values)
    assert response.status_code == 201, response.text
    assert response.json()["settings"] == values  # no defaults filled in


async def test_settings_are_stored_as_the_model_reads_them(
        api: Api, admin: dict[str, str]) -> None:
    response = await _create(api, admin, "email", {"address": "Support@Acme.Example",
                                                   "smtp_port": "2525", "flow": "kb_faq"})
    assert response.status_code == 201, response.text
    assert response.json()["settings"] == {"address": "support@acme.example",
                                           "smtp_port": 2525, "flow": "kb_faq"}


async def test_any_kind_may_carry_the_shared_settings(api: Api, admin: dict[str, str]) -> None:
    shared = {"flow": "kb_faq", "flow_version": 2, "survey": {"kind": "nps"}}
    response = await _create(api, admin, "whatsapp", {"phone_number_id": "1065", **shared})
    assert response.status_code == 201, response.text
    channel = Channel(kind="whatsapp", settings=response.json()["settings"])
    assert settings_of(channel, WhatsAppSettings).phone_number_id == "1065"


async def test_a_change_to_bad_settings_is_422_and_changes_nothing(
        api: Api, admin: dict[str, str]) -> None:
    created = await _create(api, admin, "telegram", {"bot_token_env": "TG_TOKEN"})
    url = f"/api/v1/channels/{created.json()['id']}"
    bad = await api.client.patch(url, headers=admin,
                                 json={"settings": {"bot_token_env": "lower case"}})
    assert bad.status_code == 422, bad.text
    assert bad.json()["error"]["field"] == "settings.bot_token_env"
    assert (await api.client.get(url, headers=admin)).json()["settings"] == {
        "bot_token_env": "TG_TOKEN"}
    good = await api.client.patch(url, headers=admin,
                                  json={"settings": {"api_base_url": "http://127.0.0.1:9"}})
    assert good.status_code == 200, good.text
    assert good.json()["settings"] == {"api_base_url": "http://127.0.0.1:9"}


def test_an_api_channel_keeps_any_setting_a_flow_may_read() -> None:
    assert validate_settings("api", {"x": [1, 2]}) == {"x": [1, 2]}
