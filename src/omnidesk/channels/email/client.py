"""The outbound relay: submit a message over SMTP (STARTTLS and AUTH when configured)."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from omnidesk.channels.base import DeliveryError
from omnidesk.channels.email.config import EmailSettings

IMPLICIT_TLS_PORT = 465


async def relay(message: EmailMessage, settings: EmailSettings) -> None:
    """Hand the message to the channel's relay; any refusal or network error is DeliveryError."""
    password = settings.relay_password()
    if settings.username and password is None:
        raise DeliveryError(f"relay password missing: set the env var {settings.password_env}")
    implicit_tls = settings.smtp_port == IMPLICIT_TLS_PORT
    try:
        await aiosmtplib.send(
            message, hostname=settings.smtp_host, port=settings.smtp_port,
            username=settings.username or None, password=password if settings.username else None,
            use_tls=implicit_tls, start_tls=settings.starttls and not implicit_tls,
            timeout=settings.timeout_seconds)
    except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPTimeoutError, OSError) as error:
        raise DeliveryError(f"relay {settings.smtp_host}:{settings.smtp_port} unreachable: "
                            f"{error}") from error
    except aiosmtplib.SMTPException as error:
        raise DeliveryError(f"relay {settings.smtp_host}:{settings.smtp_port} refused: "
                            f"{error}") from error
