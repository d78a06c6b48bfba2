"""`gauge`: net sentiment from -100 to +100 on a half-dial with a needle.

Under the number, the caption says what the figure covers: the brand, the
window and the share of mentions scored ("71% of mentions scored"), since
posts in a language without a scorer are left out of the net, not counted
as neutral.

The needle turns to a new value over 0.6 s. Animation groups only move and
fade, so they cannot rotate a needle; instead `key()` adds an animation step
while the needle travels, and the widget is rebuilt at frame rate for those
0.6 s (about 40 small rebuilds after each change of the shown integer; the
build is a few dozen shapes and four short texts). The shown value is the
rounded net, so the constant small drift of live sentiment neither rebuilds
nor animates anything.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from wallrenderer.core.geometry import Rect
from wallrenderer.core.layout.fields import RGBA
from wallrenderer.core.layout.kinds import GaugeWidget
from wallrenderer.renderer.widgets.base import (
    Draw,
    WidgetView,
    finite_number,
    format_duration,
    lookup,
)
from wallrenderer.renderer.widgets.theme import Theme, mix
from wallrenderer.renderer.widgets.wording import percent

NEEDLE_S = 0.6
# Rebuild steps per second while the needle moves (one per frame at 60 Hz).
STEPS_PER_S = 60
SWEEP = math.pi / 2  # the dial runs from -SWEEP (net -100) to +SWEEP (net +100)
# The scale is drawn in strokes of at most this angle: 5 degrees stays within a third
# of a pixel of the true arc on a dial 400 px in radius, and the colours step smoothly.
ARC_STEP = math.radians(5.0)
BAND = 0.22  # thickness of the scale, as a fraction of the dial radius
DASH = "\u2013"
MINUS = "\u2212"
# Type levels tried for the big number, largest first, until it fits under the dial.
NUMBER_LEVELS = ("hero", "number", "heading", "title")


def net_value(value: Any) -> int | None:
    """The net figure as shown: a whole number clamped to the dial, None when unknown."""
    value = finite_number(value)
    return None if value is None else round(max(-100.0, min(100.0, value)))


def format_net(value: float | None) -> str:
    """+34, −12, 0 (a true minus sign), or a dash when unknown."""
    if value is None:
        return DASH
    shown = round(value)
    return f"{shown:+d}".replace("-", MINUS) if shown else "0"


def short_formula(formula: Any) -> str:
    """The frame's formula, short enough for a dial: net = (pos − neg) / (pos + neg) × 100.

    Shown because vendors disagree on the formula; the text comes from the frame.
    """
    if not isinstance(formula, str) or not formula.strip():
        return ""
    head = formula.split(",", 1)[0].strip()
    for long, short in (("positive", "pos"), ("negative", "neg"), (" - ", f" {MINUS} "),
                        ("*", "\u00d7")):
        head = head.replace(long, short)
    return f"net = {head}"


def window_text(seconds: Any) -> str:
    """The sentiment window as a reader says it: "last hour"."""
    seconds = finite_number(seconds)
    if seconds is None or seconds <= 0:
        return ""
    return "last hour" if seconds == 3600 else f"last {format_duration(seconds)}"


def formula_lines_for(draw: Draw, formula: str, width: float, size: float) -> str:
    """The formula on one line if it fits, else broken after its division sign."""
    if not formula or draw.measure(formula, size)[0] <= width:
        return formula
    head, sep, tail = formula.partition(" / ")
    lines = [head + sep.rstrip(), tail] if sep else [formula]
    return "\n".join(draw.truncate(line, width, size) for line in lines)


def coverage_text(share: Any, locale: str | None) -> str:
    """How much of the figure is scored: "71% of mentions scored" ("" when the frame has none)."""
    share = finite_number(share)
    if share is None:
        return ""
    return f"{percent(max(0.0, min(1.0, share)), locale)} of mentions scored"


def angle_of(value: float) -> float:
    """Dial angle (radians clockwise from 12 o'clock) of a net value."""
    return value / 100.0 * SWEEP


def scale_color(theme: Theme, value: float) -> tuple[float, float, float, float]:
    """Negative through neutral to positive along the dial."""
    if value < 0:
        return mix(theme.neutral, theme.negative, min(1.0, -value / 100.0))
    return mix(theme.neutral, theme.positive, min(1.0, value / 100.0))


class GaugeView(WidgetView):
    """Title, half-dial with a coloured scale and needle, the number below, then the formula."""

    spec: GaugeWidget

    def __init__(self, spec: GaugeWidget, box: Rect, theme: Theme):
        super().__init__(spec, box, theme)
        self._target: int | None = None
        self._start: float | None = None
        self._changed_at = -math.inf


    def key(self, data: dict[str, Any], t: float) -> tuple:
        elapsed = t - self._changed_at
        step = int(elapsed * STEPS_PER_S) if 0 <= elapsed < NEEDLE_S else None
        sentiment = data.get("sentiment")
        sentiment = sentiment if isinstance(sentiment, dict) else {}
        return (
            net_value(lookup(data, self.spec.value_path)),
            self._brand(data),
            sentiment.get("window_s"),
            sentiment.get("formula"),
            self._coverage(data),
            step,
        )

    def _coverage(self, data: dict[str, Any]) -> Any:
        """The scored share of the brand's mentions; for a custom `path`, of all mentions."""
        if self.spec.path is not None:
            return lookup(data, "sentiment.coverage")
        return lookup(data, f"sentiment.by_brand.{self._brand(data)}.coverage")

    def _brand(self, data: dict[str, Any]) -> str:
        if self.spec.path is not None:
            return ""
        brand = self.spec.brand or data.get("own_brand")
        return brand if isinstance(brand, str) else ""

    def _shown(self, t: float) -> float | None:
        """The needle's value at `t`: eased from where it was towards the target."""
        if self._target is None or self._start is None:
            return self._target
        progress = min(1.0, max(0.0, (t - self._changed_at) / NEEDLE_S))
        eased = 1.0 - (1.0 - progress) ** 3
        return self._start + (self._target - self._start) * eased

    def build(self, draw: Draw, data: dict[str, Any], t: float) -> None:
        value = net_value(lookup(data, self.spec.value_path))
        if value != self._target:
            shown = self._shown(t)
            self._start = None if value is None else shown
            self._target = value
            self._changed_at = t if value is not None and shown is not None else -math.inf
        sentiment = data.get("sentiment")
        sentiment = sentiment if isinstance(sentiment, dict) else {}
        inner = self.card(draw)
        body = self.title(draw, inner, self.spec.label)
        parts = (self._brand(data), window_text(sentiment.get("window_s")),
                 coverage_text(self._coverage(data), self.theme.locale))
        caption = " \u00b7 ".join(part for part in parts if part)
        self._dial(draw, body, self._shown(t), caption, short_formula(sentiment.get("formula")))

    def _dial(
        self, draw: Draw, box: Rect, value: float | None, caption: str, formula: str
    ) -> None:
        theme, u = self.theme, self.theme.unit
        small, body = theme.size("caption"), theme.size("body")
        gap = 0.3 * u
        number_text = format_net(value)
        layout = max(
            (self._fit(draw, box, number_text, formula, stacked) for stacked in (True, False)),
            key=lambda fit: fit[0],
        )
        radius, level, stacked, formula_lines = layout
        if radius < 2 * u:
            draw.text(number_text, box, theme.text_dim, "center", max_size=theme.size("number"))
            return
        number_size = theme.size(level)
        label_h = draw.line_height(small)
        block_h = self._block_height(draw, number_size, formula_lines)
        if stacked:
            cx = box.x + box.w / 2
            cy = box.y + (box.h - (1.08 * radius + gap + block_h)) / 2 + radius
            text_box = Rect(box.x, cy + 0.08 * radius + gap, box.w, block_h)
        else:
            dial_w = box.w * 0.5
            cx = box.x + dial_w / 2
            cy = box.y + (box.h - (1.06 * radius + label_h)) / 2 + radius
            text_box = Rect(box.x + dial_w + gap, box.y + (box.h - block_h) / 2,
                            box.w - dial_w - gap, block_h)
        self._scale(draw, cx, cy, radius, value)
        self._needle(draw, cx, cy, radius, value)
        for sign, text in ((-1, f"{MINUS}100"), (1, "+100")):
            x = cx + sign * radius * 0.86
            w = draw.measure(text, small)[0] + 2
            draw.text(text, Rect(x - w / 2, cy + 0.04 * radius, w, label_h), theme.text_dim,
                      "center", small)
        color = theme.text_dim if value is None else theme.sentiment_color(value)
        y = text_box.y
        for text, size, tint in (
            (number_text, number_size, color),
            (caption, body, theme.text),
            (formula_lines, small, theme.text_dim),
        ):
            if size == small:
                y += gap
            height = draw.line_height(size) * (text.count("\n") + 1)
            line = Rect(text_box.x, y, text_box.w, height)
            draw.text(draw.truncate(text, text_box.w, size) if size == body else text, line,
                      tint, "center", size)
            y += height

    def _block_height(self, draw: Draw, number_size: float, formula_lines: str) -> float:
        """Height of the number, caption and formula lines under (or beside) the dial."""
        theme = self.theme
        height = draw.line_height(number_size) + draw.line_height(theme.size("body"))
        if formula_lines:
            lines = formula_lines.count("\n") + 1
            height += 0.3 * theme.unit + lines * draw.line_height(theme.size("caption"))
        return height

    def _fit(
        self, draw: Draw, box: Rect, number_text: str, formula: str, stacked: bool
    ) -> tuple[float, str, bool, str]:
        """(radius, number level, stacked, wrapped formula) of the text under or beside the dial.

        The number takes the largest type level that stays at most 0.6 of the
        dial radius and clear of the dial's end labels.
        """
        theme = self.theme
        small = theme.size("caption")
        gap = 0.3 * theme.unit
        text_w = box.w if stacked else box.w * 0.5 - gap
        formula_lines = formula_lines_for(draw, formula, text_w, small)
        end_label = draw.measure(f"{MINUS}100", small)[0]
        radius = 0.0
        for level in NUMBER_LEVELS:
            size = theme.size(level)
            block_h = self._block_height(draw, size, formula_lines)
            if stacked:
                radius = min(0.47 * box.w, (box.h - gap - block_h) / 1.08)
                room = 2 * (radius * 0.86 - end_label / 2 - gap)
            else:
                radius = min(0.47 * box.w * 0.5, (box.h - draw.line_height(small)) / 1.06)
                room = text_w if block_h <= box.h else -1.0
            if radius > 0 and draw.measure(number_text, size)[0] <= room and size <= 0.6 * radius:
                return radius, level, stacked, formula_lines
        return radius, NUMBER_LEVELS[-1], stacked, formula_lines

    def _scale(self, draw: Draw, cx: float, cy: float, radius: float, value: float | None) -> None:
        """The scale from negative to positive, dimmed; 0 to the value in the value's colour."""
        theme = self.theme
        width = radius * BAND
        middle = radius - width / 2
        self._arc(draw, cx, cy, middle, width, -100.0, 100.0,
                  lambda v: mix(theme.border, scale_color(theme, v), 0.35))
        if value is not None:
            # One colour (the number's): caps of differently coloured strokes would show.
            low, high = sorted((0.0, value))
            lit = theme.sentiment_color(value)
            self._arc(draw, cx, cy, middle, width, low, high, lambda v: lit)
        inner = radius - width
        for tick in (-50.0, 0.0, 50.0):
            a = angle_of(tick)
            sx, sy = math.sin(a), -math.cos(a)
            r0, r1 = inner - radius * 0.1, inner - radius * 0.04
            draw.segment(cx + sx * r0, cy + sy * r0, cx + sx * r1, cy + sy * r1,
                         max(1.5, radius * 0.012), theme.text_dim)

    def _arc(
        self, draw: Draw, cx: float, cy: float, middle: float, width: float, low: float,
        high: float, color: Callable[[float], RGBA],
    ) -> None:
        """A round-capped band along the dial from value `low` to `high`, coloured by value.

        Drawn as short strokes rather than ring sectors: a ring's quad covers its
        whole circle, so dozens of sectors would shade the dial's area dozens
        of times, while each stroke's quad hugs it. The ends are pulled in by
        the cap radius so the rounded caps end exactly at `low` and `high`.
        """
        cap = angle_of(100.0 * width / 2 / middle / SWEEP)
        a0, a1 = angle_of(low) + cap, angle_of(high) - cap
        if a1 <= a0:
            # Shorter than its own caps: a dot as wide as the stretch it stands for.
            mid = (angle_of(low) + angle_of(high)) / 2
            x, y = cx + middle * math.sin(mid), cy - middle * math.cos(mid)
            span = (angle_of(high) - angle_of(low)) * middle
            if span > 0:
                draw.segment(x, y, x, y, min(width, max(2.0, span)), color((low + high) / 2))
            return
        pieces = max(1, math.ceil((a1 - a0) / ARC_STEP))
        step = (a1 - a0) / pieces
        for index in range(pieces):
            b0, b1 = a0 + index * step, a0 + (index + 1) * step
            draw.segment(cx + middle * math.sin(b0), cy - middle * math.cos(b0),
                         cx + middle * math.sin(b1), cy - middle * math.cos(b1), width,
                         color((b0 + b1) / 2 / SWEEP * 100.0))

    def _needle(self, draw: Draw, cx: float, cy: float, radius: float, value: float | None) -> None:
        theme = self.theme
        hub = radius * 0.075
        if value is not None:
            a = angle_of(value)
            sx, sy = math.sin(a), -math.cos(a)
            tip, tail = radius * 0.7, radius * 0.1
            draw.segment(cx - sx * tail, cy - sy * tail, cx + sx * tip, cy + sy * tip,
                         max(2.0, radius * 0.035), theme.text)
        draw.ring(cx, cy, hub, 0.0, theme.text if value is not None else theme.border)
        draw.ring(cx, cy, hub * 0.45, 0.0, theme.surface)


VIEWS = {"gauge": GaugeView}
