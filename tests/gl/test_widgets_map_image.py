"""The `map` and `image` widgets on real GL: where their pixels land, in which colour."""

from __future__ import annotations

import base64
import logging

import numpy as np
import pytest
from PIL import Image
from walls import WIDGET_WALL
from widgets import assert_only_inside, draw_widget, lit, widget_scene

from wallrenderer.core.layout.images import MAX_IMAGE_BYTES, embed_images
from wallrenderer.core.layout.placement import widget_rect
from wallrenderer.core.layout.problems import LayoutError
from wallrenderer.core.layout.scenarios import scenario_from_data
from wallrenderer.core.layout.walls import wall_from_data
from wallrenderer.renderer import fonts
from wallrenderer.renderer.gl import release_framebuffer
from wallrenderer.renderer.preview import render_panels
from wallrenderer.renderer.scene import PanelView, read_rgb
from wallrenderer.renderer.widgets.base import Draw
from wallrenderer.renderer.widgets.image import ImageView
from wallrenderer.renderer.widgets.theme import Theme
from wallrenderer.renderer.widgets.worldmap import MapView, Palette, map_point

MAP_ACROSS = {"kind": "map", "cells": "r1c0:r1c1"}
BUSY_FR = {"countries": {"1h": {"FR": 1000, "US": 10}}}
FRANCE, USA, BRAZIL, MID_PACIFIC = (2.5, 46.5), (-100.0, 40.0), (-50.0, -10.0), (-150.0, 0.0)
RED = (255, 0, 0)


def theme_of(wall, scenario) -> Theme:
    """The theme a panel gives the scenario (as PanelView.set_scenario makes it)."""
    panel_h = min(p.rect.h for p in wall.panels)
    return Theme.for_scenario(scenario.theme, scenario.background, panel_h)


def map_view(widget: dict) -> tuple:
    wall = wall_from_data(WIDGET_WALL)
    scenario = widget_scene(wall, [widget])
    spec = scenario.widgets[0]
    return wall, MapView(spec, widget_rect(spec, wall), theme_of(wall, scenario))


def pixel(wall, frames, x: float, y: float) -> np.ndarray:
    """The native pixel showing canvas point (x, y), as int RGB."""
    for panel in wall.panels:
        r = panel.rect
        if r.x <= x < r.right and r.y <= y < r.bottom:
            u, v = panel.canvas_to_native(x, y)
            return frames[panel.id][int(v), int(u)].astype(int)
    raise AssertionError(f"({x}, {y}) is on no panel")


def rgb(color) -> np.ndarray:
    return np.round(np.asarray(color[:3]) * 255).astype(int)


def built_texts(wall, view, data) -> list:
    """The text items a view lays out for the panel at the canvas origin."""
    panel = wall.panels[0]
    draw = Draw(wall, panel.rect, panel.native_pitch_scale(), view.theme,
                str(fonts.find_font()))
    view.build(draw, data, 0.0)
    return draw.texts


def no_widget_failed(caplog) -> None:
    failures = [r for r in caplog.records if "failed to draw" in r.getMessage()]
    assert not failures, failures[0].getMessage()


# ----------------------------------------------------------------------------- map


def test_map_draws_only_inside_its_box(ctx):
    widget = {"kind": "map", "rect": [0.1, 0.15, 0.8, 0.7]}
    wall, box, frames = draw_widget(ctx, widget, BUSY_FR)
    assert assert_only_inside(wall, box, frames) > 0.5 * box.w * box.h


def test_busy_country_is_brighter_than_a_quiet_one_and_the_sea_is_card(ctx, caplog):
    wall, view = map_view(MAP_ACROSS)
    _, _, frames = draw_widget(ctx, MAP_ACROSS, BUSY_FR)
    no_widget_failed(caplog)
    palette = Palette.for_theme(view.theme)
    france = pixel(wall, frames, *map_point(view.layout.map, *FRANCE))
    usa = pixel(wall, frames, *map_point(view.layout.map, *USA))
    brazil = pixel(wall, frames, *map_point(view.layout.map, *BRAZIL))
    sea = pixel(wall, frames, *map_point(view.layout.map, *MID_PACIFIC))
    assert france.sum() > usa.sum() + 150
    assert np.abs(france - rgb(palette.ramp(1.0))).max() <= 3
    assert np.abs(usa - rgb(palette.ramp(np.sqrt(10 / 1000)))).max() <= 3
    assert np.abs(brazil - rgb(palette.land)).max() <= 3, "no mentions: plain land"
    assert np.abs(sea - rgb(view.theme.surface)).max() <= 3, "the sea shows the card"


def test_legend_lists_the_busiest_countries_in_order_off_the_seams():
    counts = {"FR": 1000, "US": 10, "DE": 500, "JP": 300, "BR": 200, "SG": 900}
    wall, view = map_view({**MAP_ACROSS, "labels": 3})
    texts = built_texts(wall, view, {"countries": {"1h": counts}})
    shown = {item.text: item for item in texts}
    assert {"France", "Singapore", "Germany", "1.0k", "900", "500"} <= set(shown)
    assert not {"Japan", "Brazil", "United States"} & set(shown)
    assert shown["France"].box.y < shown["Singapore"].box.y < shown["Germany"].box.y
    for item in texts:
        assert any(p.rect.x <= item.box.x and item.box.right <= p.rect.right
                   and p.rect.y <= item.box.y and item.box.bottom <= p.rect.bottom
                   for p in wall.panels), f"{item.text!r} crosses a seam"


@pytest.mark.parametrize("data", [{}, {"countries": None}, {"countries": {"1h": "junk"}},
                                  {"countries": {"1h": {"FR": "many", "??": -3}}}])
def test_map_without_usable_data_shows_plain_land_and_says_so(ctx, caplog, data):
    wall, view = map_view(MAP_ACROSS)
    _, _, frames = draw_widget(ctx, MAP_ACROSS, data)
    no_widget_failed(caplog)
    france = pixel(wall, frames, *map_point(view.layout.map, *FRANCE))
    assert np.abs(france - rgb(Palette.for_theme(view.theme).land)).max() <= 3
    assert "Waiting for data" in {item.text for item in built_texts(wall, view, data)}


def test_map_fades_with_the_scenario(ctx):
    wall = wall_from_data(WIDGET_WALL)
    widget = {"kind": "map", "cells": "r0c0", "labels": 0, "title": ""}
    scenario = widget_scene(wall, [widget])
    spec = scenario.widgets[0]
    view = MapView(spec, widget_rect(spec, wall), theme_of(wall, scenario))
    france, sea = map_point(view.layout.map, *FRANCE), map_point(view.layout.map, *MID_PACIFIC)
    panel = PanelView(ctx, wall, "r0c0")
    fbo = ctx.simple_framebuffer(panel.panel.resolution)
    try:
        panel.set_scenario(scenario)
        panel.set_data(BUSY_FR)
        seen = {}
        for alpha in (1.0, 0.5):
            fbo.clear(0.0, 0.0, 0.0, 1.0)
            panel.render(0.0, fbo, alpha=alpha)
            frames = {"r0c0": read_rgb(fbo)}
            seen[alpha] = pixel(wall, frames, *france), pixel(wall, frames, *sea)
    finally:
        panel.release()
        release_framebuffer(ctx, fbo)
    full = rgb(Palette.for_theme(view.theme).ramp(1.0))
    assert np.abs(seen[1.0][0] - full).max() <= 3
    # The map is part of the panel's cached image, which fades in as a whole over black.
    faded, sea = seen[0.5]
    assert np.abs(faded - 0.5 * full).max() <= 3
    assert np.abs(sea - 0.5 * seen[1.0][1]).max() <= 3


# ----------------------------------------------------------------------------- image


@pytest.fixture
def red_png(tmp_path):
    path = tmp_path / "red.png"
    Image.new("RGB", (200, 100), RED).save(path)
    return path


def red_pixels(frames) -> dict:
    return {pid: np.all(np.abs(f.astype(int) - RED) <= 2, axis=-1) for pid, f in frames.items()}


def test_image_contain_keeps_the_aspect_inside_its_box(ctx, red_png):
    widget = {"kind": "image", "cells": "r0c0", "src": str(red_png)}
    wall, box, frames = draw_widget(ctx, widget, {})
    assert assert_only_inside(wall, box, frames) > 0
    red = red_pixels(frames)["r0c0"]
    assert (lit(frames["r0c0"]) == red).all(), "only the picture's own colour is drawn"
    ys, xs = np.nonzero(red)
    width, height = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
    assert width == 640 and abs(height - 320) <= 1, "2:1 picture, as wide as the 16:9 box"
    assert abs((ys.min() + ys.max()) / 2 - 179.5) <= 1, "centred vertically"


def test_image_cover_fills_its_box_and_opacity_blends(ctx, red_png):
    cover = {"kind": "image", "cells": "r0c0", "src": str(red_png), "fit": "cover"}
    _, _, frames = draw_widget(ctx, cover, {})
    assert red_pixels(frames)["r0c0"].all()
    faded = {**cover, "opacity": 0.5}
    _, _, frames = draw_widget(ctx, faded, {})
    assert abs(int(frames["r0c0"][180, 320, 0]) - 128) <= 2


def test_missing_image_shows_a_placeholder_naming_the_file(ctx, caplog, tmp_path):
    widget = {"kind": "image", "cells": "r0c1", "src": str(tmp_path / "nope.png")}
    with caplog.at_level(logging.WARNING):
        wall, box, frames = draw_widget(ctx, widget, {})
    no_widget_failed(caplog)
    assert assert_only_inside(wall, box, frames) > 0, "the placeholder card is drawn"
    assert not any(red_pixels(frames)[p].any() for p in frames)
    scenario = widget_scene(wall, [widget])
    view = ImageView(scenario.widgets[0], box, theme_of(wall, scenario))
    texts = built_texts(wall, view, {})
    assert [item.text for item in texts] == ["nope.png"]


def test_image_travels_inside_the_scenario(ctx, red_png, tmp_path):
    document = {"scenario": {"name": "t", "background": "#000000", "widgets": [
        {"kind": "image", "cells": "r0c0", "src": red_png.name},
        {"kind": "image", "cells": "r0c1", "src": "absent.png"},
    ]}}
    problems = embed_images(document, tmp_path)
    assert len(problems) == 1 and "absent.png" in problems[0]
    red_png.unlink()  # the renderer must not need the file any more
    wall = wall_from_data(WIDGET_WALL)
    frames = render_panels(ctx, wall, scenario_from_data(document, wall=wall), {}, 0.0)
    assert red_pixels(frames)["r0c0"].sum() > 0.4 * 640 * 360


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (base64.b64encode(b"\0" * (MAX_IMAGE_BYTES + 1)).decode(), "the limit is 512 KiB"),
        ("not base64!", "not base64"),
        (base64.b64encode(b"GIF89a" + b"\0" * 64).decode(), "PNG or JPEG"),
    ],
    ids=["oversized", "not-base64", "not-an-image"],
)
def test_unusable_image_data_is_rejected_with_a_clear_message(data, message):
    wall = wall_from_data(WIDGET_WALL)
    widget = {"kind": "image", "cells": "r0c0", "src": "logo.png", "data": data}
    with pytest.raises(LayoutError) as error:
        widget_scene(wall, [widget])
    assert message in str(error.value)
    assert "data" in str(error.value)


def test_oversized_file_is_not_embedded(tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(b"\0" * (MAX_IMAGE_BYTES + 1))
    document = {"scenario": {"name": "t", "widgets": [
        {"kind": "image", "cells": "r0c0", "src": "big.png"}]}}
    problems = embed_images(document, tmp_path)
    assert "the limit is 512 KiB" in problems[0]
    assert "data" not in document["scenario"]["widgets"][0]

