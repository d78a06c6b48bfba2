"""`leaderboard`: top authors by reach, with rank changes."""

from __future__ import annotations

from typing import Any

from wallrenderer.core.geometry import Rect
from wallrenderer.core.layout.kinds import LeaderboardWidget
from wallrenderer.renderer.widgets.base import (
    WAITING,
    Draw,
    WidgetView,
    finite_number,
    format_count,
    split,
)
from wallrenderer.renderer.widgets.theme import with_alpha

Author = tuple[str, str]  # (network, handle)
# Rows shorter than this (in type units) show the @handle beside the name, not under it.
TWO_LINE_ROW_UNITS = 2.4


def _author(entry: Any) -> Author | None:
    """Who an `authors.top` entry is, None for an entry without a handle."""
    handle = entry.get("handle") if isinstance(entry, dict) else None
    if not isinstance(handle, str) or not handle:
        return None
    return (str(entry.get("network") or ""), handle)


class LeaderboardView(WidgetView):
    """Rank, movement, name and @handle, followers, reach; one row per author."""

    spec: LeaderboardWidget

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._ranks: dict[Author, int] = {}
        # Ranks before the ranking last changed (None until there is one to compare with).
        self._before: dict[Author, int] | None = None

    def build(self, draw: Draw, data: dict[str, Any], t: float) -> None:
        theme, unit = self.theme, self.theme.unit
        inner = self.card(draw)
        body = self.title(draw, inner, self.spec.title) if self.spec.title else inner
        top = data.get("authors", {}).get("top") if isinstance(data.get("authors"), dict) else None
        entries = [(a, e) for e in (top if isinstance(top, list) else []) if (a := _author(e))]
        if not entries:  # a gap in the data is no change of ranking
            draw.text(WAITING, body, theme.text_dim, "center", theme.size("body"))
            return
        self._remember(entries)
        caption, label = theme.size("caption"), theme.size("label")
        header_h = draw.line_height(caption)
        rows_box = Rect(body.x, body.y + header_h + 0.3 * unit, body.w,
                        body.h - header_h - 0.3 * unit)
        row_h = rows_box.h / self.spec.rows
        columns = self._columns(draw, body)
        for text, column, align in (("Followers", columns[3], "right"),
                                    ("Reach", columns[4], "right")):
            draw.text(text, Rect(column.x, body.y, column.w, header_h), theme.text_dim, align,
                      caption)
        two_lines = row_h >= TWO_LINE_ROW_UNITS * unit
        for index, (author, entry) in enumerate(entries[: self.spec.rows]):
            y = rows_box.y + index * row_h
            if index:
                draw.segment(body.x, y, body.right, y, max(1.0, 0.04 * unit),
                             with_alpha(theme.border, 0.8))
            cells = [Rect(c.x, y, c.w, row_h) for c in columns]
            draw.text(str(index + 1), cells[0], theme.text_dim, "right", label)
            self._movement(draw, cells[1], author, index + 1)
            self._who(draw, cells[2], entry, author[1], two_lines)
            followers = format_count(finite_number(entry.get("followers")), theme.locale)
            draw.text(followers, cells[3], theme.text_dim, "right", label)
            reach = format_count(finite_number(entry.get("reach")), theme.locale)
            draw.text(reach, cells[4], theme.text, "right", label)

    def _remember(self, entries: list[tuple[Author, dict]]) -> None:
        """Keep the ranks from before the latest change of order, to show who moved."""
        ranks = {author: rank for rank, (author, _) in enumerate(entries, start=1)}
        if ranks != self._ranks:
            if self._ranks:
                self._before = self._ranks
            self._ranks = ranks

    def _columns(self, draw: Draw, body: Rect) -> list[Rect]:
        """Rank, movement, who, followers, reach: numbers get what they need, names the rest."""
        theme, unit = self.theme, self.theme.unit
        label, caption = theme.size("label"), theme.size("caption")
        rank_w = draw.measure(str(self.spec.rows), label)[0]
        move_w = draw.measure("new", caption)[0] + 1.0 * unit
        number_w = max(draw.measure("888.8M", label)[0], draw.measure("Followers", caption)[0])
        gap = 0.6 * unit
        widths = [rank_w, move_w, 0.0, number_w, number_w]
        widths[2] = max(0.0, body.w - sum(widths) - gap * (len(widths) - 1))
        return split(body, widths, gap=gap, vertical=False)

    def _movement(self, draw: Draw, cell: Rect, author: Author, rank: int) -> None:
        """A small up/down triangle with the places moved, or "new"; nothing if unmoved."""
        if self._before is None:
            return
        theme, unit = self.theme, self.theme.unit
        caption = theme.size("caption")
        before = self._before.get(author)
        if before is None:
            w, h = draw.measure("new", caption)
            pill = Rect(cell.x + 0.3 * unit, cell.y + (cell.h - h) / 2, w + 0.5 * unit, h)
            draw.box(pill, with_alpha(theme.accent, 0.2), radius=0.3 * h)
            draw.text("new", pill, theme.accent, "center", caption)
            return
        moved = before - rank
        if not moved:
            return
        size = 0.5 * unit
        arrow = Rect(cell.x + 0.3 * unit, cell.y + (cell.h - size) / 2, size, size)
        color = theme.positive if moved > 0 else theme.negative
        draw.triangle(arrow, moved > 0, color)
        number = Rect(arrow.right + 0.2 * unit, cell.y, cell.right - arrow.right - 0.2 * unit,
                      cell.h)
        draw.text(str(abs(moved)), number, color, "left", caption)

    def _who(self, draw: Draw, cell: Rect, entry: dict, handle: str, two_lines: bool) -> None:
        """Name with the @handle under it, or beside it when rows are short."""
        theme = self.theme
        label, caption = theme.size("label"), theme.size("caption")
        name = entry.get("name") if isinstance(entry.get("name"), str) else ""
        name = name or handle
        at = f"@{handle}"
        if two_lines:
            name_h, at_h = draw.line_height(label), draw.line_height(caption)
            y = cell.y + (cell.h - name_h - at_h) / 2
            draw.text(draw.truncate(name, cell.w, label), Rect(cell.x, y, cell.w, name_h),
                      theme.text, "left", label)
            draw.text(draw.truncate(at, cell.w, caption), Rect(cell.x, y + name_h, cell.w, at_h),
                      theme.text_dim, "left", caption)
            return
        name = draw.truncate(name, 0.6 * cell.w, label)
        name_w = draw.measure(name, label)[0]
        draw.text(name, Rect(cell.x, cell.y, name_w, cell.h), theme.text, "left", label)
        rest = cell.w - name_w - 0.4 * theme.unit
        draw.text(draw.truncate(at, rest, caption), Rect(cell.right - rest, cell.y, rest, cell.h),
                  theme.text_dim, "left", caption)


VIEWS = {"leaderboard": LeaderboardView}
