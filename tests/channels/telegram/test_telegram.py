"""Telegram bots: the webhook checked by its secret-token header, replies by sendMessage."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.channels.conversation import events, interactions, messages, reply_and_settle
from tests.channels.loopback import Recorder, serve
from tests.conftest import Api

FIXTURES = Path(__file__).parent / "fixtures"
WEBHOOK_SECRET = "b7Yq2-webhook_secret_token-9xZ"  # what setWebhook got as secret_token
BOT_TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
TOKEN_ENV = "OMNIDESK_TEST_TELEGRAM_TOKEN"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fake_bot_api(recorder: Recorder) -> Starlette:
    """The Bot API: the token in the path, JSON parameters, {"ok": true, "result": …}."""

    async def send_message(request: Request) -> JSONResponse:
        seen = await recorder.note(request)
        if request.path_params["token"] != BOT_TOKEN:
            return JSONResponse(json.loads(fixture("error_unauthorized.json")), 401)
        body = json.loads(seen.body)
        if seen.headers.get("content-type") != "application/json" or \
                body.get("chat_id") != 527301964 or not body.get("text"):
            return JSONResponse(json.loads(fixture("error_chat_not_found.json")), 400)
        return JSONResponse(json.loads(fixture("send_message_response.json")))

    return Starlette(routes=[Route("/bot{token}/sendMessage", send_message, methods=["POST"])])


@pytest.fixture
async def provider(recorder: Recorder) -> AsyncIterator[str]:
    async with serve(fake_bot_api(recorder)) as base_url:
        yield base_url


@pytest.fixture
async def channel(api: Api, admin: dict[str, str], provider: str,
                  monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(TOKEN_ENV, BOT_TOKEN)
    created = await api.client.post("/api/v1/channels", headers=admin, json={
        "kind": "telegram", "name": "telegram", "default_queue": "support",
        "secret": WEBHOOK_SECRET,
        "settings": {"bot_token_env": TOKEN_ENV, "api_base_url": provider}})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def post_update(api: Api, channel_id: str, body: bytes,
                      secret: str | None = WEBHOOK_SECRET) -> Any:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return await api.client.post(f"/api/v1/channels/telegram/{channel_id}/webhook",
                                 content=body, headers=headers)


async def test_a_message_to_the_bot_creates_the_customer_and_a_queued_interaction(
        api: Api, admin: dict[str, str], channel: str) -> None:
    response = await post_update(api, channel, fixture("text_update.json"))
    assert response.status_code == 200, response.text
    assert response.json() == {"stored": True}
    (interaction,) = await interactions(api, admin)
    assert (interaction["channel"], interaction["state"]) == ("telegram", "queued")
    (message,) = await messages(api, admin, interaction["id"])
    assert (message["body"], message["external_id"]) == (
        "Hi, my order 1234 has not arrived", "1187")
    customer = (await api.client.get(f"/api/v1/customers/{interaction['customer_id']}",
                                     headers=admin)).json()
    assert customer["display_name"] == "Ana Lima"
    assert customer["identities"] == [{"kind": "telegram", "value": "527301964"}]


async def test_a_photo_keeps_its_caption_and_the_largest_sizes_file_id(
        api: Api, admin: dict[str, str], channel: str) -> None:
    assert (await post_update(api, channel, fixture("photo_update.json"))).status_code == 200
    (interaction,) = await interactions(api, admin)
    (message,) = await messages(api, admin, interaction["id"])
    assert message["body"] == "This is the box"
    assert message["attachments"] == [{
        "filename": "photo-AQADbLgxG3aWSVN-.jpg", "content_type": "image/jpeg",
        "size": 74521, "url": None, "provider_media_id": "AgACAgQAAxkBAAIEpGdLarge"}]


async def test_updates_that_are_not_new_messages_are_acknowledged_and_not_stored(
        api: Api, admin: dict[str, str], channel: str) -> None:
    response = await post_update(api, channel, fixture("edited_message_update.json"))
    assert response.status_code == 200
    assert response.json() == {"stored": False}
    assert await interactions(api, admin) == []


async def test_a_retried_update_stores_one_message(
        api: Api, admin: dict[str, str], channel: str) -> None:
    first = await post_update(api, channel, fixture("text_update.json"))
    again = await post_update(api, channel, fixture("text_update.json"))
    assert (first.json(), again.json()) == ({"stored": True}, {"stored": False})
    (interaction,) = await interactions(api, admin)
    assert len(await messages(api, admin, interaction["id"])) == 1


@pytest.mark.parametrize(("secret", "status"), [("another-secret", 403), (None, 401)])
async def test_a_wrong_or_missing_secret_token_is_refused_and_stores_nothing(
        api: Api, admin: dict[str, str], channel: str, secret: str | None,
        status: int) -> None:
    response = await post_update(api, channel, fixture("text_update.json"), secret=secret)
    assert response.status_code == status
    assert response.json()["error"]["field"] == "x-telegram-bot-api-secret-token"
    assert await interactions(api, admin) == []


@pytest.mark.parametrize(("drop", "field"), [
    (("update_id",), "update_id"), (("message", "chat"), "message.chat"),
    (("message", "date"), "message.date")])
async def test_a_malformed_update_is_422_naming_the_field(
        api: Api, admin: dict[str, str], channel: str, drop: tuple[str, ...],
        field: str) -> None:
    update = json.loads(fixture("text_update.json"))
    parent = update
    for key in drop[:-1]:
        parent = parent[key]
    del parent[drop[-1]]
    response = await post_update(api, channel, json.dumps(update).encode())
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert await interactions(api, admin) == []


async def test_an_unknown_channel_is_404(api: Api, channel: str) -> None:
    response = await post_update(api, "00000000-0000-4000-8000-000000000000",
                                 fixture("text_update.json"))
    assert response.status_code == 404


async def _reply(api: Api, admin: dict[str, str], channel: str, body: str) -> str:
    assert (await post_update(api, channel, fixture("text_update.json"))).status_code == 200
    (interaction,) = await interactions(api, admin)
    await reply_and_settle(api, admin, interaction["id"], body=body)
    return str(interaction["id"])


async def test_an_agent_reply_goes_out_by_send_message(
        api: Api, admin: dict[str, str], channel: str, recorder: Recorder) -> None:
    interaction = await _reply(api, admin, channel, "We are looking into it")
    (request,) = recorder.requests
    assert (request.method, request.path) == ("POST", f"/bot{BOT_TOKEN}/sendMessage")
    assert json.loads(request.body) == {"chat_id": 527301964, "text": "We are looking into it"}
    delivered = [e for e in await events(api, admin, interaction)
                 if e["type"] == "message.delivered"]
    assert delivered[0]["payload"]["provider_message_id"] == "1189"


async def test_a_wrong_bot_token_fails_without_showing_the_token(
        api: Api, admin: dict[str, str], channel: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "7012345678:wrong-token")
    interaction = await _reply(api, admin, channel, "hello")
    (failed,) = [e for e in await events(api, admin, interaction)
                 if e["type"] == "message.failed"]
    assert failed["payload"]["error"] == "Telegram refused the message (401): Unauthorized"
    assert "wrong-token" not in json.dumps(failed)
