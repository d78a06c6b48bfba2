"""The shipped scenarios on the shipped 2x2 and 3x2 walls: they load, draw, and keep text off seams.

Golden images: a few whole walls are compared with tests/golden/*.png. After
a deliberate change of look, regenerate them with
`UPDATE_GOLDEN=1 .venv/bin/pytest tests/gl/test_scenarios.py` and look at them.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from controller.library import load_library
from controller.sample import sample_frame
from wallrenderer.core.layout.placement import widget_rect
from wallrenderer.core.layout.scenarios import scenario_from_data
from wallrenderer.core.layout.validate import validate_files
from wallrenderer.core.resources import builtin_path
from wallrenderer.renderer.fonts import find_font
from wallrenderer.renderer.preview import render_wall
from wallrenderer.renderer.widgets import VIEWS
from wallrenderer.renderer.widgets.base import Draw, intersection
from wallrenderer.renderer.widgets.theme import Theme

SHIPPED = ("monitoring", "crisis", "product-launch", "visitor-tour", "testcard")
WALLS = ("demo-2x2", "hub-3x2")
GOLDEN = Path(__file__).resolve().parent.parent / "golden"
# A fixed instant, so the data, the clocks and every animation are the same on every run.
NOW = 1_795_000_000.0
# Golden tolerance: software rendering is deterministic, but a font or Mesa update
# may move anti-aliased edges by a level or two; a wrong layout changes far more.
MEAN_DIFF = 1.5
FAR_DIFF, FAR_SHARE = 64, 0.005


@pytest.fixture(scope="module")
def frames():
    return {"calm": sample_frame(NOW), "spike": sample_frame(NOW, spike=True)}


def wall_path(name: str) -> Path:
    return builtin_path("layouts", "walls", f"{name}.yaml")


def data_for(name: str, frames: dict) -> dict:
    return frames["spike"] if name == "crisis" else frames["calm"]


def test_every_shipped_scenario_validates_strictly_on_both_walls():
    scenarios = [builtin_path("layouts", "scenarios", f"{n}.yaml") for n in SHIPPED]
    problems = validate_files(scenarios, [wall_path(w) for w in WALLS])
    assert problems == [], "\n".join(map(str, problems))


@pytest.mark.parametrize("wall_name", WALLS)
@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenario_draws_every_panel_without_a_widget_error(
    ctx, frames, caplog, wall_name, name
):
    library = load_library(wall_path(wall_name))
    assert name in library.scenarios, library.problems
    scenario = scenario_from_data(library.scenarios[name], wall=library.wall)
    caplog.set_level(logging.WARNING)
    image = render_wall(ctx, library.wall, scenario, data_for(name, frames), NOW, max_side=960)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
    lit = image.max(axis=-1) > 40
    assert lit.mean() > 0.03, "the wall shows content, not only its background"


@pytest.mark.parametrize("wall_name", WALLS)
@pytest.mark.parametrize("name", SHIPPED[:-1])
def test_no_text_of_a_shipped_scenario_sits_on_a_seam(frames, wall_name, name):
    library = load_library(wall_path(wall_name))
    wall = library.wall
    scenario = scenario_from_data(library.scenarios[name], wall=wall)
    theme = Theme.for_scenario(scenario.theme, scenario.background,
                               min(p.rect.h for p in wall.panels))
    checked = 0
    for widget in scenario.widgets:
        if widget.kind == "ticker":
            continue  # a crawl scrolls through the bezels by design
        view = VIEWS[widget.kind](widget, widget_rect(widget, wall), theme)
        for panel in wall.panels:
            if not panel.rect.intersects(view.box):
                continue
            draw = Draw(wall, panel.rect, 1.0, theme, str(find_font()))
            view.key(data_for(name, frames), NOW)  # as the panel does before a build
            view.build(draw, data_for(name, frames), NOW)
            for item in draw.texts:
                clip = draw.clips.get(item.group)
                shown = item.box if clip is None else intersection(item.box, clip)
                if shown is not None:
                    assert not wall.straddles_seam(shown), (widget.kind, item.text, shown)
                    checked += 1
    assert checked > 20


@pytest.mark.parametrize("name", ["monitoring", "crisis", "visitor-tour"])
def test_shipped_scenario_matches_its_golden_image(ctx, frames, name):
    library = load_library(wall_path("demo-2x2"))
    scenario = scenario_from_data(library.scenarios[name], wall=library.wall)
    image = render_wall(ctx, library.wall, scenario, data_for(name, frames), NOW, max_side=1280)
    golden = GOLDEN / f"{name}.png"
    if os.environ.get("UPDATE_GOLDEN"):
        Image.fromarray(image).save(golden, optimize=True)
    expected = np.asarray(Image.open(golden).convert("RGB"))
    assert image.shape == expected.shape
    diff = np.abs(image.astype(int) - expected.astype(int)).max(axis=-1)
    assert diff.mean() <= MEAN_DIFF, f"{name}: mean difference {diff.mean():.2f}"
    far = (diff > FAR_DIFF).mean()
    assert far <= FAR_SHARE, f"{name}: {far:.2%} of pixels differ by more than {FAR_DIFF}"
