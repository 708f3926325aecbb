"""The interval chart: volume, service level and ASA per interval, as SVG or PNG.

Three panels share the time axis: contacts offered (bars), service level % with the goal
(line), ASA in seconds (line). The SVG is written by hand (light and fast to serve); the PNG
is drawn by matplotlib, imported only when a PNG is asked for.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

WIDTH, PANEL_HEIGHT, LEFT, RIGHT, TOP, GAP, BOTTOM = 960, 150, 70, 20, 40, 40, 60
COLOURS = {"volume": "#4c78a8", "service_level": "#54a24b", "asa": "#e45756", "goal": "#999"}


@dataclass(frozen=True, slots=True)
class ChartData:
    """What the chart shows, one value per interval (None: no contact to measure)."""

    title: str
    labels: Sequence[str]
    volume: Sequence[float]
    service_level: Sequence[float | None]
    asa: Sequence[float | None]
    goal_pct: float | None = None


def chart_data(title: str, intervals: Sequence[dict[str, Any]], zone: ZoneInfo,
               goal_pct: float | None = None) -> ChartData:
    """From KPI rows per interval (the tenant's totals), labelled in local time."""
    def label(row: dict[str, Any]) -> str:
        start: datetime = row["interval"]
        return start.astimezone(zone).strftime("%m-%d %H:%M")

    def number(value: object) -> float | None:
        return None if value is None else float(value)  # type: ignore[arg-type]

    return ChartData(
        title=title, labels=[label(row) for row in intervals],
        volume=[float(row["contacts_offered"]) for row in intervals],
        service_level=[number(row["service_level_pct"]) for row in intervals],
        asa=[number(row["asa_s"]) for row in intervals], goal_pct=goal_pct)


def _nice_top(value: float) -> float:
    """A round axis maximum ≥ value (1, 2, 2.5, 5 × 10ⁿ)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return float(next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value))


class _Panel:
    """One horizontal panel of the chart: a y axis and the x positions of the intervals."""

    def __init__(self, index: int, count: int, top_value: float, title: str) -> None:
        self.y0 = TOP + index * (PANEL_HEIGHT + GAP)
        self.count, self.top_value, self.title = max(count, 1), top_value, title
        self.step = (WIDTH - LEFT - RIGHT) / self.count

    def x(self, i: int) -> float:
        """Centre of interval i."""
        return LEFT + (i + 0.5) * self.step

    def y(self, value: float) -> float:
        """Height of a value on this panel's axis."""
        return self.y0 + PANEL_HEIGHT * (1 - min(value, self.top_value) / self.top_value)

    def frame(self) -> list[str]:
        """Axis, grid lines with labels, and the panel title."""
        parts = [f'<text x="{LEFT}" y="{self.y0 - 8}" font-weight="bold">{escape(self.title)}'
                 "</text>"]
        for k in range(5):
            value = self.top_value * k / 4
            y = self.y(value)
            parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                         'stroke="#e5e5e5"/>')
            parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                         f"{value:g}</text>")
        return parts

    def bars(self, values: Sequence[float], colour: str) -> list[str]:
        """One bar per interval."""
        width = max(self.step * 0.8, 0.5)
        return [f'<rect x="{self.x(i) - width / 2:.1f}" y="{self.y(v):.1f}" '
                f'width="{width:.1f}" height="{self.y(0) - self.y(v):.1f}" fill="{colour}">'
                f"<title>{v:g}</title></rect>" for i, v in enumerate(values)]

    def line(self, values: Sequence[float | None], colour: str) -> list[str]:
        """A polyline through the intervals that have a value (broken at gaps)."""
        parts, run = [], []
        for i, value in enumerate([*values, None]):
            if value is not None:
                run.append(f"{self.x(i):.1f},{self.y(value):.1f}")
                continue
            if run:
                parts.append(f'<polyline points="{" ".join(run)}" fill="none" '
                             f'stroke="{colour}" stroke-width="2"/>')
                parts += [f'<circle cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="2.5" '
                          f'fill="{colour}"/>' for p in run]
            run = []
        return parts


def _x_labels(panel: _Panel, labels: Sequence[str]) -> list[str]:
    every = max(1, math.ceil(len(labels) / 16))
    y = panel.y0 + PANEL_HEIGHT + 16
    return [f'<text x="{panel.x(i):.1f}" y="{y}" text-anchor="middle">{escape(label)}</text>'
            for i, label in enumerate(labels) if i % every == 0]


def svg_chart(data: ChartData) -> str:
    """The three-panel chart as an SVG document."""
    n = len(data.labels)
    asa = [v for v in data.asa if v is not None]
    panels = [_Panel(0, n, _nice_top(max(data.volume, default=0)), "Contacts offered"),
              _Panel(1, n, 100.0, "Service level %"),
              _Panel(2, n, _nice_top(max(asa, default=0)), "ASA (s)")]
    height = TOP + 3 * (PANEL_HEIGHT + GAP) - GAP + BOTTOM
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">',
             f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
             f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="14">'
             f"{escape(data.title)}</text>"]
    for panel in panels:
        parts += panel.frame()
    parts += panels[0].bars(data.volume, COLOURS["volume"])
    if data.goal_pct is not None:
        y = panels[1].y(data.goal_pct)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="{COLOURS["goal"]}" stroke-dasharray="6 4"/>')
    parts += panels[1].line(data.service_level, COLOURS["service_level"])
    parts += panels[2].line(data.asa, COLOURS["asa"])
    if not n:
        parts.append(f'<text x="{WIDTH / 2}" y="{TOP + PANEL_HEIGHT / 2}" '
                     'text-anchor="middle">no data in this period</text>')
    parts += _x_labels(panels[2], data.labels)
    parts.append("</svg>")
    return "\n".join(parts)


def png_chart(data: ChartData) -> bytes:
    """The same chart as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(3, 1, sharex=True, figsize=(12, 7))
    x = range(len(data.labels))
    axes[0].bar(x, data.volume, color=COLOURS["volume"])
    axes[0].set_title("Contacts offered", loc="left")
    for axis, values, title, colour in ((axes[1], data.service_level, "Service level %",
                                         COLOURS["service_level"]),
                                        (axes[2], data.asa, "ASA (s)", COLOURS["asa"])):
        axis.plot(x, [math.nan if v is None else v for v in values], marker=".", color=colour)
        axis.set_title(title, loc="left")
    if data.goal_pct is not None:
        axes[1].axhline(data.goal_pct, color=COLOURS["goal"], linestyle="--")
    axes[2].set_xticks(list(x)[::max(1, math.ceil(len(x) / 12))],
                       list(data.labels)[::max(1, math.ceil(len(x) / 12))])
    figure.suptitle(data.title)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    pyplot.close(figure)
    return out.getvalue()
