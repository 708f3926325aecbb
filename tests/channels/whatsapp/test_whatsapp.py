"""WhatsApp through Meta's Cloud API: the verification handshake, signed webhooks, statuses,
replies through the Graph API inside the 24-hour customer service window, template messages
at any time."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from omnidesk.channels.inbound import InboundMessage, accept_inbound
from omnidesk.channels.models import Channel
from omnidesk.channels.whatsapp import adapter as whatsapp
from omnidesk.clock import FixedClock
from tests.channels.conversation import events, interactions, messages, reply_and_settle
from tests.channels.loopback import Recorder, serve
from tests.conftest import Api, eventually

FIXTURES = Path(__file__).parent / "fixtures"
APP_SECRET = "3f6c9a1e8b2d4c7f9a0b1c2d3e4f5a6b"  # the shape of a Meta app secret
ACCESS_TOKEN = "EAAGm0PX4ZCpsBAtest-access-token"
VERIFY_TOKEN = "a-verify-token-typed-into-meta"
PHONE_NUMBER_ID = "106540352242922"
SENT_ID = "wamid.HBgLMTQxNTU1NTAxMzQVAgARGBI0RjE3QjM4RjE1QjE2QkU2NDcA"
ENV = {"OMNIDESK_TEST_WA_TOKEN": ACCESS_TOKEN, "OMNIDESK_TEST_WA_VERIFY": VERIFY_TOKEN}
TEMPLATES = {("order_update", "en_US"): 1, ("hello_world", "en_US"): 0}  # approved: params


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def signed(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    """The headers Meta sends: X-Hub-Signature-256 = sha256=HMAC-SHA256(app secret, body)."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}


def _meta_error(code: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": f"(#{code}) {message}", "type": "OAuthException",
                                   "code": code, "fbtrace_id": "AbCdEfGhIjKlMnOpQrStUv"}}, 400)


def _template_refusal(template: dict[str, Any]) -> JSONResponse | None:
    """What Meta answers to a template it does not have, or with the wrong parameters."""
    language = template.get("language")
    code = language.get("code") if isinstance(language, dict) else None
    expected = TEMPLATES.get((template.get("name"), code))  # type: ignore[arg-type]
    if expected is None:
        return _meta_error(132001, "Template name does not exist in the translation")
    components = template.get("components", [])
    body = [c for c in components if c.get("type") == "body"]
    parameters = body[0].get("parameters", []) if body else []
    if len(body) > 1 or any(set(p) != {"type", "text"} or p["type"] != "text" or
                            not isinstance(p["text"], str) or not p["text"]
                            for p in parameters):
        return _meta_error(100, "Invalid parameter")
    if len(parameters) != expected:
        return _meta_error(132000, "Number of parameters does not match the expected number "
                                   "of params")
    return None


def fake_graph(recorder: Recorder) -> Starlette:
    """The Cloud API's messages endpoint: Bearer token, the message JSON, a wamid back; a
    template must be one of the approved TEMPLATES with its number of body parameters."""

    async def send(request: Request) -> JSONResponse:
        seen = await recorder.note(request)
        if seen.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
            return JSONResponse(json.loads(fixture("error_invalid_token.json")), 401)
        body = json.loads(seen.body)
        kind = body.get("type")
        if request.path_params["number"] != PHONE_NUMBER_ID or \
                body.get("messaging_product") != "whatsapp" or not body.get("to") or \
                not isinstance(body.get(kind), dict):
            return _meta_error(100, "Invalid parameter")
        if kind == "template" and (refusal := _template_refusal(body[kind])) is not None:
            return refusal
        return JSONResponse(json.loads(fixture("send_response.json")))

    return Starlette(routes=[Route("/v21.0/{number}/messages", send, methods=["POST"])])


@pytest.fixture
async def provider(recorder: Recorder) -> AsyncIterator[str]:
    async with serve(fake_graph(recorder)) as base_url:
        yield base_url


@pytest.fixture
def window_clock(clock: FixedClock) -> FixedClock:
    """The adapter's clock, moved on its own (the app's clock also ages login tokens)."""
    return FixedClock(clock.now())


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, window_clock: FixedClock) -> Iterator[None]:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(whatsapp.adapter, "clock", window_clock)
    yield


async def make_channel(api: Api, admin: dict[str, str], name: str = "whatsapp",
                       **settings: Any) -> str:
    created = await api.client.post("/api/v1/channels", headers=admin, json={
        "kind": "whatsapp", "name": name, "default_queue": "support", "secret": APP_SECRET,
        "settings": {"phone_number_id": PHONE_NUMBER_ID,
                     "access_token_env": "OMNIDESK_TEST_WA_TOKEN",
                     "verify_token_env": "OMNIDESK_TEST_WA_VERIFY", **settings}})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


@pytest.fixture
async def channel(api: Api, admin: dict[str, str], provider: str) -> str:
    return await make_channel(api, admin, api_base_url=provider)


async def post_webhook(api: Api, channel_id: str, body: bytes, **headers: str) -> Any:
    return await api.client.post(f"/api/v1/channels/whatsapp/{channel_id}/webhook",
                                 content=body, headers=headers or signed(body))


@pytest.mark.parametrize(("token", "mode", "status"), [
    (VERIFY_TOKEN, "subscribe", 200), ("wrong", "subscribe", 403), (None, "subscribe", 401),
    (VERIFY_TOKEN, "unsubscribe", 422)])
async def test_the_verification_handshake_echoes_the_challenge_only_for_our_token(
        api: Api, channel: str, token: str | None, mode: str, status: int) -> None:
    params = {"hub.mode": mode, "hub.challenge": "1158201444"}
    if token:
        params["hub.verify_token"] = token
    response = await api.client.get(f"/api/v1/channels/whatsapp/{channel}/webhook",
                                    params=params)
    assert response.status_code == status, response.text
    if status == 200:
        assert response.text == "1158201444"
        assert response.headers["content-type"].startswith("text/plain")


async def test_a_text_message_creates_the_customer_and_a_queued_interaction(
        api: Api, admin: dict[str, str], channel: str) -> None:
    response = await post_webhook(api, channel, fixture("text_message.json"))
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 1
    (interaction,) = await interactions(api, admin)
    assert (interaction["channel"], interaction["state"]) == ("whatsapp", "queued")
    (message,) = await messages(api, admin, interaction["id"])
    assert (message["body"], message["external_id"]) == (
        "Is my parcel on its way?",
        "wamid.HBgLMTQxNTU1NTAxMzQVAgASGBQzQUZCMTg4QUE0QjJBRjc4NjJFMQA=")
    customer = (await api.client.get(f"/api/v1/customers/{interaction['customer_id']}",
                                     headers=admin)).json()
    assert customer["display_name"] == "Ana Lima"
    assert customer["identities"] == [{"kind": "phone", "value": "+14155550134"}]


async def test_a_button_reply_is_the_buttons_text_and_an_image_keeps_its_metadata(
        api: Api, admin: dict[str, str], channel: str) -> None:
    for name in ("interactive_button_reply.json", "image_message.json"):
        assert (await post_webhook(api, channel, fixture(name))).status_code == 200
    (interaction,) = await interactions(api, admin)
    button, image = await messages(api, admin, interaction["id"])
    assert (button["body"], button["attachments"]) == ("Talk to a person", [])
    assert image["body"] == "The box arrived like this"
    assert image["attachments"] == [{
        "filename": "image-1003383421387256", "content_type": "image/jpeg", "size": None,
        "url": None, "provider_media_id": "1003383421387256"}]


async def test_a_retried_webhook_stores_one_message(
        api: Api, admin: dict[str, str], channel: str) -> None:
    first = await post_webhook(api, channel, fixture("text_message.json"))
    again = await post_webhook(api, channel, fixture("text_message.json"))
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == {"stored": 0, "duplicates": 1, "statuses": 0, "ignored": 0}
    (interaction,) = await interactions(api, admin)
    assert len(await messages(api, admin, interaction["id"])) == 1


@pytest.mark.parametrize("tamper", ["other secret", "changed body"])
async def test_an_invalid_signature_is_403_and_stores_nothing(
        api: Api, admin: dict[str, str], channel: str, tamper: str) -> None:
    body = fixture("text_message.json")
    headers = signed(body, secret="0" * 32) if tamper == "other secret" else signed(body)
    if tamper == "changed body":
        body = body.replace(b"parcel", b"refund")
    response = await post_webhook(api, channel, body, **headers)
    assert response.status_code == 403
    assert response.json()["error"]["field"] == "x-hub-signature-256"
    assert await interactions(api, admin) == []


async def test_a_missing_signature_is_401(api: Api, admin: dict[str, str],
                                          channel: str) -> None:
    response = await post_webhook(api, channel, fixture("text_message.json"),
                                  **{"Content-Type": "application/json"})
    assert response.status_code == 401
    assert await interactions(api, admin) == []


def _without_from(body: dict[str, Any]) -> dict[str, Any]:
    del body["entry"][0]["changes"][0]["value"]["messages"][0]["from"]
    return body


def _bad_phone(body: dict[str, Any]) -> dict[str, Any]:
    body["entry"][0]["changes"][0]["value"]["messages"][0]["from"] = "12"
    return body


def _other_object(body: dict[str, Any]) -> dict[str, Any]:
    body["object"] = "page"
    return body


@pytest.mark.parametrize(("change", "field"), [
    (_without_from, "entry.0.changes.0.value.messages.0.from"),
    (_bad_phone, "entry.0.changes.0.value.messages.0.from"),
    (_other_object, "object"),
])
async def test_a_malformed_webhook_is_422_naming_the_field(
        api: Api, admin: dict[str, str], channel: str, change: Any, field: str) -> None:
    body = json.dumps(change(json.loads(fixture("text_message.json")))).encode()
    response = await post_webhook(api, channel, body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert await interactions(api, admin) == []


async def test_a_body_that_is_not_json_is_422(api: Api, channel: str) -> None:
    response = await post_webhook(api, channel, b"{not json")
    assert response.status_code == 422


async def test_an_unknown_channel_is_404(api: Api, channel: str) -> None:
    response = await post_webhook(api, "00000000-0000-4000-8000-000000000000",
                                  fixture("text_message.json"))
    assert response.status_code == 404


async def test_one_apps_webhook_url_routes_each_number_to_its_channel(
        api: Api, admin: dict[str, str], channel: str) -> None:
    """Meta has one callback URL per app: a message for another number goes to its channel."""
    other = await make_channel(api, admin, name="whatsapp-sales", phone_number_id="999")
    assert (await post_webhook(api, other, fixture("text_message.json"))).status_code == 200
    (interaction,) = await interactions(api, admin)
    created = next(e for e in await events(api, admin, interaction["id"])
                   if e["type"] == "interaction.created")
    assert created["payload"]["channel_id"] == channel


async def _reply(api: Api, admin: dict[str, str], channel: str, **message: Any) -> str:
    assert (await post_webhook(api, channel, fixture("text_message.json"))).status_code == 200
    (interaction,) = await interactions(api, admin)
    await reply_and_settle(api, admin, interaction["id"], **message)
    return str(interaction["id"])


async def test_an_agent_reply_goes_out_through_the_graph_api(
        api: Api, admin: dict[str, str], channel: str, recorder: Recorder) -> None:
    interaction = await _reply(api, admin, channel, body="It left the warehouse today")
    (request,) = recorder.requests
    assert (request.method, request.path) == ("POST", f"/v21.0/{PHONE_NUMBER_ID}/messages")
    assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert json.loads(request.body) == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": "14155550134",
        "type": "text", "text": {"preview_url": False, "body": "It left the warehouse today"}}
    delivered = [e for e in await events(api, admin, interaction)
                 if e["type"] == "message.delivered"]
    assert delivered[0]["payload"]["provider_message_id"] == SENT_ID


async def test_an_image_reply_is_sent_by_link_with_the_text_as_caption(
        api: Api, admin: dict[str, str], channel: str, recorder: Recorder) -> None:
    await _reply(api, admin, channel, body="Your label", attachments=[{
        "filename": "label.png", "content_type": "image/png", "size": 10,
        "url": "https://files.example.com/label.png"}])
    body = json.loads(recorder.requests[0].body)
    assert (body["type"], body["image"]) == (
        "image", {"link": "https://files.example.com/label.png", "caption": "Your label"})


async def test_outside_the_24_hour_window_the_agent_is_told_only_a_template_may_be_sent(
        api: Api, admin: dict[str, str], channel: str, recorder: Recorder,
        window_clock: FixedClock) -> None:
    assert (await post_webhook(api, channel, fixture("text_message.json"))).status_code == 200
    (interaction,) = await interactions(api, admin)
    window_clock.advance(24 * 3600 + 120)  # the customer wrote at 08:59 the day before
    await api.client.post(f"/api/v1/interactions/{interaction['id']}/messages",
                          headers=admin, json={"body": "Are you still there?"})

    async def failed() -> bool:
        return any(e["type"] == "message.failed"
                   for e in await events(api, admin, interaction["id"]))

    await eventually(failed, "the refusal")
    (event,) = [e for e in await events(api, admin, interaction["id"])
                if e["type"] == "message.failed"]
    assert event["payload"]["error"] == ("outside the 24-hour customer service window: only a "
                                         "template message may be sent")
    assert recorder.requests == []


async def test_a_new_customer_message_reopens_the_window(
        api: Api, admin: dict[str, str], channel: str, recorder: Recorder,
        window_clock: FixedClock) -> None:
    assert (await post_webhook(api, channel, fixture("text_message.json"))).status_code == 200
    window_clock.advance(30 * 3600)
    fresh = json.loads(fixture("interactive_button_reply.json"))
    fresh["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = str(
        int(window_clock.now().timestamp()) - 5)
    raw = json.dumps(fresh).encode()
    assert (await post_webhook(api, channel, raw)).status_code == 200
    (interaction,) = await interactions(api, admin)
    await api.client.post(f"/api/v1/interactions/{interaction['id']}/messages",
                          headers=admin, json={"body": "Connecting you now"})

    async def delivered() -> bool:
        return any(e["type"] == "message.delivered"
                   for e in await events(api, admin, interaction["id"]))

    await eventually(delivered, "the delivery")
    assert len(recorder.requests) == 1


async def test_an_expired_token_is_reported_to_the_agent(
        api: Api, admin: dict[str, str], channel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIDESK_TEST_WA_TOKEN", "expired")
    interaction = await _reply(api, admin, channel, body="hello")
    (event,) = [e for e in await events(api, admin, interaction)
                if e["type"] == "message.failed"]
    assert event["payload"]["error"] == ("WhatsApp refused the message (401): Error validating "
                                         "access token: Session has expired. (code 190)")


async def test_statuses_become_events_once_each(
        api: Api, admin: dict[str, str], channel: str) -> None:
    interaction = await _reply(api, admin, channel, body="On its way")
    for name in ("status_delivered.json", "status_delivered.json", "status_read.json",
                 "status_failed.json"):
        response = await post_webhook(api, channel, fixture(name))
        assert response.status_code == 200, response.text
    statuses = [(e["type"], e["payload"]["status"], e["payload"].get("error"))
                for e in await events(api, admin, interaction) if "status" in e["payload"]]
    assert statuses == [
        ("message.delivered", "delivered", None), ("message.read", "read", None),
        ("message.failed", "failed", "WhatsApp error 131026: Message undeliverable")]
    assert all(e["payload"]["provider_message_id"] == SENT_ID
               for e in await events(api, admin, interaction) if "status" in e["payload"])


async def _outside_the_window(api: Api, admin: dict[str, str], channel: str,
                              window_clock: FixedClock) -> str:
    """A conversation whose customer wrote more than 24 hours ago."""
    assert (await post_webhook(api, channel, fixture("text_message.json"))).status_code == 200
    (interaction,) = await interactions(api, admin)
    window_clock.advance(24 * 3600 + 120)
    return str(interaction["id"])


async def test_outside_the_window_a_text_is_refused_and_a_template_goes_out(
        api: Api, admin: dict[str, str], channel: str, recorder: Recorder,
        window_clock: FixedClock) -> None:
    interaction = await _outside_the_window(api, admin, channel, window_clock)
    await reply_and_settle(api, admin, interaction, body="Are you still there?")
    (refused,) = [e for e in await events(api, admin, interaction)
                  if e["type"] == "message.failed"]
    assert refused["payload"]["error"] == whatsapp.OUTSIDE_WINDOW
    assert recorder.requests == []

    posted = await api.client.post(f"/api/v1/interactions/{interaction}/messages",
                                   headers=admin, json={"template": {
                                       "name": "order_update", "language": "en_US",
                                       "parameters": ["DS-1234"]}})
    assert posted.status_code == 201, posted.text
    assert posted.json()["body"] == "[template order_update: DS-1234]"

    async def delivered() -> bool:
        return any(e["type"] == "message.delivered" for e in await events(api, admin,
                                                                          interaction))

    await eventually(delivered, "the template's delivery")
    (request,) = recorder.requests
    assert (request.method, request.path) == ("POST", f"/v21.0/{PHONE_NUMBER_ID}/messages")
    assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert json.loads(request.body) == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": "14155550134",
        "type": "template", "template": {
            "name": "order_update", "language": {"code": "en_US"},
            "components": [{"type": "body", "parameters": [
                {"type": "text", "text": "DS-1234"}]}]}}
    (event,) = [e for e in await events(api, admin, interaction)
                if e["type"] == "message.delivered"]
    assert event["payload"] == {"message_id": posted.json()["id"],
                                "provider_message_id": SENT_ID}
    texts = [m["body"] for m in await messages(api, admin, interaction)]
    assert texts[-1] == "[template order_update: DS-1234]"


async def test_a_template_without_parameters_has_no_components_and_a_body_is_kept_as_text(
        api: Api, admin: dict[str, str], channel: str, recorder: Recorder,
        window_clock: FixedClock) -> None:
    interaction = await _outside_the_window(api, admin, channel, window_clock)
    await reply_and_settle(api, admin, interaction, body="Hello world!", template={
        "name": "hello_world", "language": "en_US"})
    (request,) = recorder.requests
    assert json.loads(request.body)["template"] == {"name": "hello_world",
                                                    "language": {"code": "en_US"}}
    assert [m["body"] for m in await messages(api, admin, interaction)][-1] == "Hello world!"


async def test_a_template_meta_does_not_accept_is_reported_to_the_agent(
        api: Api, admin: dict[str, str], channel: str, window_clock: FixedClock) -> None:
    interaction = await _outside_the_window(api, admin, channel, window_clock)
    await reply_and_settle(api, admin, interaction, template={
        "name": "order_update", "language": "en_US", "parameters": []})
    (event,) = [e for e in await events(api, admin, interaction)
                if e["type"] == "message.failed"]
    assert event["payload"]["error"] == (
        "WhatsApp refused the message (400): (#132000) Number of parameters does not match "
        "the expected number of params (code 132000)")


@pytest.mark.parametrize(("message", "field"), [
    ({"template": {"name": "Order Update", "language": "en_US"}}, "template.name"),
    ({"template": {"name": "order_update", "language": "english"}}, "template.language"),
    ({"template": {"name": "order_update", "language": "en_US", "parameters": ["a\nb"]}},
     "template.parameters.0"),
    ({"template": {"name": "order_update"}}, "template.language"),
    ({"attachments": []}, "body"),
    ({"template": {"name": "order_update", "language": "en_US", "parameters": ["1"]},
      "attachments": [{"filename": "a.pdf", "content_type": "application/pdf", "size": 1,
                       "url": "https://files.example.com/a.pdf"}]}, "template"),
])
async def test_a_bad_template_message_is_422_naming_the_field(
        api: Api, admin: dict[str, str], channel: str, recorder: Recorder,
        message: dict[str, Any], field: str) -> None:
    assert (await post_webhook(api, channel, fixture("text_message.json"))).status_code == 200
    (interaction,) = await interactions(api, admin)
    posted = await api.client.post(f"/api/v1/interactions/{interaction['id']}/messages",
                                   headers=admin, json=message)
    assert posted.status_code == 422, posted.text
    assert posted.json()["error"]["field"] == field
    assert len(await messages(api, admin, interaction["id"])) == 1


async def test_other_channels_refuse_a_template_naming_the_field(
        api: Api, admin: dict[str, str]) -> None:
    created = await api.client.post("/api/v1/channels", headers=admin, json={
        "kind": "telegram", "name": "telegram", "default_queue": "support"})
    assert created.status_code == 201, created.text
    async with api.db.write() as session:
        channel = await session.get(Channel, uuid.UUID(created.json()["id"]))
        assert channel is not None
        accepted = await accept_inbound(session, channel, InboundMessage(
            identity_kind="telegram", identity_value="527301964", body="hi"), actor="test")
    interaction = str(accepted.interaction.id)
    posted = await api.client.post(f"/api/v1/interactions/{interaction}/messages",
                                   headers=admin, json={"template": {
                                       "name": "order_update", "language": "en_US"}})
    assert posted.status_code == 422, posted.text
    error = posted.json()["error"]
    assert error["field"] == "template"
    assert error["message"] == "a telegram channel sends no template messages (only: whatsapp)"
    assert len(await messages(api, admin, interaction)) == 1
