"""Inbound SMTP: the standard library's client against the running app's server."""

from __future__ import annotations

import asyncio
import smtplib
from email import policy
from email.message import EmailMessage

import pytest

from tests.channels.email.conftest import ADDRESS, MAX_BYTES, Mailroom, crlf, fixture


async def test_a_multipart_mail_with_attachments_opens_a_queued_interaction(
        mailroom: Mailroom) -> None:
    refused = await mailroom.send(fixture("multipart_attachment.eml"))
    assert refused == {}
    (interaction,) = await mailroom.interactions()
    assert (interaction["channel"], interaction["state"]) == ("email", "queued")
    assert interaction["subject"] == "Invoice 2026-1187 is wrong"
    (message,) = await mailroom.messages(interaction["id"])
    assert message["author_kind"] == "customer"
    assert message["body"] == (
        "Hello,\n\nthe invoice I received charges me twice for the delivery. The PDF and a\n"
        "screenshot are attached.\n\nThanks,\nAna")
    assert message["external_id"] == "<b3c1f9e2-7d1a-4c55-9a0e-2f1d3c4b5a6e@example.com>"
    assert [{key: a[key] for key in ("filename", "content_type", "size")}
            for a in message["attachments"]] == [
        {"filename": "facture-été.pdf", "content_type": "application/pdf", "size": 125},
        {"filename": "screenshot.png", "content_type": "image/png", "size": 67}]
    assert all(a["url"].endswith(f"/attachments/{a['id']}") for a in message["attachments"])
    customer = (await mailroom.api.client.get(
        f"/api/v1/customers/{interaction['customer_id']}", headers=mailroom.admin)).json()
    assert customer["display_name"] == "Ana Lima"
    assert customer["identities"] == [{"kind": "email", "value": "ana.lima@example.com"}]


async def test_an_iso_8859_1_mail_is_decoded(mailroom: Mailroom) -> None:
    await mailroom.send(fixture("latin1.eml"), mail_from="francois.muller@example.fr")
    (interaction,) = await mailroom.interactions()
    assert interaction["subject"] == "Commande déjà payée"
    (message,) = await mailroom.messages(interaction["id"])
    assert message["body"] == (
        "Bonjour,\n\nma commande n° 4471 est déjà payée mais le statut indique « en attente ».\n"
        "Où en est-elle ? Grüße, François")
    customer = (await mailroom.api.client.get(
        f"/api/v1/customers/{interaction['customer_id']}", headers=mailroom.admin)).json()
    assert customer["display_name"] == "François Müller"


async def test_an_html_only_mail_becomes_readable_text(mailroom: Mailroom) -> None:
    await mailroom.send(fixture("html_only.eml"), mail_from="bruno.keller@example.net")
    (interaction,) = await mailroom.interactions()
    (message,) = await mailroom.messages(interaction["id"])
    assert message["body"] == (
        'Hi team,\n\nsince this morning I cannot log in: the page says "account locked" & '
        "nothing else.\n\n- Browser: Firefox\n- Account: bruno.keller\n\n"
        "See the login page (https://acme.example/login).\n\nBest regards,\nBruno")
    assert message["attachments"] == []


async def test_an_unknown_recipient_is_refused_with_550_at_rcpt(mailroom: Mailroom) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        await mailroom.send(fixture("latin1.eml"), to="sales@acme.example")
    code, text = refused.value.recipients["sales@acme.example"]
    assert code == 550
    assert text.startswith(b"5.1.1")
    assert await mailroom.interactions() == []


async def test_a_mail_to_a_known_and_an_unknown_address_is_stored_once(
        mailroom: Mailroom) -> None:
    refused = await asyncio.to_thread(_send_to_many, mailroom.port,
                                      ["nobody@acme.example", ADDRESS.upper()])
    assert set(refused) == {"nobody@acme.example"}
    assert len(await mailroom.interactions()) == 1


def _send_to_many(port: int, recipients: list[str]) -> dict[str, tuple[int, bytes]]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        return client.sendmail("ana.lima@example.com", recipients, crlf(fixture("latin1.eml")))


def _big_mail() -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "ana.lima@example.com", ADDRESS, "Big"
    mail.set_content("\n".join(f"line {n:05d} {'x' * 60}" for n in range(MAX_BYTES // 60)))
    return mail.as_bytes(policy=policy.SMTP)


async def test_an_oversized_mail_is_refused_with_552_when_announced(mailroom: Mailroom) -> None:
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        await mailroom.send(_big_mail())
    assert refused.value.smtp_code == 552
    assert await mailroom.interactions() == []


def _send_without_size(port: int, raw: bytes) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo()
        client.mail("ana.lima@example.com")
        client.rcpt(ADDRESS)
        try:
            return client.data(raw)
        except smtplib.SMTPDataError as error:
            return error.smtp_code, error.smtp_error


async def test_an_oversized_mail_is_refused_with_552_after_data(mailroom: Mailroom) -> None:
    code, _ = await asyncio.to_thread(_send_without_size, mailroom.port, _big_mail())
    assert code == 552
    assert await mailroom.interactions() == []


async def test_a_resent_message_id_is_stored_once(mailroom: Mailroom) -> None:
    await mailroom.send(fixture("multipart_attachment.eml"))
    assert await mailroom.send(fixture("multipart_attachment.eml")) == {}
    (interaction,) = await mailroom.interactions()
    assert len(await mailroom.messages(interaction["id"])) == 1


async def test_a_mail_without_message_id_is_deduplicated_by_content(mailroom: Mailroom) -> None:
    raw = fixture("latin1.eml").replace(
        b"Message-ID: <20261124160210.4F2A1C0@mail.example.fr>\r\n", b"")
    await mailroom.send(raw)
    await mailroom.send(raw)
    (interaction,) = await mailroom.interactions()
    (message,) = await mailroom.messages(interaction["id"])
    assert message["external_id"].startswith("<sha256.")


async def _events_of(mailroom: Mailroom, kind: str) -> list[dict[str, object]]:
    events = (await mailroom.api.client.get("/api/v1/events", headers=mailroom.admin)).json()
    return [event for event in events if event["type"] == kind]


async def test_an_auto_reply_is_kept_as_an_event_and_opens_nothing(mailroom: Mailroom) -> None:
    assert await mailroom.send(fixture("auto_reply.eml")) == {}
    assert await mailroom.interactions() == []
    (event,) = await _events_of(mailroom, "email.automated_received")
    assert event["payload"] == {
        "kind": "auto_reply", "from": "ana.lima@example.com",
        "subject": "Automatic reply: Invoice 2026-1187 is wrong",
        "message_id": "<oof.1f0a77c2.20261125@example.com>", "interaction_id": None,
        "body": "I am out of the office until 2 December with limited access to email."}
    assert event["subject"] == mailroom.channel_id


async def test_a_bounce_with_an_empty_return_path_opens_nothing(mailroom: Mailroom) -> None:
    assert await mailroom.send(fixture("bounce.eml"), mail_from="") == {}
    assert await mailroom.interactions() == []
    (event,) = await _events_of(mailroom, "email.automated_received")
    assert event["payload"]["kind"] == "bounce"  # type: ignore[index]
