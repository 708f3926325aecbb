"""Leave a message when nobody can chat; transcript by email; continue by email; call back."""

from __future__ import annotations

from typing import Any

from tests.channels.conversation import events, interactions, messages
from tests.channels.email.conftest import Sink, sink
from tests.channels.webchat.conftest import Visitor
from tests.conftest import Api

__all__ = ["sink"]  # the relay fixture, shared with the email tests
CLOSED_ALL_WEEK = {day: [["23:00", "23:30"]] for day in
                   ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}  # the clock says 09:00


async def _channel(api: Api, admin: dict[str, str], name: str, queue: str,
                   **settings: Any) -> dict[str, Any]:
    response = await api.client.post("/api/v1/channels", headers=admin, json={
        "kind": "webchat", "name": name, "default_queue": queue, "settings": settings})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def _email_channel(api: Api, admin: dict[str, str], port: int) -> dict[str, Any]:
    response = await api.client.post("/api/v1/channels", headers=admin, json={
        "kind": "email", "name": "support-mail", "default_queue": "support",
        "settings": {"address": "support@acme.example", "from_name": "Acme Support",
                     "smtp_host": "127.0.0.1", "smtp_port": port, "starttls": False}})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_leave_a_message_when_the_queue_is_closed(
        api: Api, admin: dict[str, str], served: str) -> None:
    for queue in ({"name": "after-hours", "business_hours": CLOSED_ALL_WEEK},
                  {"name": "messages"}):
        created = await api.client.post("/api/v1/queues", headers=admin, json=queue)
        assert created.status_code == 201, created.text
    channel = await _channel(api, admin, "night", "after-hours", offline_queue="messages")
    browser = Visitor(served, channel["id"])
    try:
        welcome = await browser.connect()
        assert welcome["availability"]["mode"] == "leave_message"
        assert welcome["availability"]["reason"] == "closed"
        await browser.send({"type": "leave_message", "name": "Ana Lima",
                            "email": "ana@example.com", "text": "Please call me tomorrow",
                            "ref": "left-1"})
        left = await browser.next("message_left", ref="left-1")
        shown = await browser.next("message", text="Please call me tomorrow")
        assert shown["interaction_id"] == left["interaction_id"]
    finally:
        await browser.close()
    row = next(r for r in await interactions(api, admin) if r["id"] == left["interaction_id"])
    queues = {q["name"]: q["id"] for q in
              (await api.client.get("/api/v1/queues", headers=admin)).json()}
    assert row["state"] == "queued" and row["queue_id"] == queues["messages"]
    assert row["attributes"]["left_message"] == {"reason": "closed"}
    assert [m["body"] for m in await messages(api, admin, row["id"])] == [
        "Please call me tomorrow"]
    assert "webchat.message_left" in [e["type"] for e in await events(api, admin, row["id"])]


async def test_the_widget_offers_to_leave_a_message_when_the_wait_is_too_long(
        api: Api, admin: dict[str, str], served: str) -> None:
    await api.ready_agent(admin, "alice@acme.example", "Alice")  # serving: a wait to estimate
    strict = await _channel(api, admin, "strict", "support", max_estimated_wait_seconds=1)
    relaxed = await _channel(api, admin, "relaxed", "support")
    for channel, mode in ((strict, "leave_message"), (relaxed, "chat")):
        browser = Visitor(served, channel["id"])
        try:
            welcome = await browser.connect()
        finally:
            await browser.close()
        assert welcome["availability"]["mode"] == mode, welcome["availability"]
        assert welcome["availability"]["estimated_wait_s"] > 1
    assert welcome["availability"]["reason"] is None


async def test_a_waiting_chat_gives_up_its_place_for_a_left_message(
        api: Api, admin: dict[str, str], served: str) -> None:
    channel = await _channel(api, admin, "busy", "support")
    browser = Visitor(served, channel["id"])
    try:
        await browser.start()
        ack = await browser.say("anyone there?", "c-1")
        await browser.send({"type": "leave_message", "name": "Ana Lima",
                            "email": "ana@example.com", "text": "I give up waiting"})
        left = await browser.next("message_left")
    finally:
        await browser.close()
    rows = {r["id"]: r for r in await interactions(api, admin)}
    assert rows[ack["interaction_id"]]["state"] == "abandoned"
    assert rows[left["interaction_id"]]["attributes"]["continued_from"] == ack["interaction_id"]
    assert rows[left["interaction_id"]]["state"] == "new"  # no offline queue configured


async def test_continue_by_email_creates_an_interaction_linked_to_the_chat(
        api: Api, admin: dict[str, str], visitor: Visitor, sink: Sink) -> None:
    email_channel = await _email_channel(api, admin, sink.port)
    await visitor.start()
    ack = await visitor.say("Can we do this by email?", "c-1")
    await visitor.send({"type": "continue", "via": "email", "note": "I have photos to send"})
    continued = await visitor.next("continued", via="email")
    rows = {r["id"]: r for r in await interactions(api, admin)}
    new, chat = rows[continued["interaction_id"]], rows[ack["interaction_id"]]
    assert new["channel"] == "email" and new["channel_id"] == email_channel["id"]
    assert new["attributes"]["continued_from"] == chat["id"]
    assert new["customer_id"] == chat["customer_id"] and new["state"] == "queued"
    assert chat["attributes"]["continued_to"] == [{"interaction_id": new["id"],
                                                   "via": "email"}]
    body = (await messages(api, admin, new["id"]))[0]["body"]
    assert "ana@example.com" in body and "I have photos to send" in body


async def test_continue_by_email_without_an_email_channel_is_a_clear_error(
        visitor: Visitor) -> None:
    await visitor.start()
    await visitor.say("hi", "c-1")
    await visitor.send({"type": "continue", "via": "email"})
    error = await visitor.next("error")
    assert error["field"] == "via" and "email channel" in error["message"]


async def test_call_me_back_creates_a_linked_callback(
        api: Api, admin: dict[str, str], visitor: Visitor) -> None:
    await visitor.start()
    ack = await visitor.say("Please phone me", "c-1")
    await visitor.send({"type": "continue", "via": "callback", "phone": "+1 415 555 0134"})
    continued = await visitor.next("continued", via="callback")
    row = next(r for r in await interactions(api, admin)
               if r["id"] == continued["interaction_id"])
    assert row["channel"] == "voice" and row["direction"] == "outbound"
    assert row["state"] == "callback_scheduled"
    assert row["attributes"]["continued_from"] == ack["interaction_id"]
    assert row["attributes"]["callback_number"] == "+14155550134"
    await visitor.send({"type": "continue", "via": "callback", "phone": "12"})
    assert (await visitor.next("error"))["field"] == "phone"


async def test_the_transcript_goes_out_through_the_email_channel(
        api: Api, admin: dict[str, str], visitor: Visitor, sink: Sink) -> None:
    await _email_channel(api, admin, sink.port)
    await visitor.start()
    ack = await visitor.say("What are your opening hours?", "c-1")
    await api.client.post(f"/api/v1/interactions/{ack['interaction_id']}/messages",
                          headers=admin, json={"body": "Nine to five."})
    await visitor.next("message", text="Nine to five.")
    await visitor.send({"type": "transcript"})
    sent = await visitor.next("transcript_sent")
    assert sent["email"] == "ana@example.com"
    assert len(sink.received) == 1  # relayed before the frame was sent
    mail = sink.received[0][1]
    assert mail["To"] == "ana@example.com"
    text = mail.get_content()
    assert "What are your opening hours?" in text and "Nine to five." in text
    assert "webchat.transcript_sent" in [
        e["type"] for e in await events(api, admin, ack["interaction_id"])]


async def test_a_transcript_without_an_email_channel_is_a_clear_error(visitor: Visitor) -> None:
    await visitor.start()
    await visitor.say("hi", "c-1")
    await visitor.send({"type": "transcript"})
    error = await visitor.next("error")
    assert error["field"] == "email" and "no email channel" in error["message"]
