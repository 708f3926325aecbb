"""Calls through Twilio Programmable Voice: signed form webhooks in, TwiML out, the Calls REST
API to bridge the agent, status callbacks to end the call."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from omnidesk.channels.models import Channel
from omnidesk.channels.twilio.signature import compute
from omnidesk.events.record import EventRecord
from omnidesk.flows import load_flow
from tests.channels.conversation import events, interactions, messages
from tests.channels.loopback import Recorder, serve
from tests.conftest import Api, eventually

FIXTURES = Path(__file__).parent / "fixtures"
ACCOUNT_SID = "AC20b8c61b0ac17cc78b9ce25fa414cdec"
AUTH_TOKEN = "9f1c2b3a4d5e6f708192a3b4c5d6e7f8"  # the shape of a Twilio auth token
TOKEN_ENV = "OMNIDESK_TEST_TWILIO_VOICE_TOKEN"
CALL_SID = "CA5f3f8d1c0b9a4e7d8c6b5a4f3e2d1c0b"  # in every fixture
AUDIO_BASE = "https://cdn.example.com/prompts"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def signed(body: bytes, url: str, token: str = AUTH_TOKEN) -> dict[str, str]:
    """The headers Twilio sends: X-Twilio-Signature over the URL and the sorted params."""
    params = parse_qsl(body.decode(), keep_blank_values=True)
    return {"Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": compute(token, url, params)}


def twiml(response: httpx.Response) -> ET.Element:
    """The TwiML of an answer, parsed (it must be well-formed, with <Response> as its root)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(response.text)
    assert root.tag == "Response"
    return root


def verbs(element: ET.Element) -> list[tuple[str, str]]:
    """(tag, text) of each child."""
    return [(child.tag, (child.text or "").strip()) for child in element]


def fake_twilio(recorder: Recorder) -> Starlette:
    """Twilio's Call resource update: basic auth SID:token, the form field Twiml."""

    async def update(request: Request) -> JSONResponse:
        seen = await recorder.note(request)
        expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if seen.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse(json.loads(fixture("error_authenticate.json")), status_code=401)
        form = parse_qs(seen.body.decode())
        if request.path_params["account"] != ACCOUNT_SID or \
                request.path_params["call"] != CALL_SID or "Twiml" not in form or \
                seen.headers.get("content-type") != "application/x-www-form-urlencoded":
            return JSONResponse({"code": 20404, "message": "not found", "status": 404}, 404)
        return JSONResponse(json.loads(fixture("call_updated.json")), status_code=200)

    return Starlette(routes=[Route("/2010-04-01/Accounts/{account}/Calls/{call}.json", update,
                                   methods=["POST"])])


@pytest.fixture
async def provider(recorder: Recorder) -> AsyncIterator[str]:
    async with serve(fake_twilio(recorder)) as base_url:
        yield base_url


@pytest.fixture
async def center(api: Api, admin: dict[str, str]) -> dict[str, str]:
    """Queues sales and support (voice) and the IVR flow published."""
    response = await api.client.post("/api/v1/queues", headers=admin,
                                     json={"name": "sales", "channel": "voice"})
    assert response.status_code == 201, response.text
    api.app.state.flows.publish(load_flow(FIXTURES / "twilio_ivr.yaml"))
    return admin


async def make_channel(api: Api, admin: dict[str, str], name: str = "phone",
                       **settings: Any) -> str:
    created = await api.client.post("/api/v1/channels", headers=admin, json={
        "kind": "twilio_voice", "name": name, "default_queue": "support", "secret": AUTH_TOKEN,
        "settings": {"account_sid": ACCOUNT_SID, "auth_token_env": TOKEN_ENV, **settings}})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


@pytest.fixture
async def ivr(api: Api, center: dict[str, str]) -> str:
    """A channel answering with the IVR flow; audio files published at AUDIO_BASE."""
    return await make_channel(api, center, flow="twilio_ivr", audio_base_url=AUDIO_BASE)


def url(channel_id: str, path: str) -> str:
    return f"http://test/api/v1/channels/twilio_voice/{channel_id}/{path}"


async def post(api: Api, channel_id: str, path: str, name: str, **headers: str) -> httpx.Response:
    """Post a fixture the way Twilio does, signed over the URL it calls."""
    body = fixture(name)
    target = url(channel_id, path)
    return await api.client.post(target, content=body, headers=headers or signed(body, target))


async def answer(api: Api, channel_id: str, root: ET.Element, name: str) -> httpx.Response:
    """Answer the <Gather> of a TwiML document at the URL it names."""
    (gather,) = root.iter("Gather")
    action = gather.attrib["action"]
    body = fixture(name)
    return await api.client.post(action, content=body, headers=signed(body, action))


async def the_interaction(api: Api, admin: dict[str, str]) -> dict[str, Any]:
    (interaction,) = await interactions(api, admin)
    return interaction


async def event_types(api: Api, admin: dict[str, str], subject: str) -> list[str]:
    return [event["type"] for event in await events(api, admin, subject)]


async def test_a_call_opens_a_voice_interaction_and_answers_with_the_menu_as_twiml(
        api: Api, center: dict[str, str], ivr: str) -> None:
    root = twiml(await post(api, ivr, "voice", "call_inbound.txt"))
    (gather,) = root
    assert gather.tag == "Gather"
    assert gather.attrib == {
        "input": "dtmf speech", "action": url(ivr, "gather?turn=1"), "method": "POST",
        "actionOnEmptyResult": "true", "finishOnKey": "#", "timeout": "8", "numDigits": "1",
        "speechTimeout": "auto"}
    assert verbs(gather) == [
        ("Play", f"{AUDIO_BASE}/welcome.wav"),
        ("Say", "For sales press 1, for support press 2, for the front desk press 3.")]
    interaction = await the_interaction(api, center)
    assert (interaction["channel"], interaction["state"]) == ("voice", "self_service")
    assert interaction["attributes"]["voice"]["call_id"] == CALL_SID
    assert interaction["attributes"]["flow_state"]["node"] == "menu"
    customer = (await api.client.get(f"/api/v1/customers/{interaction['customer_id']}",
                                     headers=center)).json()
    assert customer["identities"] == [{"kind": "phone", "value": "+14155550134"}]
    (message,) = await messages(api, center, interaction["id"])
    assert (message["body"], message["external_id"]) == (
        "Phone call from +14155550134 to +14155550199", CALL_SID)
    assert await event_types(api, center, interaction["id"]) == [
        "interaction.created", "message.created", "interaction.self_service_started",
        "call.answered"]


async def test_audio_files_are_spoken_when_the_channel_publishes_none(
        api: Api, center: dict[str, str]) -> None:
    channel = await make_channel(api, center, flow="twilio_ivr", language="en-GB",
                                 say_voice="Polly.Amy", speech=False)
    root = twiml(await post(api, channel, "voice", "call_inbound.txt"))
    (gather,) = root
    assert gather.attrib["input"] == "dtmf" and "speechTimeout" not in gather.attrib
    assert verbs(gather)[0] == ("Say", "Welcome to Acme.")
    assert gather[0].attrib == {"voice": "Polly.Amy", "language": "en-GB"}


async def test_a_gather_round_trip_collects_digits_and_queues_with_enqueue_and_wait_twiml(
        api: Api, center: dict[str, str], ivr: str) -> None:
    first = twiml(await post(api, ivr, "voice", "call_inbound.txt"))
    second = twiml(await answer(api, ivr, first, "gather_digits_1.txt"))
    (gather,) = second
    assert (gather.attrib["action"], gather.attrib["numDigits"], gather.attrib["timeout"]) == (
        url(ivr, "gather?turn=2"), "4", "10")
    assert verbs(gather) == [("Say", "Please enter your four digit account number.")]
    # Twilio retrying the first answer gets the same TwiML; the flow does not move twice
    again = twiml(await answer(api, ivr, first, "gather_digits_1.txt"))
    assert ET.tostring(again) == ET.tostring(second)
    queued = twiml(await answer(api, ivr, second, "gather_digits_account.txt"))
    assert verbs(queued) == [("Say", "Connecting you to sales."), ("Enqueue", "omnidesk-sales")]
    enqueue = queued[1]
    assert enqueue.attrib == {"waitUrl": url(ivr, "wait"), "waitUrlMethod": "POST"}
    interaction = await the_interaction(api, center)
    queues = {q["name"]: q["id"] for q in
              (await api.client.get("/api/v1/queues", headers=center)).json()}
    assert (interaction["state"], interaction["queue_id"]) == ("queued", queues["sales"])
    assert interaction["attributes"]["flow"]["account"] == "1234"
    types = await event_types(api, center, interaction["id"])
    assert types[-2:] == ["interaction.self_service_ended", "interaction.queued"]
    ended = [e for e in await events(api, center, interaction["id"])
             if e["type"] == "interaction.self_service_ended"]
    assert ended[0]["payload"]["outcome"] == "queued"
    # the wait URL: the caller's position from the router, then hold (silence by default)
    wait = twiml(await post(api, ivr, "wait", "queue_wait.txt"))
    assert verbs(wait) == [("Say", "You are number 1 in the queue."), ("Pause", "")]
    assert wait[1].attrib == {"length": "30"}


async def test_speech_answers_the_menu_and_the_default_queue_takes_the_caller(
        api: Api, center: dict[str, str], ivr: str) -> None:
    first = twiml(await post(api, ivr, "voice", "call_inbound.txt"))
    queued = twiml(await answer(api, ivr, first, "gather_speech.txt"))
    assert verbs(queued) == [("Enqueue", "omnidesk-support")]
    assert (await the_interaction(api, center))["state"] == "queued"


async def test_no_answer_asks_again(api: Api, center: dict[str, str], ivr: str) -> None:
    first = twiml(await post(api, ivr, "voice", "call_inbound.txt"))
    again = twiml(await answer(api, ivr, first, "gather_empty.txt"))
    (gather,) = again
    assert gather.attrib["action"] == url(ivr, "gather?turn=2")
    assert [text for _, text in verbs(gather)] == [
        "Sorry, I didn't hear anything.",
        "For sales press 1, for support press 2, for the front desk press 3."]


async def test_the_end_of_the_flow_says_goodbye_and_hangs_up(
        api: Api, center: dict[str, str], ivr: str) -> None:
    first = twiml(await post(api, ivr, "voice", "call_inbound.txt"))
    body = fixture("gather_digits_1.txt").replace(b"Digits=1", b"Digits=9")
    action = first[0].attrib["action"]
    root = twiml(await api.client.post(action, content=body, headers=signed(body, action)))
    assert verbs(root) == [("Say", "Thanks for calling. Goodbye."), ("Hangup", "")]
    interaction = await the_interaction(api, center)
    assert interaction["state"] == "closed"


async def test_a_transfer_dials_the_target(api: Api, center: dict[str, str], ivr: str) -> None:
    first = twiml(await post(api, ivr, "voice", "call_inbound.txt"))
    body = fixture("gather_digits_1.txt").replace(b"Digits=1", b"Digits=3")
    action = first[0].attrib["action"]
    root = twiml(await api.client.post(action, content=body, headers=signed(body, action)))
    assert verbs(root) == [("Say", "Transferring you to the front desk."), ("Dial", "")]
    assert verbs(root[1]) == [("Number", "+14155550111")]
    interaction = await the_interaction(api, center)
    assert interaction["state"] == "closed"
    assert interaction["attributes"]["flow"]["transfer_target"] == "+14155550111"


@pytest.mark.parametrize("tamper", ["other token", "changed body", "other url"])
async def test_an_invalid_signature_is_403_and_stores_nothing(
        api: Api, center: dict[str, str], ivr: str, tamper: str) -> None:
    body = fixture("call_inbound.txt")
    target = url(ivr, "voice")
    headers = {
        "other token": signed(body, target, token="0" * 32),
        "changed body": signed(body.replace(b"%2B14155550134", b"%2B14155550135"), target),
        "other url": signed(body, url(ivr, "status")),
    }[tamper]
    response = await post(api, ivr, "voice", "call_inbound.txt", **headers)
    assert response.status_code == 403
    assert response.json()["error"]["field"] == "x-twilio-signature"
    assert await interactions(api, center) == []


async def test_a_missing_signature_is_401_and_stores_nothing(
        api: Api, center: dict[str, str], ivr: str) -> None:
    response = await post(api, ivr, "voice", "call_inbound.txt",
                          **{"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 401
    assert await interactions(api, center) == []


async def test_a_forged_gather_does_not_move_the_flow(
        api: Api, center: dict[str, str], ivr: str) -> None:
    first = twiml(await post(api, ivr, "voice", "call_inbound.txt"))
    body = fixture("gather_digits_1.txt")
    action = first[0].attrib["action"]
    forged = await api.client.post(action, content=body,
                                   headers=signed(body, action, token="0" * 32))
    assert forged.status_code == 403
    assert (await the_interaction(api, center))["attributes"]["flow_state"]["node"] == "menu"


async def test_the_signature_is_checked_over_the_public_url_and_twiml_points_there(
        api: Api, center: dict[str, str]) -> None:
    """Behind a proxy the app sees another URL than Twilio called: public_url says which."""
    channel = await make_channel(api, center, flow="twilio_ivr")
    public = f"https://desk.example.com/api/v1/channels/twilio_voice/{channel}/voice"
    async with api.db.write() as session:
        row = await session.get(Channel, uuid.UUID(channel))
        assert row is not None
        row.settings = {**row.settings, "public_url": public}
    body = fixture("call_inbound.txt")
    root = twiml(await post(api, channel, "voice", "call_inbound.txt", **signed(body, public)))
    action = root[0].attrib["action"]
    assert action == public.replace("/voice", "/gather?turn=1")
    body = fixture("gather_digits_1.txt")
    response = await post(api, channel, "gather?turn=1", "gather_digits_1.txt",
                          **signed(body, action))
    assert twiml(response)[0].attrib["action"] == public.replace("/voice", "/gather?turn=2")


async def test_an_unknown_channel_or_call_is_404(
        api: Api, center: dict[str, str], ivr: str) -> None:
    response = await post(api, "00000000-0000-4000-8000-000000000000", "voice",
                          "call_inbound.txt")
    assert response.status_code == 404
    response = await post(api, ivr, "gather?turn=1", "gather_digits_1.txt")
    assert response.status_code == 404
    assert response.json()["error"]["field"] == "CallSid"


async def status(api: Api, channel_id: str, name: str) -> httpx.Response:
    response = await post(api, channel_id, "status", name)
    assert response.status_code == 204, response.text
    return response


async def test_a_caller_hanging_up_in_the_queue_is_abandoned_once_however_often_twilio_retries(
        api: Api, center: dict[str, str]) -> None:
    channel = await make_channel(api, center)  # no flow: straight to the default queue
    root = twiml(await post(api, channel, "voice", "call_inbound.txt"))
    assert verbs(root) == [("Enqueue", "omnidesk-support")]
    await status(api, channel, "status_in_progress.txt")
    for _ in range(3):
        await status(api, channel, "status_completed.txt")
    interaction = await the_interaction(api, center)
    assert interaction["state"] == "abandoned"
    found = await events(api, center, interaction["id"])
    assert [e["type"] for e in found].count("interaction.abandoned") == 1
    (ended,) = [e for e in found if e["type"] == "call.ended"]
    assert ended["payload"] | {"reason": "completed", "duration_seconds": 150,
                               "call_id": CALL_SID} == ended["payload"]


async def test_hanging_up_in_the_ivr_ends_self_service_as_abandoned(
        api: Api, center: dict[str, str], ivr: str) -> None:
    twiml(await post(api, ivr, "voice", "call_inbound.txt"))
    await status(api, ivr, "status_completed.txt")
    interaction = await the_interaction(api, center)
    assert interaction["state"] == "abandoned"
    ended = [e for e in await events(api, center, interaction["id"])
             if e["type"] == "interaction.self_service_ended"]
    assert ended[0]["payload"]["outcome"] == "abandoned"


async def test_a_forged_status_callback_is_403_and_records_nothing(
        api: Api, center: dict[str, str]) -> None:
    channel = await make_channel(api, center)
    twiml(await post(api, channel, "voice", "call_inbound.txt"))
    interaction = await the_interaction(api, center)
    before = await events(api, center, interaction["id"])
    body = fixture("status_completed.txt")
    response = await post(api, channel, "status", "status_completed.txt",
                          **signed(body, url(channel, "status"), token="0" * 32))
    assert response.status_code == 403
    assert await events(api, center, interaction["id"]) == before
    assert (await the_interaction(api, center))["state"] == "queued"


async def _offered_and_accepted(api: Api, admin: dict[str, str], channel: str) -> str:
    """A call queued, offered to ana, accepted in her desktop; the interaction id."""
    agent_id, headers = await api.ready_agent(admin, "ana@acme.example", "Ana")
    twiml(await post(api, channel, "voice", "call_inbound.txt"))
    interaction_id = str((await the_interaction(api, admin))["id"])

    async def offered() -> bool:
        row = await the_interaction(api, admin)
        return bool(row["state"] == "offered" and row["agent_id"] == agent_id)

    await eventually(offered, "the offer to ana")
    accepted = await api.client.post(f"/api/v1/interactions/{interaction_id}/accept",
                                     headers=headers)
    assert accepted.status_code == 200, accepted.text
    return interaction_id


async def test_the_agent_accepting_redirects_the_live_call_to_dial_her_phone(
        api: Api, center: dict[str, str], provider: str, recorder: Recorder,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, AUTH_TOKEN)
    channel = await make_channel(api, center, api_base_url=provider, dial_timeout_seconds=20,
                                 agent_endpoints={"Ana@Acme.example": "sip:ana@pbx.example.com"})
    interaction_id = await _offered_and_accepted(api, center, channel)

    async def bridged() -> bool:
        return "call.bridged" in await event_types(api, center, interaction_id)

    await eventually(bridged, "the bridge")
    (request,) = recorder.requests
    assert (request.method, request.path) == (
        "POST", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{CALL_SID}.json")
    expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    form = parse_qs(request.body.decode())
    assert list(form) == ["Twiml"]
    root = ET.fromstring(form["Twiml"][0])
    assert root.tag == "Response"
    (dial,) = root
    assert (dial.tag, dial.attrib) == ("Dial", {"timeout": "20"})
    assert verbs(dial) == [("Sip", "sip:ana@pbx.example.com")]
    # the agent's call ends: the caller's call completes, the interaction goes to wrap-up
    await status(api, channel, "status_completed.txt")
    row = await the_interaction(api, center)
    assert row["state"] == "wrap_up"
    types = await event_types(api, center, interaction_id)
    assert types[-2:] == ["interaction.wrap_up_started", "call.ended"]
    assert "interaction.abandoned" not in types


async def test_an_agent_without_a_phone_on_the_channel_is_reported_not_dialled(
        api: Api, center: dict[str, str], provider: str, recorder: Recorder,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, AUTH_TOKEN)
    channel = await make_channel(api, center, api_base_url=provider)
    interaction_id = await _offered_and_accepted(api, center, channel)

    async def failed() -> bool:
        return "call.bridge_failed" in await event_types(api, center, interaction_id)

    await eventually(failed, "the bridge failure")
    assert recorder.requests == []
    (event,) = [e for e in await events(api, center, interaction_id)
                if e["type"] == "call.bridge_failed"]
    assert "agent_endpoints" in event["payload"]["error"]


async def test_twilio_refusing_the_redirect_is_reported(
        api: Api, center: dict[str, str], provider: str, recorder: Recorder,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "f" * 32)
    channel = await make_channel(api, center, api_base_url=provider,
                                 agent_endpoints={"ana@acme.example": "+14155550177"})
    interaction_id = await _offered_and_accepted(api, center, channel)

    async def failed() -> bool:
        return "call.bridge_failed" in await event_types(api, center, interaction_id)

    await eventually(failed, "the refusal")
    (event,) = [e for e in await events(api, center, interaction_id)
                if e["type"] == "call.bridge_failed"]
    assert event["payload"]["error"] == (
        "Twilio refused to update the call (401): Authenticate (code 20003)")
    assert "f" * 32 not in json.dumps(event)


@pytest.mark.parametrize(("given", "field"), [
    ({"agent_endpoints": {"ana@acme.example": "4155550177"}}, "settings.agent_endpoints"),
    ({"announce_seconds": -1}, "settings.announce_seconds"),
    ({"auth_token_env": "lower case"}, "settings.auth_token_env"),
])
async def test_bad_settings_are_refused_naming_the_setting(
        api: Api, center: dict[str, str], given: dict[str, Any], field: str) -> None:
    response = await api.client.post("/api/v1/channels", headers=center, json={
        "kind": "twilio_voice", "name": "bad", "secret": AUTH_TOKEN, "settings": given})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field


async def test_only_an_accepted_phone_call_is_looked_up_to_be_bridged(api: Api) -> None:
    service = api.app.state.twilio_voice
    accepted = EventRecord(tenant_id=uuid.uuid4(), seq=1, type="offer.accepted",
                           subject=str(uuid.uuid4()), actor="user:x",
                           payload={"agent_id": str(uuid.uuid4()), "channel": "chat"},
                           occurred_at=api.db.clock.now())
    await service.on_event(accepted)
    assert not service._tasks  # a chat: no call to look up, not even a read
    await service.on_event(replace(accepted, payload={**accepted.payload, "channel": "voice"}))
    assert len(service._tasks) == 1  # a call: looked up (unknown here, so nothing to bridge)
    await asyncio.gather(*service._tasks)
