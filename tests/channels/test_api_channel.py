"""The generic API channel: signed, idempotent, queues the interaction."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest

from omnidesk.channels import inbound
from omnidesk.channels.api_channel import adapter
from omnidesk.channels.api_channel.signature import sign
from omnidesk.channels.models import Channel
from omnidesk.clock import FixedClock
from tests.conftest import Api, eventually, make_tenant

SECRET = "a-channel-secret-of-enough-length"
NEW_SECRET = "a-rotated-channel-secret-of-enough-length"


@pytest.fixture
async def channel(api: Api) -> dict[str, Any]:
    """An API channel in tenant acme whose messages go to queue support."""
    await make_tenant(api.db, "acme", admin_email="admin@acme.example")
    admin = await api.login("acme", "admin@acme.example")
    await api.client.post("/api/v1/queues", headers=admin, json={"name": "support"})
    created = await api.client.post("/api/v1/channels", headers=admin, json={
        "kind": "api", "name": "crm", "default_queue": "support", "secret": SECRET})
    assert created.status_code == 201, created.text
    return {"id": created.json()["id"], "admin": admin}


def signed(body: dict[str, Any], clock: FixedClock, secret: str = SECRET,
           **extra: str) -> tuple[bytes, dict[str, str]]:
    """The raw body and the headers a well-behaved client sends."""
    raw = json.dumps(body).encode()
    timestamp = str(int(clock.now().timestamp()))
    return raw, {"Content-Type": "application/json", "X-Omnidesk-Timestamp": timestamp,
                 "X-Omnidesk-Signature": sign(secret, timestamp, raw), **extra}


def message(text: str = "Where is my order 1234?", phone: str = "+1 415 555 0134",
            **extra: Any) -> dict[str, Any]:
    return {"customer": {"identity": {"kind": "phone", "value": phone}, "name": "Ana"},
            "text": text, **extra}


async def _post(api: Api, channel_id: str, raw: bytes, headers: dict[str, str]) -> Any:
    return await api.client.post(f"/api/v1/channels/api/{channel_id}/messages", content=raw,
                                 headers=headers)


async def _interactions(api: Api, admin: dict[str, str]) -> list[dict[str, Any]]:
    return (await api.client.get("/api/v1/interactions", headers=admin)).json()  # type: ignore[no-any-return]


async def test_signed_message_creates_customer_and_queued_interaction(
        api: Api, channel: dict[str, Any], clock: FixedClock) -> None:
    response = await _post(api, channel["id"], *signed(message(), clock))
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["interaction_state"] == "queued"
    (interaction,) = await _interactions(api, channel["admin"])
    assert interaction["id"] == answer["interaction_id"]
    assert (interaction["channel"], interaction["state"]) == ("api", "queued")
    assert interaction["queued_at"] is not None
    customer = await api.client.get(f"/api/v1/customers/{answer['customer_id']}",
                                    headers=channel["admin"])
    assert customer.json()["identities"] == [{"kind": "phone", "value": "+14155550134"}]
    messages = await api.client.get(f"/api/v1/interactions/{answer['interaction_id']}/messages",
                                    headers=channel["admin"])
    assert [(m["author_kind"], m["body"]) for m in messages.json()] == [
        ("customer", "Where is my order 1234?")]
    events = await api.client.get("/api/v1/events", headers=channel["admin"])
    assert [e["type"] for e in events.json()][-4:] == [
        "customer.created", "interaction.created", "message.created", "interaction.queued"]


async def test_a_second_message_joins_the_open_interaction(
        api: Api, channel: dict[str, Any], clock: FixedClock) -> None:
    first = (await _post(api, channel["id"], *signed(message("hello"), clock))).json()
    second = (await _post(api, channel["id"], *signed(
        message("anyone?", phone="whatsapp:14155550134"), clock))).json()
    assert second["interaction_id"] == first["interaction_id"]
    assert second["customer_id"] == first["customer_id"]
    assert len(await _interactions(api, channel["admin"])) == 1


async def test_a_first_message_racing_its_twin_joins_the_twins_customer_and_interaction(
        api: Api, channel: dict[str, Any], clock: FixedClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    first = (await _post(api, channel["id"], *signed(message("hello"), clock))).json()

    async def looked_before_the_twin_committed(*args: Any, **kwargs: Any) -> None:
        return None

    monkeypatch.setattr(inbound, "find_by_identity", looked_before_the_twin_committed)
    second = await _post(api, channel["id"], *signed(message("anyone?"), clock))
    assert second.status_code == 202, second.text
    assert second.json()["customer_id"] == first["customer_id"]
    assert second.json()["interaction_id"] == first["interaction_id"]
    assert len(await _interactions(api, channel["admin"])) == 1


async def test_while_routing_lags_a_new_contact_is_503_and_an_open_conversation_still_taken(
        api: Api, channel: dict[str, Any], clock: FixedClock) -> None:
    acd = api.app.state.acd
    api.db.intake.max_lag_s = 0.2

    async def lagging() -> bool:
        return bool(acd.lag_seconds() > 0.2)

    async def caught_up() -> bool:
        return bool(acd.lag_seconds() == 0)

    first = (await _post(api, channel["id"], *signed(message("hello"), clock))).json()
    (router,) = acd.routers.values()
    async with router.lock:  # the router is stuck on the next contact's events
        stuck = await _post(api, channel["id"], *signed(message(phone="+14155550199"), clock))
        assert stuck.status_code == 202, stuck.text
        await eventually(lagging, "the router to lag")
        refused = await _post(api, channel["id"], *signed(message(phone="+14155550177"), clock))
        joined = await _post(api, channel["id"], *signed(message("still there?"), clock))
    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["error"]["code"] == "overloaded"
    assert joined.status_code == 202, joined.text
    assert joined.json()["interaction_id"] == first["interaction_id"]
    assert len(await _interactions(api, channel["admin"])) == 2  # the refused one stored nothing
    await eventually(caught_up, "the router to catch up")
    retried = await _post(api, channel["id"], *signed(message(phone="+14155550177"), clock))
    assert retried.status_code == 202, retried.text
    assert len(await _interactions(api, channel["admin"])) == 3


async def test_a_new_contact_whose_request_waited_in_the_server_past_the_limit_is_503(
        api: Api, channel: dict[str, Any], clock: FixedClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    api.db.intake.max_lag_s = 0.2
    load_channel = adapter.load_channel

    async def slow_load_channel(*args: Any) -> Channel:
        await asyncio.sleep(0.3)  # as a read waits for its connection on a busy server
        return await load_channel(*args)

    monkeypatch.setattr(adapter, "load_channel", slow_load_channel)
    refused = await _post(api, channel["id"], *signed(message(), clock))
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"]["message"].startswith("the server is 0.3 s behind")
    assert refused.headers["Retry-After"] == "1"
    assert await _interactions(api, channel["admin"]) == []
    monkeypatch.setattr(adapter, "load_channel", load_channel)
    taken = await _post(api, channel["id"], *signed(message(), clock))
    assert taken.status_code == 202, taken.text


@pytest.mark.parametrize("headers_key", ["Idempotency-Key", None])
async def test_a_retried_request_returns_the_original_result_and_stores_nothing_new(
        api: Api, channel: dict[str, Any], clock: FixedClock, headers_key: str | None) -> None:
    body = message(external_id="crm-msg-1") if headers_key is None else message()
    extra = {headers_key: "retry-me"} if headers_key else {}
    raw, headers = signed(body, clock, **extra)
    first = await _post(api, channel["id"], raw, headers)
    clock.advance(30)
    raw, headers = signed(body, clock, **extra)
    again = await _post(api, channel["id"], raw, headers)
    assert again.status_code == first.status_code == 202
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    messages = await api.client.get(
        f"/api/v1/interactions/{first.json()['interaction_id']}/messages",
        headers=channel["admin"])
    assert len(messages.json()) == 1


async def test_a_bad_signature_is_403_and_stores_nothing(
        api: Api, channel: dict[str, Any], clock: FixedClock) -> None:
    raw, headers = signed(message(), clock, secret="another-secret-of-enough-length")
    response = await _post(api, channel["id"], raw, headers)
    assert response.status_code == 403
    assert response.json()["error"]["field"] == "x-omnidesk-signature"
    assert await _interactions(api, channel["admin"]) == []


async def test_a_tampered_body_is_403(api: Api, channel: dict[str, Any],
                                      clock: FixedClock) -> None:
    raw, headers = signed(message("pay 10"), clock)
    response = await _post(api, channel["id"], raw.replace(b"10", b"99"), headers)
    assert response.status_code == 403


async def test_an_old_timestamp_is_refused_as_a_replay(
        api: Api, channel: dict[str, Any], clock: FixedClock) -> None:
    raw, headers = signed(message(), clock)
    clock.advance(301)
    response = await _post(api, channel["id"], raw, headers)
    assert response.status_code == 403
    assert response.json()["error"]["field"] == "x-omnidesk-timestamp"


async def test_missing_signature_headers_are_401(api: Api, channel: dict[str, Any]) -> None:
    response = await _post(api, channel["id"], json.dumps(message()).encode(),
                           {"Content-Type": "application/json"})
    assert response.status_code == 401


@pytest.mark.parametrize(("body", "field"), [
    ({"text": "hi"}, "customer"),
    (message(text=""), "text"),
    (message(phone="not a phone"), "identity.value"),
    ({**message(), "surprise": 1}, "surprise"),
])
async def test_a_malformed_body_is_422_naming_the_field(
        api: Api, channel: dict[str, Any], clock: FixedClock, body: dict[str, Any],
        field: str) -> None:
    response = await _post(api, channel["id"], *signed(body, clock))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert await _interactions(api, channel["admin"]) == []


async def test_a_body_that_is_not_json_is_422(api: Api, channel: dict[str, Any],
                                              clock: FixedClock) -> None:
    raw = b"{not json"
    timestamp = str(int(clock.now().timestamp()))
    response = await _post(api, channel["id"], raw, {
        "X-Omnidesk-Timestamp": timestamp, "X-Omnidesk-Signature": sign(SECRET, timestamp, raw)})
    assert response.status_code == 422


async def test_an_unknown_channel_is_404(api: Api, channel: dict[str, Any],
                                         clock: FixedClock) -> None:
    response = await _post(api, "00000000-0000-4000-8000-000000000000", *signed(message(), clock))
    assert response.status_code == 404


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert sign("k", "1700000000", b"{}") == f"sha256={expected}"


async def test_the_channel_is_read_once_and_a_change_through_the_api_is_seen_at_once(
        api: Api, channel: dict[str, Any], clock: FixedClock) -> None:
    assert (await _post(api, channel["id"], *signed(message(), clock))).status_code == 202
    async with api.db.write() as session:  # behind the cache's back: no event
        row = await session.get(Channel, uuid.UUID(channel["id"]))
        assert row is not None
        row.secret = "a-secret-changed-without-an-event"
    again = await _post(api, channel["id"], *signed(message(text="again"), clock))
    assert again.status_code == 202  # the channel came from memory
    rotated = await api.client.patch(f"/api/v1/channels/{channel['id']}",
                                     headers=channel["admin"], json={"secret": NEW_SECRET})
    assert rotated.status_code == 200, rotated.text
    stale = await _post(api, channel["id"], *signed(message(text="late"), clock))
    assert stale.status_code == 403  # channel.updated forgot the channel: the new secret holds
    fresh = await _post(api, channel["id"], *signed(message(text="late"), clock, NEW_SECRET))
    assert fresh.status_code == 202, fresh.text
