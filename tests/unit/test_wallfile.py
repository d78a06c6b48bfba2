"""Wall files written by `calibrate` and by colour nudges: the README's shape, loading back."""

from __future__ import annotations

import pytest
import yaml

from wallrenderer.core.geometry import ColorCalibration, GeometryError, PanelSpec
from wallrenderer.core.layout.problems import LayoutError
from wallrenderer.core.layout.wallfile import nominal_specs, wall_yaml, with_panel_color
from wallrenderer.core.layout.walls import load_wall, wall_from_data
from wallrenderer.core.resources import builtin_path


def shipped(name):
    return yaml.safe_load(builtin_path("layouts", "walls", f"{name}.yaml").read_text())


def test_the_written_wall_has_exactly_the_documented_shape():
    specs = [
        PanelSpec("left", (0.0, -0.0), (680.4, 1209.6), (1920, 1080), 90),
        PanelSpec("right", (686.004, 0.5), (1209.6, 680.4), (1920, 1080), 0,
                  ColorCalibration((1.0, 0.97, 0.95), 1.0, 1.0)),
    ]
    assert wall_yaml("lobby", specs, 0.63) == """wall:
  name: lobby
  pitch_mm: 0.63
  panels:
    - id: left
      position_mm: [0, 0]
      active_mm: [680.4, 1209.6]
      resolution: [1920, 1080]
      rotation: 90
    - id: right
      position_mm: [686, 0.5]
      active_mm: [1209.6, 680.4]
      resolution: [1920, 1080]
      rotation: 0
      color: {gain: [1, 0.97, 0.95], gamma: 1, brightness: 1}
"""


def test_a_grid_is_ordered_at_its_exact_bezels():
    specs = nominal_specs(shipped("demo-2x2"))
    assert [s.id for s in specs] == ["r0c0", "r0c1", "r1c0", "r1c1"]
    assert specs[3].position_mm == pytest.approx((1209.6 + 3.6, 680.4 + 3.6))


def test_a_colour_nudge_on_a_grid_keeps_its_canvas_exactly():
    data = shipped("hub-3x2")
    before = wall_from_data(data)
    new, text = with_panel_color(data, "r1c2", ColorCalibration((1.0, 0.9, 0.8), 1.1, 0.95))
    after = wall_from_data(new)
    assert after.canvas == before.canvas
    assert [p.rect for p in after.panels] == [p.rect for p in before.panels]
    assert after.panel("r1c2").color == ColorCalibration((1.0, 0.9, 0.8), 1.1, 0.95)
    assert after.panel("r0c0").color.is_identity
    assert yaml.safe_load(text) == new


def test_a_colour_nudge_on_explicit_panels_keeps_the_files_millimetres(tmp_path):
    data = shipped("lobby-mixed")
    new, text = with_panel_color(data, "r0c0", ColorCalibration(gamma=1.2))
    (tmp_path / "w.yaml").write_text(text)
    assert load_wall(tmp_path / "w.yaml").panel("r0c2").latency_ms == 16
    assert [p["position_mm"] for p in new["wall"]["panels"]] == [
        list(p["position_mm"]) for p in data["wall"]["panels"]]


def test_bad_colours_and_unknown_panels_are_refused():
    with pytest.raises(LayoutError, match=r"color\.gain\[1\]"):
        with_panel_color(shipped("demo-2x2"), "r0c0", ColorCalibration((1.0, -1.0, 1.0)))
    with pytest.raises(GeometryError, match="unknown display id 'nope'"):
        with_panel_color(shipped("demo-2x2"), "nope", ColorCalibration())
