"""Typed settings, read from OMNIDESK_* environment variables or a config file."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from omnidesk.collector import DEFAULT_FULL_SECONDS
from omnidesk.intake import DEFAULT_MAX_LAG_SECONDS

SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret


class Settings(BaseSettings):
    """Everything omnidesk reads from its environment; SQLite and the in-process bus by default."""

    model_config = SettingsConfigDict(
        env_prefix="OMNIDESK_",
        env_file=os.environ.get("OMNIDESK_CONFIG_FILE", "omnidesk.env"),
        env_file_encoding="utf-8",
        extra="ignore",
    )

    data_dir: Path = Path("./omnidesk-data")
    database_url: str | None = None
    redis_url: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=2525, ge=1, le=65535)
    smtp_max_message_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1)  # an agent's upload
    sip_port: int = Field(default=5060, ge=1, le=65535)
    sip_enabled: bool = False  # the voice service also starts when OMNIDESK_SIP_PORT is set
    sip_host: str = "127.0.0.1"  # where SIP and RTP listen (0.0.0.0 for every interface)
    sip_address: str | None = None  # advertised in Contact and SDP; default: the local route
    sip_realm: str = "omnidesk"  # digest realm of agents' phones (docs/voice.md)
    sip_rtp_port_min: int = Field(default=20000, ge=1024, le=65534)
    sip_rtp_port_max: int = Field(default=30000, ge=1025, le=65535)
    secret_key: SecretStr | None = None
    access_token_minutes: int = Field(default=15, ge=1)
    refresh_token_days: int = Field(default=7, ge=1)
    log_level: str = "info"
    # A line per HTTP request (uvicorn's access log); /metrics counts requests without it.
    access_log: bool = False
    # How long a request waits for a database connection before the server answers 503.
    database_pool_timeout_seconds: float = Field(default=10, gt=0)
    # New contacts are refused (503, retry) while routing is further behind than this.
    max_routing_lag_seconds: float = Field(default=DEFAULT_MAX_LAG_SECONDS, gt=0)
    # How often a server collects its whole heap; in between its long-lived objects are frozen.
    gc_full_seconds: float = Field(default=DEFAULT_FULL_SECONDS, gt=0)
    # An agent's stream reopened further behind than this many events is told to reload
    # (`resync`) instead of reading them all from the log (docs/events.md).
    stream_replay_max_events: int = Field(default=1000, ge=0)

    @cached_property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        if self.database_url:
            return to_async_url(self.database_url)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'omnidesk.db').resolve()}"

    @cached_property
    def resolved_secret_key(self) -> SecretStr:
        """The signing key: configured, or generated once and kept in the data directory."""
        if self.secret_key is not None:
            return self.secret_key
        return SecretStr(load_or_create_secret(self.data_dir / SECRET_KEY_FILE))


def to_async_url(url: str) -> str:
    """Map plain database URLs to the async drivers omnidesk uses."""
    for plain, driver in (("postgresql://", "postgresql+asyncpg://"),
                          ("postgres://", "postgresql+asyncpg://"),
                          ("sqlite://", "sqlite+aiosqlite://")):
        if url.startswith(plain):
            return driver + url[len(plain):]
    return url


def load_or_create_secret(path: Path) -> str:
    """Read the persisted secret key, creating it (mode 0600) on first run."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key
