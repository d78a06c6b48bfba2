"""Shaping, direction, clusters and truncation on the CPU, against HarfBuzz's own output."""

from __future__ import annotations

import random
import unicodedata

import numpy as np
import pytest
import uharfbuzz as hb
from walls import WIDGET_WALL

from controller.sample import world_text
from wallrenderer.core.layout.scenarios import ThemeModel
from wallrenderer.core.layout.walls import wall_from_data
from wallrenderer.renderer import fonts, shaping
from wallrenderer.renderer.glyphs import COLOUR, COVERAGE, GlyphAtlas, layout_text
from wallrenderer.renderer.widgets.base import ELLIPSIS, Draw
from wallrenderer.renderer.widgets.theme import Theme

pytestmark = pytest.mark.unit

PX = 32
SAMPLES = {
    "arabic": "مرحبا بالعالم",
    "hebrew": "שלום עולם",
    "devanagari": "नमस्ते क्षत्रिय हिन्दी",
    "thai": "สวัสดีครับ ภาษาไทย",
    "marks": "q\u0301 a\u0308\u0323",
    "emoji": "\U0001f468\u200d\U0001f469\u200d\U0001f467\U0001f1eb\U0001f1f7\U0001f44d\U0001f3fd",
}


@pytest.fixture(scope="module")
def font():
    return str(fonts.find_font())


def in_words(text: str, glyphs: list[tuple[int, float, int]]) -> list[tuple[int, float]]:
    """(glyph id, x from the first glyph of its word) of every glyph that is not a space."""
    first: dict[int, float] = {}
    out = []
    for gid, x, cluster in glyphs:
        if text[cluster] == " ":
            continue
        word = text.count(" ", 0, cluster)
        out.append((gid, x - first.setdefault(word, x)))
    return out


def whole_string_reference(text: str, path: str, rtl: bool) -> list[tuple[int, int, int]]:
    """HarfBuzz's glyph ids, pen x (1/64 px) and clusters for the string in one font."""
    buffer = hb.Buffer()
    buffer.add_str(text)
    buffer.guess_segment_properties()
    buffer.direction = "rtl" if rtl else "ltr"
    buffer.flags = hb.BufferFlags.REMOVE_DEFAULT_IGNORABLES
    hb.shape(fonts.hb_font(path, PX), buffer)
    out, pen = [], 0
    for info, position in zip(buffer.glyph_infos, buffer.glyph_positions, strict=True):
        out.append((info.codepoint, pen + position.x_offset, info.cluster))
        pen += position.x_advance
    return out


@pytest.mark.parametrize("case", ["arabic", "hebrew", "devanagari", "thai", "marks", "emoji"])
def test_single_script_lines_shape_as_harfbuzz_does_the_whole_string(font, case):
    """Runs, fonts and order reassemble exactly HarfBuzz's shaping of the string in its font."""
    text = SAMPLES[case]
    chain = fonts.font_chain(font)
    shaped = shaping.font_metrics(font, PX).shape(text)
    used = {g.font for g in shaped.glyphs if g.gid != 3}  # 3: the space of DejaVu Sans
    main = next(iter(used - {font}), font) if len(used) > 1 else used.pop()
    if case in ("devanagari", "thai"):
        assert chain.font_for(text[0]) == main != font
    rtl = case in ("arabic", "hebrew")
    reference = whole_string_reference(text, main, rtl)
    # Spaces come from the primary font; every other glyph must be HarfBuzz's, placed as it says.
    ours = in_words(text, [(g.gid, g.x, g.cluster) for g in shaped.glyphs])
    theirs = in_words(text, [(gid, x / 64, cluster) for gid, x, cluster in reference])
    assert [gid for gid, _ in ours] == [gid for gid, _ in theirs]
    assert [x for _, x in ours] == pytest.approx([x for _, x in theirs], abs=0.02)
    assert all(gid for gid, _ in ours), "no tofu"


def test_arabic_joins_and_reads_right_to_left(font):
    """Joined forms differ from isolated ones, and the first letter is drawn rightmost."""
    shaped = shaping.font_metrics(font, PX).shape("شكرا")
    isolated = [fonts.hb_font(font, PX).get_nominal_glyph(ord(ch)) for ch in "شكرا"]
    assert [g.gid for g in shaped.glyphs][::-1] != isolated
    assert [g.cluster for g in shaped.glyphs] == [3, 2, 1, 0]


def test_numbers_and_latin_inside_hebrew_keep_their_order(font):
    """In a right-to-left line, '2024' and 'Acme' still read left to right."""
    text = "שלום Acme 2024 עולם"
    shaped = shaping.font_metrics(font, PX).shape(text)
    clusters = [g.cluster for g in shaped.glyphs if text[g.cluster] not in " "]
    position = {c: i for i, c in enumerate(clusters)}
    acme, year = text.index("Acme"), text.index("2024")
    assert position[acme] < position[acme + 3] and position[year] < position[year + 3]
    assert position[0] > position[acme] > position[text.index("עולם")]


def test_clusters_keep_marks_conjuncts_and_emoji_sequences_whole():
    assert shaping.cluster_starts("q\u0301a") == [0, 2]
    assert shaping.cluster_starts("क्षa") == [0, 3]
    assert shaping.cluster_starts("\U0001f468\u200d\U0001f469\u200d\U0001f467x") == [0, 5]
    assert shaping.cluster_starts("\U0001f1eb\U0001f1f7\U0001f1e9\U0001f1ea") == [0, 2]
    assert shaping.cluster_starts("1\ufe0f\u20e3\U0001f44d\U0001f3fd") == [0, 3]


def test_without_a_colour_font_emoji_fall_back_to_monochrome_outlines(monkeypatch, font):
    """A machine without Noto Color Emoji still draws emoji (Symbola), in the coverage page."""
    monkeypatch.setattr(fonts, "colour_emoji_font", lambda: None)
    chain = fonts.FontChain(font)
    shaped = shaping.shape_line(chain, PX, "\U0001f389\U0001f44d\U0001f3fd")
    assert all(g.gid and not fonts.is_colour(g.font) for g in shaped.glyphs)
    assert len(shaped.glyphs) == 2, "the skin tone is not drawn as a swatch beside the emoji"


def test_colour_emoji_go_to_the_colour_page(font):
    if fonts.colour_emoji_font() is None:
        pytest.skip("Noto Color Emoji is not installed")
    atlas = GlyphAtlas(font, PX)
    rows = layout_text(atlas, "ok \U0001f389", 0, 0)
    assert list(rows[:, 12]) == [COVERAGE, COVERAGE, COLOUR]
    glyph = atlas.glyph("\U0001f389")
    cell = atlas.colour[glyph.atlas_y : glyph.atlas_y + glyph.height,
                        glyph.atlas_x : glyph.atlas_x + glyph.width].astype(int)
    assert (cell[..., :3].max(axis=-1) - cell[..., :3].min(axis=-1) > 80).any()


# --- truncation ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def draw(font):
    wall = wall_from_data(WIDGET_WALL)
    panel = wall.panels[0]
    theme = Theme.for_scenario(ThemeModel(), (0.0, 0.0, 0.0, 1.0), panel.rect.h)
    return Draw(wall, panel.rect, panel.native_pitch_scale(), theme, font)


@pytest.mark.parametrize("text", [
    "नमस्ते क्षत्रिय हिन्दी क्षत्रिय हिन्दी",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467" * 12,
    "e\u0301\u0323" * 30,
    "مرحبا بالعالم كيف حالك اليوم يا صديقي العزيز",
    "\U0001f1eb\U0001f1f7\U0001f1e9\U0001f1ea" * 10,
])
def test_truncation_cuts_only_between_clusters(draw, text):
    text = unicodedata.normalize("NFC", text)
    starts = set(shaping.cluster_starts(text))
    for width in (40, 75, 130, 210):
        cut = draw.truncate(text, width, 16)
        assert draw.measure(cut, 16)[0] <= width
        if cut and cut != text:
            assert cut.endswith(ELLIPSIS)
            prefix = cut[: -len(ELLIPSIS)]
            assert text.startswith(prefix) and len(prefix) in starts


def test_truncation_leaves_no_dangling_direction_marks(draw):
    text = "Acme \u2067\u200fשלום עולם וכל מה שבו ארוך מאוד מאוד\u2069 \u200e" + "x" * 40
    for width in (60, 110, 180):
        cut = draw.truncate(text, width, 16)
        body = cut[: -len(ELLIPSIS)].rstrip("\u2069\u202c")
        assert body and body[-1] not in "\u200e\u200f\u2067 "
        assert cut.count("\u2067") == cut.count("\u2069"), "an isolate left open"


# --- a stream of posts -------------------------------------------------------------


def test_atlas_memory_stays_bounded_under_10000_random_multilingual_posts(font):
    """Rare characters keep coming: the atlas starts again instead of growing or dropping them."""
    rng = random.Random(13)
    atlas = GlyphAtlas(font, 24, max_height=1024, colour_max_height=512)
    bound = 1024 * 1024 + 1024 * 512 * 4
    for _ in range(10_000):
        text = world_text(rng)
        rows = layout_text(atlas, text, 0, 0)
        assert atlas.nbytes <= bound
    assert atlas.generation > 0, "the stream filled the atlas at least once"
    assert ((rows[:, 4:8] >= 0) & (rows[:, 4:8] <= 1)).all()
    np.testing.assert_array_equal(rows, layout_text(atlas, text, 0, 0))
