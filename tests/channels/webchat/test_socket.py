"""The visitor's WebSocket: acks after the write, idempotent client ids, resume, identity."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.channels.conversation import events, interactions, messages
from tests.channels.webchat.conftest import Visitor
from tests.conftest import Api, eventually


async def _only_interaction(api: Api, admin: dict[str, str]) -> dict[str, Any]:
    rows = [row for row in await interactions(api, admin) if row["channel"] == "webchat"]
    assert len(rows) == 1, rows
    return rows[0]


async def test_a_message_is_acked_after_it_is_stored_and_the_chat_is_queued(
        api: Api, admin: dict[str, str], visitor: Visitor) -> None:
    welcome = await visitor.start()
    assert welcome["availability"] == {"mode": "chat", "open": True, "reason": None,
                                       "estimated_wait_s": None}
    assert welcome["profile"] is None and welcome["interaction"] is None
    ack = await visitor.say("Where is my order 1234?", "c-1")
    assert ack["duplicate"] is False and ack["position"] == 1
    interaction = await _only_interaction(api, admin)
    assert interaction["id"] == ack["interaction_id"]
    assert interaction["state"] == "queued" and interaction["subject"] == "Orders"
    stored = await messages(api, admin, interaction["id"])
    assert [(m["id"], m["body"], m["external_id"]) for m in stored] == [
        (ack["message_id"], "Where is my order 1234?", "c-1")]
    customer = (await api.client.get(f"/api/v1/customers/{interaction['customer_id']}",
                                     headers=admin)).json()
    assert customer["display_name"] == "Ana Lima"
    kinds = {(i["kind"], i["value"]) for i in customer["identities"]}
    assert ("email", "ana@example.com") in kinds and ("chat", welcome["visitor_id"]) in kinds
    echoed = await visitor.next("message", id=ack["message_id"])
    assert echoed["author"] == "customer" and echoed["client_id"] == "c-1"


async def test_a_new_chat_while_the_server_is_behind_is_refused_then_taken_when_resent(
        api: Api, admin: dict[str, str], visitor: Visitor) -> None:
    behind = [4.5]
    api.db.intake.watch(lambda: behind[0])
    await visitor.start()
    await visitor.send({"type": "message", "client_id": "c-1", "text": "hello"})
    refused = await visitor.next("error", ref="c-1")
    assert (refused["code"], refused["retry_after_s"]) == ("overloaded", 5)
    assert [row for row in await interactions(api, admin) if row["channel"] == "webchat"] == []
    behind[0] = 0.0
    ack = await visitor.say("hello", "c-1")  # the widget sends it again after retry_after_s
    assert ack["duplicate"] is False
    assert (await _only_interaction(api, admin))["id"] == ack["interaction_id"]


async def test_a_resent_client_id_is_acked_again_and_never_stored_twice(
        api: Api, admin: dict[str, str], visitor: Visitor) -> None:
    await visitor.start()
    first = await visitor.say("hello", "same-id")
    again = await visitor.say("hello", "same-id")
    assert again["duplicate"] is True and again["message_id"] == first["message_id"]
    await visitor.close()
    await visitor.connect()  # a resend after a reconnect (the widget's outbox)
    after_reconnect = await visitor.say("hello", "same-id")
    assert after_reconnect["message_id"] == first["message_id"]
    interaction = await _only_interaction(api, admin)
    assert [m["body"] for m in await messages(api, admin, interaction["id"])] == ["hello"]


async def test_disconnect_mid_stream_then_resume_loses_and_doubles_nothing(
        api: Api, admin: dict[str, str], served: str, chat: dict[str, Any],
        visitor: Visitor) -> None:
    await visitor.start()
    ack = await visitor.say("first", "c-1")
    interaction_id = ack["interaction_id"]
    for number in range(1, 7):
        posted = await api.client.post(f"/api/v1/interactions/{interaction_id}/messages",
                                       headers=admin, json={"body": f"agent {number}"})
        assert posted.status_code == 201
    await visitor.next("message", text="agent 2")
    await visitor.close()  # gone in the middle of the agent's messages
    seen_before = visitor.messages()
    last_seen = seen_before[-1]["id"]
    for number in range(7, 9):  # written while the visitor is away
        await api.client.post(f"/api/v1/interactions/{interaction_id}/messages",
                              headers=admin, json={"body": f"agent {number}"})

    again = Visitor(served, chat["id"])
    again.token = visitor.token
    try:
        welcome = await again.connect(last_seen_id=last_seen)
        assert welcome["interaction"]["id"] == interaction_id
        await again.next("message", text="agent 8")
        await api.client.post(f"/api/v1/interactions/{interaction_id}/messages",
                              headers=admin, json={"body": "agent 9"})
        await again.next("message", text="agent 9")
        seen_after = again.messages()
    finally:
        await again.close()
    received = [m["id"] for m in seen_before + seen_after]
    stored = [m["id"] for m in await messages(api, admin, interaction_id)]
    assert len(received) == len(set(received)), "a message was delivered twice"
    assert received == stored, "the visitor's stream differs from what was stored"
    assert all(m["position"] > seen_before[-1]["position"] for m in seen_after)


async def test_a_page_load_without_a_last_seen_id_replays_the_whole_conversation(
        api: Api, admin: dict[str, str], served: str, chat: dict[str, Any],
        visitor: Visitor) -> None:
    await visitor.start()
    ack = await visitor.say("one", "c-1")
    await api.client.post(f"/api/v1/interactions/{ack['interaction_id']}/messages",
                          headers=admin, json={"body": "two"})
    await visitor.next("message", text="two")
    await visitor.close()
    reloaded = Visitor(served, chat["id"])
    reloaded.token = visitor.token
    try:
        welcome = await reloaded.connect()
        assert welcome["profile"] == {"name": "Ana Lima", "email": "ana@example.com",
                                      "topic": "Orders"}
        await reloaded.next("message", text="two")
        assert [m["text"] for m in reloaded.messages()] == ["one", "two"]
    finally:
        await reloaded.close()


@pytest.mark.parametrize("tamper", ["signature", "visitor", "garbage"])
async def test_a_forged_visitor_token_is_refused(
        visitor: Visitor, tamper: str) -> None:
    await visitor.connect()
    good = visitor.token
    assert good is not None
    await visitor.close()
    version, raw_id, signature = good.split(".")
    forged = {"signature": f"{version}.{raw_id}.{signature[:-2]}AA",
              "visitor": f"{version}.{'0' * 32}.{signature}",
              "garbage": "not-a-token"}[tamper]
    socket = await connect(visitor.url)
    try:
        await socket.send(json.dumps({"type": "hello", "visitor_token": forged}))
        frame = json.loads(await socket.recv(decode=True))
        assert frame["type"] == "error" and frame["code"] == "unauthorized"
        assert frame["field"] == "visitor_token"
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    finally:
        await socket.close()


async def test_a_token_of_another_channel_is_refused(
        api: Api, admin: dict[str, str], served: str, visitor: Visitor) -> None:
    await visitor.connect()
    other = await api.client.post("/api/v1/channels", headers=admin, json={
        "kind": "webchat", "name": "other-site", "default_queue": "support"})
    intruder = Visitor(served, other.json()["id"])
    intruder.socket = await connect(intruder.url)
    try:
        await intruder.send({"type": "hello", "visitor_token": visitor.token})
        error = await intruder.next("error")
        assert error["field"] == "visitor_token"
    finally:
        await intruder.close()


async def test_an_unknown_channel_is_refused(served: str) -> None:
    stranger = Visitor(served, "00000000-0000-0000-0000-000000000000")
    stranger.socket = await connect(stranger.url)
    try:
        error = await stranger.next("error")
        assert error["code"] == "not_found" and error["field"] == "channel_id"
    finally:
        await stranger.close()


async def test_bad_frames_get_an_error_naming_the_field_and_the_socket_stays_open(
        visitor: Visitor) -> None:
    await visitor.connect()
    await visitor.send({"type": "message", "text": "no client id"})
    assert (await visitor.next("error"))["field"] == "client_id"
    await visitor.send({"type": "message", "client_id": "c-1", "text": "too early"})
    assert (await visitor.next("error", ref="c-1"))["field"] == "prechat"
    await visitor.send({"type": "prechat", "name": "Ana", "email": "not an address"})
    assert (await visitor.next("error"))["field"] == "email"
    await visitor.send({"type": "prechat", "name": "Ana", "email": "ana@example.com",
                        "topic": "Football"})
    assert (await visitor.next("error"))["field"] == "topic"
    await visitor.send({"type": "dance"})
    assert (await visitor.next("error"))["field"] == "type"
    await visitor.send({"type": "ping"})
    await visitor.next("pong")


async def test_a_visitor_who_gives_a_known_email_becomes_that_customer(
        api: Api, admin: dict[str, str], visitor: Visitor) -> None:
    known = await api.client.post("/api/v1/customers", headers=admin, json={
        "display_name": "Ana (from email)",
        "identities": [{"kind": "email", "value": "Ana@Example.com"}]})
    assert known.status_code == 201
    await visitor.connect()
    await visitor.send({"type": "prechat", "name": "Ana", "email": "ana@example.com"})
    await visitor.next("prechat_ok")
    ack = await visitor.say("it is me again", "c-1")
    interaction = await _only_interaction(api, admin)
    assert interaction["id"] == ack["interaction_id"]
    assert interaction["customer_id"] == known.json()["id"]


async def test_an_anonymous_chat_is_merged_into_the_known_customer_on_pre_chat(
        api: Api, admin: dict[str, str], served: str) -> None:
    open_chat = await api.client.post("/api/v1/channels", headers=admin, json={
        "kind": "webchat", "name": "no-form", "default_queue": "support",
        "settings": {"prechat_required": False}})
    known = await api.client.post("/api/v1/customers", headers=admin, json={
        "identities": [{"kind": "email", "value": "ana@example.com"}]})
    browser = Visitor(served, open_chat.json()["id"])
    try:
        await browser.connect()
        ack = await browser.say("anonymous first", "c-1")
        await browser.send({"type": "prechat", "name": "Ana", "email": "ana@example.com"})
        await browser.next("prechat_ok")
        row = (await api.client.get(f"/api/v1/interactions/{ack['interaction_id']}",
                                    headers=admin)).json()
        assert row["customer_id"] == known.json()["id"]
    finally:
        await browser.close()


async def test_agent_messages_and_state_changes_reach_the_open_socket(
        api: Api, admin: dict[str, str], visitor: Visitor) -> None:
    await visitor.start()
    ack = await visitor.say("hi", "c-1")
    await api.client.post(f"/api/v1/interactions/{ack['interaction_id']}/messages",
                          headers=admin, json={"body": "Hello Ana, how can I help?"})
    reply = await visitor.next("message", text="Hello Ana, how can I help?")
    assert reply["author"] == "agent" and reply["client_id"] is None

    async def delivered() -> bool:
        return any(e["type"] == "message.delivered"
                   and e["payload"]["message_id"] == reply["id"]
                   for e in await events(api, admin, ack["interaction_id"]))

    await eventually(delivered, "the delivery record")
    closed = await api.client.post(f"/api/v1/interactions/{ack['interaction_id']}/state",
                                   headers=admin, json={"state": "closed"})
    assert closed.status_code == 200, closed.text
    await visitor.next("state", state="closed")
    again = await visitor.say("one more thing", "c-2")
    assert again["interaction_id"] != ack["interaction_id"]  # a new conversation
    await visitor.next("message", id=again["message_id"])


async def test_a_channel_flow_answers_the_visitor_first(
        api: Api, admin: dict[str, str], served: str) -> None:
    created = await api.client.post("/api/v1/channels", headers=admin, json={
        "kind": "webchat", "name": "bot-first", "default_queue": "support",
        "settings": {"flow": "webshop_support"}})
    assert created.status_code == 201, created.text
    browser = Visitor(served, created.json()["id"])
    try:
        await browser.start()
        ack = await browser.say("hello", "c-1")
        await browser.seen("state", state="self_service")
        bot = await browser.seen("message", author="bot")
        assert bot["interaction_id"] == ack["interaction_id"] and bot["text"]
    finally:
        await browser.close()


async def test_a_supervisors_whisper_never_reaches_the_visitor(
        api: Api, admin: dict[str, str], visitor: Visitor) -> None:
    import uuid

    from omnidesk.interactions.actions import add_message
    from omnidesk.interactions.models import Interaction

    await visitor.start()
    ack = await visitor.say("hi", "c-1")
    async with api.db.write() as session:
        row = await session.get(Interaction, uuid.UUID(ack["interaction_id"]))
        assert row is not None
        await add_message(session, row, author_kind="whisper", body="psst: offer a refund",
                          actor="test")
    await api.client.post(f"/api/v1/interactions/{ack['interaction_id']}/messages",
                          headers=admin, json={"body": "We can refund you."})
    await visitor.next("message", text="We can refund you.")
    await visitor.close()
    await visitor.connect()  # and not in a replay either
    await visitor.next("message", text="We can refund you.")
    assert not [m for m in visitor.messages() if "psst" in m["text"]]


async def test_two_tabs_of_one_visitor_follow_the_same_conversation(
        api: Api, admin: dict[str, str], served: str, chat: dict[str, Any],
        visitor: Visitor) -> None:
    await visitor.start()
    first = await visitor.say("from tab one", "c-1")
    other_tab = Visitor(served, chat["id"])
    other_tab.token = visitor.token
    try:
        await other_tab.connect()
        await other_tab.next("message", id=first["message_id"])
        await api.client.post(f"/api/v1/interactions/{first['interaction_id']}/messages",
                              headers=admin, json={"body": "to both tabs"})
        for tab in (visitor, other_tab):
            await tab.next("message", text="to both tabs")
        await api.client.post(f"/api/v1/interactions/{first['interaction_id']}/state",
                              headers=admin, json={"state": "closed"})
        await other_tab.next("state", state="closed")
        second = await visitor.say("a new question", "c-2")
        moved = await other_tab.next("conversation")
        assert moved["interaction_id"] == second["interaction_id"] != first["interaction_id"]
        await other_tab.next("message", id=second["message_id"])
    finally:
        await other_tab.close()
