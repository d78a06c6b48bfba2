"""Glyph atlas, text layout and font fitting on the CPU (no GL)."""

from __future__ import annotations

import shutil
import string
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import ImageFont, features

from wallrenderer.renderer import fonts
from wallrenderer.renderer.fonts import FontNotFoundError, find_font
from wallrenderer.renderer.glyphs import (
    LAYOUT_COLUMNS,
    GlyphAtlas,
    fit_font_px,
    layout_text,
    measure_text,
)

pytestmark = pytest.mark.unit

X, Y, W, H, U0, V0, U1, V1 = range(8)
AWKWARD = [
    "中文字幕 日本語 한국어",
    "👍🏽 🎉 👨‍👩‍👧 ☺",
    "שלום עולם",
    "مرحبا بالعالم",
    "e\u0301 a\u0308\u0323 q\u0301 \u0301",
    "\x00\t\r\x1b\x7f\u200b\u200d\u200f\u2028\ufeff\ud800\U0010ffff",
    "\r\n\n\n",
    "",
]
# A private-use character no installed font draws: it shows the primary font's notdef.
NOWHERE = "\U000f0001"
MIXED = "Héllo 你好 🎉 مرحبا"


@pytest.fixture(scope="module")
def font():
    """The default font; the Makefile installs it, so only bare machines skip."""
    try:
        return find_font()
    except FontNotFoundError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def shared_atlas(font):
    """One atlas reused by read-mostly tests, as a renderer reuses one per size."""
    return GlyphAtlas(font, 24)


def pixel_rect(atlas, glyph):
    """Atlas pixel rectangle (x0, y0, x1, y1) recovered from the normalised uv."""
    height, width = atlas.pixels.shape
    u0, v0, u1, v1 = atlas.uv(glyph)
    return round(u0 * width), round(v0 * height), round(u1 * width), round(v1 * height)


def fits(font, px, text, box_w, box_h):
    """Whether text measured at px fits the box, through the public API."""
    width, height = measure_text(GlyphAtlas(font, px, height=8), text)
    return width <= box_w and height <= box_h


# --- font discovery ---------------------------------------------------------------


def test_default_font_regular_and_bold_are_existing_distinct_files(font):
    """Family lookup finds real files and honours bold."""
    bold = find_font(bold=True)
    assert font.is_file() and bold.is_file()
    assert font.suffix.lower() in fonts.FONT_SUFFIXES
    assert bold != font and "bold" in bold.name.lower()


def test_find_font_accepts_a_path(font):
    """Explicit paths bypass family lookup."""
    assert find_font(str(font)) == font.resolve()


def test_find_font_raises_for_nonexistent_path(tmp_path):
    """A typo in a configured path fails loudly instead of substituting."""
    with pytest.raises(FontNotFoundError, match="does not exist"):
        find_font(str(tmp_path / "missing.ttf"))


@pytest.fixture
def no_fontconfig(monkeypatch, tmp_path):
    """find_font as on a machine without fc-match, scanning only tmp_path."""
    monkeypatch.setattr(fonts.shutil, "which", lambda name: None)
    monkeypatch.setattr(fonts, "FONT_DIRS", (tmp_path,))
    find_font.cache_clear()
    yield tmp_path
    find_font.cache_clear()


def test_find_font_scans_font_dirs_without_fontconfig(no_fontconfig, font):
    """Minimal containers without fontconfig still find installed fonts."""
    (no_fontconfig / "sub").mkdir()
    regular = no_fontconfig / "sub" / "WallSans-Regular.ttf"
    bold = no_fontconfig / "Wall-Sans-Bold.TTF"
    shutil.copy(font, regular)
    shutil.copy(font, bold)
    assert find_font("Wall Sans") == regular
    assert find_font("wall sans", bold=True) == bold


def test_missing_family_error_names_the_package(no_fontconfig):
    """The error tells the operator what to install."""
    with pytest.raises(FontNotFoundError, match="fonts-dejavu-core"):
        find_font()


# --- atlas -------------------------------------------------------------------------


def test_glyph_coverage_is_at_its_uv_rect_and_nowhere_else(font):
    """The uv rect addresses exactly the glyph's ink, with padding left empty."""
    atlas = GlyphAtlas(font, 48)
    glyph = atlas.glyph("H")
    x0, y0, x1, y1 = pixel_rect(atlas, glyph)
    assert (x1 - x0, y1 - y0) == (glyph.width, glyph.height)
    cell = atlas.pixels[y0:y1, x0:x1]
    # Ink is cropped tight: edge columns are touched, and each stem is a solid column
    # running the full height, with nothing between the stems at the top.
    assert cell[:, 0].any() and cell[:, -1].any() and cell[0].any() and cell[-1].any()
    quarter = glyph.width // 4
    assert cell[:, :quarter].min(axis=0).max() > 200
    assert cell[:, -quarter:].min(axis=0).max() > 200
    assert cell[0, glyph.width // 2] == 0
    rest = atlas.pixels.copy()
    rest[y0:y1, x0:x1] = 0
    assert not rest.any()
    # Capital on the baseline: the bitmap ends at the baseline and rises most of the ascent.
    assert glyph.top + glyph.height == 0
    assert 0.5 * atlas.ascent < glyph.height <= atlas.ascent


def test_take_dirty_covers_new_glyphs_then_reports_nothing(font):
    """The GL side uploads each change once and nothing when glyphs are cached."""
    atlas = GlyphAtlas(font, 32)
    assert atlas.take_dirty() == (0, 0, 1024, 1024)
    assert atlas.take_dirty() is None
    rects = [pixel_rect(atlas, atlas.glyph(ch)) for ch in "AjW"]
    x, y, w, h = atlas.take_dirty()
    for x0, y0, x1, y1 in rects:
        assert x <= x0 and y <= y0 and x1 <= x + w and y1 <= y + h
    assert atlas.take_dirty() is None
    layout_text(atlas, "WAj jAW", 0, 0)
    atlas.glyph(" ")
    assert atlas.take_dirty() is None


def test_growth_keeps_earlier_glyphs_and_recomputes_uv(font):
    """Doubling the height keeps glyph pixels; only their v coordinates change."""
    atlas = GlyphAtlas(font, 40, width=128, height=64, max_height=1024)
    h_glyph = atlas.glyph("H")
    x0, y0, x1, y1 = pixel_rect(atlas, h_glyph)
    before = atlas.pixels[y0:y1, x0:x1].copy()
    v_before = atlas.uv(h_glyph)[1]
    atlas.take_dirty()
    drawn = [atlas.glyph(ch) for ch in string.ascii_letters + string.digits]
    height = atlas.pixels.shape[0]
    assert height > 64
    assert atlas.take_dirty() == (0, 0, 128, height)
    assert atlas.uv(h_glyph)[1] == pytest.approx(v_before * 64 / height)
    x0, y0, x1, y1 = pixel_rect(atlas, h_glyph)
    np.testing.assert_array_equal(atlas.pixels[y0:y1, x0:x1], before)
    row = layout_text(atlas, "H", 0, 0)[0]
    assert tuple(row[U0 : V1 + 1]) == pytest.approx(atlas.uv(h_glyph))
    # Every glyph fits inside the atlas and no two overlap, padding included.
    boxes = [(g.atlas_x, g.atlas_y, g.atlas_x + g.width, g.atlas_y + g.height) for g in drawn]
    assert all(g.width > 0 for g in drawn)
    for i, (ax0, ay0, ax1, ay1) in enumerate(boxes):
        assert ax0 >= 1 and ay0 >= 1 and ax1 < 128 and ay1 < height
        for bx0, by0, bx1, by1 in boxes[i + 1 :]:
            assert ax1 < bx0 or bx1 < ax0 or ay1 < by0 or by1 < ay0


def test_full_atlas_skips_glyphs_without_raising(font):
    """A full atlas drops glyphs rather than taking the renderer down."""
    atlas = GlyphAtlas(font, 40, width=64, height=32, max_height=64)
    rows = layout_text(atlas, string.ascii_letters + "\ufdfd", 0, 0)
    assert atlas.pixels.shape == (64, 64)
    assert 0 < len(rows) < len(string.ascii_letters)
    assert atlas.glyph("\ufdfd").width == 0  # wider than the whole atlas


def test_missing_character_draws_the_fonts_notdef(font):
    """Characters no font of the chain has show the primary's notdef box, not nothing."""
    atlas = GlyphAtlas(font, 32)
    glyph = atlas.glyph(NOWHERE)
    assert glyph.advance > 0 and glyph.width > 0 and glyph.height > 0
    assert atlas.metrics.chain.font_for(NOWHERE) == str(font)


# --- layout ------------------------------------------------------------------------


def test_layout_columns_and_colour(shared_atlas):
    """The array matches the instanced vertex layout the GL side declares."""
    rows = layout_text(shared_atlas, "Hi", 0, 0, color=(0.25, 0.5, 0.75, 1.0))
    assert rows.dtype == np.float32 and rows.shape == (2, len(LAYOUT_COLUMNS)) == (2, 13)
    np.testing.assert_array_equal(rows[:, 8:12], [[0.25, 0.5, 0.75, 1.0]] * 2)


def test_second_glyph_sits_one_advance_right(font):
    """Pen positions follow Pillow's own shaped advances."""
    atlas = GlyphAtlas(font, 64)
    a_row, b_row = layout_text(atlas, "AB", 10, 20)
    a, b = atlas.glyph("A"), atlas.glyph("B")
    pen_a, pen_b = a_row[X] - a.left, b_row[X] - b.left
    assert pen_a == 10
    shaped = ImageFont.truetype(str(font), 64)
    assert pen_b - pen_a == pytest.approx(shaped.getlength("AB") - shaped.getlength("B"), abs=1)
    assert b_row[X] >= a_row[X] + a_row[W] - 2
    # Quad heights and uv heights agree, so glyphs are not stretched.
    assert a_row[H] == pytest.approx((a_row[V1] - a_row[V0]) * atlas.pixels.shape[0])


@pytest.mark.skipif(not features.check("raqm"), reason="kerning is read through libraqm")
def test_kerning_pulls_v_under_a(font):
    """Kerning pairs are applied, not just plain advances."""
    atlas = GlyphAtlas(font, 64)
    a_row, v_row = layout_text(atlas, "AV", 0, 0)
    gap = (v_row[X] - atlas.glyph("V").left) - (a_row[X] - atlas.glyph("A").left)
    assert gap < atlas.glyph("A").advance - 1


def test_baseline_is_ascent_below_y(shared_atlas):
    """The call's y is the top of the line box, so a capital ends at y + ascent."""
    (row,) = layout_text(shared_atlas, "H", 5, 100)
    assert row[Y] + row[H] == 100 + shared_atlas.ascent


def test_center_and_right_alignment(shared_atlas):
    """Alignment shifts the whole line by its measured width."""
    text = "Wall of text"
    width, _ = measure_text(shared_atlas, text)
    left = layout_text(shared_atlas, text, 0, 0)
    center = layout_text(shared_atlas, text, 500, 0, align="center")
    right = layout_text(shared_atlas, text, 500, 0, align="right")
    assert np.abs(center[:, X] - (left[:, X] + 500 - width / 2)).max() <= 1
    assert np.abs(right[:, X] - (left[:, X] + 500 - width)).max() <= 1
    ink_mid = (center[:, X].min() + (center[:, X] + center[:, W]).max()) / 2
    assert ink_mid == pytest.approx(500, abs=3)
    assert (right[:, X] + right[:, W]).max() == pytest.approx(500, abs=3)
    np.testing.assert_array_equal(center[:, Y:], left[:, Y:])


def test_lines_move_down_by_line_height_and_align_separately(font, shared_atlas):
    """Newlines step down by the font's line height; each line aligns alone."""
    ascent, descent = ImageFont.truetype(str(font), 24).getmetrics()
    assert shared_atlas.line_height == ascent + descent
    first, second = layout_text(shared_atlas, "H\nH", 0, 0)
    assert second[Y] - first[Y] == shared_atlas.line_height
    assert second[X] == first[X]
    rows = layout_text(shared_atlas, "WWWWWW\nI", 300, 0, align="center")
    i_row = rows[-1]
    assert i_row[X] + i_row[W] / 2 == pytest.approx(300, abs=2)


def test_measure_matches_layout_extent(shared_atlas):
    """measure_text is the box layout_text draws into."""
    text = "Quarterly mentions\nby region: 12,345"
    width, height = measure_text(shared_atlas, text)
    assert height == 2 * shared_atlas.line_height
    rows = layout_text(shared_atlas, text, 0, 0)
    assert rows[:, X].min() >= -1 and (rows[:, X] + rows[:, W]).max() <= width + 1
    assert rows[:, Y].min() >= 0 and (rows[:, Y] + rows[:, H]).max() <= height
    assert (rows[:, X] + rows[:, W]).max() >= width - 0.2 * 24


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=string.printable, max_size=40))
def test_layout_stays_inside_measured_box(shared_atlas, text):
    """No printable text spills out of its measured box."""
    width, height = measure_text(shared_atlas, text)
    rows = layout_text(shared_atlas, text, 0, 0)
    if len(rows):
        # A pixel of slack each side for rounding and small negative bearings.
        assert rows[:, X].min() >= -2 and (rows[:, X] + rows[:, W]).max() <= width + 2
        assert rows[:, Y].min() >= 0 and (rows[:, Y] + rows[:, H]).max() <= height


def test_unknown_alignment_is_rejected(shared_atlas):
    """A misspelt alignment is a programming error, reported at once."""
    with pytest.raises(ValueError, match="align"):
        layout_text(shared_atlas, "x", 0, 0, align="justify")


# --- awkward text ------------------------------------------------------------------


@pytest.mark.parametrize("text", AWKWARD)
def test_awkward_text_lays_out_without_raising(shared_atlas, text):
    """Social-media text in any script degrades to boxes, never exceptions."""
    rows = layout_text(shared_atlas, text, 10, 10, align="center")
    width, height = measure_text(shared_atlas, text)
    assert np.isfinite(rows).all() and width >= 0 and height > 0
    assert ((rows[:, U0:] >= 0) & (rows[:, U0:] <= 1)).all()


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=30))
def test_any_text_lays_out(shared_atlas, text):
    """Arbitrary Unicode never raises and yields at most one quad per character.

    Characters are counted after NFC normalisation, which layout applies and which
    splits composition exclusions such as U+0958 into two; shaping may split a
    vowel sign into two glyphs (Bengali, Tamil), hence the factor.
    """
    rows = layout_text(shared_atlas, text, 0, 0, align="right")
    assert rows.shape[1] == 13 and len(rows) <= 3 * len(unicodedata.normalize("NFC", text))
    assert np.isfinite(rows).all()


def test_controls_are_invisible_and_zero_width(shared_atlas):
    """Control and format characters neither draw boxes nor take space."""
    assert len(layout_text(shared_atlas, "\x00\t\r\u200b\u200f\ufeff", 0, 0)) == 0
    assert measure_text(shared_atlas, "a\tb\u200bc")[0] == measure_text(shared_atlas, "abc")[0]


def test_combining_marks_compose_or_stack_on_their_base(shared_atlas):
    """Accents land on their letter instead of after it."""
    assert len(layout_text(shared_atlas, "e\u0301", 0, 0)) == 1  # NFC gives precomposed é
    base, accent = layout_text(shared_atlas, "q\u0301", 0, 0)
    assert base[X] <= accent[X] + accent[W] / 2 <= base[X] + base[W] + 1
    assert accent[Y] + accent[H] <= base[Y] + 2


# --- fallback fonts ----------------------------------------------------------------


def bitmap(atlas, ch):
    """The coverage pixels of one character's glyph in the atlas."""
    glyph = atlas.glyph(ch)
    return atlas.pixels[glyph.atlas_y : glyph.atlas_y + glyph.height,
                        glyph.atlas_x : glyph.atlas_x + glyph.width]


def fallback_for(ch):
    """The installed fallback font with a glyph for ch; skips where none is installed."""
    for path in fonts.fallback_fonts():
        if ord(ch) in fonts.coverage(str(path)):
            return str(path)
    pytest.skip(f"no fallback font for {ch!r} (scripts/system-packages.sh installs them)")


@pytest.mark.parametrize("ch", ["你", "好", "ก", "क"])
def test_cjk_and_other_scripts_draw_a_fallback_glyph_not_notdef(font, ch):
    """Characters DejaVu Sans lacks (CJK, Thai, Devanagari) come from a fallback font, not tofu."""
    expected = fallback_for(ch)
    atlas = GlyphAtlas(font, 32)
    assert atlas.metrics.chain.font_for(ch) == expected != str(font)
    drawn, notdef = bitmap(atlas, ch), bitmap(atlas, NOWHERE)
    assert drawn.size and drawn.max() > 200
    assert drawn.shape != notdef.shape or (drawn.astype(int) - notdef).any()


def test_fallback_advances_are_what_is_measured_and_drawn(font):
    """Measuring, fitting and layout all use the HarfBuzz advance of the font that draws each."""
    text = "你好🎉"
    atlas = GlyphAtlas(font, 40)
    chosen = [atlas.metrics.chain.font_for(ch) for ch in text]
    advances = [fonts.hb_font(path, 40).get_glyph_h_advance(
        fonts.hb_font(path, 40).get_nominal_glyph(ord(ch))) / 64
        for path, ch in zip(chosen, text, strict=True)]
    width, _ = measure_text(atlas, text)
    assert width == pytest.approx(sum(advances))
    rows = layout_text(atlas, text, 0, 0)
    pens = [row[X] - atlas.glyph(ch).left for row, ch in zip(rows, text, strict=True)]
    assert pens == pytest.approx([0, advances[0], advances[0] + advances[1]], abs=1)


def test_mixed_scripts_lay_out_one_glyph_per_visible_character(font):
    """Accents, CJK, emoji and Arabic in one line: every visible character drawn, in its box."""
    atlas = GlyphAtlas(font, 32)
    rows = layout_text(atlas, MIXED, 0, 0)
    visible = [ch for ch in unicodedata.normalize("NFC", MIXED) if not ch.isspace()]
    assert len(rows) == len(visible) == 13
    width, height = measure_text(atlas, MIXED)
    assert rows[:, X].min() >= -1 and (rows[:, X] + rows[:, W]).max() <= width + 2
    assert (rows[:, X] + rows[:, W]).max() >= width - 0.3 * 32
    right = layout_text(atlas, MIXED, 500, 0, align="right")
    np.testing.assert_allclose(right[:, X], rows[:, X] + 500 - width, atol=1)


@pytest.mark.parametrize("emoji", ["\u2764", "\U0001f44d"])
def test_variant_selector_draws_nothing_of_its_own(shared_atlas, emoji):
    """U+FE0F picks the emoji form of the character before it; it is not a glyph itself."""
    assert len(layout_text(shared_atlas, emoji + "\ufe0f", 0, 0)) == 1


def test_skin_tone_modifies_its_emoji(shared_atlas):
    """A skin tone after an emoji is one glyph, as wide as the emoji, never a swatch beside it."""
    assert len(layout_text(shared_atlas, "\U0001f44d\U0001f3fd", 0, 0)) == 1
    assert measure_text(shared_atlas, "\U0001f44d\U0001f3fd") == measure_text(
        shared_atlas, "\U0001f44d")


def square_font(path, code, colour=False):
    """A font whose only glyph, for `code`, is a square; as a COLR colour font with `colour`."""

    def outline(square):
        pen = TTGlyphPen(None)
        if square:
            for point in ((100, 0), (100, 700), (700, 700), (700, 0)):
                (pen.lineTo if pen.points else pen.moveTo)(point)
            pen.closePath()
        return pen.glyph()

    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder([".notdef", "square"])
    builder.setupCharacterMap({code: "square"})
    builder.setupGlyf({".notdef": outline(False), "square": outline(True)})
    builder.setupHorizontalMetrics({".notdef": (500, 0), "square": (800, 100)})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": "Square", "styleName": "Regular"})
    builder.setupOS2()
    builder.setupPost()
    if colour:
        builder.setupCPAL([[(1.0, 0.0, 0.0, 1.0)]])
        builder.setupCOLR({"square": [("square", 0)]})
    builder.save(path)
    return str(path)


def test_colour_broken_and_missing_fallbacks_are_skipped(monkeypatch, tmp_path, font):
    """A colour emoji font, an unreadable file or an absent family never stop the text."""
    families = ("No Such Family 0xWALL", fonts.DEFAULT_FAMILY)
    monkeypatch.setattr(fonts, "FALLBACK_FAMILIES", families)
    assert fonts.fallback_fonts.__wrapped__() == (font,)
    primary = str(shutil.copy(font, tmp_path / "Primary.ttf"))
    colour = square_font(tmp_path / "colour.ttf", 0xE000, colour=True)
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font")
    mono = square_font(tmp_path / "mono.ttf", 0xE000)
    monkeypatch.setattr(fonts, "fallback_fonts", lambda: (Path(colour), broken, Path(mono)))
    atlas = GlyphAtlas(primary, 32)
    assert atlas.metrics.chain.font_for("\ue000") == mono
    assert bitmap(atlas, "\ue000")[1:-1, 1:-1].min() == 255  # a solid square, not a notdef
    assert fonts.coverage(colour) == fonts.coverage(str(broken)) == frozenset()


# --- fitting -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "box_w", "box_h"),
    [
        ("Hello wall", 400, 100),
        (MIXED, 300, 100),
        ("Hello wall\nsecond line", 400, 300),
        ("W", 37, 1000),
        ("tall and narrow\nx\ny\nz", 2000, 90),
    ],
)
def test_fit_font_px_is_largest_that_fits(font, text, box_w, box_h):
    """The fitted size fits and the next sizes up do not."""
    px = fit_font_px(font, text, box_w, box_h)
    assert px > 1
    assert fits(font, px, text, box_w, box_h)
    assert not fits(font, px + 1, text, box_w, box_h)
    assert not fits(font, px + 2, text, box_w, box_h)


def test_fit_font_px_honours_max_px_and_never_returns_zero(font):
    """max_px caps the size and impossible boxes still get a usable size."""
    assert fit_font_px(font, "Hi", 10_000, 10_000, max_px=48) == 48
    assert fit_font_px(font, "Far too long for this box", 3, 3) == 1


# --- caching -----------------------------------------------------------------------


def test_laying_out_cached_labels_rasterises_nothing_new(shared_atlas):
    """Per-frame layout reuses cached glyphs: the atlas is not touched the second time."""
    labels = [f"Mentions #{i:03d} Europe" for i in range(200)]
    for label in labels:
        layout_text(shared_atlas, label, 0, 0)
    shared_atlas.take_dirty()
    for label in labels:
        layout_text(shared_atlas, label, 100, 50, align="center")
    assert shared_atlas.take_dirty() is None
