"""Fonts: font files by family name, fallback chains for what a font lacks, HarfBuzz fonts.

Social posts mix scripts, so each cluster (a character and its marks, or an
emoji sequence) is drawn with the first font of a chain that has it: the
primary font, then the installed fonts of :data:`FALLBACK_FAMILIES` (Arabic,
Hebrew, Indic, Thai, CJK, symbols, monochrome emoji outlines), found through
fontconfig and skipped when absent. Emoji go to the colour emoji font
(:data:`COLOUR_EMOJI_FAMILY`) when it is installed, to Symbola's monochrome
outlines when not. Measuring, fitting and drawing all shape with the same
choice (`shaping`), so measured text is exactly the drawn text; only
characters that no font of the chain has draw as the primary font's notdef
box.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
from pathlib import Path

import uharfbuzz as hb
from fontTools.ttLib import TTFont

from wallrenderer.core.errors import WallError

logger = logging.getLogger(__name__)

DEFAULT_FAMILY = "DejaVu Sans"
FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
# Searched when fontconfig is missing; read at call time so tests can point it elsewhere.
FONT_DIRS = (Path("/usr/share/fonts"), Path("~/.local/share/fonts"))
# Tried in this order for characters the primary font lacks: broad sans fonts
# (Latin, Greek, Cyrillic, Arabic, Hebrew) for a brand font with few scripts,
# then CJK, the scripts of South and South-East Asia, the Caucasus and
# Ethiopia, then symbols and monochrome emoji. scripts/system-packages.sh
# installs DejaVu Sans, Noto (fonts-noto-core), Droid Sans Fallback and
# Symbola; the others are used when present.
FALLBACK_FAMILIES = (
    "DejaVu Sans",
    "Noto Sans",
    "Noto Sans CJK SC",
    "Droid Sans Fallback",
    "WenQuanYi Micro Hei",
    "Noto Sans Arabic",
    "Noto Sans Hebrew",
    "Noto Sans Devanagari",
    "Noto Sans Bengali",
    "Noto Sans Tamil",
    "Noto Sans Thai",
    "Noto Sans Khmer",
    "Noto Sans Georgian",
    "Noto Sans Armenian",
    "Noto Sans Ethiopic",
    "Noto Sans Symbols",
    "Noto Sans Symbols2",
    "Noto Emoji",
    "Symbola",
)
# Tables of colour fonts: their glyphs are bitmaps or colour layers, not one outline.
_COLOUR_TABLES = ("CBDT", "sbix", "COLR")
_OUTLINE_TABLES = ("glyf", "CFF ", "CFF2")

# Characters that only choose a variant of the glyph before them: variation
# selectors (the U+FE0F after many emoji), emoji skin tones and tag characters
# (subdivision flags). They stay in the cluster of that glyph.
_MODIFIERS = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF), (0x180B, 0x180D), (0x1F3FB, 0x1F3FF),
              (0xE0020, 0xE007F))
# Debian's fonts-noto-color-emoji; emoji are drawn from it in colour when it is installed.
COLOUR_EMOJI_FAMILY = "Noto Color Emoji"
# Emoji presentation is asked for by U+FE0F, a keycap, a ZWJ sequence or a skin tone.
_EMOJI_REQUESTS = frozenset({0xFE0F, 0x20E3, 0x200D}) | frozenset(range(0x1F3FB, 0x1F400))
_FIRST_EMOJI_PLANE_CODE = 0x1F000


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


def modifier(ch: str) -> bool:
    """Whether a character only selects a variant of the one before it (FE0F, skin tones)."""
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in _MODIFIERS)


@functools.cache
def colour_emoji_font() -> str | None:
    """The installed colour emoji font (a CBDT bitmap font), or None: emoji are then monochrome."""
    path = _fontconfig_match(COLOUR_EMOJI_FAMILY, False, exact=True) or _scan_font_dirs(
        COLOUR_EMOJI_FAMILY, False)
    if path is None:
        return None
    try:
        with TTFont(str(path), lazy=True, fontNumber=0) as font:
            if "CBDT" not in font:
                logger.info("%s has no CBDT bitmaps; emoji stay monochrome", path)
                return None
            return str(path)
    except Exception as exc:  # noqa: BLE001 - fontTools raises many types for bad files
        logger.warning("cannot read %s (%s); emoji stay monochrome", path, exc)
        return None


def is_colour(path: str) -> bool:
    """Whether `path` is the colour emoji font (its glyphs go to the RGBA atlas page)."""
    return path == colour_emoji_font()


@functools.cache
def character_map(path: str) -> frozenset[int]:
    """Every code point a font maps, colour fonts included (empty if unreadable)."""
    try:
        with TTFont(path, lazy=True, fontNumber=0) as font:
            return frozenset(font.getBestCmap() or ())
    except Exception:  # noqa: BLE001 - logged by coverage() for outline fonts
        return frozenset()


class FontChain:
    """A primary font and the fallbacks that draw what it lacks, chosen per cluster.

    Shared by every size of the primary font, so the choice (and the cost of
    reading character maps) is made once per cluster.
    """

    # Choices remembered; a stream of random text must not grow memory without end.
    REMEMBERED = 50_000

    def __init__(self, primary: str):
        self.primary = primary
        self._choice: dict[str, str] = {}

    @functools.cached_property
    def fallbacks(self) -> tuple[str, ...]:
        return tuple(str(p) for p in fallback_fonts() if str(p) != self.primary)

    def font_for(self, cluster: str) -> str:
        """Path of the font that draws a cluster (a base character and what attaches to it).

        Emoji go to the colour emoji font when it is installed and has them;
        otherwise the first font of the chain with the base character, and
        the primary font (its notdef box) when none has it.
        """
        path = self._choice.get(cluster)
        if path is None:
            path = self._colour_for(cluster) or self._outline_for(cluster)
            if len(self._choice) >= self.REMEMBERED:
                self._choice.clear()
            self._choice[cluster] = path
        return path

    def _colour_for(self, cluster: str) -> str | None:
        colour = colour_emoji_font()
        code = ord(cluster[0])
        if colour is None or code not in character_map(colour):
            return None
        asked = any(ord(ch) in _EMOJI_REQUESTS for ch in cluster[1:])
        if asked or code >= _FIRST_EMOJI_PLANE_CODE or code not in coverage(self.primary):
            return colour
        return None

    def _outline_for(self, cluster: str) -> str:
        code = ord(cluster[0])
        if code in coverage(self.primary):
            return self.primary
        return next((f for f in self.fallbacks if code in coverage(f)), self.primary)


@functools.cache
def font_chain(primary: str) -> FontChain:
    """The cached :class:`FontChain` of a primary font file."""
    return FontChain(primary)


@functools.cache
def _hb_face(path: str) -> hb.Face:
    return hb.Face(hb.Blob.from_file_path(path))


@functools.lru_cache(maxsize=256)
def hb_font(path: str, px: int) -> hb.Font:
    """A HarfBuzz font at `px` pixels per em, positions in 1/64 pixel."""
    font = hb.Font(_hb_face(path))
    font.scale = (px * 64, px * 64)
    return font


