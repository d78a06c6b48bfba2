"""`feed`: the live post wall, new posts sliding in."""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from wallrenderer.core.geometry import Rect
from wallrenderer.core.layout.fields import RGBA
from wallrenderer.core.layout.kinds import FeedWidget
from wallrenderer.renderer.widgets.base import (
    Draw,
    Motion,
    WidgetView,
    finite_number,
    format_count,
    intersection,
    one_line,
    split,
)
from wallrenderer.renderer.widgets.theme import Theme, luminance, mix, with_alpha
from wallrenderer.renderer.widgets.wording import age

# VADER's own thresholds, as the aggregation counts positive and negative mentions.
NEGATIVE_BELOW = -0.05
POSITIVE_ABOVE = 0.05
SLIDE_S = 0.5
STRIPE_UNITS = 0.16
# Avatar discs darker than this relative luminance get light initials: about where
# white and near-black text have the same contrast (WCAG's formula) on the disc.
DARK_DISC_LUMINANCE = 0.18
# Lanes at least this wide (type units) use larger type (see _Metrics).
WIDE_LANE_UNITS = 30.0
# Displayed ages ("12 s", "4 min") are refreshed on this shared-time grid, not every frame.
AGE_STEP_S = 10.0
# A lane narrower or shorter than this (type units) holds no posts: a sliver of the
# widget on a neighbouring panel would only show cut-off text.
MIN_LANE_W_UNITS, MIN_LANE_H_UNITS = 8.0, 4.0


@dataclass(frozen=True)
class _Post:
    """What the wall shows of one post, read defensively from the frame."""

    key: str
    author: str
    initials: str
    meta: str
    time: float | None
    text: str
    sentiment: float | None
    own: bool


def _post(raw: dict[str, Any], locale: str | None) -> _Post:
    handle = one_line(raw.get("handle")).lstrip("@")
    name = one_line(raw.get("author")) or handle
    initials = "".join(word[0] for word in name.split()[:2]).upper() or "?"
    author = one_line(raw.get("author")) or (f"@{handle}" if handle else "Unknown author")
    meta = [f"@{handle}"] if handle else []
    followers = finite_number(raw.get("followers"))
    if followers is not None:
        meta.append(f"{format_count(followers, locale)} followers")
    text = one_line(raw.get("text"))
    return _Post(
        key=str(raw.get("id") or (handle, raw.get("time"), text)),
        author=author,
        initials=initials,
        meta=" \u00b7 ".join(meta),
        time=finite_number(raw.get("time")),
        text=text,
        sentiment=finite_number(raw.get("sentiment")),
        own=raw.get("own") is True,
    )


def sentiment_tint(theme: Theme, score: float | None) -> RGBA:
    """Stripe colour of a post's sentiment score (-1..1; None is unknown, drawn faint)."""
    if score is None:
        return theme.border
    if score <= NEGATIVE_BELOW:
        return theme.negative
    if score >= POSITIVE_ABOVE:
        return theme.positive
    return theme.neutral


@dataclass
class _Lane:
    """One column of posts within one panel's part of the widget, and its groups."""

    rect: Rect
    shift: float = 0.0
    main: int = 0
    head: int | None = None
    tail: int | None = None


class FeedView(WidgetView):
    """Posts in lanes (columns within each panel's part of the box), filled in reading order.

    Each lane lists its posts and, clipped below them, the post that did not
    fit; when new posts arrive every lane slides down by its first post, the
    newest fading in and each lane's leftover post fading out.
    """

    spec: FeedWidget

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._step: tuple[int, int] | None = None
        self._feed: Any = None
        self._top: str | None = None
        self._slide_at: float | None = None
        self._lanes: list[_Lane] = []
        self._wrapped: dict[tuple[str, float, int, float], str] = {}
        self._now = 0.0
        self._metrics: _Metrics | None = None

    def key(self, data: dict[str, Any], t: float) -> tuple:
        """The feed as it was at the last `interval` (or age) step of shared time."""
        step = (int(t // self.spec.interval), int(t // AGE_STEP_S))
        if step != self._step:
            self._step = step
            self._feed = data.get("feed")
        return (self._feed, data.get("own_brand"), step[1])

    def build(self, draw: Draw, data: dict[str, Any], t: float) -> None:
        posts = self._posts(data)
        top = posts[0].key if posts else None
        if self._top is not None and top is not None and top != self._top:
            self._slide_at = t
        self._top = top
        self._now = t
        self._lanes = []
        lanes = self._layout_lanes(draw)
        wide = bool(lanes) and min(lane.w for lane in lanes) >= WIDE_LANE_UNITS * self.theme.unit
        self._metrics = _Metrics.of(draw, self.theme, wide)
        if not posts:
            message = "No matching posts yet" if self.spec.filter else "Waiting for posts"
            if lanes:
                draw.text(message, lanes[0], self.theme.text_dim, "center",
                          self.theme.size("body"))
            return
        current = {post.key for post in posts}
        self._wrapped = {k: v for k, v in self._wrapped.items() if k[0] in current}
        for index, rect in enumerate(lanes):
            posts = self._fill(draw, _Lane(rect), posts, first=index == 0)

    def motion(self, t: float) -> Iterable[Motion]:
        progress = 1.0 if self._slide_at is None else min(1.0, (t - self._slide_at) / SLIDE_S)
        eased = 1.0 - (1.0 - max(0.0, progress)) ** 3
        for lane in self._lanes:
            dy = -(1.0 - eased) * lane.shift
            yield Motion(lane.main, 0.0, dy)
            if lane.head is not None:
                yield Motion(lane.head, 0.0, dy, eased)
            if lane.tail is not None:
                yield Motion(lane.tail, 0.0, dy, 1.0 - eased)

    # ------------------------------------------------------------------ data

    def _posts(self, data: dict[str, Any]) -> list[_Post]:
        feed = self._feed
        if not isinstance(feed, list):
            return []
        spec = self.spec
        brand = spec.brand.replace("{own}", str(data.get("own_brand") or ""))
        tag = (spec.hashtag or "").lstrip("#").lower()
        posts = []
        for raw in feed:
            if not isinstance(raw, dict):
                continue
            score = finite_number(raw.get("sentiment"))
            if "negative" in spec.filter and (score is None or score > NEGATIVE_BELOW):
                continue
            if "brand" in spec.filter and raw.get("brand") != brand:
                continue
            tags = raw.get("hashtags")
            if "hashtag" in spec.filter and not (
                isinstance(tags, list) and tag in (str(h).lower() for h in tags)
            ):
                continue
            posts.append(_post(raw, self.theme.locale))
        return posts

    # ------------------------------------------------------------------ layout

    def _layout_lanes(self, draw: Draw) -> list[Rect]:
        """Card lanes in reading order: panel parts top to bottom, left to right, then columns.

        Only the part of the box on each panel holds posts, each part with its
        own card background, so no post or label ever crosses a bezel.
        """
        unit = self.theme.unit
        parts = [intersection(self.box, p.rect) for p in draw.wall.panels]
        parts = sorted((p for p in parts if p is not None), key=lambda r: (r.y, r.x))
        parts = [p for p in parts
                 if p.w >= MIN_LANE_W_UNITS * unit and p.h >= MIN_LANE_H_UNITS * unit]
        parts = parts or [draw.seam_free(self.box)]
        lanes: list[Rect] = []
        title_drop = 0.0
        for part in parts:
            inner = self.card(draw, part)
            if self.spec.title and part is parts[0]:
                below = self.title(draw, inner, self.spec.title)
                title_drop = below.y - inner.y
            if part.y <= parts[0].y:
                inner = Rect(inner.x, inner.y + title_drop, inner.w, max(0.0, inner.h - title_drop))
            columns = split(inner, [1.0] * self.spec.columns, 0.5 * unit, vertical=False)
            lanes += [c for c in columns
                      if c.w >= MIN_LANE_W_UNITS * unit and c.h >= MIN_LANE_H_UNITS * unit]
        return lanes

    def _fill(self, draw: Draw, lane: _Lane, posts: list[_Post], first: bool) -> list[_Post]:
        """Stack posts down `lane`; returns the posts left for the next lanes."""
        metrics = self._metrics
        on_panel = lane.rect.intersects(draw.panel)
        if on_panel:
            lane.main = draw.group(clip=lane.rect)
            self._lanes.append(lane)
        y = lane.rect.y
        for index, post in enumerate(posts):
            text = self._text_of(draw, post, lane.rect)
            if text is None:
                return posts
            row = Rect(lane.rect.x, y, lane.rect.w, metrics.height(text))
            if row.bottom > lane.rect.bottom + 1e-6:
                if on_panel and index:
                    lane.tail = draw.group(clip=lane.rect)
                    self._draw_post(draw, post, text, row, lane.tail, divider=True)
                return posts[index:]
            group = lane.main
            if index == 0:
                lane.shift = row.h + metrics.gap
                if first and on_panel:
                    lane.head = group = draw.group(clip=lane.rect)
            if on_panel:
                self._draw_post(draw, post, text, row, group, divider=index > 0)
            y = row.bottom + metrics.gap
        return []

    def _text_of(self, draw: Draw, post: _Post, lane: Rect) -> str | None:
        """A post's text wrapped for `lane`; None when the lane is too short for it."""
        metrics = self._metrics
        below_first_line = lane.h - metrics.height("one line")
        lines = min(self.spec.max_lines, 1 + math.floor(below_first_line / metrics.line))
        if lines < 1:
            return None
        if not post.text:
            return ""
        width = lane.w - metrics.indent - metrics.pad
        key = (post.key, width, lines, metrics.text_size)
        if key not in self._wrapped:
            self._wrapped[key] = draw.wrap(post.text, width, metrics.text_size, lines)
        return self._wrapped[key]

    def _draw_post(
        self, draw: Draw, post: _Post, text: str, row: Rect, group: int, divider: bool
    ) -> None:
        """One post: a row of the list, with a divider above it unless it is a lane's first.

        Posts are rows on the panel's card rather than cards of their own:
        every filled pixel costs fragment work on a software rasteriser, and
        a second layer of boxes under the text would double it.
        """
        theme, unit, metrics = self.theme, self.theme.unit, self._metrics
        pad = metrics.pad
        if divider:
            y = row.y - metrics.gap / 2
            draw.segment(row.x, y, row.right, y, max(1.0, 0.05 * unit), theme.border, group)
        if post.own:
            draw.box(row, with_alpha(theme.accent, 0.1), radius=0.3 * unit, group=group)
        stripe_x = row.x + 0.3 * unit
        draw.segment(stripe_x, row.y + pad, stripe_x, row.bottom - pad, STRIPE_UNITS * unit,
                     sentiment_tint(theme, post.sentiment), group)
        left, top = row.x + metrics.indent, row.y + pad
        avatar = Rect(left, top, metrics.header, metrics.header)
        self._avatar(draw, post, avatar, group, metrics.text_size)
        name_x = avatar.right + 0.4 * unit
        name_w = row.right - pad - name_x
        shown_age = age(None if post.time is None else self._now - post.time, theme.locale)
        age_w = draw.measure(shown_age, metrics.meta_size)[0] + 0.4 * unit if shown_age else 0.0
        draw.text(shown_age, Rect(name_x, top, name_w, metrics.name), theme.text_dim, "right",
                  metrics.meta_size, group)
        draw.text(draw.truncate(post.author, name_w - age_w, metrics.name_size),
                  Rect(name_x, top, name_w - age_w, metrics.name), theme.text, "left",
                  metrics.name_size, group)
        draw.text(draw.truncate(post.meta, name_w, metrics.meta_size),
                  Rect(name_x, top + metrics.name, name_w, metrics.header - metrics.name),
                  theme.text_dim, "left", metrics.meta_size, group)
        if text:
            text_top = top + metrics.header + metrics.gap
            box = Rect(left, text_top, row.right - pad - left, row.bottom - pad - text_top)
            draw.text(text, box, mix(theme.text, theme.text_dim, 0.2), "left", metrics.text_size,
                      group, valign="top")

    def _avatar(self, draw: Draw, post: _Post, box: Rect, group: int, size: float) -> None:
        """A disc in the author's own colour with initials: tells authors apart at a glance."""
        theme = self.theme
        # crc32, not hash(): every panel's process must pick the same colour.
        color = theme.series_color(zlib.crc32(post.author.encode()))
        r = box.w / 2
        draw.ring(box.x + r, box.y + r, r, 0.0, color, group=group)
        ink = theme.background if luminance(color) > DARK_DISC_LUMINANCE else theme.text
        draw.text(post.initials, box, ink, "center", size, group)


@dataclass(frozen=True)
class _Metrics:
    """Text sizes and vertical rhythm of a post on one panel (canvas pixels).

    Wide lanes (a whole panel width) use the next larger type levels, so a
    short post does not sit small in a long empty row.
    """

    name_size: float
    meta_size: float
    text_size: float
    pad: float
    name: float
    header: float
    gap: float
    line: float
    indent: float

    @classmethod
    def of(cls, draw: Draw, theme: Theme, wide: bool) -> _Metrics:
        levels = ("title", "body", "label") if wide else ("label", "caption", "body")
        name_size, meta_size, text_size = (theme.size(level) for level in levels)
        name = draw.line_height(name_size)
        header = name + draw.line_height(meta_size)
        scale = 1.25 if wide else 1.0
        return cls(name_size, meta_size, text_size, pad=0.5 * scale * theme.unit, name=name,
                   header=header, gap=0.35 * scale * theme.unit,
                   line=draw.line_height(text_size), indent=0.75 * scale * theme.unit)

    def height(self, text: str) -> float:
        """Height of a post with wrapped `text` (no text: the header alone)."""
        lines = text.count("\n") + 1 if text else 0
        return 2 * self.pad + self.header + (self.gap + lines * self.line if lines else 0.0)


VIEWS = {"feed": FeedView}
