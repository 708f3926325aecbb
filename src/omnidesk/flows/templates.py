"""The `{{ name.path }}` template syntax: plain substitution of values, never code."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

Lookup = Callable[[tuple[str, ...]], Any]

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*")


class TemplateSyntaxError(ValueError):
    """A template holds a placeholder that is not a dotted name."""


def template_paths(template: str) -> list[tuple[str, ...]]:
    """Return the dotted paths a template refers to, or raise TemplateSyntaxError."""
    paths = []
    for match in _PLACEHOLDER.finditer(template):
        inner = match.group(1).strip()
        if not _PATH.fullmatch(inner):
            raise TemplateSyntaxError(
                f"placeholder {match.group(0)!r} must be a dotted name like {{{{ order.status }}}}"
            )
        paths.append(tuple(inner.split(".")))
    leftover = _PLACEHOLDER.sub("", template)
    if "{{" in leftover or "}}" in leftover:
        raise TemplateSyntaxError(f"unbalanced '{{{{' / '}}}}' in template {template!r}")
    return paths


def format_value(value: Any) -> str:
    """Turn a looked-up value into the text a template shows."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def render(template: str, lookup: Lookup, *, escape: Callable[[str], str] | None = None) -> str:
    """Replace every `{{ path }}` with its value; missing values become empty text."""

    def substitute(match: re.Match[str]) -> str:
        text = format_value(lookup(tuple(match.group(1).strip().split("."))))
        return escape(text) if escape else text

    return _PLACEHOLDER.sub(substitute, template)


def render_url(template: str, lookup: Lookup) -> str:
    """Render a URL template, percent-encoding each value except a leading base URL."""
    stripped = template.strip()
    whole_prefix = _PLACEHOLDER.match(stripped)
    if whole_prefix is None:
        return render(stripped, lookup, escape=_quote_segment)
    base = render(whole_prefix.group(0), lookup)
    return base + render(stripped[whole_prefix.end() :], lookup, escape=_quote_segment)


def render_data(value: Any, lookup: Lookup) -> Any:
    """Render templates inside a JSON-like value; a lone placeholder keeps the value's type."""
    if isinstance(value, str):
        lone = _PLACEHOLDER.fullmatch(value.strip())
        if lone is not None:
            return lookup(tuple(lone.group(1).strip().split(".")))
        return render(value, lookup)
    if isinstance(value, dict):
        return {key: render_data(item, lookup) for key, item in value.items()}
    if isinstance(value, list):
        return [render_data(item, lookup) for item in value]
    return value


def _quote_segment(text: str) -> str:
    return quote(text, safe="")
