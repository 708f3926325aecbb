"""Channel adapters by kind."""

from __future__ import annotations

from omnidesk.channels.base import ChannelAdapter

_adapters: dict[str, ChannelAdapter] = {}


def register(adapter: ChannelAdapter) -> None:
    """Make an adapter the one for its kind."""
    _adapters[adapter.kind] = adapter


def adapter_for(kind: str) -> ChannelAdapter | None:
    """The adapter of a channel kind, if it sends messages."""
    return _adapters.get(kind)
