"""A whole wall drawn in one process, for `wallrenderer preview`, golden-image tests and benchmarks.

Each panel is drawn by its own `PanelView` exactly as its renderer would, into
an offscreen buffer on one headless context, then put back where it hangs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import moderngl
import numpy as np

from wallrenderer.core.geometry import Wall
from wallrenderer.core.layout.scenarios import Scenario
from wallrenderer.core.wallimage import compose_wall
from wallrenderer.renderer.gl import release_framebuffer
from wallrenderer.renderer.scene import PanelView, read_rgb
from wallrenderer.renderer.shaders import ProgramCache


@contextmanager
def panel_views(
    ctx: moderngl.Context, wall: Wall, scenario: Scenario, data: dict[str, Any]
) -> Iterator[dict[str, PanelView]]:
    """A view per panel, set up with `scenario` and `data`, released afterwards."""
    programs = ProgramCache(ctx)
    views: dict[str, PanelView] = {}
    try:
        for panel in wall.panels:
            view = PanelView(ctx, wall, panel.id, programs=programs)
            views[panel.id] = view
            view.set_scenario(scenario)
            view.set_data(data)
        yield views
    finally:
        for view in views.values():
            view.release()
        programs.release()


def render_panels(
    ctx: moderngl.Context, wall: Wall, scenario: Scenario, data: dict[str, Any], t: float
) -> dict[str, np.ndarray]:
    """Every panel's native frame at shared time `t`, by display id."""
    frames = {}
    with panel_views(ctx, wall, scenario, data) as views:
        for panel_id, view in views.items():
            fbo = ctx.simple_framebuffer(view.panel.resolution)
            try:
                view.render(t, fbo)
                frames[panel_id] = read_rgb(fbo)
            finally:
                release_framebuffer(ctx, fbo)
    return frames


def render_wall(
    ctx: moderngl.Context,
    wall: Wall,
    scenario: Scenario,
    data: dict[str, Any],
    t: float,
    max_side: int = 4096,
) -> np.ndarray:
    """The wall to scale with bezels as dark gaps, as `wall.png` of a headless demo."""
    return compose_wall(wall, render_panels(ctx, wall, scenario, data, t), max_side)
