"""The email channel: inbound SMTP server, outbound relay, threading by Message-ID."""

from omnidesk.channels.email.adapter import EmailAdapter
from omnidesk.channels.email.config import EmailSettings
from omnidesk.channels.registry import register

register(EmailAdapter(), EmailSettings)
