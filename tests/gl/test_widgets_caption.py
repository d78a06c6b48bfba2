"""The tour caption bar: text along the foot of the wall, on one panel so no bezel cuts it."""

from __future__ import annotations

from widgets import draw_widget, lit


def test_the_caption_sits_at_the_foot_of_the_wall_on_one_panel(ctx):
    widget = {"kind": "caption", "text": "Every conversation about us, live"}
    wall, _, frames = draw_widget(ctx, widget, {})
    bottom_row = [p.id for p in wall.panels if p.rect.y > 0]
    with_text = [pid for pid in wall.ids if lit(frames[pid]).any()]
    assert len(with_text) == 1 and with_text[0] in bottom_row, with_text
    image = frames[with_text[0]]
    rows = lit(image).any(axis=1).nonzero()[0]
    band = 0.07 * wall.canvas[1] * image.shape[0] / wall.panel(with_text[0]).rect.h
    assert rows.min() >= image.shape[0] - band - 1, "the text stays inside the bottom band"
    assert lit(image).sum() > 500, "the caption text is drawn"
