"""`bars`: share of voice or mentions by brand, sorted, animated re-ordering."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from wallrenderer.core.geometry import Rect
from wallrenderer.core.layout.fields import RGBA
from wallrenderer.core.layout.kinds import BarsWidget
from wallrenderer.renderer import shaping
from wallrenderer.renderer.widgets.base import (
    GROUPS_PER_WIDGET,
    WAITING,
    Draw,
    Motion,
    WidgetView,
    brand_order,
    ease_in_out,
    finite_number,
    lookup,
    native_px,
)
from wallrenderer.renderer.widgets.kpi import format_value
from wallrenderer.renderer.widgets.theme import with_alpha

REORDER_S = 0.6
# The tallest a row gets, in type units: few brands make broad bars, not giant ones.
MAX_ROW_UNITS = 5.5
# Rows at least this tall (type units) put the brand and value above a full-width bar.
STACKED_ROW_UNITS = 4.0
MAX_ROWS = GROUPS_PER_WIDGET - 1  # one animation group per row


def _descent(draw: Draw, size: float) -> float:
    """How far text of `size` reaches below its baseline, in canvas pixels."""
    px = native_px(size, draw.px_per_canvas)
    return shaping.font_metrics(draw.font, px).descent / draw.px_per_canvas


class _Row(NamedTuple):
    """What one bar row shows: brand, value text, bar length (0..1) and colour."""

    brand: str
    value: str
    fraction: float
    color: RGBA
    mine: bool
    moving: bool


class BarsView(WidgetView):
    """One row per brand: name, bar, value; rows slide to their new place when the order changes."""

    spec: BarsWidget

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.row_groups: dict[str, int] = {}
        self._row_y: dict[str, float] = {}
        # Rows on their way to a new place: (offset from it when the slide began, start time).
        self._slides: dict[str, tuple[float, float]] = {}


    def build(self, draw: Draw, data: dict[str, Any], t: float) -> None:
        theme, unit = self.theme, self.theme.unit
        inner = self.card(draw)
        body = self.title(draw, inner, self.spec.title) if self.spec.title else inner
        entries = self._entries(data)
        placed = self._row_y
        shown_now = {b: y + self._offset(b, t) for b, y in placed.items()}
        slides = self._slides
        self.row_groups, self._row_y, self._slides = {}, {}, {}
        if not entries:
            size = theme.size("body")
            draw.text(WAITING, body, theme.text_dim, "center", size)
            return
        label_size = theme.size("label")
        rows = min(len(entries), MAX_ROWS, int(body.h // draw.line_height(label_size)))
        if rows < 1:
            return
        entries = entries[:rows]
        row_h = min(body.h / rows, MAX_ROW_UNITS * unit)
        texts = [format_value(v, self.spec.format, self.theme.locale) for _, v, _ in entries]
        largest = entries[0][1] if entries[0][1] > 0 else 1.0
        stacked = row_h >= STACKED_ROW_UNITS * unit
        layout = self._stacked if stacked else self._inline
        value_size = theme.size("heading") if stacked else label_size
        names_w = min(max(draw.measure(b, label_size)[0] for b, _, _ in entries), 0.35 * body.w)
        values_w = max(draw.measure(s, value_size)[0] for s in texts)
        own = data.get("own_brand")
        for index, ((brand, value, color), text) in enumerate(zip(entries, texts, strict=True)):
            box = Rect(body.x, body.y + index * row_h, body.w, row_h)
            group = draw.group()
            self.row_groups[brand] = group
            self._row_y[brand] = box.y
            if placed.get(brand) == box.y and brand in slides:
                self._slides[brand] = slides[brand]
            elif brand in shown_now and abs(shown_now[brand] - box.y) > 0.5:
                self._slides[brand] = (shown_now[brand] - box.y, t)
            row = _Row(brand, text, value / largest, color, brand == own, self._moving(brand, t))
            layout(draw, box, row, (names_w, values_w), group)

    def _stacked(
        self, draw: Draw, box: Rect, row: _Row, widths: tuple[float, float], group: int
    ) -> None:
        """Tall rows: brand and a large value on one line, a full-width bar under them."""
        theme, unit = self.theme, self.theme.unit
        label_size, value_size = theme.size("label"), theme.size("heading")
        text_color = theme.text if row.mine else theme.text_dim
        value_h = draw.line_height(value_size)
        bar_h = min(0.9 * unit, 0.22 * box.h)
        content_h = value_h + 0.2 * unit + bar_h
        top = box.y + (box.h - content_h) / 2
        if row.mine:
            self._highlight(draw, Rect(box.x, top, box.w, content_h), row, group)
        name_w = max(0.0, box.w - widths[1] - 0.6 * unit)
        # Bottom-aligned in the value's line box, raised so both sit on one baseline.
        raise_by = _descent(draw, value_size) - _descent(draw, label_size)
        draw.text(draw.truncate(row.brand, name_w, label_size),
                  Rect(box.x, top - raise_by, name_w, value_h), text_color, "left", label_size,
                  group=group, valign="bottom")
        draw.text(row.value, Rect(box.right - widths[1], top, widths[1], value_h), text_color,
                  "right", value_size, group=group)
        self._bar(draw, Rect(box.x, top + value_h + 0.2 * unit, box.w, bar_h), row, group)

    def _inline(
        self, draw: Draw, box: Rect, row: _Row, widths: tuple[float, float], group: int
    ) -> None:
        """Short rows: brand, bar and value side by side."""
        theme, unit = self.theme, self.theme.unit
        size = theme.size("label")
        text_color = theme.text if row.mine else theme.text_dim
        names_w, values_w = widths
        gap = 0.6 * unit
        if row.mine:
            line = min(box.h, draw.line_height(size))
            self._highlight(draw, Rect(box.x, box.y + (box.h - line) / 2, box.w, line), row,
                            group)
        draw.text(draw.truncate(row.brand, names_w, size), Rect(box.x, box.y, names_w, box.h),
                  text_color, "left", size, group=group)
        bar_h = min(0.5 * box.h, 0.9 * unit)
        track = Rect(box.x + names_w + gap, box.y + (box.h - bar_h) / 2,
                     box.w - names_w - values_w - 2 * gap, bar_h)
        self._bar(draw, track, row, group)
        draw.text(row.value, Rect(box.right - values_w, box.y, values_w, box.h), text_color,
                  "right", size, group=group)

    def _highlight(self, draw: Draw, content: Rect, row: _Row, group: int) -> None:
        """The tint behind our brand's row, a little larger than what the row shows.

        It only changes when the row moves, so it lives in the panel's cached
        backdrop unless the row is sliding.
        """
        margin = 0.3 * self.theme.unit
        draw.box(content.inset(-margin), with_alpha(self.theme.accent, 0.12),
                 radius=0.25 * self.theme.unit, group=group, backdrop=not row.moving)

    def _bar(self, draw: Draw, track: Rect, row: _Row, group: int) -> None:
        """A faint full-length track with the bar over it.

        Every row's track looks the same, so tracks stay in the cached backdrop
        while rows slide over them.
        """
        if track.w <= 0:
            return
        radius = 0.3 * track.h
        draw.box(track, with_alpha(self.theme.border, 0.5), radius=radius, backdrop=True)
        filled = Rect(track.x, track.y, max(0.0, row.fraction) * track.w, track.h)
        draw.box(filled, row.color, radius=radius, group=group)

    def _entries(self, data: dict[str, Any]) -> list[tuple[str, float, RGBA]]:
        """(brand, value, colour) largest first; colours follow the frame's brand order."""
        by_brand = lookup(data, self.spec.path)
        if not isinstance(by_brand, dict):
            return []
        order = brand_order(data, by_brand)
        entries = []
        for index, brand in enumerate(order):
            value = by_brand[brand]
            if self.spec.field is not None:
                value = lookup(value, self.spec.field) if isinstance(value, dict) else None
            if (number := finite_number(value)) is not None:
                entries.append((str(brand), number, self.theme.series_color(index)))
        return sorted(entries, key=lambda e: -e[1])

    def key(self, data: dict[str, Any], t: float) -> tuple:
        """Rebuilt also when rows stop sliding, to put our row's tint back in the backdrop."""
        return (*super().key(data, t), any(self._moving(b, t) for b in self._slides))

    def _moving(self, brand: str, t: float) -> bool:
        """True while the brand's row is sliding to its place."""
        slide = self._slides.get(brand)
        return slide is not None and t < slide[1] + REORDER_S

    def _offset(self, brand: str, t: float) -> float:
        """How far a row is drawn from its place at `t` while sliding there."""
        offset, since = self._slides.get(brand, (0.0, 0.0))
        return offset * (1.0 - ease_in_out((t - since) / REORDER_S))

    def motion(self, t: float) -> Iterable[Motion]:
        return [Motion(g, dy=self._offset(brand, t)) for brand, g in self.row_groups.items()]


VIEWS = {"bars": BarsView}
