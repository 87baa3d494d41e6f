"""Server-rendered SVG bar charts: geometry computed here, drawn by the template (no script, no CDN)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int
    width: int
    text_x: int


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    label_width: int
    row_height: int


def funnel_bars(values: list[tuple[str, int]], *, width: int = 640, label_width: int = 160, row_height: int = 28) -> BarChart:
    """Horizontal bars, one per stage, scaled to the largest count."""
    top = max((v for _, v in values), default=0) or 1
    span = width - label_width - 60
    bars = []
    for i, (label, value) in enumerate(values):
        w = round(span * value / top) if value else 0
        bars.append(Bar(label, value, i * row_height, max(w, 1 if value else 0), label_width + w + 6))
    return BarChart(bars, width, row_height * len(values), label_width, row_height)
