"""`kpi` and `counter`: a big number with its label, unit, change and sparkline."""

from __future__ import annotations

from typing import Any

import numpy as np

from wallrenderer.core.geometry import Rect
from wallrenderer.core.layout.kinds import KpiWidget
from wallrenderer.renderer.widgets.base import (
    Draw,
    WidgetView,
    finite_number,
    format_count,
    format_duration,
    lookup,
    split,
)
from wallrenderer.renderer.widgets.wording import number, percent


def format_value(value: Any, fmt: str, locale: str | None = None) -> str:
    """A figure as a wall shows it, in `locale`; a dash when the frame does not have it (yet)."""
    value = finite_number(value)
    if value is None:
        return "\u2013"
    if fmt == "percent":
        return percent(value, locale)
    if fmt == "duration":
        return format_duration(value, locale)
    if fmt == "number":
        return number(value, locale)
    return format_count(value, locale)


class KpiView(WidgetView):
    """Label on top, the figure as large as fits, the change, then the sparkline."""

    spec: KpiWidget


    def build(self, draw: Draw, data: dict[str, Any], t: float) -> None:
        spec, theme = self.spec, self.theme
        inner = self.card(draw)
        value = lookup(data, spec.value)
        has_spark = spec.sparkline is not None
        weights = [1.0, 3.2, 1.0] + ([1.6] if has_spark else [])
        rows = split(inner, weights, gap=0.2 * theme.unit)
        draw.text(spec.label, rows[0], theme.text_dim, "left", max_size=theme.size("title"))
        shown = format_value(value, spec.format, theme.locale)
        if spec.unit and shown != "\u2013":
            shown = f"{shown} {spec.unit}"
        draw.text(shown, rows[1], theme.text, "left", max_size=theme.size("hero"))
        self._delta(draw, rows[2], value, lookup(data, spec.previous) if spec.previous else None)
        if has_spark:
            self._sparkline(draw, rows[3], lookup(data, spec.sparkline))

    def _delta(self, draw: Draw, box: Rect, value: Any, previous: Any) -> None:
        theme = self.theme
        value, previous = finite_number(value), finite_number(previous)
        if value is None or previous is None or previous == 0:
            return
        change = (value - previous) / abs(previous)
        up = change >= 0
        good = up == (self.spec.better == "higher")
        color = theme.positive if good else theme.negative
        if abs(change) < 0.005:
            color = theme.neutral
        arrow = Rect(box.x, box.y + box.h * 0.2, box.h * 0.6, box.h * 0.6)
        draw.triangle(arrow, up, color)
        text = f"{change * 100:+.0f}% vs previous"
        gap = box.h * 0.3
        label = Rect(arrow.right + gap, box.y, box.w - arrow.w - gap, box.h)
        draw.text(text, label, color, "left", max_size=self.theme.size("body"))

    def _sparkline(self, draw: Draw, box: Rect, values: Any) -> None:
        if not isinstance(values, list) or len(values) < 2:
            return
        ys = np.array([finite_number(v) or 0.0 for v in values], dtype="f8")
        low, span = min(0.0, ys.min()), ys.max() - min(0.0, ys.min())
        xs = np.linspace(box.x, box.right, len(ys))
        points = np.stack([xs, box.bottom - (ys - low) / (span or 1.0) * box.h], axis=1)
        width = max(2.0, 0.12 * self.theme.unit)
        draw.polyline(points, width, self.theme.accent)


VIEWS = {"kpi": KpiView, "counter": KpiView}
