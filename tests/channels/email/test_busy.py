"""An SMTP server too busy to reach its database, or too far behind to take a new contact,
answers 451 (the sender retries), quietly."""

from __future__ import annotations

import asyncio
import logging
import smtplib

import pytest

from omnidesk.config import Settings
from tests.channels.email.conftest import ADDRESS, Mailroom, crlf, fixture
from tests.test_overload import POOL_TIMEOUT_S, every_read_connection_taken

MAIL = "html_only.eml"
BUSY = (451, b"4.3.2 The server is busy, try again later")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The email tests' settings with a short wait for a database connection."""
    settings.database_pool_timeout_seconds = POOL_TIMEOUT_S
    return settings


def warned_without_traceback(caplog: pytest.LogCaptureFixture, words: str) -> bool:
    return [(r.levelname, r.exc_info, words in r.getMessage()) for r in caplog.records] == [
        ("WARNING", None, True)]


async def test_a_recipient_the_server_is_too_busy_to_check_is_451_without_a_traceback(
        mailroom: Mailroom, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="omnidesk.channels.email")
    async with every_read_connection_taken(mailroom.api.db):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            await mailroom.send(fixture(MAIL))
    assert refused.value.recipients == {ADDRESS: BUSY}
    assert warned_without_traceback(caplog, "not checked")
    assert await mailroom.send(fixture(MAIL)) == {}  # the sender's retry is taken
    assert len(await mailroom.interactions()) == 1


async def test_a_message_the_server_is_too_busy_to_store_is_451_and_stored_on_retry(
        mailroom: Mailroom, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="omnidesk.channels.email")
    client = await asyncio.to_thread(smtplib.SMTP, "127.0.0.1", mailroom.port, timeout=10)
    try:
        await asyncio.to_thread(client.ehlo)
        assert (await asyncio.to_thread(client.mail, "ana.lima@example.com"))[0] == 250
        assert (await asyncio.to_thread(client.rcpt, ADDRESS))[0] == 250
        async with every_read_connection_taken(mailroom.api.db):
            answer = await asyncio.to_thread(client.data, crlf(fixture(MAIL)))
    finally:
        await asyncio.to_thread(client.close)
    assert answer == BUSY
    assert warned_without_traceback(caplog, "not stored")
    assert await mailroom.interactions() == []
    assert await mailroom.send(fixture(MAIL)) == {}
    assert len(await mailroom.interactions()) == 1


async def test_a_mail_starting_a_conversation_while_routing_lags_is_451_and_stored_on_retry(
        mailroom: Mailroom, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="omnidesk.channels.email")
    behind = [3.5]
    mailroom.api.db.intake.watch(lambda: behind[0])
    with pytest.raises(smtplib.SMTPDataError) as refused:
        await mailroom.send(fixture(MAIL))
    assert (refused.value.smtp_code, refused.value.smtp_error) == BUSY
    assert warned_without_traceback(caplog, "not stored")
    assert await mailroom.interactions() == []
    behind[0] = 0.0
    assert await mailroom.send(fixture(MAIL)) == {}
    assert len(await mailroom.interactions()) == 1
