"""The inbound SMTP server: routes by recipient to email channels, answers 250 after commit."""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from omnidesk.channels.email.config import KIND, address_of
from omnidesk.channels.email.mapping import ParsedMail, parse
from omnidesk.channels.email.store import store_mail
from omnidesk.channels.models import Channel
from omnidesk.config import Settings
from omnidesk.db import Database
from omnidesk.errors import InvalidInput, Overloaded
from omnidesk.files import undo_on_error

log = logging.getLogger("omnidesk.channels.email")
BUSY = "451 4.3.2 The server is busy, try again later"
DEFAULT_MAX_BYTES = 25 * 1024 * 1024
IDLE_TIMEOUT_SECONDS = 300


class Unacceptable(Exception):
    """A message refused for good (5xx): the sender's server bounces it."""


async def email_channels(db: Database, address: str) -> list[Channel]:
    """The enabled email channels whose inbound address is this one (lower-cased)."""
    wanted = address.strip().strip("<>").lower()
    async with db.read() as session:
        channels = await session.scalars(
            select(Channel).where(Channel.kind == KIND, Channel.enabled.is_(True)))
        return [channel for channel in channels if address_of(channel) == wanted]


async def deliver(db: Database, raw: bytes, *, mail_from: str, channel_ids: Sequence[uuid.UUID],
                  data_dir: Path) -> list[dict[str, Any]]:
    """Parse and store the mail on each channel in one transaction, its attachments' files
    under `data_dir` (fsynced before, removed again if it does not commit); returns after."""
    mail = parse(raw, mail_from=mail_from)
    if not mail.sender and not mail.automated:
        raise Unacceptable("550 5.1.7 no sender address in From or MAIL FROM")
    try:
        return await _store_everywhere(db, mail, channel_ids, data_dir)
    except IntegrityError:  # a concurrent twin with the same Message-ID committed first
        return await _store_everywhere(db, mail, channel_ids, data_dir)
    except InvalidInput as error:
        raise Unacceptable(f"550 5.1.7 {error.message}") from error


async def _store_everywhere(db: Database, mail: ParsedMail, channel_ids: Sequence[uuid.UUID],
                            data_dir: Path) -> list[dict[str, Any]]:
    with undo_on_error() as files:
        async with db.write() as session:
            answers = []
            for channel_id in channel_ids:
                channel = await session.get(Channel, channel_id)
                if channel is not None:
                    answers.append(await store_mail(session, channel, mail,
                                                    data_dir=data_dir, files=files))
        return answers


class InboundHandler:
    """aiosmtpd hooks: check each recipient, store the data, acknowledge after the commit."""

    def __init__(self, db: Database, *, data_dir: Path) -> None:
        self.db, self.data_dir = db, data_dir

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        """550 for an address no channel owns; 451 when the database cannot say (or the
        server is too busy to ask it)."""
        try:
            channels = await email_channels(self.db, address)
        except Overloaded as error:
            log.warning("recipient %s not checked: %s", address, error)
            return BUSY
        except Exception:
            log.exception("looking up the recipient %s failed", address)
            return "451 4.3.0 Temporary failure, try again later"
        if not channels:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        if len(channels) > 1:
            log.error("address %s is configured on %d email channels", address, len(channels))
            return "451 4.3.5 Mailbox configured twice, try again later"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """250 once stored (or known already); 5xx if refused for good; 451 to retry."""
        raw = envelope.original_content or b""
        try:
            channel_ids = [channel.id for address in dict.fromkeys(envelope.rcpt_tos)
                           for channel in await email_channels(self.db, address)]
            await deliver(self.db, raw, mail_from=envelope.mail_from or "",
                          channel_ids=channel_ids, data_dir=self.data_dir)
        except Unacceptable as refusal:
            return str(refusal)
        except Overloaded as error:
            log.warning("message from %s not stored: %s", envelope.mail_from, error)
            return BUSY
        except Exception:
            log.exception("storing a message from %s failed", envelope.mail_from)
            return "451 4.3.0 Could not store the message, try again later"
        return "250 2.0.0 OK: stored"


class EmailServer:
    """One SMTP listener per process on the event loop of the app."""

    def __init__(self, db: Database, *, host: str, port: int, data_dir: Path,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.handler = InboundHandler(db, data_dir=data_dir)
        self.host, self.port, self.max_bytes = host, port, max_bytes
        self.hostname = socket.gethostname()
        self._server: asyncio.Server | None = None
        self._connections: weakref.WeakSet[SMTP] = weakref.WeakSet()

    def _protocol(self) -> SMTP:
        protocol = SMTP(self.handler, data_size_limit=self.max_bytes, enable_SMTPUTF8=True,
                        hostname=self.hostname, ident="omnidesk ESMTP",
                        timeout=IDLE_TIMEOUT_SECONDS, loop=asyncio.get_running_loop())
        self._connections.add(protocol)
        return protocol

    async def start(self) -> None:
        """Listen (raises OSError if the port is taken); port 0 picks a free one."""
        self._server = await asyncio.get_running_loop().create_server(
            self._protocol, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("inbound SMTP listening on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        """Stop listening and close open sessions (an unfinished DATA is not acknowledged)."""
        if self._server is None:
            return
        self._server.close()
        for protocol in list(self._connections):
            if protocol.transport is not None:
                protocol.transport.close()
        await self._server.wait_closed()
        self._server = None


async def start_email_server(db: Database, settings: Settings) -> EmailServer:
    """Start inbound SMTP; a taken default port is logged, a configured one is fatal."""
    server = EmailServer(db, host=settings.smtp_host, port=settings.smtp_port,
                         data_dir=settings.data_dir, max_bytes=settings.smtp_max_message_bytes)
    try:
        await server.start()
    except OSError as error:
        if "smtp_port" in settings.model_fields_set:
            raise
        log.error("inbound SMTP not started: %s:%d: %s (set OMNIDESK_SMTP_PORT)",
                  settings.smtp_host, settings.smtp_port, error)
    return server
