"""SMS and WhatsApp through Twilio: signed form webhooks in, the REST API out."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from omnidesk.channels.models import Channel
from omnidesk.channels.twilio.signature import compute
from tests.channels.conversation import events, interactions, messages, reply_and_settle
from tests.channels.loopback import Recorder, serve
from tests.conftest import Api

FIXTURES = Path(__file__).parent / "fixtures"
ACCOUNT_SID = "AC20b8c61b0ac17cc78b9ce25fa414cdec"
AUTH_TOKEN = "9f1c2b3a4d5e6f708192a3b4c5d6e7f8"  # the shape of a Twilio auth token
TOKEN_ENV = "OMNIDESK_TEST_TWILIO_TOKEN"
SENT_SID = "SMa9a073e6dca4fe0e9e793b20d40f07ba"  # in message_created.json and the statuses


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def signed(body: bytes, url: str, token: str = AUTH_TOKEN) -> dict[str, str]:
    """The headers Twilio sends: X-Twilio-Signature over the URL and the sorted params."""
    params = parse_qsl(body.decode(), keep_blank_values=True)
    return {"Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": compute(token, url, params)}


def fake_twilio(recorder: Recorder, *, refuse: bool = False) -> Starlette:
    """Twilio's Messages endpoint: basic auth SID:token, form fields, the Message resource."""

    async def create(request: Request) -> JSONResponse:
        seen = await recorder.note(request)
        expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if seen.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse(json.loads(fixture("error_authenticate.json")), status_code=401)
        if request.path_params["sid"] != ACCOUNT_SID or \
                seen.headers.get("content-type") != "application/x-www-form-urlencoded":
            return JSONResponse({"code": 20404, "message": "not found", "status": 404}, 404)
        form = parse_qs(seen.body.decode())
        if refuse or "To" not in form or not ({"From", "MessagingServiceSid"} & form.keys()) \
                or not ({"Body", "MediaUrl"} & form.keys()):
            return JSONResponse(json.loads(fixture("error_invalid_to.json")), status_code=400)
        return JSONResponse(json.loads(fixture("message_created.json")), status_code=201)

    return Starlette(routes=[Route("/2010-04-01/Accounts/{sid}/Messages.json", create,
                                   methods=["POST"])])


@pytest.fixture
async def provider(recorder: Recorder) -> AsyncIterator[str]:
    async with serve(fake_twilio(recorder)) as base_url:
        yield base_url


async def make_channel(api: Api, admin: dict[str, str], name: str = "sms",
                       **settings: Any) -> str:
    created = await api.client.post("/api/v1/channels", headers=admin, json={
        "kind": "twilio", "name": name, "default_queue": "support", "secret": AUTH_TOKEN,
        "settings": {"account_sid": ACCOUNT_SID, "auth_token_env": TOKEN_ENV,
                     "from_number": "+14155550199", **settings}})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


@pytest.fixture
async def channel(api: Api, admin: dict[str, str], provider: str,
                  monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(TOKEN_ENV, AUTH_TOKEN)
    return await make_channel(api, admin, api_base_url=provider)


def messages_url(channel_id: str) -> str:
    return f"http://test/api/v1/channels/twilio/{channel_id}/messages"


async def post_inbound(api: Api, channel_id: str, body: bytes, **headers: str) -> Any:
    url = messages_url(channel_id)
    return await api.client.post(url, content=body, headers=headers or signed(body, url))


def test_signatures_match_twilios_published_examples() -> None:
    """The vectors of Twilio's own request-validator tests."""
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = [("CallSid", "CA1234567890ABCDE"), ("Digits", "1234"), ("From", "+14158675309"),
              ("To", "+18005551212"), ("Caller", "+14158675309")]
    assert compute("12345", url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    repeated = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"),
                ("Digits", "1234")]
    assert compute("12345", url, repeated) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


async def test_an_sms_creates_the_customer_and_a_queued_interaction(
        api: Api, admin: dict[str, str], channel: str) -> None:
    response = await post_inbound(api, channel, fixture("sms_inbound.txt"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    assert "<Response></Response>" in response.text
    (interaction,) = await interactions(api, admin)
    assert (interaction["channel"], interaction["state"]) == ("twilio", "queued")
    (message,) = await messages(api, admin, interaction["id"])
    assert (message["author_kind"], message["body"], message["external_id"]) == (
        "customer", "Where is my order 1234?", "SM5ebaa69fb4f7329c79048418bbfafc38")
    customer = (await api.client.get(f"/api/v1/customers/{interaction['customer_id']}",
                                     headers=admin)).json()
    assert customer["identities"] == [{"kind": "phone", "value": "+14155550134"}]


async def test_a_whatsapp_message_through_twilio_keeps_its_media_and_profile_name(
        api: Api, admin: dict[str, str], channel: str) -> None:
    response = await post_inbound(api, channel, fixture("whatsapp_inbound.txt"))
    assert response.status_code == 200, response.text
    (interaction,) = await interactions(api, admin)
    (message,) = await messages(api, admin, interaction["id"])
    assert message["body"] == "Here is the damaged box"
    (attachment,) = message["attachments"]
    assert attachment["content_type"] == "image/jpeg"
    assert attachment["url"] == (
        f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/"
        "MM3b8c14df302f96c8571ea24d91ee4b56/Media/MEb6b121abdfef565fd255228438adfb80")
    customer = (await api.client.get(f"/api/v1/customers/{interaction['customer_id']}",
                                     headers=admin)).json()
    assert customer["display_name"] == "Ana Lima"
    assert customer["identities"] == [{"kind": "phone", "value": "+14155550134"}]


async def test_a_retried_webhook_stores_one_message(
        api: Api, admin: dict[str, str], channel: str) -> None:
    first = await post_inbound(api, channel, fixture("sms_inbound.txt"))
    again = await post_inbound(api, channel, fixture("sms_inbound.txt"))
    assert first.status_code == again.status_code == 200
    (interaction,) = await interactions(api, admin)
    assert len(await messages(api, admin, interaction["id"])) == 1


@pytest.mark.parametrize("tamper", ["other token", "changed body", "other url"])
async def test_an_invalid_signature_is_403_and_stores_nothing(
        api: Api, admin: dict[str, str], channel: str, tamper: str) -> None:
    body = fixture("sms_inbound.txt")
    url = messages_url(channel)
    headers = {
        "other token": signed(body, url, token="0" * 32),
        "changed body": signed(body.replace(b"1234", b"9999"), url),
        "other url": signed(body, url.replace("messages", "status")),
    }[tamper]
    response = await post_inbound(api, channel, body, **headers)
    assert response.status_code == 403
    assert response.json()["error"]["field"] == "x-twilio-signature"
    assert await interactions(api, admin) == []


async def test_a_missing_signature_is_401(api: Api, admin: dict[str, str],
                                          channel: str) -> None:
    response = await post_inbound(api, channel, fixture("sms_inbound.txt"),
                                  **{"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 401
    assert await interactions(api, admin) == []


async def test_the_signature_is_checked_over_the_public_url_pasted_into_twilio(
        api: Api, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Behind a proxy the app sees another URL than Twilio called: public_url says which."""
    channel = await make_channel(api, admin, public_url="https://placeholder.example")
    public = f"https://desk.example.com/api/v1/channels/twilio/{channel}/messages"
    async with api.db.write() as session:
        row = await session.get(Channel, uuid.UUID(channel))
        assert row is not None
        row.settings = {**row.settings, "public_url": public}
    body = fixture("sms_inbound.txt")
    response = await post_inbound(api, channel, body, **signed(body, public))
    assert response.status_code == 200, response.text
    # Twilio may sign the URL with the scheme's default port: accepted too.
    other = body.replace(b"SM5ebaa69fb4f7329c79048418bbfafc38", b"SM" + b"0" * 32)
    with_port = public.replace("desk.example.com", "desk.example.com:443")
    response = await post_inbound(api, channel, other, **signed(other, with_port))
    assert response.status_code == 200, response.text
    (interaction,) = await interactions(api, admin)
    assert len(await messages(api, admin, interaction["id"])) == 2


@pytest.mark.parametrize(("change", "field"), [
    ((b"From=%2B14155550134", b""), "From"),
    ((b"From=%2B14155550134", b"From=hello"), "From"),
    ((b"NumMedia=0", b"NumMedia=two"), "NumMedia"),
    ((b"NumMedia=0", b"NumMedia=1"), "MediaUrl0"),
])
async def test_a_malformed_webhook_is_422_naming_the_field(
        api: Api, admin: dict[str, str], channel: str, change: tuple[bytes, bytes],
        field: str) -> None:
    body = fixture("sms_inbound.txt").replace(*change)
    response = await post_inbound(api, channel, body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert await interactions(api, admin) == []


async def test_an_unknown_channel_is_404(api: Api, admin: dict[str, str], channel: str) -> None:
    response = await post_inbound(api, "00000000-0000-4000-8000-000000000000",
                                  fixture("sms_inbound.txt"))
    assert response.status_code == 404


async def _reply(api: Api, admin: dict[str, str], channel: str, inbound: str,
                 **message: Any) -> str:
    """A customer writes, an agent answers; returns the interaction id once it went out."""
    assert (await post_inbound(api, channel, fixture(inbound))).status_code == 200
    (interaction,) = await interactions(api, admin)
    await reply_and_settle(api, admin, interaction["id"], **message)
    return str(interaction["id"])


async def test_an_agent_reply_goes_out_through_twilios_rest_api(
        api: Api, admin: dict[str, str], channel: str, recorder: Recorder) -> None:
    interaction = await _reply(api, admin, channel, "sms_inbound.txt",
                               body="Your order ships today", attachments=[{
                                   "filename": "label.pdf", "content_type": "application/pdf",
                                   "size": 1200, "url": "https://files.example.com/label.pdf"}])
    (request,) = recorder.requests
    assert (request.method, request.path) == (
        "POST", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")
    form = parse_qs(request.body.decode())
    assert form == {"To": ["+14155550134"], "From": ["+14155550199"],
                    "Body": ["Your order ships today"],
                    "MediaUrl": ["https://files.example.com/label.pdf"]}
    delivered = [e for e in await events(api, admin, interaction)
                 if e["type"] == "message.delivered"]
    assert delivered[0]["payload"]["provider_message_id"] == SENT_SID
    assert (await messages(api, admin, interaction))[-1]["external_id"] == SENT_SID


async def test_a_reply_on_whatsapp_goes_to_the_whatsapp_address_from_the_number_written_to(
        api: Api, admin: dict[str, str], channel: str, recorder: Recorder) -> None:
    await _reply(api, admin, channel, "whatsapp_inbound.txt", body="We will replace it")
    form = parse_qs(recorder.requests[0].body.decode())
    assert (form["To"], form["From"]) == (["whatsapp:+14155550134"], ["whatsapp:+14155238886"])


async def test_twilio_refusing_the_message_reaches_the_agent_as_message_failed(
        api: Api, admin: dict[str, str], recorder: Recorder,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, AUTH_TOKEN)
    async with serve(fake_twilio(recorder, refuse=True)) as base_url:
        channel = await make_channel(api, admin, api_base_url=base_url)
        interaction = await _reply(api, admin, channel, "sms_inbound.txt", body="hello")
    (failed,) = [e for e in await events(api, admin, interaction)
                 if e["type"] == "message.failed"]
    assert failed["payload"]["error"] == ("Twilio refused the message (400): The 'To' number "
                                          "+1415555 is not a valid phone number. (code 21211)")


async def test_a_wrong_token_in_the_environment_is_reported_not_raised(
        api: Api, admin: dict[str, str], channel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "f" * 32)
    interaction = await _reply(api, admin, channel, "sms_inbound.txt", body="hello")
    (failed,) = [e for e in await events(api, admin, interaction)
                 if e["type"] == "message.failed"]
    assert failed["payload"]["error"] == "Twilio refused the message (401): Authenticate " \
                                         "(code 20003)"
    assert "f" * 32 not in json.dumps(failed)


async def test_status_callbacks_become_events_once_each(
        api: Api, admin: dict[str, str], channel: str) -> None:
    interaction = await _reply(api, admin, channel, "sms_inbound.txt", body="Ships today")
    status_url = f"http://test/api/v1/channels/twilio/{channel}/status"
    for name in ("status_delivered.txt", "status_delivered.txt", "status_undelivered.txt"):
        body = fixture(name)
        response = await api.client.post(status_url, content=body,
                                         headers=signed(body, status_url))
        assert response.status_code == 204, response.text
    statuses = [(e["type"], e["payload"].get("status"), e["payload"].get("error"))
                for e in await events(api, admin, interaction) if "status" in e["payload"]]
    assert statuses == [("message.delivered", "delivered", None),
                        ("message.failed", "undelivered", "Twilio error 30003")]
    sent = (await messages(api, admin, interaction))[-1]
    assert all(e["payload"]["message_id"] == sent["id"]
               for e in await events(api, admin, interaction) if "status" in e["payload"])


async def test_a_forged_status_callback_is_403_and_records_nothing(
        api: Api, admin: dict[str, str], channel: str) -> None:
    interaction = await _reply(api, admin, channel, "sms_inbound.txt", body="Ships today")
    before = await events(api, admin, interaction)
    status_url = f"http://test/api/v1/channels/twilio/{channel}/status"
    body = fixture("status_undelivered.txt")
    response = await api.client.post(status_url, content=body,
                                     headers=signed(body, status_url, token="0" * 32))
    assert response.status_code == 403
    assert await events(api, admin, interaction) == before


async def test_the_status_callback_url_is_passed_when_the_public_url_is_known(
        api: Api, admin: dict[str, str], recorder: Recorder, provider: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, AUTH_TOKEN)
    public = "https://desk.example.com/api/v1/channels/twilio/ID/messages"
    channel = await make_channel(api, admin, api_base_url=provider, public_url=public)
    await _reply(api, admin, channel, "sms_inbound.txt", body="hi")
    form = parse_qs(recorder.requests[0].body.decode())
    assert form["StatusCallback"] == [
        "https://desk.example.com/api/v1/channels/twilio/ID/status"]
