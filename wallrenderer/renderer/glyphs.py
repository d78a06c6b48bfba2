"""Text on the CPU: a glyph atlas and layout of strings into per-glyph quads.

Widgets hand strings to :func:`layout_text`, which shapes each line
(`shaping`: HarfBuzz per run of script and font, bidirectional order),
rasterises any new glyphs into a :class:`GlyphAtlas` and returns one row per
visible glyph (screen quad, atlas uv, colour, atlas page). Glyphs are keyed
by (font file, glyph id), so a ligature, a joined Arabic form or an emoji
ZWJ sequence is one entry. Outline glyphs (FreeType) go to a single-channel
coverage page, colour emoji (the CBDT bitmaps of Noto Color Emoji, scaled to
the text size) to an RGBA page beside it; the GL side uploads both (only what
changed, once per frame) and draws all rows as instanced quads in one call.
Nothing here touches GL, so it tests without a GPU.

Units are the pixels the atlas was rasterised at, origin top-left, y down.
"""

from __future__ import annotations

import ctypes
import functools
import io
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

import freetype
import numpy as np
from PIL import Image

from wallrenderer.core.errors import WallError
from wallrenderer.renderer import fonts
from wallrenderer.renderer.shaping import font_metrics, text_lines

logger = logging.getLogger(__name__)

# Column order of the array returned by layout_text, matching the instanced vertex layout.
LAYOUT_COLUMNS = ("x", "y", "w", "h", "u0", "v0", "u1", "v1", "r", "g", "b", "a", "page")
COVERAGE, COLOUR = 0, 1

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
        chain = fonts.font_chain(str(fonts.find_font()))
    except WallError:
        return
    chain.font_for("\u4f60")
    chain.font_for("\U0001f600")
    for path in chain.fallbacks:
        fonts.coverage(path)


@dataclass(frozen=True, slots=True)
class Glyph:
    """Where one glyph's bitmap sits in the atlas and how to place it.

    ``left``/``top`` offset the bitmap's top-left from the pen position on the
    baseline (``top`` is negative above the baseline). Glyphs with nothing to
    draw (spaces, glyphs that did not fit) have zero width and height.
    ``page`` is :data:`COVERAGE` or :data:`COLOUR`.
    """

    advance: float
    left: int
    top: int
    width: int
    height: int
    atlas_x: int
    atlas_y: int
    page: int = COVERAGE


class AtlasPage:
    """One texture image of the atlas, shelf-packed, growing in height up to a limit.

    Glyphs are packed with 1 px of empty padding so linear filtering never
    bleeds a neighbour in. When full the image doubles in height (up to
    ``max_height``); existing glyphs keep their pixel positions, and the
    whole image is marked dirty because the GL texture has to be reallocated.
    """

    def __init__(self, width: int, height: int, max_height: int, channels: int):
        shape = (height, width) if channels == 1 else (height, width, channels)
        self.pixels = np.zeros(shape, np.uint8)
        self.max_height = max_height
        self._shelves: list[list[int]] = []  # [y, height, next free x]
        self._shelf_bottom = 1
        # Starts fully dirty so the first upload also initialises the texture.
        self._dirty: tuple[int, int, int, int] | None = (0, 0, width, height)

    @property
    def nbytes(self) -> int:
        return self.pixels.nbytes

    def put(self, image: np.ndarray) -> tuple[int, int] | None:
        """Copy a bitmap in; its top-left in the page, or None when the page is full."""
        height, width = image.shape[:2]
        slot = self._place(width, height)
        if slot is not None:
            x, y = slot
            self.pixels[y : y + height, x : x + width] = image
            self._mark_dirty(x, y, x + width, y + height)
        return slot

    def clear(self) -> None:
        """Forget every glyph; the next upload rewrites the whole texture."""
        self.pixels[:] = 0
        self._shelves.clear()
        self._shelf_bottom = 1
        height, width = self.pixels.shape[:2]
        self._dirty = (0, 0, width, height)

    def take_dirty(self) -> tuple[int, int, int, int] | None:
        dirty, self._dirty = self._dirty, None
        if dirty is None:
            return None
        x0, y0, x1, y1 = dirty
        return x0, y0, x1 - x0, y1 - y0

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
        old_height, width = self.pixels.shape[:2]
        if old_height >= self.max_height:
            return False
        height = min(old_height * 2, self.max_height)
        pixels = np.zeros((height, *self.pixels.shape[1:]), np.uint8)
        pixels[:old_height] = self.pixels
        self.pixels = pixels
        self._dirty = (0, 0, width, height)
        return True

    def _mark_dirty(self, x0: int, y0: int, x1: int, y1: int) -> None:
        if self._dirty is not None:
            dx0, dy0, dx1, dy1 = self._dirty
            x0, y0, x1, y1 = min(x0, dx0), min(y0, dy0), max(x1, dx1), max(y1, dy1)
        self._dirty = (x0, y0, x1, y1)


class GlyphAtlas:
    """The glyphs of one font chain at one pixel size: a coverage page and a colour page.

    One per (primary font file, pixel size) per renderer. Memory is bounded:
    each page grows to its ``max_height`` at most; when a page is full the
    whole atlas starts again empty and ``generation`` goes up, so whoever
    holds laid-out rows lays its text out again (`panel_text` does). With
    ``evict`` False (while re-laying out) a glyph that does not fit is
    skipped instead, so text never loops on a too-small atlas.

    Attributes:
        pixels: uint8 coverage, shape (height, width); replaced on growth.
        colour: uint8 premultiplied RGBA, shape (height, width, 4).
        metrics: Shared shaping and ascent/descent/line height.
        generation: How many times the atlas has been emptied to make room.
    """

    def __init__(
        self,
        font_path: str | os.PathLike[str],
        px: int,
        *,
        width: int = 1024,
        height: int = 1024,
        max_height: int = 8192,
        colour_height: int = 256,
        colour_max_height: int = 2048,
    ):
        self.font_path = Path(font_path)
        self.px = px
        self.metrics = font_metrics(os.fspath(font_path), px)
        self.pages = (AtlasPage(width, height, max_height, 1),
                      AtlasPage(width, colour_height, colour_max_height, 4))
        self.generation = 0
        self.evict = True
        self._reset_glyphs()

    def _reset_glyphs(self) -> None:
        self._glyphs: list[Glyph] = []
        self._ids: dict[tuple[str, int], int] = {}
        self._table = np.empty((256, 9))

    @property
    def pixels(self) -> np.ndarray:
        return self.pages[COVERAGE].pixels

    @property
    def colour(self) -> np.ndarray:
        return self.pages[COLOUR].pixels

    @property
    def nbytes(self) -> int:
        """Bytes of both pages: what the atlas costs in memory (and as textures)."""
        return sum(page.nbytes for page in self.pages)

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
        """The atlas entry of the first glyph that `ch` (one character or cluster) shapes to."""
        shaped = self.metrics.shape(ch).glyphs
        if not shaped:
            return Glyph(0.0, 0, 0, 0, 0, 0, 0)
        first = shaped[0]
        key = (first.font, first.gid)
        index = self._ids.get(key)
        return self._glyphs[self._add(*key) if index is None else index]

    def uv(self, glyph: Glyph) -> tuple[float, float, float, float]:
        """Normalised (u0, v0, u1, v1) of a glyph for its page's current size."""
        height, width = self.pages[glyph.page].pixels.shape[:2]
        return (
            glyph.atlas_x / width,
            glyph.atlas_y / height,
            (glyph.atlas_x + glyph.width) / width,
            (glyph.atlas_y + glyph.height) / height,
        )

    def take_dirty(self, page: int = COVERAGE) -> tuple[int, int, int, int] | None:
        """Return (x, y, w, h) covering every pixel of `page` changed since the last call.

        None means the texture is up to date. Growth makes the whole (new)
        image dirty; compare the page's shape with the texture size to notice it.
        """
        return self.pages[page].take_dirty()

    def _ids_for(self, shaped) -> list[int]:
        ids = self._ids
        out = []
        for glyph in shaped:
            key = (glyph.font, glyph.gid)
            index = ids.get(key)
            out.append(self._add(*key) if index is None else index)
        return out

    def _table_array(self) -> np.ndarray:
        """Per glyph index: left, top, width, height, atlas pixel rect x0, y0, x1, y1, page."""
        return self._table[: len(self._glyphs)]

    def _add(self, font: str, gid: int) -> int:
        colour = fonts.is_colour(font)
        bitmap = _rasterise_colour(font, gid, self.px) if colour else _rasterise(font, gid, self.px)
        page = COLOUR if colour else COVERAGE
        left = top = width = height = x = y = 0
        if bitmap is not None:
            image, left, top = bitmap
            height, width = image.shape[:2]
            slot = self.pages[page].put(image)
            if slot is None and self.evict:
                self._empty()
                slot = self.pages[page].put(image)
            if slot is None:
                logger.warning("glyph atlas for %s at %d px is full; glyph %d of %s not drawn",
                               self.font_path.name, self.px, gid, Path(font).name)
                left = top = width = height = 0
            else:
                x, y = slot
        index = len(self._glyphs)
        advance = fonts.hb_font(font, self.px).get_glyph_h_advance(gid) / 64
        self._glyphs.append(Glyph(advance, left, top, width, height, x, y, page))
        if index == len(self._table):
            self._table = np.concatenate([self._table, np.empty_like(self._table)])
        self._table[index] = (left, top, width, height, x, y, x + width, y + height, page)
        self._ids[(font, gid)] = index
        return index

    def _empty(self) -> None:
        logger.info("glyph atlas for %s at %d px is full; starting it again",
                    self.font_path.name, self.px)
        for page in self.pages:
            page.clear()
        self._reset_glyphs()
        self.generation += 1


@functools.lru_cache(maxsize=32)
def _freetype_face(path: str) -> freetype.Face:
    return freetype.Face(path, 0)


def _rasterise(font: str, gid: int, px: int) -> tuple[np.ndarray, int, int] | None:
    """A glyph's hinted, anti-aliased coverage and its offset from the pen on the baseline."""
    face = _freetype_face(font)
    face.set_pixel_sizes(0, px)
    face.load_glyph(gid, freetype.FT_LOAD_DEFAULT | freetype.FT_LOAD_RENDER)
    slot = face.glyph
    bitmap = slot.bitmap
    if not bitmap.rows or not bitmap.width:
        return None
    raw = ctypes.string_at(bitmap._FT_Bitmap.buffer, bitmap.rows * abs(bitmap.pitch))
    image = np.frombuffer(raw, np.uint8).reshape(bitmap.rows, abs(bitmap.pitch))[:, :bitmap.width]
    if not image.any():
        return None
    return image, slot.bitmap_left, -slot.bitmap_top


def _rasterise_colour(font: str, gid: int, px: int) -> tuple[np.ndarray, int, int] | None:
    """A colour emoji's bitmap scaled to its extents at `px`, premultiplied RGBA."""
    hb_font = fonts.hb_font(font, px)
    png = hb_font.get_glyph_color_png(gid).data
    extents = hb_font.get_glyph_extents(gid)
    if not png or extents is None:
        return None
    width = max(1, round(extents.width / 64))
    height = max(1, round(-extents.height / 64))
    with Image.open(io.BytesIO(png)) as image:
        scaled = image.convert("RGBA").convert("RGBa").resize((width, height), Image.LANCZOS)
    return np.asarray(scaled), round(extents.x_bearing / 64), -round(extents.y_bearing / 64)


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
        float32 array of shape (n, 13) in :data:`LAYOUT_COLUMNS` order: quad
        x, y, w, h in atlas pixels, then u0, v0, u1, v1 (v down from the top
        row of the glyph's page), then r, g, b, a, then the page. Quads sit on
        whole pixels so glyphs map texel-for-pixel when drawn at the
        rasterised size. If the atlas had to start again while laying out,
        the text is laid out once more without evicting.
    """
    shift = _ALIGN.get(align)
    if shift is None:
        raise ValueError(f"align must be one of {sorted(_ALIGN)}, not {align!r}")
    out = _layout(atlas, text, x, y, color, shift)
    if out is None:
        atlas.evict = False
        try:
            out = _layout(atlas, text, x, y, color, shift)
        finally:
            atlas.evict = True
    return out


def _layout(atlas: GlyphAtlas, text: str, x: float, y: float,
            color: tuple[float, float, float, float], shift: float) -> np.ndarray | None:
    """The rows of `layout_text`; None when the atlas started again meanwhile."""
    generation = atlas.generation
    metrics = atlas.metrics
    ids: list[int] = []
    xs: list[int] = []
    ys: list[int] = []
    for number, line in enumerate(text_lines(text)):
        shaped = metrics.shape(line)
        indices = atlas._ids_for(shaped.glyphs)
        if atlas.generation != generation:
            return None
        glyphs = atlas._glyphs
        origin = x - shaped.width * shift + 0.5
        baseline = math.floor(y + number * metrics.line_height + 0.5) + metrics.ascent
        for index, glyph in zip(indices, shaped.glyphs, strict=True):
            if glyphs[index].width:
                ids.append(index)
                xs.append(math.floor(origin + glyph.x))
                ys.append(baseline + math.floor(glyph.y + 0.5))
    table = atlas._table_array()[ids]
    out = np.empty((len(ids), len(LAYOUT_COLUMNS)), np.float32)
    out[:, 0] = xs
    out[:, 1] = ys
    out[:, 0:2] += table[:, 0:2]
    out[:, 2:4] = table[:, 2:4]
    sizes = np.array([page.pixels.shape[1::-1] for page in atlas.pages], np.float64)
    scale = sizes[table[:, 8].astype(int)]
    out[:, 4:6] = table[:, 4:6] / scale
    out[:, 6:8] = table[:, 6:8] / scale
    out[:, 8:12] = color
    out[:, 12] = table[:, 8]
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
