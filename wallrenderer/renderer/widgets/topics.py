"""`topics`: trending hashtags and terms sized by count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wallrenderer.core.geometry import Rect
from wallrenderer.core.layout.fields import RGBA
from wallrenderer.core.layout.kinds import TopicsWidget
from wallrenderer.renderer.widgets.base import Draw, WidgetView, finite_number, one_line
from wallrenderer.renderer.widgets.theme import Theme, mix

# Type levels a word may take, smallest first; a cloud uses four neighbours of
# them (four text sizes, so few draw calls), the largest four that fit its box.
LADDER = ("caption", "body", "label", "title", "heading", "number", "hero")
SIZES_PER_CLOUD = 4
# Share of the top count from which a word takes each of the four sizes, largest first.
SIZE_THRESHOLDS = (0.7, 0.4, 0.2)
WORD_GAP_UNITS, ROW_GAP_UNITS = 0.9, 0.35
TITLES = {"hashtags": "Trending hashtags", "terms": "Trending terms", "both": "Trending topics"}


# A word as placed: (text as drawn, rank, size, width).
_Placed = tuple[str, int, float, float]


@dataclass(frozen=True)
class _Word:
    text: str
    weight: float  # count over the top count of its source, 0..1
    rank: int


def _entries(data: dict[str, Any], field: str, key: str) -> list[tuple[str, float]]:
    node = data.get(field)
    top = node.get("top") if isinstance(node, dict) else None
    out = []
    for entry in top if isinstance(top, list) else ():
        if not isinstance(entry, dict):
            continue
        word, count = one_line(entry.get(key)).lstrip("#"), finite_number(entry.get("count"))
        if word and count is not None and count > 0:
            out.append((word, count))
    return sorted(out, key=lambda entry: -entry[1])


def _words(data: dict[str, Any], source: str, limit: int) -> list[_Word]:
    """The words to show, heaviest first; with `both`, terms shown as hashtags are left out.

    Weights are relative to the top count of each list, since term counts
    come from a sample of posts and are not comparable with hashtag counts.
    """
    tags = _entries(data, "hashtags", "tag") if source in ("hashtags", "both") else []
    terms = _entries(data, "terms", "term") if source in ("terms", "both") else []
    shown_tags = {tag.lower() for tag, _ in tags}
    weighted = [(count / tags[0][1], f"#{tag}") for tag, count in tags]
    weighted += [(count / terms[0][1], term) for term, count in terms
                 if term.lower() not in shown_tags]
    weighted.sort(key=lambda item: -item[0])
    return [_Word(text, weight, rank) for rank, (weight, text) in enumerate(weighted[:limit])]


class TopicsView(WidgetView):
    """A centred flow of words in rows, heaviest row in the middle, never outside the box."""

    spec: TopicsWidget


    def build(self, draw: Draw, data: dict[str, Any], t: float) -> None:
        theme = self.theme
        inner = self.card(draw)
        title = TITLES[self.spec.source] if self.spec.title is None else self.spec.title
        body = self.title(draw, inner, title) if title else inner
        shown = _words(data, self.spec.source, self.spec.max_items)
        if not shown:
            draw.text("No trending topics yet", body, theme.text_dim, "center",
                      theme.size("body"))
            return
        windows = [LADDER[top - SIZES_PER_CLOUD:top]
                   for top in range(len(LADDER), SIZES_PER_CLOUD - 1, -1)]
        for levels in windows:
            rows = self._flow(draw, shown, levels, body)
            if rows is not None:
                self._place(draw, rows, body)
                return
        for count in range(len(shown) - 1, 0, -1):
            rows = self._flow(draw, shown[:count], windows[-1], body)
            if rows is not None:
                self._place(draw, rows, body)
                return

    def _size(self, word: _Word, levels: tuple[str, ...]) -> float:
        """The largest of `levels` for the heaviest words, down to the smallest for the rest."""
        step = sum(word.weight < threshold for threshold in SIZE_THRESHOLDS)
        return self.theme.size(levels[-1 - step])

    def _flow(
        self, draw: Draw, shown: list[_Word], levels: tuple[str, ...], box: Rect
    ) -> list[list[_Placed]] | None:
        """Words in rows that fit `box` at these sizes, or None when they do not.

        A word wider than the box on its own (a very long hashtag) steps down
        the levels until it fits, and is cut with an ellipsis only at the
        smallest, rather than dropped.
        """
        gap = WORD_GAP_UNITS * self.theme.unit
        rows: list[list[_Placed]] = [[]]
        used = 0.0
        for word in shown:
            size = self._size(word, levels)
            smaller = [self.theme.size(lv) for lv in reversed(levels) if self.theme.size(lv) < size]
            while smaller and draw.measure(word.text, size)[0] > box.w:
                size = smaller.pop(0)
            text = draw.truncate(word.text, box.w, size)
            width = draw.measure(text, size)[0]
            if rows[-1] and used + gap + width > box.w:
                rows.append([])
                used = 0.0
            used += (gap if rows[-1] else 0.0) + width
            rows[-1].append((text, word.rank, size, width))
        height = sum(_row_height(draw, row) for row in rows)
        height += ROW_GAP_UNITS * self.theme.unit * (len(rows) - 1)
        return rows if height <= box.h else None

    def _place(self, draw: Draw, rows: list[list[_Placed]], box: Rect) -> None:
        """Heaviest row in the middle, the others alternating below and above; same in a row."""
        gap, row_gap = WORD_GAP_UNITS * self.theme.unit, ROW_GAP_UNITS * self.theme.unit
        rows = _centre_out(rows)
        heights = [_row_height(draw, row) for row in rows]
        y = box.y + (box.h - sum(heights) - row_gap * (len(rows) - 1)) / 2
        for row, height in zip(rows, heights, strict=True):
            row = _centre_out(row)
            x = box.x + (box.w - sum(w for *_, w in row) - gap * (len(row) - 1)) / 2
            for text, rank, size, width in row:
                draw.text(text, Rect(x, y, width, height), _color(self.theme, rank), "left",
                          size, valign="bottom")
                x += width + gap
            y += height + row_gap


def _row_height(draw: Draw, row: list[_Placed]) -> float:
    return max(draw.line_height(size) for *_, size, _ in row)


def _centre_out(items: list) -> list:
    """[a, b, c, d, e] -> [e, c, a, b, d]: the first in the middle, the rest alternating out."""
    out: list = []
    for index, item in enumerate(items):
        if index % 2:
            out.append(item)
        else:
            out.insert(0, item)
    return out


def _color(theme: Theme, rank: int) -> RGBA:
    """Series colours by rank for the leaders, then the dim text colour."""
    if rank < len(theme.series) - 1:
        return mix(theme.series_color(rank), theme.text, 0.25)
    return theme.text_dim


VIEWS = {"topics": TopicsView}
