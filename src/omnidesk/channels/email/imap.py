"""Inbound mail by IMAP: read an existing mailbox, IDLE where the server offers it, else poll.

Each email channel whose settings carry `imap` gets one reader task. A reader fetches the
unseen messages (BODY.PEEK, so nothing is marked read by looking), stores each one exactly as
mail from the SMTP server is stored — once per Message-ID — and only after that commit sets
the \\Seen flag. A crash between the commit and the flag re-reads the message next time, and
the Message-ID makes that a no-op. Errors are logged without the password and retried with
back-off; a refused message (no sender at all) is flagged so it is not read again.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Sequence
from email.parser import BytesHeaderParser
from pathlib import Path

from aioimaplib import IMAP4, IMAP4_SSL, STOP_WAIT_SERVER_PUSH, Response
from sqlalchemy import select

from omnidesk.channels.email.config import KIND, ImapSettings
from omnidesk.channels.email.server import Unacceptable, deliver
from omnidesk.channels.models import Channel
from omnidesk.db import Database, mark_background

log = logging.getLogger("omnidesk.channels.email.imap")
REFRESH_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 300.0
REFUSED_FLAG = "$OmnideskRefused"
MAX_IDLE_SECONDS = 25 * 60.0
"""RFC 2177: re-issue IDLE at least every 29 minutes."""
STOP_SECONDS = 5.0
LIVENESS_SECONDS = 5.0
"""How often an idling reader checks that its connection is still open."""
_LITERAL = re.compile(rb"\{(\d+)\}$")


class ImapError(Exception):
    """The IMAP server said NO or BAD, or answered something unreadable."""


def _checked(response: Response, command: str) -> Response:
    if response.result != "OK":
        text = b" ".join(line for line in response.lines if isinstance(line, bytes))
        raise ImapError(f"{command}: {response.result} {text.decode(errors='replace')[:200]}")
    return response


def message_bytes(response: Response) -> bytes | None:
    """The message of a `UID FETCH … (BODY.PEEK[])` answer (its literal), None if absent."""
    lines = response.lines
    for index, line in enumerate(lines[:-1]):
        if isinstance(line, bytes) and _LITERAL.search(line) and \
                isinstance(lines[index + 1], bytes | bytearray):
            return bytes(lines[index + 1])
    return None


def envelope_sender(raw: bytes) -> str:
    """The envelope sender a mailbox keeps: Return-Path ("<>" for a bounce), else From.

    The final delivery adds Return-Path; a message put in the mailbox some other way has
    none, and its From stands in (an empty envelope sender would mark it a bounce).
    """
    headers = BytesHeaderParser().parsebytes(raw)
    for name in ("Return-Path", "From"):
        value = headers.get(name)
        if value is not None and str(value).strip():
            return str(value).strip()
    return ""


class MailboxReader:
    """Reads one channel's mailbox until cancelled."""

    def __init__(self, db: Database, channel_id: uuid.UUID, settings: ImapSettings, *,
                 data_dir: Path) -> None:
        self.db, self.channel_id, self.settings, self.data_dir = db, channel_id, settings, data_dir
        self.stored = 0

    async def run(self) -> None:
        """Connect, read, wait for mail; on any failure log it and retry with back-off."""
        backoff = 1.0
        while True:
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # any failure: log, wait, reconnect
                log.warning("IMAP %s@%s:%d (channel %s): %s", self.settings.username,
                            self.settings.host, self.settings.port, self.channel_id,
                            error or type(error).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            else:
                backoff = 1.0

    def _client(self) -> IMAP4:
        settings = self.settings
        if settings.security == "ssl":
            return IMAP4_SSL(settings.host, settings.port, timeout=settings.timeout_seconds)
        return IMAP4(settings.host, settings.port, timeout=settings.timeout_seconds)

    async def _session(self) -> None:
        password = self.settings.password()
        if password is None:
            raise ImapError(f"the environment variable {self.settings.password_env} is not set")
        client = self._client()
        try:
            await client.wait_hello_from_server()
            _checked(await client.login(self.settings.username, password), "LOGIN")
            _checked(await client.select(self.settings.mailbox), "SELECT")
            while True:
                await self.read_unseen(client)
                await self._wait_for_mail(client)
        finally:
            _close(client)

    async def read_unseen(self, client: IMAP4) -> None:
        """Store every unseen message, flagging each \\Seen after its commit, until a search
        finds none: the server announces mail that arrives meanwhile in its answers to FETCH
        and STORE, which aioimaplib drops, not later to the IDLE. A message still unseen after
        its turn (a server that keeps no flag) is not read again until the next wake-up."""
        done: set[str] = set()
        while True:
            found = _checked(await client.uid_search("UNSEEN", charset=None), "UID SEARCH")
            uids = [uid for uid in _uids(found) if uid not in done]
            if not uids:
                return
            for uid in uids:
                await self._store(client, uid)
                done.add(uid)

    async def _store(self, client: IMAP4, uid: str) -> None:
        fetched = _checked(await client.uid("fetch", uid, "(BODY.PEEK[])"), "UID FETCH")
        raw = message_bytes(fetched)
        if raw is None:
            return  # expunged meanwhile
        flag = "(\\Seen)"
        try:
            await deliver(self.db, raw, mail_from=envelope_sender(raw),
                          channel_ids=[self.channel_id], data_dir=self.data_dir)
            self.stored += 1
        except Unacceptable as refusal:
            log.warning("IMAP message %s in %s refused: %s", uid,
                        self.settings.mailbox, refusal)
            flag = f"(\\Seen {REFUSED_FLAG})"
        _checked(await client.uid("store", uid, "+FLAGS.SILENT", flag), "UID STORE")

    async def _wait_for_mail(self, client: IMAP4) -> None:
        """IDLE until the server announces a change or poll_seconds pass; else just sleep."""
        seconds = self.settings.poll_seconds
        if not client.has_capability("IDLE"):
            await asyncio.sleep(seconds)
            return
        idle = await client.idle_start(timeout=min(seconds, MAX_IDLE_SECONDS))
        while client.has_pending_idle():
            try:
                pushed = await client.wait_server_push(timeout=LIVENESS_SECONDS)
            except TimeoutError:
                transport = client.protocol.transport
                if transport is None or transport.is_closing():
                    raise ImapError("connection lost while idling") from None
                continue
            if pushed == STOP_WAIT_SERVER_PUSH or _announces_mail(pushed):
                break
        client.idle_done()
        done, _ = await asyncio.wait({idle}, timeout=self.settings.timeout_seconds)
        if not done:
            raise ImapError("the server did not end IDLE")


def _close(client: IMAP4) -> None:
    """Drop the connection at once (a reader stops on cancel or error; no LOGOUT round trip)."""
    transport = getattr(client.protocol, "transport", None)
    if transport is not None:
        transport.close()
    for task in list(client.tasks):
        task.cancel()


def _uids(response: Response) -> list[str]:
    for line in response.lines:
        if isinstance(line, bytes) and line and line[:1].isdigit():
            return line.decode("ascii").split()
    return []


def _announces_mail(pushed: object) -> bool:
    lines: Sequence[object] = pushed if isinstance(pushed, list) else [pushed]
    return any(isinstance(line, bytes) and (b"EXISTS" in line or b"RECENT" in line)
               for line in lines)


async def imap_channels(db: Database) -> dict[uuid.UUID, ImapSettings]:
    """The enabled email channels that read a mailbox, with their IMAP settings."""
    async with db.read() as session:
        channels = await session.scalars(
            select(Channel).where(Channel.kind == KIND, Channel.enabled.is_(True)))
        found = {}
        for channel in channels:
            raw = channel.settings.get("imap")
            if isinstance(raw, dict):
                try:
                    found[channel.id] = ImapSettings.model_validate(raw)
                except ValueError as error:
                    log.error("channel %s: bad imap settings: %s", channel.id, error)
        return found


class ImapService:
    """Keeps one reader per IMAP channel, following channel changes every REFRESH_SECONDS."""

    def __init__(self, db: Database, *, data_dir: Path,
                 refresh_seconds: float = REFRESH_SECONDS) -> None:
        self.db, self.data_dir, self.refresh_seconds = db, data_dir, refresh_seconds
        self.readers: dict[uuid.UUID, tuple[MailboxReader, asyncio.Task[None]]] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the readers of the channels configured now, then keep following."""
        await self.sync()
        self._task = asyncio.create_task(self._follow())

    async def _follow(self) -> None:
        mark_background()
        while True:
            await asyncio.sleep(self.refresh_seconds)
            try:
                await self.sync()
            except Exception:
                log.exception("reading the IMAP channels failed")

    async def sync(self) -> None:
        """Start readers of new or changed channels; stop those of removed ones."""
        wanted = await imap_channels(self.db)
        for channel_id, (reader, task) in list(self.readers.items()):
            if wanted.get(channel_id) != reader.settings:
                task.cancel()
                del self.readers[channel_id]
        for channel_id, settings in wanted.items():
            if channel_id not in self.readers:
                reader = MailboxReader(self.db, channel_id, settings, data_dir=self.data_dir)
                self.readers[channel_id] = (reader, asyncio.create_task(reader.run()))

    async def stop(self) -> None:
        """Stop following and close every reader."""
        tasks = [task for _, task in self.readers.values()]
        if self._task is not None:
            tasks.append(self._task)
        for task in tasks:
            task.cancel()
        if tasks:
            _, stuck = await asyncio.wait(tasks, timeout=STOP_SECONDS)
            if stuck:
                log.error("%d IMAP readers did not stop within %s s", len(stuck), STOP_SECONDS)
        self.readers.clear()
