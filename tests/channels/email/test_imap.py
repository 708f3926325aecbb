"""Inbound mail by IMAP against a real Dovecot: stored once, flagged seen after the commit."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from omnidesk.channels.email import imap
from omnidesk.channels.email.imap import ImapService
from tests.channels.email.conftest import ADDRESS, Mailroom, crlf, fixture
from tests.channels.email.dovecot import Dovecot, start_dovecot
from tests.conftest import eventually

MAILBOX_PASSWORD = "mailbox-secret-4711"
PASSWORD_ENV = "OMNIDESK_TEST_IMAP_PASSWORD"


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """Dovecot with the channel's mailbox; its folder is traversable by the mail user."""
    root = Path(tempfile.mkdtemp(prefix="omnidesk-dovecot-"))
    root.chmod(0o755)
    server = start_dovecot(root)
    server.add_user(ADDRESS, MAILBOX_PASSWORD)
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def mailbox_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, MAILBOX_PASSWORD)


async def read_by_imap(mailroom: Mailroom, dovecot: Dovecot, **imap: Any) -> ImapService:
    """Give the mailroom's channel an IMAP mailbox and start reading it now."""
    response = await mailroom.api.client.patch(
        f"/api/v1/channels/{mailroom.channel_id}", headers=mailroom.admin,
        json={"settings": {**(await channel_settings(mailroom)), "imap": {
            "host": "127.0.0.1", "port": dovecot.port, "security": "none",
            "username": ADDRESS, "password_env": PASSWORD_ENV, **imap}}})
    assert response.status_code == 200, response.text
    service: ImapService = mailroom.api.app.state.imap
    await service.sync()
    return service


async def channel_settings(mailroom: Mailroom) -> dict[str, Any]:
    response = await mailroom.api.client.get(f"/api/v1/channels/{mailroom.channel_id}",
                                             headers=mailroom.admin)
    settings: dict[str, Any] = response.json()["settings"]
    return settings


def seen(dovecot: Dovecot) -> list[bool]:
    return [b"\\Seen" in line for line in dovecot.flags(ADDRESS, MAILBOX_PASSWORD)]


async def all_seen(dovecot: Dovecot, count: int) -> bool:
    flags = await asyncio.to_thread(seen, dovecot)
    return len(flags) == count and all(flags)


async def stored_and_seen(mailroom: Mailroom, dovecot: Dovecot, count: int, what: str) -> None:
    """Wait until `count` interactions are stored and `count` messages flagged seen."""

    async def stored() -> bool:
        return len(await mailroom.interactions()) == count

    await eventually(stored, what, 20)
    await eventually(lambda: all_seen(dovecot, count), f"{count} seen", 20)


@pytest.mark.usefixtures("mailbox_password")
async def test_unseen_mail_becomes_interactions_and_is_then_flagged_seen(
        mailroom: Mailroom, dovecot: Dovecot) -> None:
    await asyncio.to_thread(dovecot.deliver, ADDRESS, MAILBOX_PASSWORD,
                            crlf(fixture("multipart_attachment.eml")))
    await asyncio.to_thread(dovecot.deliver, ADDRESS, MAILBOX_PASSWORD,
                            crlf(fixture("latin1.eml")))
    await asyncio.to_thread(dovecot.deliver, ADDRESS, MAILBOX_PASSWORD,
                            crlf(fixture("html_only.eml")), "(\\Seen)")
    await read_by_imap(mailroom, dovecot)

    async def two_stored() -> bool:
        return len(await mailroom.interactions()) == 2

    await eventually(two_stored, "two interactions", 20)
    subjects = {i["subject"] for i in await mailroom.interactions()}
    assert subjects == {"Invoice 2026-1187 is wrong", "Commande déjà payée"}  # not the seen one
    await eventually(lambda: all_seen(dovecot, 3), "three seen", 20)
    invoice = next(i for i in await mailroom.interactions() if i["subject"].startswith("Inv"))
    (message,) = await mailroom.messages(invoice["id"])
    assert [a["filename"] for a in message["attachments"]] == ["facture-été.pdf",
                                                               "screenshot.png"]
    png = await mailroom.download(message["attachments"][1]["url"])
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")


@pytest.mark.usefixtures("mailbox_password")
async def test_a_message_read_again_is_not_stored_twice(mailroom: Mailroom,
                                                         dovecot: Dovecot) -> None:
    await asyncio.to_thread(dovecot.deliver, ADDRESS, MAILBOX_PASSWORD,
                            crlf(fixture("latin1.eml")))
    service = await read_by_imap(mailroom, dovecot, poll_seconds=1)
    await eventually(lambda: all_seen(dovecot, 1), "flagged seen", 20)
    reader, _ = service.readers[next(iter(service.readers))]
    assert reader.stored == 1

    def mark_unseen() -> None:  # as a crash between the commit and the flag would leave it
        client = dovecot.client(ADDRESS, MAILBOX_PASSWORD)
        client.store("1", "-FLAGS", "(\\Seen)")
        client.logout()

    await asyncio.to_thread(mark_unseen)

    async def read_again() -> bool:
        return reader.stored == 2

    await eventually(read_again, "a second read", 20)
    await eventually(lambda: all_seen(dovecot, 1), "flagged seen", 20)
    (interaction,) = await mailroom.interactions()
    assert len(await mailroom.messages(interaction["id"])) == 1


@pytest.mark.usefixtures("mailbox_password")
async def test_idle_brings_new_mail_without_waiting_for_the_next_poll(
        mailroom: Mailroom, dovecot: Dovecot) -> None:
    await asyncio.to_thread(dovecot.deliver, ADDRESS, MAILBOX_PASSWORD,
                            crlf(fixture("latin1.eml")))
    await read_by_imap(mailroom, dovecot, poll_seconds=3600)
    await eventually(lambda: all_seen(dovecot, 1), "flagged seen", 20)
    # the reader is idling now: only the server's push can bring the next one within the hour
    await asyncio.to_thread(dovecot.deliver, ADDRESS, MAILBOX_PASSWORD,
                            crlf(fixture("html_only.eml")))
    await stored_and_seen(mailroom, dovecot, 2, "the idle push")


@pytest.mark.usefixtures("mailbox_password")
async def test_mail_that_arrives_while_a_message_is_stored_is_read_before_idling(
        mailroom: Mailroom, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> None:
    # The second mail arrives while the first is being stored: the server announces it in its
    # answer to the UID STORE that flags the first (which aioimaplib drops), not to the IDLE
    # after it, and the poll is an hour away.
    store_first = imap.deliver
    arrivals = [crlf(fixture("html_only.eml"))]

    async def deliver_then_receive_another(*args: Any, **kwargs: Any) -> Any:
        stored = await store_first(*args, **kwargs)
        if arrivals:
            await asyncio.to_thread(dovecot.deliver, ADDRESS, MAILBOX_PASSWORD, arrivals.pop())
        return stored

    monkeypatch.setattr(imap, "deliver", deliver_then_receive_another)
    await asyncio.to_thread(dovecot.deliver, ADDRESS, MAILBOX_PASSWORD,
                            crlf(fixture("latin1.eml")))
    await read_by_imap(mailroom, dovecot, poll_seconds=3600)
    await stored_and_seen(mailroom, dovecot, 2, "the mail that arrived during the STORE")


@pytest.mark.usefixtures("mailbox_password")
async def test_a_message_the_server_will_not_flag_is_not_read_again_in_a_loop(
        mailroom: Mailroom, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> None:
    turns: list[str] = []

    async def store_without_flagging(_reader: object, _client: object, uid: str) -> None:
        turns.append(uid)  # as on a server that keeps no \\Seen: the next search finds it again

    monkeypatch.setattr(imap.MailboxReader, "_store", store_without_flagging)
    await asyncio.to_thread(dovecot.deliver, ADDRESS, MAILBOX_PASSWORD,
                            crlf(fixture("latin1.eml")))
    await read_by_imap(mailroom, dovecot, poll_seconds=3600)

    async def read_once() -> bool:
        return bool(turns)

    await eventually(read_once, "the first read", 20)
    await asyncio.sleep(0.5)  # searches take about a millisecond: a loop would read it again
    assert turns == ["1"]


async def test_a_wrong_password_is_logged_without_it_and_retried(
        mailroom: Mailroom, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="omnidesk.channels.email.imap")
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")
    await asyncio.to_thread(dovecot.deliver, ADDRESS, MAILBOX_PASSWORD,
                            crlf(fixture("latin1.eml")))
    await read_by_imap(mailroom, dovecot)

    async def refused() -> bool:
        return "LOGIN: NO" in caplog.text

    await eventually(refused, "the refused login", 20)
    assert "not-the-password" not in caplog.text
    assert await mailroom.interactions() == []
    monkeypatch.setenv(PASSWORD_ENV, MAILBOX_PASSWORD)

    async def stored() -> bool:
        return len(await mailroom.interactions()) == 1

    await eventually(stored, "the retried login", 20)
    assert os.environ[PASSWORD_ENV] not in caplog.text
