"""Channel kinds: the adapter that sends for each, and the model its settings must meet.

Each channel package registers its kind where it defines its adapter; `validate_settings`
checks a channel's settings when it is created or changed, so that a bad setting is found
then rather than when the first webhook or reply arrives.
"""

from __future__ import annotations

import importlib
from typing import Any

from pydantic import BaseModel, ValidationError

from omnidesk.channels.base import ChannelAdapter
from omnidesk.errors import InvalidInput

# The packages of the built-in kinds, imported before a kind is looked up (the CLI and
# the configuration loader may run without the app, which imports them all).
BUILT_IN = ("omnidesk.channels.api_channel.adapter", "omnidesk.channels.email",
            "omnidesk.channels.telegram.adapter", "omnidesk.channels.twilio.adapter",
            "omnidesk.channels.twilio_voice.adapter", "omnidesk.channels.voice",
            "omnidesk.channels.webchat.adapter", "omnidesk.channels.whatsapp.adapter")
# Settings any channel may carry whatever its kind: self-service flows, surveys, the
# public URL of links (docs/selfservice.md, docs/surveys.md); each reads them leniently.
SHARED_SETTINGS = frozenset({"flow", "flow_version", "survey", "public_url"})

_adapters: dict[str, ChannelAdapter] = {}
_settings: dict[str, type[BaseModel]] = {}
_loaded = False


class InvalidSettings(InvalidInput):
    """A channel kind that does not exist, or settings its kind's model refuses."""

    def __init__(self, reason: str, path: tuple[str | int, ...]) -> None:
        field = ".".join(str(part) for part in path)
        super().__init__(f"{field}: {reason}", field=field)
        self.reason = reason
        self.path = path  # ("kind",) or ("settings", "imap", "port") …


def register(adapter: ChannelAdapter, settings: type[BaseModel] | None = None) -> None:
    """Make an adapter the one for its kind (and `settings` the model of its settings)."""
    _adapters[adapter.kind] = adapter
    if settings is not None:
        register_settings(adapter.kind, settings)


def register_settings(kind: str, model: type[BaseModel]) -> None:
    """Make `model` the one a channel of this kind's settings must meet."""
    _settings[kind] = model


def adapter_for(kind: str) -> ChannelAdapter | None:
    """The adapter of a channel kind, if it sends messages."""
    return _adapters.get(kind)


def _load_built_in() -> None:
    global _loaded
    if not _loaded:
        for module in BUILT_IN:
            importlib.import_module(module)
        _loaded = True


def known_kinds() -> list[str]:
    """Every channel kind a channel may be created with, sorted."""
    _load_built_in()
    return sorted(_adapters.keys() | _settings.keys())


def own_settings(model: type[BaseModel], settings: dict[str, Any]) -> dict[str, Any]:
    """The settings without the shared ones the kind's model does not declare itself."""
    return {key: value for key, value in settings.items()
            if key not in SHARED_SETTINGS or key in model.model_fields}


def validate_settings(kind: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The settings as they are stored: checked by the kind's model, each value it declares as
    it read it (defaults are not filled in), other keys kept. Raises InvalidSettings."""
    if kind not in known_kinds():
        raise InvalidSettings(f"unknown channel kind {kind!r}; known: "
                              f"{', '.join(known_kinds())}", ("kind",))
    model = _settings.get(kind)
    if model is None:  # a kind without a settings model of its own keeps what it is given
        return dict(settings)
    try:
        checked = model.model_validate(own_settings(model, settings))
    except ValidationError as error:
        first = error.errors()[0]
        path = tuple(part for part in first["loc"] if isinstance(part, str | int))
        raise InvalidSettings(str(first["msg"]).removeprefix("Value error, "),
                              ("settings", *path)) from error
    return {**settings, **checked.model_dump(mode="json", exclude_unset=True)}


def sends_templates(kind: str) -> bool:
    """True when the kind's adapter sends provider templates (WhatsApp's approved messages)."""
    return getattr(_adapters.get(kind), "sends_templates", False) is True


def check_template(kind: str, *, with_attachments: bool) -> None:
    """Refuse a template message (InvalidInput naming `template`) that the channel of this
    kind cannot send, or that comes with attachments."""
    if not sends_templates(kind):
        able = ", ".join(k for k in sorted(_adapters) if sends_templates(k)) or "none"
        raise InvalidInput(f"a {kind} channel sends no template messages (only: {able})",
                           field="template")
    if with_attachments:
        raise InvalidInput("a template message carries no attachments", field="template")
