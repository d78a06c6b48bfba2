"""Shaped text on the GPU against a reference shaping: Pillow's own layout with libraqm.

Each string is drawn by a `text` widget through the whole renderer (layout,
atlas, instanced draw on Mesa) and by Pillow with Raqm (HarfBuzz + FriBiDi) in
the same font at the same pixel size. The two ink images must match closely;
the same string drawn unshaped (Pillow's basic layout: logical order, isolated
forms) must not, which shows the comparison can tell them apart.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont, features
from widgets import draw_widget

from wallrenderer.renderer import fonts

SIZE = 40  # canvas px on a 1:1 panel: on SIZE_LADDER, so drawn at exactly this size
WALL = {"wall": {"name": "one", "panels": [
    {"id": "p", "position_mm": [0, 0], "active_mm": [400, 100], "resolution": [800, 200]}]}}

CASES = {
    "arabic": ("مرحبا بالعالم، كيف حالك؟", "DejaVu Sans", True),
    "hebrew-latin-digits": ("Order 1234 שלום עולם 56 ok", "DejaVu Sans", True),
    "devanagari": ("नमस्ते क्षत्रिय हिन्दी", "Noto Sans Devanagari", True),
    "thai": ("สวัสดีครับ ภาษาไทย", "Noto Sans Thai", False),
    "combining-marks": ("q\u0301 a\u0308\u0323 x\u0303\u0331 Z\u0306", "DejaVu Sans", False),
}
# Normalised cross-correlation of the blurred ink images.
SAME = 0.8

pytestmark = pytest.mark.skipif(not features.check("raqm"), reason="Pillow without libraqm")


def font_file(family: str) -> str:
    try:
        return str(fonts.find_font(family))
    except fonts.FontNotFoundError as exc:
        pytest.skip(str(exc))


def ink(gray: np.ndarray) -> np.ndarray:
    """The image cropped to its ink, blurred a little so a 1 px hinting shift is not a miss."""
    ys, xs = np.nonzero(gray > 64)
    assert len(xs), "nothing drawn"
    crop = gray[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    return np.asarray(Image.fromarray(crop).filter(ImageFilter.BoxBlur(1)), np.float64)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cross-correlation of two ink images laid on a common canvas (0 unrelated, 1 equal)."""
    h, w = max(a.shape[0], b.shape[0]), max(a.shape[1], b.shape[1])
    pa, pb = np.zeros((h, w)), np.zeros((h, w))
    pa[: a.shape[0], : a.shape[1]] = a
    pb[: b.shape[0], : b.shape[1]] = b
    pa -= pa.mean()
    pb -= pb.mean()
    return float((pa * pb).sum() / np.sqrt((pa * pa).sum() * (pb * pb).sum()))


def pillow(text: str, path: str, engine) -> np.ndarray:
    font = ImageFont.truetype(path, SIZE, layout_engine=engine)
    image = Image.new("L", (1000, 200))
    ImageDraw.Draw(image).text((20, 40), text, font=font, fill=255)
    return np.asarray(image)


def wall_render(ctx, text: str, path: str) -> np.ndarray:
    widget = {"kind": "text", "text": text, "size": SIZE, "align": "left", "font": path,
              "rect": [0, 0, 1, 1], "padding": 0}
    _, _, frames = draw_widget(ctx, widget, {}, wall_data=WALL)
    return frames["p"].max(axis=-1)


@pytest.mark.parametrize("case", list(CASES))
def test_shaped_text_matches_the_reference_shaping(ctx, case):
    text, family, control = CASES[case]
    path = font_file(family)
    drawn = ink(wall_render(ctx, text, path))
    reference = ink(pillow(text, path, ImageFont.Layout.RAQM))
    assert abs(drawn.shape[1] - reference.shape[1]) <= 3, (drawn.shape, reference.shape)
    assert similarity(drawn, reference) >= SAME
    if control:
        unshaped = ink(pillow(text, path, ImageFont.Layout.BASIC))
        assert similarity(unshaped, reference) < SAME


# Sequence, and whether Noto draws it in saturated colours (its family and keycap are grey).
EMOJI = {
    "zwj-family": ("\U0001f468\u200d\U0001f469\u200d\U0001f467", False),
    "zwj-rainbow-flag": ("\U0001f3f3\ufe0f\u200d\U0001f308", True),
    "flag": ("\U0001f1eb\U0001f1f7", True),
    "keycap": ("1\ufe0f\u20e3", False),
    "skin-tone": ("\U0001f44d\U0001f3fd", True),
}


@pytest.mark.parametrize("case", list(EMOJI))
def test_emoji_sequences_draw_in_colour_as_the_colour_font_does(ctx, case):
    """Each sequence is one colour glyph, the one Noto Color Emoji draws for it."""
    emoji = fonts.colour_emoji_font()
    if emoji is None:
        pytest.skip("Noto Color Emoji is not installed (scripts/system-packages.sh installs it)")
    text, colourful = EMOJI[case]
    widget = {"kind": "text", "text": text, "size": SIZE, "align": "left",
              "rect": [0, 0, 1, 1], "padding": 0}
    _, _, frames = draw_widget(ctx, widget, {}, wall_data=WALL)
    rgb = frames["p"].astype(int)
    saturated = (rgb.max(axis=-1) - rgb.min(axis=-1)) > 80
    assert saturated.sum() > 200 or not colourful, "emoji pixels carry colour"
    # Pillow draws the sequence from the font's 109 px bitmaps; scaled, it must match.
    font = ImageFont.truetype(emoji, 109, layout_engine=ImageFont.Layout.RAQM)
    image = Image.new("RGB", (400, 200))
    ImageDraw.Draw(image).text((10, 20), text, font=font, embedded_color=True)
    for channel in range(3):
        reference = ink(np.asarray(image)[:, :, channel])
        drawn = ink(frames["p"][:, :, channel])
        assert drawn.shape[1] < 1.6 * SIZE, "one glyph, not the sequence's parts side by side"
        scaled = np.asarray(Image.fromarray(reference.astype(np.uint8)).resize(
            drawn.shape[::-1], Image.LANCZOS), np.float64)
        aspect = drawn.shape[1] / reference.shape[1] - drawn.shape[0] / reference.shape[0]
        assert abs(aspect) < 0.05
        assert similarity(drawn, scaled) >= SAME
