"""`ticker`: one line scrolling across the wall on shared time."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from wallrenderer.core.geometry import Rect
from wallrenderer.core.layout.fields import RGBA
from wallrenderer.core.layout.kinds import TickerWidget
from wallrenderer.renderer.widgets.base import (
    TAU,
    Draw,
    Motion,
    WidgetView,
    finite_number,
    one_line,
)
from wallrenderer.renderer.widgets.feed import sentiment_tint
from wallrenderer.renderer.widgets.theme import Theme

DEFAULT_SPEED_UNITS = 2.5
FADE_S = 0.6
PULSE_S = 1.6
# One item is cut (with an ellipsis) at this many times the text size: a long
# post should not hold the line for a minute.
MAX_ITEM_EMS = 70.0
# Text levels tried from the largest: the ticker's line is as large as its band allows.
LEVELS = ("heading", "title", "label", "body", "caption")
# Newest posts in the line: on a busy feed only the first few scroll by before the
# next refresh; on a quiet one the line loops over these.
FEED_ITEMS = 8
# Width of the gap holding the dot between items, in text sizes.
SEPARATOR_EMS = 1.5
DEFAULT_LABELS = {"feed": "LIVE", "alerts": "ALERTS", "headlines": ""}
EMPTY = {"feed": "Waiting for posts", "alerts": "No alerts", "headlines": ""}

# An item: (prefix drawn in the accent colour, text, separator dot colour, time or None).
Item = tuple[str, str, RGBA, float | None]


def _feed_items(feed: Any, theme: Theme) -> tuple[Item, ...]:
    items = []
    for post in feed[:FEED_ITEMS] if isinstance(feed, list) else ():
        if not isinstance(post, dict) or not one_line(post.get("text")):
            continue
        handle = one_line(post.get("handle")).lstrip("@")
        tint = sentiment_tint(theme, finite_number(post.get("sentiment")))
        items.append((f"@{handle}" if handle else "", one_line(post["text"]), tint,
                      finite_number(post.get("time"))))
    return tuple(items)


def _alert_items(alerts: Any, theme: Theme) -> tuple[Item, ...]:
    items = []
    for alert in alerts if isinstance(alerts, list) else ():
        if isinstance(alert, dict) and one_line(alert.get("reason")):
            tint = theme.neutral if alert.get("acknowledged_by") else theme.negative
            started = finite_number(alert.get("started_at"))
            items.append(("", one_line(alert["reason"]), tint, started))
    return tuple(items)


class TickerView(WidgetView):
    """Lays the line out once per content change, as enough copies to cover the band.

    The copies sit in one group clipped to the band and `motion` only moves
    it: x offset = -((t * speed - anchor) mod content width). The anchor is
    the first `refresh` boundary after the newest item's time, so new content
    starts at the right edge when it is taken in, and the same content scrolls
    identically on every panel (and after a renderer restart).
    """

    spec: TickerWidget

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.speed = self.spec.speed or DEFAULT_SPEED_UNITS * self.theme.unit
        self._epoch: int | None = None
        self._content: tuple[Item, ...] = ()
        self._shown: tuple[Item, ...] | None = None
        self._changed_at: float | None = None
        self.period = 0.0
        self._anchor = 0.0
        self._scroll = 0
        self._pulse: int | None = None


    def key(self, data: dict[str, Any], t: float) -> tuple:
        """The content as it was at the last `refresh` boundary of shared time."""
        epoch = int(t // self.spec.refresh)
        if epoch != self._epoch:
            self._epoch = epoch
            self._content = self._items(data)
        return (self._content,)

    def _items(self, data: dict[str, Any]) -> tuple[Item, ...]:
        source = self.spec.source
        if source == "feed":
            return _feed_items(data.get("feed"), self.theme)
        if source == "alerts":
            return _alert_items(data.get("alerts"), self.theme)
        return tuple(("", one_line(line), self.theme.accent, None) for line in self.spec.items
                     if one_line(line))

    def build(self, draw: Draw, data: dict[str, Any], t: float) -> None:
        theme = self.theme
        items = self._content
        if self._shown is not None and items != self._shown:
            self._changed_at = t
        self._shown = items
        inner = self.card(draw)
        size = next((theme.size(level) for level in LEVELS
                     if draw.line_height(theme.size(level)) <= inner.h), theme.size("caption"))
        line = Rect(inner.x, inner.y + (inner.h - draw.line_height(size)) / 2, inner.w,
                    draw.line_height(size))
        area = self._badge(draw, inner, line, size)
        clip = Rect(area.x, self.box.y, area.w, self.box.h)
        self._scroll = draw.group(clip=clip)
        self.period = 0.0
        if not items:
            draw.text(EMPTY[self.spec.source], area, theme.text_dim, "left", size,
                      self._scroll)
            return
        pieces, self.period = self._pieces(draw, items, size)
        newest = max((i[3] for i in items if i[3] is not None), default=None)
        refresh = self.spec.refresh
        self._anchor = 0.0 if newest is None else math.ceil(newest / refresh) * refresh
        self._anchor *= self.speed
        behind = math.ceil(area.w / self.period)
        for copy in range(-behind, 1):
            origin = area.right + copy * self.period
            for x, w, text, color in pieces:
                if text is None:
                    r = 0.14 * size
                    draw.ring(origin + x + w / 2, line.y + line.h / 2, r, 0.0, color,
                              group=self._scroll)
                else:
                    draw.text(text, Rect(origin + x, line.y, w, line.h), color, "left", size,
                              self._scroll)

    def _badge(self, draw: Draw, inner: Rect, line: Rect, size: float) -> Rect:
        """The label badge at the left, off the seams; returns the scrolling area beside it."""
        theme, unit = self.theme, self.theme.unit
        label = self.spec.label
        if label is None:
            label = DEFAULT_LABELS[self.spec.source]
        self._pulse = None
        if not label:
            return inner
        height = min(inner.h, line.h)
        badge_size = next((theme.size(level) for level in LEVELS[1:]
                           if draw.line_height(theme.size(level)) <= 0.72 * height),
                          theme.size("caption"))
        text_w = draw.measure(label, badge_size)[0]
        dot = 0.4 * badge_size
        pad = 0.35 * height
        width = pad + dot + 0.3 * badge_size + text_w + pad
        badge = draw.off_seams(Rect(inner.x, line.y + (line.h - height) / 2, width, height),
                               within=inner)
        if badge is None:
            return inner
        accent = theme.negative if self.spec.source == "alerts" else theme.accent
        draw.box(badge, accent, radius=0.25 * unit)
        self._pulse = draw.group()
        draw.ring(badge.x + pad + dot / 2, badge.y + badge.h / 2, dot / 2, 0.0,
                  theme.background, group=self._pulse)
        draw.text(label, Rect(badge.right - pad - text_w, badge.y, text_w, badge.h),
                  theme.background, "left", badge_size)
        gap = 0.8 * unit
        return Rect(badge.right + gap, inner.y, inner.right - badge.right - gap, inner.h)

    def _pieces(
        self, draw: Draw, items: tuple[Item, ...], size: float
    ) -> tuple[list[tuple[float, float, str | None, RGBA]], float]:
        """Each text run and separator dot as (x, width, text or None for a dot, colour).

        Also returns the width of the whole line, the period of the scroll.
        """
        theme = self.theme
        color = self.spec.color or theme.text
        pieces: list[tuple[float, float, str | None, RGBA]] = []
        x = 0.0
        space = draw.measure(" ", size)[0]
        for prefix, text, tint, _ in items:
            pieces.append((x, SEPARATOR_EMS * size, None, tint))
            x += SEPARATOR_EMS * size
            budget = MAX_ITEM_EMS * size
            if prefix:
                prefix = draw.truncate(prefix, budget / 2, size)
                width = draw.measure(prefix, size)[0]
                pieces.append((x, width, prefix, theme.accent))
                x += width + space
                budget -= width
            text = draw.truncate(text, budget, size)
            width = draw.measure(text, size)[0]
            pieces.append((x, width, text, color))
            x += width
        return pieces, x

    def motion(self, t: float) -> Iterable[Motion]:
        """The line's scroll and fade first, then the badge dot's pulse."""
        alpha = 1.0 if self._changed_at is None else min(1.0, (t - self._changed_at) / FADE_S)
        dx = -((t * self.speed - self._anchor) % self.period) if self.period else 0.0
        yield Motion(self._scroll, dx, 0.0, max(0.0, alpha))
        if self._pulse is not None:
            yield Motion(self._pulse, alpha=0.6 + 0.4 * math.cos(TAU * t / PULSE_S))


VIEWS = {"ticker": TickerView}
