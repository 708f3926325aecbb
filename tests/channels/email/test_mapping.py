"""Parsing and composing mail: charsets, HTML, quoted replies, automated mail, threading."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from omnidesk.channels.base import DeliveryError, OutboundMessage
from omnidesk.channels.email.adapter import EmailAdapter
from omnidesk.channels.email.config import EmailSettings
from omnidesk.channels.email.html import html_to_text
from omnidesk.channels.email.mapping import (
    AUTO_REPLY,
    BOUNCE,
    clean_subject,
    compose,
    interaction_of_message_id,
    parse,
    trim_quoted,
)
from omnidesk.channels.models import Channel
from tests.channels.email.conftest import fixture
from tests.server import free_port

INTERACTION = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
MESSAGE = "11112222-3333-4444-5555-666677778888"


def test_a_bounce_names_the_message_it_reports_on() -> None:
    mail = parse(fixture("bounce.eml"), mail_from="")
    assert mail.automated == BOUNCE
    assert mail.reported == [
        "<od.0f1e2d3c4b5a69788796a5b4c3d2e1f0.11112222333344445555666677778888@acme.example>"]
    assert interaction_of_message_id(mail.reported[0]) == uuid.UUID(INTERACTION)


@pytest.mark.parametrize(("headers", "mail_from", "expected"), [
    ("Auto-Submitted: auto-replied\n", "ana@example.com", AUTO_REPLY),
    ("Auto-Submitted: auto-generated\n", "ana@example.com", AUTO_REPLY),
    ("Auto-Submitted: no\n", "ana@example.com", None),
    ("Precedence: bulk\n", "ana@example.com", AUTO_REPLY),
    ("X-Autoreply: yes\n", "ana@example.com", AUTO_REPLY),
    ("", "", BOUNCE),
    ("", "MAILER-DAEMON@mx.example.org", BOUNCE),
    ("", "ana@example.com", None),
])
def test_automated_mail_is_recognised(headers: str, mail_from: str,
                                      expected: str | None) -> None:
    raw = f"From: ana@example.com\nSubject: hi\n{headers}\nhello\n".encode()
    assert parse(raw, mail_from=mail_from).automated == expected


def test_an_unknown_charset_falls_back_without_losing_the_mail() -> None:
    raw = (b"From: ana@example.com\nContent-Type: text/plain; charset=x-klingon\n"
           b"Content-Transfer-Encoding: 8bit\n\ncaf\xc3\xa9\n")
    assert parse(raw, mail_from="").body == "café"


def test_an_encoded_word_subject_and_a_utf8_body_in_base64_are_decoded() -> None:
    raw = (b"From: =?UTF-8?B?5p2O5piO?= <li@example.cn>\n"
           b"Subject: =?UTF-8?B?6K6i5Y2V6Zeu6aKY?=\nMIME-Version: 1.0\n"
           b"Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: base64\n\n"
           b"5oiR55qE6K6i5Y2V5Zyo5ZOq6YeM77yf\n")
    mail = parse(raw, mail_from="")
    assert (mail.sender_name, mail.sender, mail.subject, mail.body) == (
        "李明", "li@example.cn", "订单问题", "我的订单在哪里？")


@pytest.mark.parametrize("quoted", [
    "On Tue, 24 Nov 2026 at 18:04, Acme Support <support@acme.example> wrote:\n> Hello\n> Ana",
    "On Tue, 24 Nov 2026 at 18:04, Acme Support\n<support@acme.example> wrote:\n> Hello",
    "Le mar. 24 nov. 2026 à 18:04, Acme Support <support@acme.example> a écrit :\n> Bonjour",
    "-----Original Message-----\nFrom: Acme Support\nSent: Tuesday\n\nHello",
    "________________________________\nFrom: Acme Support <support@acme.example>\n"
    "Sent: Tuesday, November 24, 2026 6:04 PM\nTo: Ana\nSubject: Re: Invoice\n\nHello",
    "From: Acme Support <support@acme.example>\nSent: Tuesday, November 24, 2026\nHello",
    "> Hello Ana,\n> we refunded it.\n",
])
def test_the_quoted_earlier_mail_is_trimmed(quoted: str) -> None:
    assert trim_quoted(f"Thanks!\nAna\n\n{quoted}") == "Thanks!\nAna"


def test_a_mail_that_is_all_quote_is_kept_whole() -> None:
    assert trim_quoted("> only a quote") == "> only a quote"


def test_the_subject_loses_reply_prefixes_and_our_token() -> None:
    assert clean_subject("RE: Fwd: AW: Invoice 2026-1187 [#0f1e2d3c]") == "Invoice 2026-1187"


def test_html_paragraphs_lists_and_links_become_text() -> None:
    html = ("<html><head><title>t</title><style>p{}</style></head><body>"
            "<h1>Order</h1><p>Line one<br>line two &amp; &eacute;</p>"
            "<ol><li>first</li><li>second</li></ol><p><a href='https://x.example/a'>"
            "https://x.example/a</a></p><table><tr><td>a</td><td>b</td></tr></table>"
            "</body></html>")
    assert html_to_text(html) == (
        "Order\n\nLine one\nline two & é\n\n- first\n- second\n\nhttps://x.example/a\n\nab")


def _channel(**settings: Any) -> Channel:
    return Channel(id=uuid.uuid4(), tenant_id=uuid.uuid4(), kind="email", name="mail",
                   secret="s" * 20, settings={"address": "Support@Acme.Example", **settings})


def _outbound(channel: Channel, thread: dict[str, Any] | None = None) -> OutboundMessage:
    return OutboundMessage(channel=channel, interaction_id=INTERACTION, message_id=MESSAGE,
                           body="Hello Ana", recipient="ana@example.com", subject="Invoice",
                           thread=thread or {})


def test_a_first_mail_to_a_customer_has_no_reply_headers() -> None:
    channel = _channel(from_name="Acme")
    mail = compose(_outbound(channel), EmailSettings.model_validate(channel.settings))
    assert mail["Subject"] == "Re: Invoice [#0f1e2d3c]"
    assert mail["From"] == "Acme <support@acme.example>"
    assert mail["In-Reply-To"] is None and mail["References"] is None
    assert mail["Message-ID"] == (
        "<od.0f1e2d3c4b5a69788796a5b4c3d2e1f0.11112222333344445555666677778888@acme.example>")


async def test_an_unreachable_relay_is_a_delivery_error() -> None:
    channel = _channel(smtp_host="127.0.0.1", smtp_port=free_port(), starttls=False)
    with pytest.raises(DeliveryError, match="unreachable"):
        await EmailAdapter().send(_outbound(channel))


async def test_a_missing_relay_password_is_a_delivery_error_naming_the_variable() -> None:
    channel = _channel(username="support", password_env="OMNIDESK_TEST_UNSET_RELAY_PASSWORD")
    with pytest.raises(DeliveryError, match="OMNIDESK_TEST_UNSET_RELAY_PASSWORD"):
        await EmailAdapter().send(_outbound(channel))


async def test_misconfigured_settings_are_a_delivery_error() -> None:
    channel = _channel(address="not-an-address")
    with pytest.raises(DeliveryError, match="misconfigured"):
        await EmailAdapter().send(_outbound(channel))
