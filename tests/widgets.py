"""Drawing one widget on a test wall and checking where its pixels land."""

from __future__ import annotations

from typing import Any

import numpy as np
from pixels import grow, predicted_mask
from walls import WIDGET_WALL

from wallrenderer.core.geometry import Rect, Wall
from wallrenderer.core.layout.placement import widget_rect
from wallrenderer.core.layout.scenarios import scenario_from_data
from wallrenderer.core.layout.walls import wall_from_data
from wallrenderer.renderer.fonts import find_font
from wallrenderer.renderer.preview import render_panels
from wallrenderer.renderer.widgets import VIEWS
from wallrenderer.renderer.widgets.base import Draw
from wallrenderer.renderer.widgets.theme import Theme

BACKGROUND = "#000000"
# The instant widget tests draw at unless they say otherwise (2026-11-18 11:06:40 UTC).
SAMPLE_NOW = 1_795_000_000.0


def widget_scene(wall: Wall, widgets: list[dict[str, Any]], theme: dict | None = None,
                 locale: str | None = None):
    body: dict[str, Any] = {"name": "t", "background": BACKGROUND, "widgets": widgets}
    if theme:
        body["theme"] = theme
    if locale:
        body["locale"] = locale
    return scenario_from_data({"scenario": body}, wall=wall)


def draw_widget(
    ctx, widget: dict[str, Any], data: dict[str, Any], t: float = 0.0,
    wall_data: dict = WIDGET_WALL,
) -> tuple[Wall, Rect, dict[str, np.ndarray]]:
    """Frames of every panel with only `widget` on the wall; also its canvas box."""
    wall = wall_from_data(wall_data)
    scenario = widget_scene(wall, [widget])
    frames = render_panels(ctx, wall, scenario, data, t)
    return wall, widget_rect(scenario.widgets[0], wall), frames


def lit(image: np.ndarray, threshold: int = 24) -> np.ndarray:
    """Pixels that differ from the black background."""
    return image.max(axis=-1) > threshold


def assert_only_inside(wall: Wall, box: Rect, frames: dict[str, np.ndarray]) -> int:
    """Nothing is drawn outside `box` on any panel (1 px of anti-aliasing allowed).

    Returns the number of lit pixels inside, so tests can also check that
    something was drawn at all.
    """
    inside = 0
    for panel in wall.panels:
        image = frames[panel.id]
        allowed = grow(predicted_mask(panel, box))
        stray = lit(image) & ~allowed
        assert not stray.any(), f"{panel.id}: {stray.sum()} pixels drawn outside the widget"
        inside += int((lit(image) & allowed).sum())
    return inside


def region(wall: Wall, frames: dict[str, np.ndarray], box: Rect) -> np.ndarray:
    """Lit-pixel mask of the canvas part `box` on the panel that holds its centre."""
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    for panel in wall.panels:
        r = panel.rect
        if r.x <= cx < r.right and r.y <= cy < r.bottom:
            return lit(frames[panel.id]) & predicted_mask(panel, box)
    raise AssertionError(f"no panel under {box}")


class Built:
    """A widget's view on WIDGET_WALL, built without GL so its Draw output can be read."""

    def __init__(self, widget, locale: str | None = None):
        wall = wall_from_data(WIDGET_WALL)
        scenario = widget_scene(wall, [widget], locale=locale)
        spec = scenario.widgets[0]
        self.box = widget_rect(spec, wall)
        self.panel = next(p for p in wall.panels if p.rect.intersects(self.box))
        panel_h = min(p.rect.h for p in wall.panels)
        self.theme = Theme.for_scenario(scenario.theme, scenario.background, panel_h,
                                        scenario.locale)
        self.wall = wall
        self.view = VIEWS[spec.kind](spec, self.box, self.theme)

    def build(self, data, t: float = SAMPLE_NOW) -> Draw:
        draw = Draw(self.wall, self.panel.rect, self.panel.native_pitch_scale(), self.theme,
                    str(find_font()))
        self.view.key(data, t)  # as the panel does before every build
        self.view.build(draw, data, t)
        return draw
