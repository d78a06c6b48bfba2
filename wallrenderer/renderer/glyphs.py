"""Text on the CPU: fonts, a glyph atlas and layout into per-glyph quads.

Widgets hand strings to :func:`layout_text`, which rasterises any new glyphs
into a :class:`GlyphAtlas` with Pillow and returns one row per visible glyph
(screen quad, atlas uv, colour). The GL side uploads ``atlas.pixels`` to a
single-channel texture (only the rectangle from :meth:`GlyphAtlas.take_dirty`,
once per frame) and draws all rows as instanced quads in one call. Nothing here
touches GL, so it tests without a GPU.

Units are the pixels the atlas was rasterised at, origin top-left, y down.

Social posts mix scripts, so each character is drawn with the first font of a
chain that has it: the primary font, then the installed fonts of
:data:`FALLBACK_FAMILIES` (CJK, Arabic, symbols, monochrome emoji outlines),
found through fontconfig and skipped when absent. Colour emoji fonts (bitmap
CBDT/sbix or layered COLR) cannot go in a single-channel atlas and are left
out. Advances, kerning, measuring, fitting and rasterising all use the same
per-character choice, so measured text is exactly the drawn text; only
characters that no font of the chain has draw as the primary font's notdef
box. Layout is per character with no shaping: right-to-left text is drawn in
logical order and Arabic letters in their isolated forms, never raising.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

from wallrenderer.core.errors import WallError

logger = logging.getLogger(__name__)

DEFAULT_FAMILY = "DejaVu Sans"
FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
# Searched when fontconfig is missing; read at call time so tests can point it elsewhere.
FONT_DIRS = (Path("/usr/share/fonts"), Path("~/.local/share/fonts"))
# Tried in this order for characters the primary font lacks: broad sans fonts
# (Latin, Greek, Cyrillic, Arabic, Hebrew) for a brand font with few scripts,
# then CJK, then symbols and monochrome emoji. scripts/system-packages.sh
# installs DejaVu Sans, Droid Sans Fallback and Symbola; the others are used
# when present.
FALLBACK_FAMILIES = (
    "DejaVu Sans",
    "Noto Sans",
    "Noto Sans CJK SC",
    "Droid Sans Fallback",
    "WenQuanYi Micro Hei",
    "Noto Sans Arabic",
    "Noto Sans Hebrew",
    "Noto Sans Symbols",
    "Noto Sans Symbols2",
    "Noto Emoji",
    "Symbola",
)
# Tables of colour fonts: their glyphs are bitmaps or colour layers, not one outline.
_COLOUR_TABLES = ("CBDT", "sbix", "COLR")
_OUTLINE_TABLES = ("glyf", "CFF ", "CFF2")

# Column order of the array returned by layout_text, matching the instanced vertex layout.
LAYOUT_COLUMNS = ("x", "y", "w", "h", "u0", "v0", "u1", "v1", "r", "g", "b", "a")

_ALIGN = {"left": 0.0, "center": 0.5, "right": 1.0}
# Controls, format characters (bidi marks, ZWJ, soft hyphen) and lone surrogates
# would draw notdef boxes; they get zero width instead. So do characters that
# only choose a variant of the glyph before them: variation selectors (the
# U+FE0F after many emoji) and emoji skin tones, which a monochrome font would
# draw as a swatch beside the emoji.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs"})
_VARIANT_SELECTORS = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF), (0x180B, 0x180D), (0x1F3FB, 0x1F3FF))
# New shelves round their height up to a multiple of this so glyphs of slightly
# different heights share a shelf instead of each opening one.
_SHELF_ROUND = 8


class FontNotFoundError(WallError):
    """No usable font file for the requested name."""


@functools.cache
def find_font(name: str | os.PathLike[str] | None = None, bold: bool = False) -> Path:
    """Resolve a font path or family name to a font file.

    Args:
        name: A path to a .ttf/.otf/.ttc file (``bold`` is then ignored) or a
            family name; None means DejaVu Sans, which the Makefile installs.
        bold: Prefer the bold face of the family.

    Returns:
        Path of an existing font file. Fontconfig, when present, may substitute
        a similar family, as every desktop application would.

    Raises:
        FontNotFoundError: The file does not exist or no font matches.
    """
    text = os.fspath(name) if name is not None else DEFAULT_FAMILY
    if os.sep in text or text.startswith("~") or text.lower().endswith(FONT_SUFFIXES):
        path = Path(text).expanduser()
        if not path.is_file():
            raise FontNotFoundError(f"font file {path} does not exist")
        return path.resolve()
    found = _fontconfig_match(text, bold) or _scan_font_dirs(text, bold)
    if found is None:
        raise FontNotFoundError(
            f"no font file found for family {text!r}{' (bold)' if bold else ''}; install a "
            "package that provides it (for the default DejaVu Sans: apt-get install "
            "fonts-dejavu-core) or pass the path of a .ttf/.otf/.ttc file"
        )
    return found


def _fontconfig_match(family: str, bold: bool, exact: bool = False) -> Path | None:
    """Fontconfig's file for a family; with `exact`, None when it would substitute another."""
    if shutil.which("fc-match") is None:
        return None
    # Backslash-escape the characters fontconfig's pattern syntax gives a meaning.
    escaped = "".join("\\" + c if c in "\\-:," else c for c in family)
    pattern = f"{escaped}:bold" if bold else escaped
    try:
        result = subprocess.run(
            ["fc-match", "-f", "%{file}\\n%{family}", pattern],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    file, _, families = result.stdout.partition("\n")
    path = Path(file.strip())
    # Bitmap fonts (.pcf) and empty answers cannot be loaded by ImageFont.truetype.
    if result.returncode or path.suffix.lower() not in FONT_SUFFIXES or not path.is_file():
        return None
    if exact and _squash(family) not in {_squash(f) for f in families.split(",")}:
        return None
    return path


def _scan_font_dirs(family: str, bold: bool) -> Path | None:
    want = _squash(family) + ("bold" if bold else "")
    accepted = {want} if bold else {want, want + "regular", want + "book"}
    for root in FONT_DIRS:
        root = root.expanduser()
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.suffix.lower() in FONT_SUFFIXES and _squash(path.stem) in accepted:
                return path
    return None


def _squash(name: str) -> str:
    """Lower-case a family or file stem without separators: "DejaVu Sans" == "DejaVuSans"."""
    return "".join(c for c in name.lower() if c.isalnum())


@functools.cache
def fallback_fonts() -> tuple[Path, ...]:
    """Installed files of :data:`FALLBACK_FAMILIES`, in order; absent families are skipped.

    Only exact family matches count: fontconfig would otherwise answer every
    missing family with the default font. Resolved once, on the first
    character the primary font lacks.
    """
    found: list[Path] = []
    for family in FALLBACK_FAMILIES:
        path = _fontconfig_match(family, False, exact=True) or _scan_font_dirs(family, False)
        if path is not None and path not in found:
            found.append(path)
    return tuple(found)


@functools.cache
def _coverage(path: str) -> frozenset[int]:
    """Code points a font can draw as single-colour outlines (cached per font file).

    Empty for colour emoji fonts and for files that cannot be read, which are
    then never chosen: a missing or broken fallback must not stop the text.
    """
    try:
        with TTFont(path, lazy=True, fontNumber=0) as font:
            tables = set(font.keys())
            if tables.intersection(_COLOUR_TABLES) or not tables.intersection(_OUTLINE_TABLES):
                logger.info("font %s is not a single-colour outline font; not used", path)
                return frozenset()
            return frozenset(font.getBestCmap() or ())
    except Exception as exc:  # noqa: BLE001 - fontTools raises many types for bad files
        logger.warning("cannot read the character map of %s (%s); font not used", path, exc)
        return frozenset()


def _invisible(ch: str) -> bool:
    code = ord(ch)
    return unicodedata.category(ch) in _INVISIBLE or any(
        lo <= code <= hi for lo, hi in _VARIANT_SELECTORS
    )


class FontChain:
    """A primary font and the fallbacks that draw what it lacks, chosen per character.

    Shared by every size of the primary font, so the choice (and the cost of
    reading character maps) is made once per character.
    """

    def __init__(self, primary: str):
        self.primary = primary
        self._choice: dict[str, str] = {}

    @functools.cached_property
    def fallbacks(self) -> tuple[str, ...]:
        return tuple(str(p) for p in fallback_fonts() if str(p) != self.primary)

    def font_for(self, ch: str) -> str:
        """Path of the first font of the chain with a glyph for `ch` (the primary if none)."""
        path = self._choice.get(ch)
        if path is None:
            code = ord(ch)
            path = self.primary
            if code not in _coverage(self.primary):
                path = next((f for f in self.fallbacks if code in _coverage(f)), self.primary)
            self._choice[ch] = path
        return path


@functools.cache
def font_chain(primary: str) -> FontChain:
    """The cached :class:`FontChain` of a primary font file."""
    return FontChain(primary)


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
        _coverage(path)


@functools.lru_cache(maxsize=256)
def _load_font(path: str, px: int, shaped: bool) -> ImageFont.FreeTypeFont:
    """Open a font once per (path, size, engine); layout and fitting reuse them.

    The basic engine gives hinted per-character advances and rasterises single
    characters without the dotted circles that shaping adds around lone marks;
    the default (Raqm when available) engine is used only to read kerning.
    """
    engine = None if shaped else ImageFont.Layout.BASIC
    return ImageFont.truetype(path, px, layout_engine=engine)


class FontMetrics:
    """Advances, kerning and vertical metrics of one font (and its fallbacks) at one pixel size.

    Shared by :func:`measure_text`, :func:`layout_text` and :func:`fit_font_px`
    so that a size chosen to fit a box lays out to exactly the measured size.
    Vertical metrics are the primary font's, so lines keep their spacing
    whatever fallbacks a text needs; only pairs of the primary font are kerned.
    """

    def __init__(self, path: str, px: int):
        self.path = path
        self.px = px
        self.chain = font_chain(path)
        self.font = _load_font(path, px, shaped=False)
        self.ascent, self.descent = self.font.getmetrics()
        self.line_height = self.ascent + self.descent
        self._chars: dict[str, tuple[float, bool]] = {}
        self._kerning: dict[str, float] = {}
        self._shaped_lengths: dict[str, float] = {}

    def advance(self, ch: str) -> float:
        """Horizontal pen advance of one character in pixels."""
        return (self._chars.get(ch) or self._char_info(ch))[0]

    def pens(self, line: str) -> tuple[list[float], float]:
        """Pen x of every character of a single line, and the line's advance width."""
        chars, kerning = self._chars, self._kerning
        pens = []
        pen = 0.0
        prev = ""
        for ch in line:
            advance, kernable = chars.get(ch) or self._char_info(ch)
            if kernable:
                if prev:
                    pair = prev + ch
                    kern = kerning.get(pair)
                    pen += self._kern(pair) if kern is None else kern
                prev = ch
            elif advance:
                prev = ""
            pens.append(pen)
            pen += advance
        return pens, pen

    def measure(self, text: str) -> tuple[float, float]:
        """Advance width of the widest line and the height of all line boxes."""
        lines = _lines(text)
        return max(self.pens(line)[1] for line in lines), len(lines) * self.line_height

    def font_for(self, ch: str) -> ImageFont.FreeTypeFont:
        """The font of the chain that draws `ch` at this size."""
        path = self.chain.font_for(ch)
        return self.font if path == self.path else _load_font(path, self.px, shaped=False)

    def _char_info(self, ch: str) -> tuple[float, bool]:
        if _invisible(ch):
            info = (0.0, False)
        else:
            category = unicodedata.category(ch)
            font = self.font_for(ch)
            advance = font.getlength(ch)
            # Marks and right-to-left letters would be shaped (attached, joined)
            # in a pair, so their pair widths are not kerning.
            kernable = (
                font is self.font
                and advance > 0
                and category[0] in "LNPS"
                and unicodedata.bidirectional(ch) not in ("R", "AL")
            )
            info = (advance, kernable)
        self._chars[ch] = info
        return info

    def _kern(self, pair: str) -> float:
        shaped = _load_font(self.path, self.px, shaped=True)
        lengths = self._shaped_lengths
        for ch in pair:
            if ch not in lengths:
                lengths[ch] = shaped.getlength(ch)
        kern = shaped.getlength(pair) - lengths[pair[0]] - lengths[pair[1]]
        self._kerning[pair] = kern
        return kern


@functools.lru_cache(maxsize=256)
def font_metrics(font_path: str | os.PathLike[str], px: int) -> FontMetrics:
    """Cached :class:`FontMetrics` for a font file at an integer pixel size."""
    return FontMetrics(os.fspath(font_path), px)


def _lines(text: str) -> list[str]:
    # NFC turns "e" + combining acute into one precomposed glyph where the font has it.
    return unicodedata.normalize("NFC", text).split("\n")


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
        bitmap = None if _invisible(ch) else self._rasterise(ch)
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
    for number, line in enumerate(_lines(text)):
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
