"""Settings from the environment, the generated secret key."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from omnidesk.config import Settings, to_async_url


def test_defaults_are_sqlite_in_the_data_dir_and_no_redis(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.resolved_database_url == \
        f"sqlite+aiosqlite:///{tmp_path / 'omnidesk-data' / 'omnidesk.db'}"
    assert settings.redis_url is None
    assert (settings.http_port, settings.smtp_port, settings.sip_port) == (8000, 2525, 5060)


def test_environment_variables_override_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIDESK_DATABASE_URL", "postgresql://u@db/omnidesk")
    monkeypatch.setenv("OMNIDESK_HTTP_PORT", "9000")
    monkeypatch.setenv("OMNIDESK_REDIS_URL", "redis://127.0.0.1:6379/0")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.resolved_database_url == "postgresql+asyncpg://u@db/omnidesk"
    assert settings.http_port == 9000
    assert settings.redis_url == "redis://127.0.0.1:6379/0"


def test_a_bad_port_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIDESK_HTTP_PORT", "eighty")
    with pytest.raises(ValueError, match="http_port"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_secret_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    key = first.resolved_secret_key.get_secret_value()
    again = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    assert again.resolved_secret_key.get_secret_value() == key
    assert len(key) >= 48
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert key not in repr(first) and key not in str(first.resolved_secret_key)


@pytest.mark.parametrize(("plain", "async_url"), [
    ("postgresql://u@h/d", "postgresql+asyncpg://u@h/d"),
    ("postgres://u@h/d", "postgresql+asyncpg://u@h/d"),
    ("sqlite:////tmp/x.db", "sqlite+aiosqlite:////tmp/x.db"),
    ("postgresql+asyncpg://u@h/d", "postgresql+asyncpg://u@h/d"),
])
def test_plain_database_urls_get_the_async_driver(plain: str, async_url: str) -> None:
    assert to_async_url(plain) == async_url
