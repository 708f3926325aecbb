"""Voice settings: when the service starts, channel settings, the extensions file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from omnidesk.channels.base import DeliveryError
from omnidesk.channels.registry import adapter_for
from omnidesk.channels.voice.config import voice_settings
from omnidesk.channels.voice.digest import ha1
from omnidesk.channels.voice.registrar import load_extensions
from omnidesk.channels.voice.service import start_voice_service
from omnidesk.config import Settings
from omnidesk.flows import FlowRegistry


def _settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(data_dir=tmp_path, secret_key=SecretStr("k" * 48),  # type: ignore[call-arg]
                    _env_file=None, **values)


async def test_the_service_stays_off_unless_enabled_or_given_a_port(tmp_path: Path) -> None:
    db: Any = None  # never touched when the service is off
    assert await start_voice_service(db, _settings(tmp_path), FlowRegistry()) is None


def test_a_channel_takes_its_numbers_from_its_trunks() -> None:
    settings = voice_settings({"numbers": ["+49 (30) 100-200"], "trunks": "203.0.113.10",
                               "ring_seconds": -3, "record": "yes"})
    assert settings.matches(dialled="4930100200", source="203.0.113.10")
    assert settings.matches(dialled="+49-30-100200", source="203.0.113.10")
    assert not settings.matches(dialled="4930100201", source="203.0.113.10")
    assert not settings.matches(dialled="4930100200", source="198.51.100.1")
    assert (settings.ring_seconds, settings.record) == (0.0, False)  # malformed: defaults
    assert voice_settings({}).matches(dialled="anything", source="anywhere")


async def test_the_voice_kind_is_registered_and_refuses_text() -> None:
    adapter = adapter_for("voice")
    assert adapter is not None and adapter.identity_kind == "phone"
    message: Any = None  # the adapter refuses before looking at it
    with pytest.raises(DeliveryError, match="no text"):
        await adapter.send(message)


def test_extensions_take_a_password_or_an_ha1(tmp_path: Path) -> None:
    path = tmp_path / "extensions.yaml"
    assert load_extensions(path, "omnidesk") == {}
    path.write_text("extensions:\n  - {extension: 201, password: pw, tenant: acme}\n"
                    "  - {extension: '202', ha1: ABCDEF}\n")
    found = load_extensions(path, "omnidesk")
    assert found["201"].ha1 == ha1("201", "omnidesk", "pw") and found["201"].tenant == "acme"
    assert found["202"].ha1 == "abcdef"
    path.write_text("extensions:\n  - {extension: '203'}\n")
    with pytest.raises(ValueError, match="neither password nor ha1"):
        load_extensions(path, "omnidesk")
