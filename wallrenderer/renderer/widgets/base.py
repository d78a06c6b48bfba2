"""What every widget draws with: shapes, text, animation groups and seams.

A widget's `build` writes into a `Draw`: signed-distance shapes (one instanced
draw for the whole scenario), text items (one instanced draw per font size)
and animation groups. `PanelView` rebuilds a widget only when its `key()`
changes, normally the data it reads (frames come at most 10 times a second);
motion between rebuilds comes from
`WidgetView.motion`, which moves, fades or clips whole groups through one small
texture per frame, so nothing is re-laid out for a scroll or a slide.

All coordinates are canvas pixels, origin top-left. Text sizes are canvas
pixels too: the panel converts them to its native pixels.
"""

from __future__ import annotations

import bisect
import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from wallrenderer.core.geometry import Panel, Rect, Wall
from wallrenderer.core.layout.fields import RGBA
from wallrenderer.core.layout.placement import Widget
from wallrenderer.renderer import shaping
from wallrenderer.renderer.widgets.theme import Theme
from wallrenderer.renderer.widgets.wording import count as format_count
from wallrenderer.renderer.widgets.wording import duration as format_duration

TAU = 2 * math.pi
TRANSPARENT: RGBA = (0.0, 0.0, 0.0, 0.0)
# A unit quad's corners as a triangle strip: every instanced visual's base mesh.
UNIT_QUAD = np.array([0, 0, 1, 0, 0, 1, 1, 1], dtype="f4")
# Columns of one shape instance, matching shaders/shape.vert.glsl.
SHAPE_COLUMNS = 18
BOX, SEGMENT, RING, TRIANGLE = 0.0, 1.0, 2.0, 3.0
# Groups a single widget may allocate (group 0 of each widget is its static group).
GROUPS_PER_WIDGET = 64
ELLIPSIS = "\u2026"
__all__ = ["format_count", "format_duration"]  # the wall's formatters, re-exported


@dataclass(frozen=True)
class TextItem:
    """One block of text to lay out inside a canvas box.

    With `size` None the text is fitted as large as the box allows (at most
    `max_size`); otherwise it is drawn at `size` canvas pixels.
    """

    text: str
    box: Rect
    color: RGBA
    align: str = "center"
    size: float | None = None
    font: str | None = None
    group: int = 0
    valign: str = "center"
    max_size: float | None = None


@dataclass(frozen=True)
class Motion:
    """Where a group is this frame: offset in canvas pixels and opacity."""

    group: int
    dx: float = 0.0
    dy: float = 0.0
    alpha: float = 1.0


class Draw:
    """Collects one widget's shapes, text and groups for one panel.

    Attributes:
        wall: the whole wall (for seams).
        panel: this panel's canvas rectangle.
        px_per_canvas: native pixels per canvas pixel on this panel.
        theme: the scenario's theme.
    """

    def __init__(self, wall: Wall, panel: Rect, px_per_canvas: float, theme: Theme, font: str):
        self.wall = wall
        self.panel = panel
        self.px_per_canvas = px_per_canvas
        self.theme = theme
        self.font = font
        self.shapes: list[tuple[float, ...]] = []
        self.backdrop: list[tuple[float, ...]] = []
        self.texts: list[TextItem] = []
        self.clips: dict[int, Rect | None] = {0: None}

    # ------------------------------------------------------------------ groups

    def group(self, clip: Rect | None = None) -> int:
        """A new animation group (1, 2, ...) whose content is clipped to `clip`, if given."""
        index = len(self.clips)
        if index >= GROUPS_PER_WIDGET:
            raise ValueError(f"a widget may use at most {GROUPS_PER_WIDGET - 1} groups")
        self.clips[index] = clip
        return index

    # ------------------------------------------------------------------ shapes

    def box(
        self,
        rect: Rect,
        color: RGBA,
        radius: float = 0.0,
        border: float = 0.0,
        border_color: RGBA = TRANSPARENT,
        group: int = 0,
        backdrop: bool = False,
    ) -> None:
        """A filled rectangle with rounded corners and an optional inner border.

        A `backdrop` box (a card, a static fill) is drawn once into the panel's
        cached background image instead of every frame, under everything else;
        large static areas cost nothing per frame that way.
        """
        if rect.w <= 0 or rect.h <= 0:
            return
        row = (rect.x, rect.y, rect.w, rect.h, BOX, radius, border, 0 if backdrop else group,
               *color, *border_color, 0.0, 0.0)
        (self.backdrop if backdrop else self.shapes).append(row)

    def segment(
        self, x0: float, y0: float, x1: float, y1: float, width: float, color: RGBA,
        group: int = 0, backdrop: bool = False,
    ) -> None:
        """A straight stroke with round caps (in the cached backdrop when `backdrop`)."""
        row = (x0, y0, x1, y1, SEGMENT, width, 0.0, 0 if backdrop else group,
               *color, *TRANSPARENT, 0.0, 0.0)
        (self.backdrop if backdrop else self.shapes).append(row)

    def polyline(
        self, points: np.ndarray, width: float, color: RGBA, group: int = 0,
        backdrop: bool = False,
    ) -> None:
        """Connected strokes through (N, 2) points; round caps make the joins smooth."""
        points = np.asarray(points, dtype="f4")
        if len(points) < 2:
            return
        n = len(points) - 1
        rows = np.zeros((n, SHAPE_COLUMNS), dtype="f4")
        rows[:, 0:2] = points[:-1]
        rows[:, 2:4] = points[1:]
        rows[:, 4] = SEGMENT
        rows[:, 5] = width
        rows[:, 7] = 0 if backdrop else group
        rows[:, 8:12] = color
        (self.backdrop if backdrop else self.shapes).extend(map(tuple, rows))

    def ring(
        self,
        cx: float,
        cy: float,
        r_outer: float,
        r_inner: float,
        color: RGBA,
        start: float = 0.0,
        end: float = TAU,
        group: int = 0,
    ) -> None:
        """A disc (r_inner 0), ring or ring sector; angles in radians clockwise from 12 o'clock."""
        if end <= start:
            return
        self.shapes.append(
            (cx, cy, r_outer, r_inner, RING, 0.0, 0.0, group, *color, *TRANSPARENT, start, end)
        )

    def triangle(self, rect: Rect, up: bool, color: RGBA, group: int = 0) -> None:
        """A triangle filling `rect`, apex up or down (delta arrows)."""
        self.shapes.append(
            (rect.x, rect.y, rect.w, rect.h, TRIANGLE, 1.0 if up else -1.0, 0.0, group,
             *color, *TRANSPARENT, 0.0, 0.0)
        )

    # ------------------------------------------------------------------ text

    def text(
        self,
        text: str,
        box: Rect,
        color: RGBA | None = None,
        align: str = "left",
        size: float | None = None,
        group: int = 0,
        valign: str = "center",
        max_size: float | None = None,
        font: str | None = None,
    ) -> None:
        """Text in a box: at `size` canvas pixels, or fitted (up to `max_size`) when None."""
        if not text or box.w <= 0 or box.h <= 0:
            return
        self.texts.append(
            TextItem(text, box, color or self.theme.text, align, size, font, group, valign,
                     max_size)
        )

    def measure(self, text: str, size: float) -> tuple[float, float]:
        """(width, height) in canvas pixels that `text` takes at `size`, shaped as drawn."""
        w, h = self._metrics(size).measure(text)
        s = self.px_per_canvas
        return w / s, h / s

    def line_height(self, size: float) -> float:
        return self._metrics(size).line_height / self.px_per_canvas

    def _metrics(self, size: float) -> shaping.FontMetrics:
        return shaping.font_metrics(self.font, native_px(size, self.px_per_canvas))

    def truncate(self, text: str, width: float, size: float) -> str:
        """`text` on one line, cut with an ellipsis to fit `width`.

        The cut falls between clusters (never inside a letter and its marks,
        a conjunct or an emoji sequence), drops the spaces and direction
        marks it would leave dangling, and closes any embedding or isolate
        it leaves open, so the ellipsis ends the line in its own direction.
        """
        text = unicodedata.normalize("NFC", " ".join(text.split()))
        if self.measure(text, size)[0] <= width:
            return text
        cut = self._fitting_prefix(text, width, size, ELLIPSIS)
        return ellipsised(text[:cut]) if cut else ""

    def _fitting_prefix(self, text: str, width: float, size: float, suffix: str) -> int:
        """Length of the longest prefix ending on a cluster boundary that fits with `suffix`."""
        breaks = self._metrics(size).shape(text).breaks
        lo, hi = 0, len(breaks) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            candidate = ellipsised(text[: breaks[mid]], suffix) if suffix else text[: breaks[mid]]
            if self.measure(candidate, size)[0] <= width:
                lo = mid
            else:
                hi = mid - 1
        return breaks[lo]

    def wrap(self, text: str, width: float, size: float, max_lines: int) -> str:
        """Greedy word wrap to `width`, at most `max_lines`, the last cut with an ellipsis.

        Words longer than a line (URLs, CJK runs without spaces) are broken
        between clusters, so nothing ever runs out of its box.
        """
        words = unicodedata.normalize("NFC", text).split()
        lines: list[str] = []
        current = ""
        while words and len(lines) < max_lines:
            word = words.pop(0)
            candidate = f"{current} {word}" if current else word
            if self.measure(candidate, size)[0] <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
                current = ""
                words.insert(0, word)
                continue
            cut = self._fitting_prefix(word, width, size, "")
            if not cut:
                cut = self._metrics(size).shape(word).breaks[1]
            lines.append(word[:cut])
            if word[cut:]:
                words.insert(0, word[cut:])
        if current and len(lines) < max_lines:
            lines.append(current)
            current = ""
        if words or current:
            rest = " ".join([lines[-1], current, *words]).strip() if lines else ""
            lines[-1] = self.truncate(rest, width, size)
            if not lines[-1].endswith(ELLIPSIS):
                lines[-1] = self.truncate(lines[-1] + ELLIPSIS, width, size)
        return "\n".join(lines)

    # ------------------------------------------------------------------ seams

    def seam_free(self, box: Rect) -> Rect:
        """The largest part of `box` that lies on one panel, so no bezel cuts what is in it."""
        pieces = [intersection(box, p.rect) for p in self.wall.panels]
        pieces = [p for p in pieces if p is not None]
        return max(pieces, key=lambda r: r.w * r.h, default=box)

    def off_seams(self, label: Rect, within: Rect | None = None) -> Rect | None:
        """`label` moved the least distance sideways/up-down so that it lies on one panel.

        Spanning widgets (timeseries, map) use it for their labels; None when
        no panel under `within` can hold the label at all.
        """
        best: tuple[float, Rect] | None = None
        for panel in self.wall.panels:
            area = panel.rect if within is None else intersection(panel.rect, within)
            if area is None or area.w < label.w - 1e-6 or area.h < label.h - 1e-6:
                continue
            x = min(max(label.x, area.x), area.right - label.w)
            y = min(max(label.y, area.y), area.bottom - label.h)
            moved = Rect(x, y, label.w, label.h)
            distance = abs(x - label.x) + abs(y - label.y)
            if best is None or distance < best[0]:
                best = (distance, moved)
        return None if best is None else best[1]



# Explicit direction controls: what each opens, and what closes it.
_OPENERS = {"\u202a": "\u202c", "\u202b": "\u202c", "\u202d": "\u202c", "\u202e": "\u202c",
            "\u2066": "\u2069", "\u2067": "\u2069", "\u2068": "\u2069"}
_CLOSERS = frozenset({"\u202c", "\u2069"})


def ellipsised(prefix: str, suffix: str = ELLIPSIS) -> str:
    """A cut text's prefix ended with `suffix`: no dangling spaces or marks, no open embedding.

    Trailing spaces, direction marks and joiners would otherwise stick to the
    ellipsis (or move it to the wrong side of right-to-left text).
    """
    prefix = prefix.rstrip()
    while prefix and (unicodedata.category(prefix[-1]) == "Cf" or prefix[-1].isspace()):
        prefix = prefix[:-1]
    still_open: list[str] = []
    for ch in prefix:
        if ch in _OPENERS:
            still_open.append(_OPENERS[ch])
        elif ch in _CLOSERS and still_open:
            still_open.pop()
    return prefix + "".join(reversed(still_open)) + suffix


def _size_ladder() -> tuple[int, ...]:
    steps, px = list(range(1, 17)), 16
    while px < 4096:
        px = max(px + 1, round(px * 1.06))
        steps.append(px)
    return tuple(steps)


# Text pixel sizes snap down to these steps (about 6 % apart above 16 px), so a
# scenario's labels share a few atlases and draw calls instead of one per size.
SIZE_LADDER = _size_ladder()


def native_px(size: float, px_per_canvas: float) -> int:
    """Native pixel size for text of `size` canvas pixels, snapped down to SIZE_LADDER."""
    px = max(1, round(size * px_per_canvas))
    return SIZE_LADDER[bisect.bisect_right(SIZE_LADDER, px) - 1]


def intersection(a: Rect, b: Rect) -> Rect | None:
    """The overlap of two rectangles, None when their interiors do not meet."""
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.right, b.right), min(a.bottom, b.bottom)
    if x1 <= x0 or y1 <= y0:
        return None
    return Rect(x0, y0, x1 - x0, y1 - y0)


def split(
    box: Rect, weights: Sequence[float], gap: float = 0.0, vertical: bool = True
) -> list[Rect]:
    """Cut `box` into parts by weight, top to bottom (or left to right), with gaps."""
    total = sum(weights) or 1.0
    length = (box.h if vertical else box.w) - gap * (len(weights) - 1)
    parts, pos = [], box.y if vertical else box.x
    for weight in weights:
        size = length * weight / total
        parts.append(Rect(box.x, pos, box.w, size) if vertical else Rect(pos, box.y, size, box.h))
        pos += size + gap
    return parts


class Layer:
    """A widget's own GPU drawing, for what shapes and text cannot express.

    A `static` layer is drawn into the panel's cached background image (under
    moving shapes and all text) and redrawn only when its `revision` changes:
    bump it whenever what it draws changes.
    """

    static = False
    revision = 0

    def draw(self, canvas_to_ndc: bytes, alpha: float) -> int:
        """Draw into the bound framebuffer; returns the number of draw calls."""
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError


class WidgetView:
    """Base of every widget's drawing code.

    The data-frame keys a widget reads are its model's (`Widget.data_fields`,
    on the layout side, so the controller knows them without drawing code).
    Subclasses implement `build`; animated ones implement `motion`.
    """

    def __init__(self, spec: Widget, box: Rect, theme: Theme):
        self.spec = spec
        self.box = box
        self.theme = theme
        self._fields = spec.data_fields()

    def key(self, data: dict[str, Any], t: float) -> tuple:
        """What the drawing depends on; the widget is rebuilt when it changes."""
        return tuple(data.get(name) for name in self._fields)

    def build(self, draw: Draw, data: dict[str, Any], t: float) -> None:
        raise NotImplementedError

    def motion(self, t: float) -> Iterable[Motion]:
        """Group offsets and opacities at shared time `t` (none: everything static)."""
        return ()

    @property
    def animated(self) -> bool:
        return type(self).motion is not WidgetView.motion

    def create_layer(self, ctx: Any, programs: Any, panel: Panel) -> Layer | None:
        """GPU resources of the widget's own (a map's country texture, an image), or None.

        Called once when the scenario is set on a panel; the layer is drawn
        after the shapes and before the text, and released with the panel's view.
        Texture units 0 and 1 are the scene's (glyph atlases, animation groups):
        a layer binds its textures from unit 2 on.
        """
        return None

    def padding(self) -> float:
        """Inner margin of the widget's card, in canvas pixels."""
        return 0.6 * self.theme.unit

    def card(self, draw: Draw, box: Rect | None = None) -> Rect:
        """Draw the widget's background card; the inner content box it leaves."""
        box = box or self.box
        inset = 0.12 * self.theme.unit
        outer = box.inset(inset)
        draw.box(outer, self.theme.surface, radius=0.35 * self.theme.unit,
                 border=max(1.0, 0.05 * self.theme.unit), border_color=self.theme.border,
                 backdrop=True)
        return outer.inset(self.padding())

    def title(self, draw: Draw, box: Rect, text: str) -> Rect:
        """A widget title at the top of `box`; returns the box below it."""
        size = self.theme.size("title")
        height = draw.line_height(size)
        draw.text(text, Rect(box.x, box.y, box.w, height), self.theme.text_dim, "left", size)
        gap = 0.4 * self.theme.unit
        return Rect(box.x, box.y + height + gap, box.w, max(0.0, box.h - height - gap))


# What a widget says before its data has arrived (or when the frame lacks it).
WAITING = "Waiting for data"


def ease_in_out(p: float) -> float:
    """Smoothstep easing of a progress in 0..1, so slides start and stop gently."""
    p = min(1.0, max(0.0, p))
    return p * p * (3.0 - 2.0 * p)


def finite_number(value: Any) -> float | None:
    """A frame value as a float, or None when it is missing, not a number, NaN or infinite."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def one_line(value: Any) -> str:
    """A frame string with its whitespace (newlines too) collapsed; "" for anything else."""
    return " ".join(value.split()) if isinstance(value, str) else ""


def lookup(data: dict[str, Any], path: str) -> Any:
    """The value at a dotted path in a data frame, None when any part is missing.

    `{own}` in a path stands for the frame's `own_brand`, so one scenario works
    for whichever brand the controller watches: `volume.by_brand.{own}.1h`.
    """
    if "{own}" in path:
        path = path.replace("{own}", str(data.get("own_brand") or ""))
    node: Any = data
    for part in path.split("."):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.lstrip("-").isdigit():
            index = int(part)
            node = node[index] if -len(node) <= index < len(node) else None
        else:
            return None
    return node


def brand_order(data: dict[str, Any], by_brand: dict[str, Any]) -> list[str]:
    """Keys of a brand-keyed object in the frame's brand order, then any others."""
    listed = data.get("brands")
    brands = [b for b in listed if isinstance(b, str)] if isinstance(listed, list) else []
    return [b for b in brands if b in by_brand] + [b for b in by_brand if b not in brands]
