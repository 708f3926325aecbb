"""Small SVG charts written by hand (no plotting dependency): bars and lines on one axis."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

_WIDTH, _HEIGHT = 960, 360
_LEFT, _RIGHT, _TOP, _BOTTOM = 60, 20, 40, 70
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")


@dataclass(frozen=True, slots=True)
class Series:
    """A named series of values (None: no value), drawn as bars or as a line."""

    name: str
    values: Sequence[float | None]
    kind: str = "line"


def _nice_top(value: float) -> float:
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if step * power >= value:
            return step * power
    return 10.0 * power


def svg_chart(title: str, labels: Sequence[str], series: Sequence[Series],
              y_label: str = "") -> str:
    """An SVG document: bar series side by side, line series over them, one y axis from 0."""
    count = len(labels)
    finite = [v for s in series for v in s.values if v is not None and math.isfinite(v)]
    top = _nice_top(max(finite, default=1.0))
    plot_w, plot_h = _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM
    slot = plot_w / max(count, 1)

    def y(value: float) -> float:
        return _TOP + plot_h * (1 - min(value, top) / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" font-family="sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{_WIDTH / 2}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>',
        f'<text x="14" y="{_TOP + plot_h / 2}" transform="rotate(-90 14 {_TOP + plot_h / 2})" '
        f'text-anchor="middle">{escape(y_label)}</text>',
    ]
    for k in range(6):
        tick = top * k / 5
        parts.append(f'<line x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{y(tick):.1f}" '
                     f'y2="{y(tick):.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{_LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">'
                     f'{tick:g}</text>')
    every = max(1, math.ceil(count / 24))
    for index in range(0, count, every):
        x = _LEFT + slot * (index + 0.5)
        parts.append(f'<text x="{x:.1f}" y="{_HEIGHT - _BOTTOM + 14}" text-anchor="end" '
                     f'transform="rotate(-45 {x:.1f} {_HEIGHT - _BOTTOM + 14})">'
                     f'{escape(labels[index])}</text>')
    bars = [s for s in series if s.kind == "bar"]
    width = slot * 0.8 / max(len(bars), 1)
    for number, item in enumerate(series):
        colour = _COLOURS[number % len(_COLOURS)]
        if item.kind == "bar":
            offset = bars.index(item)
            for index, value in enumerate(item.values):
                if value is None or not math.isfinite(value) or value <= 0:
                    continue
                x = _LEFT + slot * (index + 0.1) + width * offset
                parts.append(f'<rect x="{x:.1f}" y="{y(value):.1f}" width="{width:.1f}" '
                             f'height="{_TOP + plot_h - y(value):.1f}" fill="{colour}" '
                             f'fill-opacity="0.7"/>')
        else:
            points = " ".join(f"{_LEFT + slot * (i + 0.5):.1f},{y(v):.1f}"
                              for i, v in enumerate(item.values)
                              if v is not None and math.isfinite(v))
            parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                         'stroke-width="2"/>')
        legend_x = _LEFT + 10 + number * 180
        parts.append(f'<rect x="{legend_x}" y="28" width="12" height="8" fill="{colour}"/>')
        parts.append(f'<text x="{legend_x + 16}" y="36">{escape(item.name)}</text>')
    parts.append(f'<line x1="{_LEFT}" x2="{_LEFT}" y1="{_TOP}" y2="{_TOP + plot_h}" '
                 'stroke="black"/>')
    parts.append(f'<line x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{_TOP + plot_h}" '
                 f'y2="{_TOP + plot_h}" stroke="black"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
