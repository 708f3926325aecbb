"""Durations written as people write them: 90, 90s, 30m, 1h, 1h30m, 1.5h."""

from __future__ import annotations

import math
import re

from omnidesk.wfm.erlang import WfmError

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(h|min|m|s)")
_WHOLE = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*(?:h|min|m|s)\s*)+$")
_SECONDS = {"h": 3600.0, "m": 60.0, "min": 60.0, "s": 1.0}


def parse_duration(value: object) -> float:
    """Seconds in a duration: a number (seconds) or text such as 30m, 1h, 1h30m, 900s."""
    if isinstance(value, bool):
        raise WfmError(f"expected a duration such as 30m, 1h or 900 (seconds), got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and _WHOLE.match(value):
        seconds = sum(float(n) * _SECONDS[unit] for n, unit in _PART.findall(value))
    elif isinstance(value, str) and _is_number(value):
        seconds = float(value)
    else:
        raise WfmError(f"expected a duration such as 30m, 1h or 900 (seconds), got {value!r}")
    if not math.isfinite(seconds) or seconds < 0:
        raise WfmError(f"expected a duration ≥ 0, got {value!r}")
    return seconds


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def format_duration(seconds: float) -> str:
    """A short label: 15m, 1h, 1h30m, 45s."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return text + (f"{secs}s" if secs or not text else "")
