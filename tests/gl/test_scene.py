"""PanelView on real GL (Mesa EGL): pixels land exactly where the geometry says."""

from __future__ import annotations

import numpy as np
import pytest
from pixels import assert_fill_matches, predicted_mask
from walls import MIXED_WALL as MIXED
from walls import SMALL_GRID_WALL as SMALL_GRID

from wallrenderer.core.geometry import Rect
from wallrenderer.core.layout.scenarios import scenario_from_data
from wallrenderer.core.layout.walls import wall_from_data
from wallrenderer.renderer.gl import release_framebuffer
from wallrenderer.renderer.scene import PanelView, read_rgb
from wallrenderer.renderer.shaders import ProgramCache, ShaderError

RED = (255, 0, 0)


def scenario(wall, widgets, background="#000000"):
    data = {"scenario": {"name": "t", "background": background, "widgets": widgets}}
    return scenario_from_data(data, wall=wall)


def render(ctx, wall, display, scen, t=0.0):
    view = PanelView(ctx, wall, display)
    fbo = ctx.simple_framebuffer(view.panel.resolution)
    try:
        view.set_scenario(scen)
        view.render(t, fbo)
        return read_rgb(fbo), view.draw_calls
    finally:
        view.release()
        release_framebuffer(ctx, fbo)


@pytest.mark.parametrize("wall_data", [SMALL_GRID, MIXED], ids=["grid", "rotated-mixed"])
def test_rects_straddling_bezels_cover_exactly_the_predicted_pixels(ctx, wall_data):
    wall = wall_from_data(wall_data)
    fractions = [(0.31, 0.22, 0.45, 0.51), (0.02, 0.6, 0.9, 0.08), (0.7, 0.05, 0.25, 0.9)]
    widgets = [{"kind": "rect", "rect": list(f), "color": "#ff0000"} for f in fractions]
    scen = scenario(wall, widgets)
    covered_somewhere = 0
    for panel in wall.panels:
        image, _ = render(ctx, wall, panel.id, scen)
        assert image.shape == (panel.resolution[1], panel.resolution[0], 3)
        expected = np.zeros(image.shape[:2], bool)
        for f in fractions:
            expected |= predicted_mask(panel, wall.fraction_rect(f))
        assert_fill_matches(image, expected, RED, panel.id)
        covered_somewhere += int(expected.any())
    assert covered_somewhere == len(wall.panels)


def test_rotated_panel_shows_canvas_top_left_at_native_corner(ctx):
    wall = wall_from_data(MIXED)
    portrait = wall.panel("portrait")
    corner = Rect(portrait.rect.x, portrait.rect.y, 20, 20)
    frac = [corner.x / wall.canvas[0], corner.y / wall.canvas[1],
            corner.w / wall.canvas[0], corner.h / wall.canvas[1]]
    image, _ = render(ctx, wall, "portrait", scenario(wall, [{"kind": "rect", "rect": frac,
                                                               "color": "#ff0000"}]))
    red = np.all(image == RED, axis=-1)
    h, w = red.shape
    # Rotation 90: the wall's top-left of this panel is native (0, H-1), the bottom-left corner.
    assert red[h - 3, 2] and not red[2, 2] and not red[2, w - 3] and not red[h - 3, w - 3]


def test_text_is_drawn_inside_its_cell_and_nowhere_else(ctx):
    wall = wall_from_data(SMALL_GRID)
    scen = scenario(wall, [{"kind": "text", "cells": "r0c1", "text": "Hello wall"}])
    image, calls = render(ctx, wall, "r0c1", scen)
    lit = image.max(axis=-1) > 128
    assert lit.sum() > 500
    ys, xs = np.nonzero(lit)
    pad = 0.08 * 180
    assert xs.min() >= pad - 1 and xs.max() <= 320 - pad
    assert ys.min() >= pad - 1 and ys.max() <= 180 - pad
    assert abs((xs.min() + xs.max()) / 2 - 160) < 8, "centred text should be centred"
    other, _ = render(ctx, wall, "r0c0", scen)
    assert other.max() == 0
    assert calls == 2, "the cached static image, then one text batch"


def test_testcard_diagonal_continues_across_the_bezel(ctx):
    wall = wall_from_data(SMALL_GRID)
    scen = scenario(wall, [{"kind": "testcard"}])
    cw, ch = wall.canvas
    for display in ("r0c0", "r1c1"):
        panel = wall.panel(display)
        image, calls = render(ctx, wall, display, scen)
        assert calls >= 2
        x = panel.rect.x + panel.rect.w * 0.3
        y = x * ch / cw
        u, v = (int(c) for c in panel.canvas_to_native(x, y))
        patch = image[v - 1 : v + 2, u - 1 : u + 2]
        assert patch.min(axis=-1).max() > 200, f"{display}: no white diagonal at ({u}, {v})"


def test_testcard_labels_each_panel_with_its_id(ctx):
    wall = wall_from_data(SMALL_GRID)
    scen = scenario(wall, [{"kind": "testcard"}])
    image, _ = render(ctx, wall, "r1c0", scen)
    label_band = image[int(180 * 0.28) : int(180 * 0.54), 64:256]
    assert (label_band.min(axis=-1) > 220).sum() > 300, "the panel id should be in large type"


def test_colour_calibration_applies_gain(ctx):
    data = {"wall": {**SMALL_GRID["wall"]}}
    data["wall"]["grid"] = {**data["wall"]["grid"]}
    data["wall"]["grid"]["panel"] = {
        **data["wall"]["grid"]["panel"],
        "color": {"gain": [1.0, 0.5, 0.0], "gamma": 1.0, "brightness": 1.0},
    }
    wall = wall_from_data(data)
    scen = scenario(wall, [{"kind": "rect", "rect": [0, 0, 1, 1], "color": "#ffffff"}])
    image, calls = render(ctx, wall, "r0c0", scen)
    r, g, b = image[90, 160]
    assert r == 255 and 126 <= g <= 129 and b == 0
    assert calls == 2, "the static image holding the fill, then the calibration pass"


def test_broken_shader_reports_numbered_source(ctx, tmp_path):
    (tmp_path / "ok.vert.glsl").write_text(
        "#version 330 core\nin vec2 p;\nvoid main() { gl_Position = vec4(p, 0.0, 1.0); }\n"
    )
    (tmp_path / "bad.frag.glsl").write_text(
        "#version 330 core\nout vec4 c;\nvoid main() { c = undefined_thing; }\n"
    )
    with pytest.raises(ShaderError) as err:
        ProgramCache(ctx, tmp_path).get("ok.vert.glsl", "bad.frag.glsl")
    message = str(err.value)
    assert "--- source 0: bad.frag.glsl ---" in message
    assert "   3  void main() { c = undefined_thing; }" in message
    assert "0:3(" in message, "the driver's source:line should point at line 3 of the file"


def test_testcard_sweep_bar_is_where_shared_time_puts_it_on_every_panel(ctx):
    wall = wall_from_data(SMALL_GRID)
    scen = scenario(wall, [{"kind": "testcard"}])
    cw = wall.canvas[0]
    green = (77, 255, 102)
    for t, display in ((2.0, "r0c0"), (6.0, "r0c1"), (6.0, "r1c1")):
        bar_x = (t % 8.0) / 8.0 * cw
        panel = wall.panel(display)
        image, _ = render(ctx, wall, display, scen, t=t)
        column = round(bar_x - panel.rect.x)
        above_labels = image[: int(0.25 * 180)]
        assert np.all(np.abs(above_labels[:, column].astype(int) - green) <= 1), (
            f"{display}: no bar at canvas x={bar_x:g}"
        )
        assert not np.any(np.all(above_labels[:, column - 20] == green, axis=-1))
        other = "r0c1" if display == "r0c0" else "r0c0"
        other_image, _ = render(ctx, wall, other, scen, t=t)
        assert not np.any(np.all(other_image == green, axis=-1)), f"{other} shows the bar too"


def test_a_cross_fade_blends_the_incoming_scenario_over_the_outgoing_one(ctx):
    wall = wall_from_data(SMALL_GRID)
    red = scenario(wall, [{"kind": "rect", "rect": [0, 0, 1, 1], "color": "#ff0000"}])
    blue = scenario(wall, [{"kind": "rect", "rect": [0, 0, 0.25, 1], "color": "#0000ff"}],
                    background="#00ff00")
    old, new = PanelView(ctx, wall, "r0c0"), PanelView(ctx, wall, "r0c0")
    fbo = ctx.simple_framebuffer(old.panel.resolution)
    try:
        old.set_scenario(red)
        new.set_scenario(blue)
        pixels = {}
        for alpha in (0.0, 0.5, 1.0):
            old.render(0.0, fbo)
            new.render(0.0, fbo, alpha=alpha)
            pixels[alpha] = read_rgb(fbo)
    finally:
        old.release()
        new.release()
        release_framebuffer(ctx, fbo)
    left, right = (5, 5), (5, 300)
    assert tuple(pixels[0.0][left]) == (255, 0, 0) and tuple(pixels[0.0][right]) == (255, 0, 0)
    assert tuple(pixels[1.0][left]) == (0, 0, 255) and tuple(pixels[1.0][right]) == (0, 255, 0)
    # Halfway: half of each; fills and cards are in the cached image, which blends as one.
    half_left, half_right = pixels[0.5][left].astype(int), pixels[0.5][right].astype(int)
    assert abs(half_left - (128, 0, 128)).max() <= 2, half_left
    assert abs(half_right - (128, 128, 0)).max() <= 2, half_right


@pytest.mark.parametrize("calibrated", [False, True], ids=["plain", "calibrated"])
def test_a_cross_fade_blends_translucent_fills_and_calibrated_panels_alike(ctx, calibrated):
    data = {"wall": {**SMALL_GRID["wall"], "grid": {**SMALL_GRID["wall"]["grid"]}}}
    if calibrated:
        data["wall"]["grid"]["panel"] = {
            **data["wall"]["grid"]["panel"],
            "color": {"gain": [1.0, 1.0, 1.0], "gamma": 1.0, "brightness": 0.999},
        }
    wall = wall_from_data(data)
    red = scenario(wall, [{"kind": "rect", "rect": [0, 0, 1, 1], "color": "#ff0000"}])
    half_blue = scenario(wall, [{"kind": "rect", "rect": [0, 0, 1, 1], "color": "#0000ff80"}])
    old, new = PanelView(ctx, wall, "r0c0"), PanelView(ctx, wall, "r0c0")
    fbo = ctx.simple_framebuffer(old.panel.resolution)
    try:
        old.set_scenario(red)
        new.set_scenario(half_blue)
        old.render(0.0, fbo)
        new.render(0.0, fbo, alpha=0.5)
        pixel = read_rgb(fbo)[90, 160].astype(int)
    finally:
        old.release()
        new.release()
        release_framebuffer(ctx, fbo)
    # Half of the old red, half of the new frame: half blue over the black background.
    assert abs(pixel - (128, 0, 64)).max() <= 3, pixel


def test_a_widget_whose_key_or_motion_raises_leaves_the_rest_of_the_panel_drawn(
    ctx, monkeypatch, caplog
):
    """key() and motion() run on every frame: a bug there must not stop the render loop."""
    from wallrenderer.renderer.widgets.ticker import TickerView

    def broken(*_args):
        raise RuntimeError("widget bug")

    monkeypatch.setattr(TickerView, "key", broken)
    monkeypatch.setattr(TickerView, "motion", broken)
    wall = wall_from_data(SMALL_GRID)
    scen = scenario(wall, [
        {"kind": "ticker", "cells": "r1c1", "source": "headlines", "items": ["hello"]},
        {"kind": "rect", "rect": [0.0, 0.0, 1.0, 1.0], "color": "#ff0000"},
    ])
    view = PanelView(ctx, wall, "r1c1")
    fbo = ctx.simple_framebuffer(view.panel.resolution)
    try:
        view.set_scenario(scen)
        for frame in range(3):
            view.render(frame / 60, fbo)
        image = read_rgb(fbo)
    finally:
        view.release()
        release_framebuffer(ctx, fbo)
    assert (image[..., 0] > 200).mean() > 0.9, "the rest of the panel is drawn"
    failures = [r.getMessage() for r in caplog.records if "failed in" in r.getMessage()]
    assert sorted(failures) == ["widget ticker failed in key(); it stays as it was",
                                "widget ticker failed in motion(); it stays as it was"]
