"""`timeseries`: several series with axes, gridlines and legend.

Made to span panels: the lines, fill and gridlines cross the bezels like any
shape, while every label (title, legend, axis values) is placed on a single
panel, or left out when no panel has room for it near its place. When the
series advance by one bin the plot slides left by one step instead of jumping.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from wallrenderer.core.geometry import Rect
from wallrenderer.core.layout.fields import RGBA
from wallrenderer.core.layout.kinds import TimeseriesWidget
from wallrenderer.renderer.widgets.base import (
    WAITING,
    Draw,
    Motion,
    WidgetView,
    brand_order,
    ease_in_out,
    finite_number,
    lookup,
)
from wallrenderer.renderer.widgets.theme import mix, with_alpha

SLIDE_S = 0.5
# The slide starts this long after the new bin began (shared clock), so every
# renderer has the new frame by then and all panels slide in step.
SLIDE_DELAY_S = 1.0
# Beyond this the data's clock and the shared clock disagree (replayed data):
# the slide then starts when the data arrives.
SAME_CLOCK_S = 120.0
DEFAULT_STEP_S = 60.0
# Distances between x ticks to choose from, in seconds.
TICK_STEPS_S = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
FILL_ALPHA = 0.13


def nice_step(top: float, ticks: int) -> float:
    """A round gridline spacing (1, 2 or 5 times a power of ten) for about `ticks` lines."""
    raw = max(top, 1e-9) / max(1, ticks)
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def gridlines(values: np.ndarray) -> list[float]:
    """Round values from 0 to at or above the largest: 0, 10, 20, 30, 40.

    Whole-number data (counts) gets whole-number steps; all zeros still get a scale.
    """
    top = max(float(values.max()), 1.0)
    step = nice_step(top, 4)
    if np.all(values == np.round(values)):
        step = max(step, 1.0)
    return [step * i for i in range(max(1, math.ceil(top / step - 1e-9)) + 1)]


def format_tick(value: float) -> str:
    """A gridline value: 0, 50, 2.5, 12k."""
    if abs(value) >= 1000:
        scaled = value / 1000
        return f"{scaled:g}k" if abs(scaled) < 1000 else f"{value / 1e6:g}M"
    return f"{value:g}"


def format_ago(seconds: float) -> str:
    """A relative time under the x axis: now, -15 min, -2 h."""
    if seconds <= 0:
        return "now"
    minutes = seconds / 60
    if minutes < 120:
        return f"-{minutes:g} min"
    return f"-{minutes / 60:g} h"


def place_row(
    draw: Draw, widths: Sequence[float], row: Rect, gap: float, align: str = "left"
) -> list[Rect | None]:
    """Boxes for items side by side in `row`, each moved past any seam it would straddle.

    Right-aligned rows start where the items would end flush right; an item
    pushed out of the row by seams gets None.
    """
    total = sum(widths) + gap * (len(widths) - 1)
    x = row.right - total if align == "right" else row.x
    boxes: list[Rect | None] = []
    for width in widths:
        within = Rect(x, row.y, max(0.0, row.right - x), row.h)
        box = draw.off_seams(Rect(x, row.y, width, row.h), within) if within.w else None
        boxes.append(box)
        if box is not None:
            x = box.right + gap
    return boxes


def subdivide(points: np.ndarray, longest: float) -> np.ndarray:
    """The same polyline with points added so no piece spans more than `longest` in x or y.

    A stroke is shaded over its bounding box: a steep one cut into short
    pieces shades far fewer pixels for the same look.
    """
    if len(points) < 2:
        return points
    steps = np.diff(points, axis=0)
    stretch, start, _ = cut(np.ceil(np.abs(steps).max(axis=1) / longest))
    return np.vstack([points[:-1][stretch] + steps[stretch] * start[:, None], points[-1:]])


def snap(values: np.ndarray, origin: float, pixel: float) -> np.ndarray:
    """Coordinates moved to the nearest pixel boundary of a panel starting at `origin`."""
    return origin + np.round((values - origin) / pixel) * pixel


def cut(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stretches cut into `counts` equal pieces (at least one), vectorised.

    Returns each piece's stretch and where the piece starts and ends, as
    fractions of its stretch.
    """
    counts = np.maximum(1, counts).astype(int)
    stretch = np.repeat(np.arange(len(counts)), counts)
    index = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return stretch, index / counts[stretch], (index + 1) / counts[stretch]


def _numbers(values: Any) -> np.ndarray | None:
    """A list of counts as floats (anything not a finite number counts as 0); None if not a list."""
    if not isinstance(values, list) or not values:
        return None
    return np.array([finite_number(v) or 0.0 for v in values], dtype="f8")


class TimeseriesView(WidgetView):
    """Title and legend on top, y gridlines with values, relative times below the plot."""

    spec: TimeseriesWidget

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # The previous build's first bin start and first values, to detect a one-bin shift;
        # during the slide, the values that slid out, drawn one step left of the plot.
        self._previous: tuple[float, dict[str, float]] | None = None
        self._slid_out: dict[str, float] = {}
        self._plot_group = 0
        self._slide_px = 0.0
        self._slide_from = -math.inf


    def build(self, draw: Draw, data: dict[str, Any], t: float) -> None:
        theme, unit = self.theme, self.theme.unit
        inner = self.card(draw)
        series = self._series(data)
        body = self._header(draw, inner, series)
        self._plot_group = 0
        if not series:
            self._previous, self._slid_out, self._slide_px = None, {}, 0.0
            self._centered(draw, WAITING, body, theme.text_dim, theme.size("body"))
            return
        caption = theme.size("caption")
        label_h = draw.line_height(caption)
        ticks = gridlines(np.concatenate([v for _, v, _, _ in series]))
        gutter = max(draw.measure(format_tick(v), caption)[0] for v in ticks) + 0.5 * unit
        plot = Rect(inner.x + gutter, body.y + label_h / 2, inner.w - gutter,
                    body.h - label_h / 2 - label_h - 0.35 * unit)
        if plot.w <= 0 or plot.h <= 0:
            return
        self._y_axis(draw, plot, ticks, label_h)
        n = max(len(v) for _, v, _, _ in series)
        dx = plot.w / max(1, n - 1)
        parent = lookup(data, self.spec.path.rpartition(".")[0]) if "." in self.spec.path else {}
        parent = parent if isinstance(parent, dict) else {}
        step_s = finite_number(parent.get("step_s"))
        step_s = step_s if step_s is not None and step_s > 0 else DEFAULT_STEP_S
        self._x_axis(draw, plot, inner, (n - 1) * step_s, label_h)
        slid_out = self._track_shift(series, parent.get("start"), step_s, dx, t)
        settled = self._settled(t)
        self._plot_group = draw.group(clip=Rect(plot.x, inner.y, plot.w, plot.bottom - inner.y))
        lines = []
        for name, ys, color, own in sorted(series, key=lambda s: s[3]):
            xs = plot.right - dx * np.arange(len(ys) - 1, -1, -1)
            if name in slid_out:
                xs = np.concatenate([[xs[0] - dx], xs])
                ys = np.concatenate([[slid_out[name]], ys])
            points = np.stack([xs, plot.bottom - ys / ticks[-1] * plot.h], axis=1)
            lines.append((points, color, own))
        for points, color, own in lines:
            if not (own and self.spec.fill):
                continue
            fill = with_alpha(color, FILL_ALPHA)
            if settled:  # only the bin still filling up changes from frame to frame
                self._area(draw, points[:-1], plot.bottom, fill, backdrop=True)
                self._area(draw, points[-2:], plot.bottom, fill)
            else:
                self._area(draw, points, plot.bottom, fill)
        for points, color, own in lines:
            self._line(draw, points, color, own, backdrop=settled)

    def key(self, data: dict[str, Any], t: float) -> tuple:
        """Rebuilt also when a slide ends, to move the settled plot into the backdrop."""
        return (*super().key(data, t), self._settled(t))

    def _settled(self, t: float) -> bool:
        """True when no slide is pending or under way."""
        return t >= self._slide_from + SLIDE_S

    def _series(self, data: dict[str, Any]) -> list[tuple[str, np.ndarray, RGBA, bool]]:
        """(name, values, colour, is ours) of each series to draw, in legend order."""
        by_name = lookup(data, self.spec.path)
        if not isinstance(by_name, dict):
            return []
        order = brand_order(data, by_name)
        wanted = self.spec.brands
        own = data.get("own_brand")
        out = []
        for index, name in enumerate(order):
            values = _numbers(by_name.get(name))
            if values is None or (wanted is not None and name not in wanted):
                continue
            out.append((str(name), values, self.theme.series_color(index), name == own))
        return out

    def _header(
        self, draw: Draw, inner: Rect, series: list[tuple[str, np.ndarray, RGBA, bool]]
    ) -> Rect:
        """Title on the left, legend flush right (or on its own row); returns the rest."""
        theme, unit = self.theme, self.theme.unit
        title_size, legend_size = theme.size("title"), theme.size("body")
        height = draw.line_height(title_size)
        title_w = draw.measure(self.spec.title, title_size)[0] if self.spec.title else 0.0
        if self.spec.title:
            title = place_row(draw, [title_w], Rect(inner.x, inner.y, inner.w, height), 0.0)[0]
            if title is not None:
                draw.text(self.spec.title, title, theme.text_dim, "left", title_size)
        swatch = 0.55 * draw.line_height(legend_size)
        labels = [draw.measure(name, legend_size)[0] for name, _, _, _ in series]
        widths = [swatch + 0.35 * unit + w for w in labels]
        gap = 1.2 * unit
        legend_w = sum(widths) + gap * (len(widths) - 1)
        bottom = inner.y + (height if self.spec.title else 0.0)
        if len(series) > 1:
            # Beside the title when it fits there (seams included), else on a row of its own.
            boxes: list[Rect | None] = [None]
            if title_w + gap + legend_w <= inner.w:
                row = Rect(inner.x + title_w + gap, inner.y, inner.w - title_w - gap, height)
                boxes = place_row(draw, widths, row, gap, "right")
            if None in boxes:
                row = Rect(inner.x, bottom + 0.2 * unit, inner.w, draw.line_height(legend_size))
                boxes = place_row(draw, widths, row, gap)
                bottom = row.bottom
            for (name, _, color, own), box in zip(series, boxes, strict=True):
                if box is None:
                    continue
                mid = box.y + box.h / 2
                draw.box(Rect(box.x, mid - swatch / 2, swatch, swatch), color,
                         radius=0.2 * swatch)
                label = Rect(box.x + swatch + 0.35 * unit, box.y, box.w - swatch - 0.35 * unit,
                             box.h)
                draw.text(name, label, theme.text if own else theme.text_dim, "left", legend_size)
        gap_below = 0.6 * unit if bottom > inner.y else 0.0
        top = bottom + gap_below
        return Rect(inner.x, top, inner.w, max(0.0, inner.bottom - top))

    def _y_axis(self, draw: Draw, plot: Rect, ticks: list[float], label_h: float) -> None:
        """Horizontal gridlines with their values in the left gutter.

        Where the plot continues onto another panel the values are repeated
        just inside that panel, above their lines, so each panel reads alone.
        """
        theme, unit = self.theme, self.theme.unit
        caption = theme.size("caption")
        line = max(1.0, 0.04 * unit)
        starts = sorted({p.rect.x for p in draw.wall.panels if plot.x < p.rect.x < plot.right})
        for i, value in enumerate(ticks):
            y = plot.bottom - i / (len(ticks) - 1) * plot.h
            color = theme.border if i else mix(theme.border, theme.text_dim, 0.35)
            draw.box(Rect(plot.x, y - line / 2, plot.w, line), color, radius=line / 2,
                     backdrop=True)
            text = format_tick(value)
            width = draw.measure(text, caption)[0]
            wanted = Rect(plot.x - 0.4 * unit - width, y - label_h / 2, width, label_h)
            self._anchored_label(draw, text, wanted, "right")
            for x in starts if i else ():
                self._anchored_label(draw, text, Rect(x + 0.4 * unit, y - label_h, width, label_h),
                                     "left")

    def _x_axis(self, draw: Draw, plot: Rect, inner: Rect, span_s: float, label_h: float) -> None:
        """Relative times under the plot: "now" at the right edge, round intervals before it."""
        caption = self.theme.size("caption")
        if span_s <= 0:
            return
        widest = draw.measure(format_ago(span_s), caption)[0]
        room = max(1, int(plot.w / (4 * widest)))
        every = next((s for s in TICK_STEPS_S if span_s / s <= room), TICK_STEPS_S[-1])
        y = plot.bottom + 0.35 * self.theme.unit
        line = max(1.0, 0.04 * self.theme.unit)
        for k in range(int(span_s // every) + 1):
            text = format_ago(k * every)
            x = plot.right - k * every / span_s * plot.w
            if k:
                draw.box(Rect(x - line / 2, plot.y, line, plot.h),
                         with_alpha(self.theme.border, 0.6), radius=line / 2, backdrop=True)
            width = draw.measure(text, caption)[0]
            left = x - width if k == 0 else x - width / 2
            if left < inner.x:
                continue
            self._anchored_label(draw, text, Rect(left, y, width, label_h), "left")

    def _anchored_label(self, draw: Draw, text: str, wanted: Rect, align: str) -> None:
        """A label that belongs at `wanted`: nudged off a seam by at most about half its size."""
        box = draw.off_seams(wanted, self.box)
        if box is None or abs(box.x - wanted.x) > 0.6 * wanted.w:
            return
        if abs(box.y - wanted.y) > 0.6 * wanted.h:
            return
        draw.text(text, box, self.theme.text_dim, align, self.theme.size("caption"))

    def _centered(self, draw: Draw, text: str, area: Rect, color: RGBA, size: float) -> None:
        w, h = draw.measure(text, size)
        wanted = Rect(area.x + (area.w - w) / 2, area.y + (area.h - h) / 2, w, h)
        box = draw.off_seams(wanted, area)
        if box is not None:
            draw.text(text, box, color, "center", size)

    def _track_shift(
        self, series: list[tuple[str, np.ndarray, RGBA, bool]], start: Any, step_s: float,
        dx: float, t: float,
    ) -> dict[str, float]:
        """Start a slide when the series moved on by one bin; the values that slid out.

        Updates of the bin still filling up (same `start`) keep a slide going,
        so it is not cut short by the next frame.
        """
        if not isinstance(start, int | float) or isinstance(start, bool):
            self._previous, self._slid_out = None, {}
        else:
            start = float(start)
            if self._previous is not None and start != self._previous[0]:
                shifted = abs(start - self._previous[0] - step_s) < 1e-6
                self._slid_out = self._previous[1] if shifted else {}
                if shifted:
                    new_bin = start + (max(len(v) for _, v, _, _ in series) - 1) * step_s
                    same_clock = abs(t - new_bin) < SAME_CLOCK_S
                    self._slide_from = new_bin + SLIDE_DELAY_S if same_clock else t
            self._previous = (start, {name: float(v[0]) for name, v, _, _ in series})
        if t >= self._slide_from + SLIDE_S:
            self._slid_out = {}
        self._slide_px = dx if self._slid_out else 0.0
        return self._slid_out

    def _stroke(self, own: bool) -> float:
        """Line width: ours bolder than the others."""
        unit = self.theme.unit
        return max(3.0, 0.2 * unit) if own else max(2.0, 0.1 * unit)

    def _line(
        self, draw: Draw, points: np.ndarray, color: RGBA, own: bool, backdrop: bool
    ) -> None:
        """The series' stroke; the last bin, still filling, fainter.

        Once settled, the closed bins go into the cached backdrop: they change
        only when a new minute starts, and a full-panel chart's strokes are
        most of its cost per frame.
        """
        width = self._stroke(own)
        if not own:
            color = mix(color, self.theme.surface, 0.2)
        draw.polyline(subdivide(points[:-1], 3 * (width + 3.0)), width, color, self._plot_group,
                      backdrop=backdrop)
        draw.polyline(points[-2:], width, with_alpha(color, 0.45), self._plot_group)

    def _area(
        self, draw: Draw, points: np.ndarray, baseline: float, color: RGBA, backdrop: bool = False
    ) -> None:
        """The area under a line, in hard-edged boxes on this panel's pixel grid.

        Between two points, one box fills from the lower point down to the
        baseline and columns fill the slanted part above it, narrow enough on
        steep stretches that their steps stay under the line's stroke. Boxes
        share edges exactly on pixel boundaries, so the translucent fill has no
        doubled strips, and few fragments are shaded twice. Only what is on
        this panel (or slides onto it) is drawn. With `backdrop` the boxes go
        into the panel's cached background (they cannot move then).
        """
        pixel = 1.0 / draw.px_per_canvas
        reach = self._slide_px + pixel
        lo = max(points[0, 0], draw.panel.x - reach)
        hi = min(points[-1, 0], draw.panel.right + reach)
        if hi <= lo:
            return
        xs, ys = points[:, 0], points[:, 1]
        origin_x, origin_y = draw.panel.x, draw.panel.y
        edges = snap(np.clip(xs, lo, hi), origin_x, pixel)
        x0, x1 = edges[:-1], edges[1:]
        keep = x1 > x0
        x0, x1 = x0[keep], x1[keep]
        lower = np.maximum(np.interp(x0, xs, ys), np.interp(x1, xs, ys))
        y_low = snap(lower, origin_y, pixel)
        slope = np.abs(np.diff(ys))[keep] / np.maximum(np.diff(xs)[keep], 1e-9)
        # A column's corner is off the line by slope * width / 2 vertically, which is
        # that over sqrt(1 + slope^2) away from the stroke's centre: cut each stretch
        # into columns narrow enough to keep every corner under the stroke.
        tolerance = 0.4 * self._stroke(own=True)
        off_per_width = slope / (2 * np.hypot(1.0, slope))
        stretch, start, end = cut(np.ceil(off_per_width * (x1 - x0) / tolerance))
        lefts = snap(x0[stretch] + (x1 - x0)[stretch] * start, origin_x, pixel)
        rights = snap(x0[stretch] + (x1 - x0)[stretch] * end, origin_x, pixel)
        tops = np.interp((lefts + rights) / 2, xs, ys)
        group = self._plot_group
        for left, right, low in zip(x0, x1, y_low, strict=True):
            draw.box(Rect(left, low, right - left, baseline - low), color, group=group,
                     backdrop=backdrop)
        for left, right, top, low in zip(lefts, rights, tops, y_low[stretch], strict=True):
            draw.box(Rect(left, top, right - left, low - top), color, group=group,
                     backdrop=backdrop)

    def motion(self, t: float) -> Iterable[Motion]:
        if not self._plot_group:
            return ()
        dx = self._slide_px * (1.0 - ease_in_out((t - self._slide_from) / SLIDE_S))
        return (Motion(self._plot_group, dx=dx),)


VIEWS = {"timeseries": TimeseriesView}
