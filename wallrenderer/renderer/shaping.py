"""Shaping: one line of text as positioned glyphs in display order.

A line is cut into clusters (a base character and what belongs to it: marks,
joiners, variation selectors, skin tones, the rest of an emoji ZWJ sequence or
flag, an Indic consonant after a virama), so that a cluster is never split
between fonts, runs or a truncation. Each cluster takes one font of the
chain (`fonts.FontChain.font_for`). The Unicode bidirectional algorithm
(python-bidi's UAX #9 implementation) gives every character an embedding
level; consecutive clusters of one level, font and script form a run, which
HarfBuzz shapes (Arabic joining, Indic and Thai reordering, mark positioning,
ligatures, emoji sequences) with the whole line as context. Runs are then put
in display order (UAX #9 rule L2).
"""

from __future__ import annotations

import functools
import os
import unicodedata
from dataclasses import dataclass

import uharfbuzz as hb
from bidi import algorithm as uba
from PIL import ImageFont

from wallrenderer.renderer import fonts

ZWJ = 0x200D
ZWSP = 0x200B
_RTL_CLASSES = frozenset({"R", "AL", "AN", "RLE", "RLO", "RLI"})
_KNOWN_CLASSES = frozenset({"L", "R", "AL", "EN", "ES", "ET", "AN", "CS", "NSM", "BN", "B", "S",
                            "WS", "ON", "LRE", "LRO", "RLE", "RLO", "PDF"})
_REGIONAL_INDICATORS = (0x1F1E6, 0x1F1FF)
_KEYCAP = 0x20E3
_VIRAMA = 9  # canonical combining class of Indic viramas


@dataclass(frozen=True, slots=True)
class ShapedGlyph:
    """One glyph of a shaped line.

    ``x`` is the pen position plus HarfBuzz's offset from the line's left
    edge, ``y`` the offset below the baseline (pixels, y down); ``cluster``
    is the index of the first character it draws.
    """

    font: str
    gid: int
    x: float
    y: float
    cluster: int


@dataclass(frozen=True, slots=True)
class ShapedLine:
    """Glyphs in display order, the advance width, and where the line may be cut.

    ``breaks`` are the character indices that start a cluster (and the
    line's length): cutting the text there never splits a cluster.
    """

    glyphs: tuple[ShapedGlyph, ...]
    width: float
    breaks: tuple[int, ...]


def cluster_starts(line: str) -> list[int]:
    """Indices where a new cluster (an approximation of a grapheme cluster) starts."""
    starts: list[int] = []
    previous = ""
    flags_in_cluster = 0
    for index, ch in enumerate(line):
        code = ord(ch)
        is_flag = _REGIONAL_INDICATORS[0] <= code <= _REGIONAL_INDICATORS[1]
        if index and _continues(ch, previous, is_flag and flags_in_cluster % 2 == 1):
            flags_in_cluster += is_flag
        else:
            starts.append(index)
            flags_in_cluster = int(is_flag)
        previous = ch
    return starts


def _continues(ch: str, previous: str, pairs_flag: bool) -> bool:
    """Whether `ch` belongs to the cluster of the character before it."""
    if pairs_flag or ord(previous) == ZWJ or fonts.modifier(ch):
        return True
    category = unicodedata.category(ch)
    if category[0] == "M" or ord(ch) in (ZWJ, 0x200C):
        return True
    # A consonant after a virama joins it in a conjunct (Unicode 15.1, GB9c).
    return (
        category == "Lo"
        and unicodedata.combining(previous) == _VIRAMA
        and _script(ch) == _script(previous)
    )


@functools.lru_cache(maxsize=8192)
def _script(ch: str) -> str:
    """A cheap script key: the first word of a letter's or mark's Unicode name."""
    if unicodedata.category(ch)[0] not in "LM":
        return ""
    return unicodedata.name(ch, "").split(" ", 1)[0]


def embedding_levels(line: str) -> list[int]:
    """UAX #9 embedding level of every character (0 throughout for left-to-right text).

    The paragraph direction is that of the first strong character (rule P2),
    as for `dir="auto"` in a browser; whitespace at the end takes the
    paragraph's level (rule L1).
    """
    if not any(unicodedata.bidirectional(ch) in _RTL_CLASSES for ch in line):
        return [0] * len(line)
    # The isolates (LRI, RLI, FSI, PDI) and classless code points are beyond
    # python-bidi's UAX #9 implementation: they take part as neutrals.
    line = "".join(ch if unicodedata.bidirectional(ch) in _KNOWN_CLASSES else "!" for ch in line)
    storage = uba.get_empty_storage()
    base = uba.get_base_level(line)
    storage["base_level"] = base
    storage["base_dir"] = ("L", "R")[base]
    uba.get_embedding_levels(line, storage)
    chars = list(storage["chars"])
    uba.explicit_embed_and_overrides(storage)
    uba.resolve_weak_types(storage)
    uba.resolve_neutral_types(storage, False)
    uba.resolve_implicit_levels(storage, False)
    levels = [c["level"] for c in chars]
    for index in range(len(line) - 1, -1, -1):
        if unicodedata.bidirectional(line[index]) not in ("WS", "BN", "S"):
            break
        levels[index] = base
    return levels


def shape_line(chain: fonts.FontChain, px: int, line: str) -> ShapedLine:
    """Shape one line (no newlines) with `chain`'s fonts at `px` pixels per em."""
    if not line:
        return ShapedLine((), 0.0, (0,))
    starts = cluster_starts(line)
    levels = embedding_levels(line)
    codepoints = _shaping_codepoints(line)
    runs: list[tuple[int, int, int, str]] = []  # start, end, level, font
    ends = starts[1:] + [len(line)]
    run_script = ""
    for start, end in zip(starts, ends, strict=True):
        cluster = line[start:end]
        font = chain.font_for(cluster)
        if not fonts.is_colour(font):
            for index in range(start, end):
                if fonts.modifier(line[index]):
                    codepoints[index] = ZWSP  # a swatch beside a monochrome emoji says nothing
        script = _script(line[start])
        if runs and runs[-1][2] == levels[start] and runs[-1][3] == font and (
            not script or not run_script or script == run_script
        ):
            runs[-1] = (runs[-1][0], end, levels[start], font)
            run_script = run_script or script
        else:
            runs.append((start, end, levels[start], font))
            run_script = script
    glyphs: list[ShapedGlyph] = []
    pen = 0.0
    for start, end, level, font in _display_order(runs):
        pen = _shape_run(codepoints, start, end, level, font, px, pen, glyphs)
    return ShapedLine(tuple(glyphs), pen, (*starts, len(line)))


def _shaping_codepoints(line: str) -> list[int]:
    """Code points for HarfBuzz: controls and lone surrogates become ignorable spaces."""
    out = []
    for ch in line:
        category = unicodedata.category(ch)
        out.append(ZWSP if category in ("Cc", "Cs") else ord(ch))
    return out


def _display_order(runs: list[tuple[int, int, int, str]]) -> list[tuple[int, int, int, str]]:
    """Runs reordered for display: UAX #9 rule L2 on whole runs."""
    if not runs:
        return runs
    levels = [run[2] for run in runs]
    odd = [level for level in levels if level % 2]
    if not odd:
        return runs
    ordered = list(runs)
    for level in range(max(levels), min(odd) - 1, -1):
        index = 0
        while index < len(ordered):
            if ordered[index][2] >= level:
                end = index
                while end < len(ordered) and ordered[end][2] >= level:
                    end += 1
                ordered[index:end] = ordered[index:end][::-1]
                index = end
            else:
                index += 1
    return ordered


def _shape_run(codepoints: list[int], start: int, end: int, level: int, font: str, px: int,
               pen: float, out: list[ShapedGlyph]) -> float:
    """Shape one run (with the whole line as context) and append its glyphs; the new pen."""
    buffer = hb.Buffer()
    buffer.add_codepoints(codepoints, start, end - start)
    buffer.guess_segment_properties()
    buffer.direction = "rtl" if level % 2 else "ltr"
    buffer.flags = hb.BufferFlags.REMOVE_DEFAULT_IGNORABLES
    hb.shape(fonts.hb_font(font, px), buffer)
    scale = 1 / 64
    for info, position in zip(buffer.glyph_infos, buffer.glyph_positions, strict=True):
        out.append(ShapedGlyph(font, info.codepoint, pen + position.x_offset * scale,
                               -position.y_offset * scale, info.cluster))
        pen += position.x_advance * scale
    return pen


@functools.lru_cache(maxsize=64)
def _load_font(path: str, px: int) -> ImageFont.FreeTypeFont:
    """Pillow's view of a font, for the vertical metrics lines are spaced by."""
    return ImageFont.truetype(path, px, layout_engine=ImageFont.Layout.BASIC)


class FontMetrics:
    """Shaped widths and vertical metrics of one font (and its fallbacks) at one pixel size.

    Shared by `glyphs.measure_text`, `glyphs.layout_text` and
    `glyphs.fit_font_px` so that a size chosen to fit a box lays out to
    exactly the measured size. Vertical metrics are the primary font's, so
    lines keep their spacing whatever fallbacks a text needs.
    """

    # Shaped lines kept per size: a wall shows a few hundred distinct strings.
    CACHED_LINES = 2048

    def __init__(self, path: str, px: int):
        self.path = path
        self.px = px
        self.chain = fonts.font_chain(path)
        self.ascent, self.descent = _load_font(path, px).getmetrics()
        self.line_height = self.ascent + self.descent
        self._lines: dict[str, ShapedLine] = {}

    def shape(self, line: str) -> ShapedLine:
        """One line shaped with HarfBuzz, in display order (cached)."""
        shaped = self._lines.get(line)
        if shaped is None:
            if len(self._lines) >= self.CACHED_LINES:
                self._lines.clear()
            shaped = self._lines[line] = shape_line(self.chain, self.px, line)
        return shaped

    def measure(self, text: str) -> tuple[float, float]:
        """Advance width of the widest line and the height of all line boxes."""
        lines = text_lines(text)
        return max(self.shape(line).width for line in lines), len(lines) * self.line_height


@functools.lru_cache(maxsize=256)
def font_metrics(font_path: str | os.PathLike[str], px: int) -> FontMetrics:
    """Cached :class:`FontMetrics` for a font file at an integer pixel size."""
    return FontMetrics(os.fspath(font_path), px)


def text_lines(text: str) -> list[str]:
    """The lines of a text, normalised as they are measured and drawn."""
    # NFC turns "e" + combining acute into one precomposed glyph where the font has it.
    return unicodedata.normalize("NFC", text).split("\n")
