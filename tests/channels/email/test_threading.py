"""Agents' replies go out threaded; customers' replies come back to the same interaction."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from typing import Any

from omnidesk.interactions.actions import change_state
from omnidesk.interactions.models import Interaction
from omnidesk.interactions.schemas import StateChange
from omnidesk.interactions.states import InteractionState
from tests.channels.email.conftest import ADDRESS, Mailroom, Sink, fixture
from tests.conftest import eventually

FIRST_ID = "<b3c1f9e2-7d1a-4c55-9a0e-2f1d3c4b5a6e@example.com>"


async def _opened(mailroom: Mailroom) -> dict[str, Any]:
    """Ana's first mail, stored as a queued interaction."""
    await mailroom.send(fixture("multipart_attachment.eml"))
    (interaction,) = await mailroom.interactions()
    return interaction


async def _agent_replies(mailroom: Mailroom, sink: Sink, interaction_id: str,
                         body: str = "Hello Ana, we refunded the second delivery fee."
                         ) -> EmailMessage:
    posted = await mailroom.api.client.post(f"/api/v1/interactions/{interaction_id}/messages",
                                            headers=mailroom.admin, json={"body": body})
    assert posted.status_code == 201, posted.text
    sent = await sink.next_mail()

    async def recorded() -> bool:  # the delivery is over before the test goes on
        messages = await mailroom.messages(interaction_id)
        return messages[-1]["external_id"] == sent["Message-ID"]

    await eventually(recorded, "the Message-ID as the message's provider id")
    return sent


def _customer_reply(to: EmailMessage, text: str, message_id: str) -> bytes:
    """What a mail client sends when Ana answers the agent's mail."""
    reply = EmailMessage()
    reply["From"] = "Ana Lima <ana.lima@example.com>"
    reply["To"] = ADDRESS
    reply["Subject"] = f"Re: {to['Subject']}"
    reply["Message-ID"] = message_id
    reply["In-Reply-To"] = to["Message-ID"]
    reply["References"] = f"{to['References']} {to['Message-ID']}"
    quoted = "\n".join(f"> {line}" for line in to.get_content().splitlines())
    reply.set_content(f"{text}\n\nOn Wed, 25 Nov 2026 at 10:02, Acme Support\n"
                      f"<support@acme.example> wrote:\n{quoted}\n")
    return reply.as_bytes()


async def test_the_agents_reply_is_mailed_with_threading_headers(
        mailroom: Mailroom, sink: Sink) -> None:
    interaction = await _opened(mailroom)
    sent = await _agent_replies(mailroom, sink, interaction["id"])
    token = uuid.UUID(interaction["id"]).hex[:8]
    assert sent["From"] == "Acme Support <support@acme.example>"
    assert sent["To"] == "ana.lima@example.com"
    assert sent["Subject"] == f"Re: Invoice 2026-1187 is wrong [#{token}]"
    assert sent["In-Reply-To"] == FIRST_ID
    assert sent["References"] == FIRST_ID
    assert sent["Message-ID"].startswith(f"<od.{uuid.UUID(interaction['id']).hex}.")
    assert sent.get_content().strip() == "Hello Ana, we refunded the second delivery fee."
    envelope = sink.received[-1][0]
    assert (envelope.mail_from, envelope.rcpt_tos) == (ADDRESS, ["ana.lima@example.com"])


async def test_a_reply_to_the_agents_mail_threads_onto_the_same_interaction(
        mailroom: Mailroom, sink: Sink) -> None:
    interaction = await _opened(mailroom)
    sent = await _agent_replies(mailroom, sink, interaction["id"])
    await mailroom.send(_customer_reply(sent, "Thanks, that was quick!", "<reply-1@example.com>"))
    (same,) = await mailroom.interactions()
    assert same["id"] == interaction["id"]
    messages = await mailroom.messages(interaction["id"])
    assert [(m["author_kind"], m["body"]) for m in messages][-1] == (
        "customer", "Thanks, that was quick!")
    assert same["attributes"]["thread"]["last_message_id"] == "<reply-1@example.com>"
    follow_up = await _agent_replies(mailroom, sink, interaction["id"], "You are welcome.")
    assert follow_up["In-Reply-To"] == "<reply-1@example.com>"
    assert follow_up["References"].split() == [FIRST_ID, sent["Message-ID"],
                                               "<reply-1@example.com>"]


async def _close(mailroom: Mailroom, interaction_id: str) -> None:
    async with mailroom.api.db.write() as session:
        interaction = await session.get(Interaction, uuid.UUID(interaction_id))
        assert interaction is not None
        await change_state(session, interaction, StateChange(state=InteractionState.CLOSED),
                           actor="test")


async def test_a_reply_to_a_closed_interaction_opens_a_new_one_that_follows_it(
        mailroom: Mailroom, sink: Sink) -> None:
    interaction = await _opened(mailroom)
    sent = await _agent_replies(mailroom, sink, interaction["id"])
    await _close(mailroom, interaction["id"])
    await mailroom.send(_customer_reply(sent, "It happened again.", "<reply-2@example.com>"))
    newer, older = sorted(await mailroom.interactions(), key=lambda i: i["id"] == interaction["id"])
    assert older["state"] == "closed"
    assert newer["state"] == "queued"
    assert newer["attributes"]["follows"] == interaction["id"]
    assert newer["subject"] == "Invoice 2026-1187 is wrong"


async def test_the_subject_token_threads_a_mail_without_reply_headers(
        mailroom: Mailroom, sink: Sink) -> None:
    interaction = await _opened(mailroom)
    await _close(mailroom, interaction["id"])
    token = uuid.UUID(interaction["id"]).hex[:8]
    mail = EmailMessage()
    mail["From"], mail["To"] = "ana.lima@example.com", ADDRESS
    mail["Subject"], mail["Message-ID"] = f"About my invoice [#{token}]", "<new-3@example.com>"
    mail.set_content("Written from my phone.")
    await mailroom.send(mail.as_bytes())
    (newer,) = [i for i in await mailroom.interactions() if i["id"] != interaction["id"]]
    assert newer["attributes"]["follows"] == interaction["id"]
    assert newer["subject"] == "About my invoice"


async def test_a_bounce_of_our_mail_is_noted_on_the_open_interaction(
        mailroom: Mailroom, sink: Sink) -> None:
    interaction = await _opened(mailroom)
    sent = await _agent_replies(mailroom, sink, interaction["id"])
    bounce = fixture("bounce.eml").replace(
        b"<od.0f1e2d3c4b5a69788796a5b4c3d2e1f0.11112222333344445555666677778888@acme.example>",
        sent["Message-ID"].encode())
    await mailroom.send(bounce, mail_from="")
    (same,) = await mailroom.interactions()
    assert same["state"] == "queued"
    note = (await mailroom.messages(interaction["id"]))[-1]
    assert note["author_kind"] == "system"
    assert note["body"].startswith("Delivery failure report from mailer-daemon@mx.example.org")
    assert "User unknown" in note["body"]
