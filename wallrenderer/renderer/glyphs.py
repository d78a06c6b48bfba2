"""Text on the CPU: a glyph atlas and layout of strings into per-glyph quads.

Widgets hand strings to :func:`layout_text`, which rasterises any new glyphs
into a :class:`GlyphAtlas` with Pillow and returns one row per visible glyph
(screen quad, atlas uv, colour). The GL side uploads ``atlas.pixels`` to a
single-channel texture (only the rectangle from :meth:`GlyphAtlas.take_dirty`,
once per frame) and draws all rows as instanced quads in one call. Nothing here
touches GL, so it tests without a GPU.

Units are the pixels the atlas was rasterised at, origin top-left, y down.

Which font draws each character, and how wide it is, is `fonts`'s choice.
Layout is per character with no shaping: right-to-left text is drawn in
logical order and Arabic letters in their isolated forms, never raising.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from wallrenderer.core.errors import WallError
from wallrenderer.renderer.fonts import (
    coverage,
    find_font,
    font_chain,
    font_metrics,
    invisible,
    text_lines,
)

logger = logging.getLogger(__name__)

# Column order of the array returned by layout_text, matching the instanced vertex layout.
LAYOUT_COLUMNS = ("x", "y", "w", "h", "u0", "v0", "u1", "v1", "r", "g", "b", "a")

_ALIGN = {"left": 0.0, "center": 0.5, "right": 1.0}
# New shelves round their height up to a multiple of this so glyphs of slightly
# different heights share a shelf instead of each opening one.
_SHELF_ROUND = 8


def warm_up() -> None:
    """Resolve the fallback fonts and their coverage now, not at the first emoji on air.

    The first non-Latin character otherwise costs a frame hitch of about 0.35 s
    (fontconfig look-ups and reading character maps).
    """
    try:
        chain = font_chain(str(find_font()))
    except WallError:
        return
    chain.font_for("\u4f60")
    for path in chain.fallbacks:
        coverage(path)



@dataclass(frozen=True, slots=True)
class Glyph:
    """Where one character's bitmap sits in the atlas and how to place it.

    ``left``/``top`` offset the bitmap's top-left from the pen position on the
    baseline (``top`` is negative above the baseline). Glyphs with nothing to
    draw (spaces, controls, glyphs that did not fit) have zero width and height.
    """

    advance: float
    left: int
    top: int
    width: int
    height: int
    atlas_x: int
    atlas_y: int


class GlyphAtlas:
    """Single-channel texture image of glyphs rasterised on demand.

    One per (font file, pixel size) per renderer. Glyphs are shelf-packed with
    1 px of empty padding so linear filtering never bleeds a neighbour in.
    When full the image doubles in height (up to ``max_height``); existing
    glyphs keep their pixel positions, so uvs computed from the current shape
    stay right, and the whole image is marked dirty because the GL texture has
    to be reallocated at the new size anyway.

    Attributes:
        pixels: uint8 coverage, shape (height, width); replaced on growth.
        metrics: Shared advances, kerning and ascent/descent/line height.
    """

    def __init__(
        self,
        font_path: str | os.PathLike[str],
        px: int,
        *,
        width: int = 1024,
        height: int = 1024,
        max_height: int = 8192,
    ):
        self.font_path = Path(font_path)
        self.px = px
        self.metrics = font_metrics(os.fspath(font_path), px)
        self.max_height = max_height
        self.pixels = np.zeros((height, width), np.uint8)
        self._glyphs: list[Glyph] = []
        self._ids: dict[str, int] = {}
        self._rows: list[tuple[int, int, int, int, int, int, int, int]] = []
        self._table = np.empty((0, 8))
        self._shelves: list[list[int]] = []  # [y, height, next free x]
        self._shelf_bottom = 1
        # Starts fully dirty so the first upload also initialises the texture.
        self._dirty: tuple[int, int, int, int] | None = (0, 0, width, height)

    @property
    def ascent(self) -> int:
        """Pixels from the top of a line box to the baseline."""
        return self.metrics.ascent

    @property
    def descent(self) -> int:
        """Pixels from the baseline to the bottom of a line box."""
        return self.metrics.descent

    @property
    def line_height(self) -> int:
        """Distance between the baselines of consecutive lines."""
        return self.metrics.line_height

    def glyph(self, ch: str) -> Glyph:
        """Metrics and atlas position of ``ch``, rasterising it on first use."""
        index = self._ids.get(ch)
        return self._glyphs[self._add(ch) if index is None else index]

    def uv(self, glyph: Glyph) -> tuple[float, float, float, float]:
        """Normalised (u0, v0, u1, v1) of a glyph for the atlas's current size."""
        height, width = self.pixels.shape
        return (
            glyph.atlas_x / width,
            glyph.atlas_y / height,
            (glyph.atlas_x + glyph.width) / width,
            (glyph.atlas_y + glyph.height) / height,
        )

    def take_dirty(self) -> tuple[int, int, int, int] | None:
        """Return (x, y, w, h) covering every pixel changed since the last call, then reset.

        None means the texture is up to date. Growth makes the whole (new)
        image dirty; compare ``pixels.shape`` with the texture size to notice it.
        """
        dirty, self._dirty = self._dirty, None
        if dirty is None:
            return None
        x0, y0, x1, y1 = dirty
        return x0, y0, x1 - x0, y1 - y0

    def _ids_for(self, line: str) -> list[int]:
        ids = self._ids
        return [ids[ch] if ch in ids else self._add(ch) for ch in line]

    def _table_array(self) -> np.ndarray:
        """Per glyph index: left, top, width, height, then the atlas pixel rect x0, y0, x1, y1."""
        if len(self._table) != len(self._rows):
            self._table = np.array(self._rows, np.float64).reshape(-1, 8)
        return self._table

    def _add(self, ch: str) -> int:
        advance = self.metrics.advance(ch)
        left = top = width = height = x = y = 0
        bitmap = None if invisible(ch) else self._rasterise(ch)
        if bitmap is not None:
            coverage, left, top = bitmap
            height, width = coverage.shape
            slot = self._place(width, height)
            if slot is None:
                logger.warning(
                    "glyph atlas for %s at %d px is full; %r will not be drawn",
                    self.font_path.name,
                    self.px,
                    ch,
                )
                left = top = width = height = 0
            else:
                x, y = slot
                self.pixels[y : y + height, x : x + width] = coverage
                self._mark_dirty(x, y, x + width, y + height)
        index = len(self._glyphs)
        self._glyphs.append(Glyph(advance, left, top, width, height, x, y))
        self._rows.append((left, top, width, height, x, y, x + width, y + height))
        self._ids[ch] = index
        return index

    def _rasterise(self, ch: str) -> tuple[np.ndarray, int, int] | None:
        font = self.metrics.font_for(ch)
        left, top, right, bottom = font.getbbox(ch, anchor="ls")
        if right <= left or bottom <= top:
            return None
        image = Image.new("L", (right - left, bottom - top))
        ImageDraw.Draw(image).text((-left, -top), ch, font=font, fill=255, anchor="ls")
        # Pillow's box spans from the pen origin to the advance; keep only the ink.
        ink = image.getbbox()
        if ink is None:
            return None
        return np.asarray(image.crop(ink)), left + ink[0], top + ink[1]

    def _place(self, width: int, height: int) -> tuple[int, int] | None:
        """Best-fit shelf packing; returns the top-left of a free slot or None when full."""
        atlas_width = self.pixels.shape[1]
        if width + 2 > atlas_width:
            return None
        best = None
        for shelf in self._shelves:
            if height <= shelf[1] and shelf[2] + width + 1 <= atlas_width:
                if best is None or shelf[1] < best[1]:
                    best = shelf
        if best is None:
            shelf_height = -(-height // _SHELF_ROUND) * _SHELF_ROUND
            while self._shelf_bottom + height + 1 > self.pixels.shape[0]:
                if not self._grow():
                    return None
            # The last shelf may be cut short by max_height; it still holds this glyph.
            shelf_height = min(shelf_height, self.pixels.shape[0] - 1 - self._shelf_bottom)
            best = [self._shelf_bottom, shelf_height, 1]
            self._shelves.append(best)
            self._shelf_bottom += shelf_height + 1
        x = best[2]
        best[2] += width + 1
        return x, best[0]

    def _grow(self) -> bool:
        old_height, width = self.pixels.shape
        if old_height >= self.max_height:
            return False
        height = min(old_height * 2, self.max_height)
        pixels = np.zeros((height, width), np.uint8)
        pixels[:old_height] = self.pixels
        self.pixels = pixels
        self._dirty = (0, 0, width, height)
        return True

    def _mark_dirty(self, x0: int, y0: int, x1: int, y1: int) -> None:
        if self._dirty is not None:
            dx0, dy0, dx1, dy1 = self._dirty
            x0, y0, x1, y1 = min(x0, dx0), min(y0, dy0), max(x1, dx1), max(y1, dy1)
        self._dirty = (x0, y0, x1, y1)


def layout_text(
    atlas: GlyphAtlas,
    text: str,
    x: float,
    y: float,
    color: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0),
    align: str = "left",
) -> np.ndarray:
    r"""Lay text out as one instanced quad per visible glyph.

    Args:
        atlas: Atlas of the font and size to draw with; new glyphs are added to it.
        text: Text; "\n" starts a new line.
        x: Left edge, centre or right edge of every line, per ``align``.
        y: Top of the first line box; its baseline is at ``y + atlas.ascent``.
        color: Linear RGBA copied into every row.
        align: "left", "center" or "right".

    Returns:
        float32 array of shape (n, 12) in :data:`LAYOUT_COLUMNS` order: quad
        x, y, w, h in atlas pixels, then u0, v0, u1, v1 (v down from the atlas's
        top row), then r, g, b, a. Quads sit on whole pixels so glyphs map
        texel-for-pixel when drawn at the rasterised size.
    """
    shift = _ALIGN.get(align)
    if shift is None:
        raise ValueError(f"align must be one of {sorted(_ALIGN)}, not {align!r}")
    metrics = atlas.metrics
    glyphs = atlas._glyphs
    ids: list[int] = []
    xs: list[int] = []
    ys: list[int] = []
    for number, line in enumerate(text_lines(text)):
        pens, width = metrics.pens(line)
        origin = x - width * shift + 0.5
        count = len(ids)
        for index, pen in zip(atlas._ids_for(line), pens, strict=True):
            if glyphs[index].width:
                ids.append(index)
                xs.append(math.floor(origin + pen))
        ys += [math.floor(y + number * metrics.line_height + 0.5) + metrics.ascent] * (
            len(ids) - count
        )
    table = atlas._table_array()[ids]
    height, width = atlas.pixels.shape
    out = np.empty((len(ids), 12), np.float32)
    out[:, 0] = xs
    out[:, 1] = ys
    out[:, 0:2] += table[:, 0:2]
    out[:, 2:8] = table[:, 2:8] * (1.0, 1.0, 1 / width, 1 / height, 1 / width, 1 / height)
    out[:, 8:12] = color
    return out


def measure_text(atlas: GlyphAtlas, text: str) -> tuple[float, float]:
    """(width, height) of the box :func:`layout_text` lays ``text`` out in, in pixels.

    Width is the advance width of the widest line (what alignment uses), height
    the number of lines times the line height. Ink may overhang by a pixel or so
    where a glyph's bearing is negative.
    """
    return atlas.metrics.measure(text)


def fit_font_px(
    font_path: str | os.PathLike[str],
    text: str,
    box_w: float,
    box_h: float,
    max_px: int | None = None,
) -> int:
    """Largest integer pixel size at which ``text`` fits a box, per :func:`measure_text`.

    Measures at one reference size, scales to an estimate, then steps by one
    pixel to correct for hinting, so only a few sizes are measured and no
    glyph is rasterised. Returns at least 1 even if nothing fits, since a
    tiny label is more useful on a wall than an exception.
    """
    path = os.fspath(font_path)

    def fits(px: int) -> bool:
        width, height = font_metrics(path, px).measure(text)
        return width <= box_w and height <= box_h

    reference = 64 if max_px is None else max(1, min(64, max_px))
    width, height = font_metrics(path, reference).measure(text)
    scale = min(box_w / width if width > 0 else float("inf"), box_h / height)
    px = int(reference * scale)
    if max_px is not None:
        px = min(px, max_px)
    px = max(1, px)
    while px > 1 and not fits(px):
        px -= 1
    while (max_px is None or px < max_px) and fits(px + 1):
        px += 1
    return px
