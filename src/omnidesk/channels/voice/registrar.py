"""Registrations of agents' SIP phones (RFC 3261 §10) and their credentials.

Credentials live in `$OMNIDESK_DATA_DIR/voice/extensions.yaml` (see docs/voice.md); bindings
are kept in memory (phones re-register at least every `expires` seconds, so a restart heals).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from omnidesk.channels.voice.digest import ha1
from omnidesk.channels.voice.sip.transaction import Peer

log = logging.getLogger("omnidesk.voice")
EXTENSIONS_FILE = Path("voice") / "extensions.yaml"
DEFAULT_EXPIRES = 3600
MIN_EXPIRES = 60
MAX_EXPIRES = 7200


@dataclass(frozen=True)
class Extension:
    """A phone account: extension number, HA1, tenant slug and the email of the user it
    belongs to (`agent:` or `user:` in the file; an agent or a supervisor)."""

    extension: str
    ha1: str
    tenant: str = ""
    agent: str = ""


def load_extensions(path: Path, realm: str) -> dict[str, Extension]:
    """Read the extensions file ({} when it does not exist); ValueError on a bad entry."""
    if not path.is_file():
        return {}
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("extensions", []) if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a list under 'extensions'")
    found: dict[str, Extension] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not str(entry.get("extension", "")).strip():
            raise ValueError(f"{path}: entry {index + 1} has no extension")
        number = str(entry["extension"]).strip()
        if entry.get("ha1"):
            digest = str(entry["ha1"]).lower()
        elif entry.get("password"):
            digest = ha1(number, realm, str(entry["password"]))
        else:
            raise ValueError(f"{path}: extension {number} has neither password nor ha1")
        found[number] = Extension(number, digest, str(entry.get("tenant", "")),
                                  str(entry.get("agent") or entry.get("user") or ""))
    return found


@dataclass(frozen=True)
class Binding:
    """Where a registered phone can be reached, until when."""

    extension: str
    contact: str
    peer: Peer
    expires_at: float


class Registrar:
    """Extension → current binding (one per extension: the latest registration wins)."""

    def __init__(self, extensions: dict[str, Extension], now: Callable[[], float]) -> None:
        self.extensions = extensions
        self.now = now
        self.bindings: dict[str, Binding] = {}

    def ha1_of(self, username: str) -> str | None:
        """The stored HA1 for an extension, for the digest check."""
        extension = self.extensions.get(username)
        return extension.ha1 if extension else None

    def bind(self, extension: str, contact: str, peer: Peer, expires: int) -> None:
        """Add or refresh a binding; expires 0 removes it."""
        if expires <= 0:
            self.bindings.pop(extension, None)
            return
        self.bindings[extension] = Binding(extension, contact, peer, self.now() + expires)

    def phone_of(self, tenant: str, email: str) -> Binding | None:
        """The live binding of the extension extensions.yaml gives a user (tenant slug and
        login email, any role: agents and supervisors alike)."""
        for entry in self.extensions.values():
            if entry.tenant == tenant and entry.agent.lower() == email.lower():
                return self.lookup(entry.extension)
        return None

    def lookup(self, extension: str) -> Binding | None:
        """The live binding of an extension, if any."""
        binding = self.bindings.get(extension)
        if binding is not None and binding.expires_at <= self.now():
            del self.bindings[extension]
            return None
        return binding
