"""Fonts: font files by family name, fallback chains for what a font lacks, and metrics at a size.

Social posts mix scripts, so each character is drawn with the first font of a
chain that has it: the primary font, then the installed fonts of
:data:`FALLBACK_FAMILIES` (CJK, Arabic, symbols, monochrome emoji outlines),
found through fontconfig and skipped when absent. Colour emoji fonts (bitmap
CBDT/sbix or layered COLR) cannot go in a single-channel atlas and are left
out. Advances, kerning, measuring, fitting and rasterising all use the same
per-character choice, so measured text is exactly the drawn text; only
characters that no font of the chain has draw as the primary font's notdef
box.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import unicodedata
from pathlib import Path

from fontTools.ttLib import TTFont
from PIL import ImageFont

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

# Controls, format characters (bidi marks, ZWJ, soft hyphen) and lone surrogates
# would draw notdef boxes; they get zero width instead. So do characters that
# only choose a variant of the glyph before them: variation selectors (the
# U+FE0F after many emoji) and emoji skin tones, which a monochrome font would
# draw as a swatch beside the emoji.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs"})
_VARIANT_SELECTORS = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF), (0x180B, 0x180D), (0x1F3FB, 0x1F3FF))


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
def coverage(path: str) -> frozenset[int]:
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


def invisible(ch: str) -> bool:
    """Whether a character draws nothing and takes no width."""
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
            if code not in coverage(self.primary):
                path = next((f for f in self.fallbacks if code in coverage(f)), self.primary)
            self._choice[ch] = path
        return path


@functools.cache
def font_chain(primary: str) -> FontChain:
    """The cached :class:`FontChain` of a primary font file."""
    return FontChain(primary)


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
        lines = text_lines(text)
        return max(self.pens(line)[1] for line in lines), len(lines) * self.line_height

    def font_for(self, ch: str) -> ImageFont.FreeTypeFont:
        """The font of the chain that draws `ch` at this size."""
        path = self.chain.font_for(ch)
        return self.font if path == self.path else _load_font(path, self.px, shaped=False)

    def _char_info(self, ch: str) -> tuple[float, bool]:
        if invisible(ch):
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


def text_lines(text: str) -> list[str]:
    """The lines of a text, normalised as they are measured and drawn."""
    # NFC turns "e" + combining acute into one precomposed glyph where the font has it.
    return unicodedata.normalize("NFC", text).split("\n")
