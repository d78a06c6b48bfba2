"""Layout files: shipped ones load, broken ones name file, line and field."""

# Test names say what each test checks; docstrings would repeat them.

from __future__ import annotations

import textwrap

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from wallrenderer.core.geometry import Rect, grid_wall
from wallrenderer.core.layout.fields import parse_color
from wallrenderer.core.layout.kinds import WIDGET_KINDS, RectWidget, TestcardWidget, TextWidget
from wallrenderer.core.layout.placement import widget_rect
from wallrenderer.core.layout.problems import LayoutError, Problem
from wallrenderer.core.layout.scenarios import (
    load_scenario,
    scenario_from_data,
    scenario_from_text,
)
from wallrenderer.core.layout.validate import validate_files
from wallrenderer.core.layout.walls import load_wall, wall_from_data, wall_from_text
from wallrenderer.core.resources import builtin_path

pytestmark = pytest.mark.unit

WALLS = builtin_path("layouts", "walls")
SCENARIOS = builtin_path("layouts", "scenarios")
DEMO = WALLS / "demo-2x2.yaml"

GRID_WALL = """\
wall:
  name: test
  grid:
    rows: 2
    cols: 2
    panel:
      resolution: [1920, 1080]
      active_mm: [1209.6, 680.4]
      bezel_mm: {left: 1.8, right: 1.8, top: 1.8, bottom: 1.8}
"""

TWO_PANELS = """\
wall:
  name: lobby
  panels:
    - id: left
      position_mm: [0, 0]
      active_mm: [680.4, 1209.6]
      resolution: [1920, 1080]
      rotation: 90
    - id: right
      position_mm: [686.0, 0]
      active_mm: [1209.6, 680.4]
      resolution: [1920, 1080]
"""


def write(tmp_path, text: str, name: str = "layout.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def check(tmp_path, text: str, wall_paths=()) -> list[Problem]:
    return validate_files([write(tmp_path, text)], wall_paths=list(wall_paths))


def only(problems: list[Problem], severity: str = "error") -> Problem:
    """The single problem of that severity; fails listing all when there are more or none."""
    matching = [p for p in problems if p.severity == severity]
    assert len(matching) == 1, "\n".join(map(str, problems))
    return matching[0]


# ----------------------------------------------------------------------------- shipped layouts


@pytest.mark.parametrize("path", sorted(WALLS.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_wall_loads(path):
    wall = load_wall(path)
    assert wall.name == path.stem
    assert len(wall.panels) >= 2


# The data scenarios are laid out for grid walls of two rows (2 or 3 columns);
# the calibration ones fit any wall.
ANY_WALL_SCENARIOS = ("hello", "testcard", "calibration", "calibration-colour", "safe-screen")
GRID_WALLS = ("demo-2x2", "hub-3x2")


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_scenario_loads_on_the_shipped_walls_it_is_made_for(path):
    for wall_path in WALLS.glob("*.yaml"):
        wall = load_wall(wall_path)
        if path.stem in ANY_WALL_SCENARIOS or wall.name in GRID_WALLS:
            scenario = load_scenario(path, wall=wall)
            assert scenario.name == path.stem
            assert scenario.widgets
        else:
            with pytest.raises(LayoutError, match=f"is on wall '{wall.name}'"):
                load_scenario(path, wall=wall)


def test_shipped_layouts_validate_clean_together():
    walls, scenarios = sorted(WALLS.glob("*.yaml")), sorted(SCENARIOS.glob("*.yaml"))
    assert len(walls) >= 3 and len(scenarios) >= 6
    assert validate_files(walls) == []
    assert validate_files(scenarios, [WALLS / f"{name}.yaml" for name in GRID_WALLS]) == []


def test_demo_wall_matches_design_arithmetic():
    wall = load_wall(DEMO)
    gap = round(3.6 / 0.63)
    assert wall.canvas == (2 * 1920 + gap, 2 * 1080 + gap)
    assert wall.panel("r1c1").rect == Rect(1920 + gap, 1080 + gap, 1920, 1080)


def test_hub_wall_is_three_by_two_with_one_pixel_seams():
    wall = load_wall(WALLS / "hub-3x2.yaml")
    assert wall.grid == (2, 3)
    assert wall.panel("r0c1").rect.x == 1920 + 1


def test_lobby_wall_mixes_rotation_and_resolution():
    wall = load_wall(WALLS / "lobby-mixed.yaml")
    portrait, landscape, uhd = wall.panels
    assert portrait.rotation == 90 and portrait.rect.h > portrait.rect.w
    assert uhd.resolution == (3840, 2160)
    assert wall.pitch_mm == pytest.approx(0.315)
    assert landscape.native_pitch_scale() == pytest.approx(0.5)
    assert uhd.latency_ms == 16
    assert not any(a.rect.intersects(b.rect) for a in wall.panels for b in wall.panels if a != b)


def test_testcard_covers_whole_canvas():
    wall = load_wall(DEMO)
    (card,) = load_scenario(SCENARIOS / "testcard.yaml", wall=wall).widgets
    assert isinstance(card, TestcardWidget)
    assert card.grid_px == 120
    assert widget_rect(card, wall) == Rect(0, 0, *wall.canvas)


def test_hello_has_a_rect_across_seams_and_text_in_one_panel():
    wall = load_wall(DEMO)
    scenario = load_scenario(SCENARIOS / "hello.yaml", wall=wall)
    rects = [w for w in scenario.widgets if isinstance(w, RectWidget)]
    texts = [w for w in scenario.widgets if isinstance(w, TextWidget)]
    assert any(wall.straddles_seam(widget_rect(r, wall)) for r in rects)
    assert widget_rect(texts[0], wall) == wall.panel("r0c0").rect


# ----------------------------------------------------------------------------- wall problems


def test_unknown_key_in_panel_suggests_the_known_one(tmp_path):
    text = TWO_PANELS.replace("      rotation: 90\n", "      rotation: 90\n      colour: {}\n")
    problem = only(check(tmp_path, text))
    assert (problem.line, problem.field) == (9, "wall.panels[0].colour")
    assert "unknown key 'colour'" in problem.message
    assert "'color'" in problem.message


def test_string_instead_of_number(tmp_path):
    problem = only(check(tmp_path, GRID_WALL.replace("rows: 2", "rows: two")))
    assert (problem.line, problem.field) == (4, "wall.grid.rows")
    assert "'two'" in problem.message


def test_quoted_number_is_not_a_number(tmp_path):
    problem = only(check(tmp_path, GRID_WALL.replace("[1209.6, 680.4]", '["1209.6", 680.4]')))
    assert (problem.line, problem.field) == (8, "wall.grid.panel.active_mm[0]")


def test_negative_active_mm(tmp_path):
    problem = only(check(tmp_path, GRID_WALL.replace("[1209.6, 680.4]", "[1209.6, -680.4]")))
    assert (problem.line, problem.field) == (8, "wall.grid.panel.active_mm[1]")
    assert "greater than 0" in problem.message


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("[1920, 1080]", "[0, 1080]", "wall.grid.panel.resolution[0]"),
        ("cols: 2", "cols: 0", "wall.grid.cols"),
        ("left: 1.8", "left: -1.8", "wall.grid.panel.bezel_mm.left"),
        ("[1920, 1080]", "[1920, 1080, 3]", "wall.grid.panel.resolution"),
        ("[1209.6, 680.4]", "[1209.6]", "wall.grid.panel.active_mm[1]"),
        ("[1209.6, 680.4]", "[.nan, 680.4]", "wall.grid.panel.active_mm[0]"),
    ],
)
def test_bad_sizes_name_the_field(tmp_path, old, new, field):
    problem = only(check(tmp_path, GRID_WALL.replace(old, new)))
    assert problem.field == field
    assert problem.line == next(
        n for n, line in enumerate(GRID_WALL.splitlines(), 1) if old in line
    )


def test_zero_pitch(tmp_path):
    problem = only(
        check(tmp_path, GRID_WALL.replace("  name: test\n", "  name: t\n  pitch_mm: 0\n"))
    )
    assert (problem.line, problem.field) == (3, "wall.pitch_mm")


def test_rotation_45(tmp_path):
    problem = only(check(tmp_path, TWO_PANELS.replace("rotation: 90", "rotation: 45")))
    assert (problem.line, problem.field) == (8, "wall.panels[0].rotation")
    assert "0, 90, 180, 270" in problem.message


def test_overlapping_panels_name_both_at_the_second(tmp_path):
    problem = only(check(tmp_path, TWO_PANELS.replace("[686.0, 0]", "[600.0, 0]")))
    assert (problem.line, problem.field) == (10, "wall.panels[1].position_mm")
    assert "'left'" in problem.message and "'right'" in problem.message


def test_touching_panels_do_not_overlap(tmp_path):
    assert check(tmp_path, TWO_PANELS.replace("[686.0, 0]", "[680.4, 0]")) == []


def test_panels_a_fraction_of_a_pixel_apart_do_not_overlap_after_rounding(tmp_path):
    wall = wall_from_data(
        {
            "wall": {
                "name": "tight",
                "pitch_mm": 1.0,
                "panels": [
                    {
                        "id": "a",
                        "position_mm": [0, 0],
                        "active_mm": [100, 50],
                        "resolution": [100, 50],
                    },
                    {
                        "id": "b",
                        "position_mm": [100.6, 0],
                        "active_mm": [100.6, 50],
                        "resolution": [100, 50],
                    },
                    {
                        "id": "c",
                        "position_mm": [201.3, 0],
                        "active_mm": [100, 50],
                        "resolution": [100, 50],
                    },
                ],
            }
        }
    )
    assert wall.panel("b").rect.right <= wall.panel("c").rect.x


def test_duplicate_panel_id(tmp_path):
    problem = only(check(tmp_path, TWO_PANELS.replace("id: right", "id: left")))
    assert (problem.line, problem.field) == (9, "wall.panels[1].id")
    assert "line 4" in problem.message


def test_forgotten_rotation_is_a_warning_not_an_error(tmp_path):
    text = TWO_PANELS.replace("      rotation: 90\n", "")
    problem = only(check(tmp_path, text), severity="warning")
    assert (problem.line, problem.field) == (6, "wall.panels[0].active_mm")
    assert "rotation: 90" in problem.message
    assert str(problem).startswith(
        f"{tmp_path / 'layout.yaml'}:6: wall.panels[0].active_mm: warning:"
    )
    assert [p.id for p in wall_from_text(text).panels] == ["left", "right"]


def test_missing_required_field_points_at_its_parent(tmp_path):
    problem = only(check(tmp_path, GRID_WALL.replace("    rows: 2\n", "")))
    assert (problem.line, problem.field) == (3, "wall.grid.rows")
    assert "missing" in problem.message


def test_grid_and_panels_together(tmp_path):
    text = GRID_WALL + TWO_PANELS.split("  name: lobby\n")[1]
    problem = only(check(tmp_path, text))
    assert (problem.line, problem.field) == (1, "wall")


def test_duplicate_yaml_key(tmp_path):
    problem = only(
        check(tmp_path, GRID_WALL.replace("    cols: 2\n", "    cols: 2\n    cols: 3\n"))
    )
    assert (problem.line, problem.field) == (6, "wall.grid.cols")
    assert "line 5" in problem.message


def test_yaml_syntax_error_has_the_line_of_the_mark(tmp_path):
    problem = only(check(tmp_path, GRID_WALL.replace("rows: 2", "rows: [2")))
    assert problem.line == 5
    assert "YAML" in problem.message


def test_yaml_anchor_merge_may_override_without_duplicate_warning(tmp_path):
    text = """\
    panel: &p {resolution: [1920, 1080], active_mm: [1209.6, 680.4], position_mm: [0, 0]}
    wall:
      name: merged
      panels:
        - {<<: *p, id: a}
        - {<<: *p, id: b, position_mm: [1215, 0]}
    """
    problem = only(check(tmp_path, text))
    assert (problem.line, problem.field) == (1, "panel")  # the anchor holder is not a wall key


def test_file_problems_never_raise(tmp_path):
    missing = validate_files([str(tmp_path / "nope.yaml")])
    assert only(missing).message.startswith("cannot read file")
    assert only(check(tmp_path, "- 1\n- 2\n")).message.startswith("expected a top-level")
    assert "empty" in only(check(tmp_path, "")).message
    assert "not both" in only(check(tmp_path, "wall: {}\nscenario: {}\n")).message


def test_layout_error_lists_every_error(tmp_path):
    text = GRID_WALL.replace("rows: 2", "rows: -1").replace("cols: 2", "cols: x")
    with pytest.raises(LayoutError) as caught:
        load_wall(write(tmp_path, text))
    assert [(p.line, p.field) for p in caught.value.problems] == [
        (4, "wall.grid.rows"),
        (5, "wall.grid.cols"),
    ]
    assert (
        str(caught.value)
        .splitlines()[0]
        .endswith(":4: wall.grid.rows: " + caught.value.problems[0].message)
    )


def test_load_wall_missing_file_is_a_layout_error(tmp_path):
    with pytest.raises(LayoutError, match="cannot read file"):
        load_wall(tmp_path / "absent.yaml")


def test_network_data_has_line_zero():
    data = yaml.safe_load(GRID_WALL)
    data["wall"]["grid"]["panel"]["rotation"] = 45
    with pytest.raises(LayoutError) as caught:
        wall_from_data(data, source="controller")
    problem = only(caught.value.problems)
    assert (problem.file, problem.line, problem.field) == (
        "controller",
        0,
        "wall.grid.panel.rotation",
    )


def test_grid_colour_calibration_reaches_the_panels():
    text = GRID_WALL + "      color: {gain: [1.0, 0.9, 0.8], gamma: 2.2}\n"
    wall = wall_from_text(text)
    assert {p.color.gain for p in wall.panels} == {(1.0, 0.9, 0.8)}
    assert wall.panels[0].color.gamma == 2.2


# ----------------------------------------------------------------------------- scenario problems

SCENARIO = """\
scenario:
  name: s
  background: "#05070d"
  widgets:
    - kind: rect
      rect: [0.1, 0.2, 0.5, 0.3]
      color: "#ff0000"
    - kind: text
      cells: r0c0
      text: "Hello wall"
"""


def test_scenario_parses_to_typed_widgets():
    scenario = scenario_from_text(SCENARIO, source="s.yaml")
    rect, text = scenario.widgets
    assert scenario.background == pytest.approx((5 / 255, 7 / 255, 13 / 255, 1.0))
    assert rect.color == (1.0, 0.0, 0.0, 1.0)
    assert (rect.line, text.line) == (5, 8)
    assert (text.size, text.align, text.padding, text.font) == (None, "center", 0.08, None)
    assert scenario.source == "s.yaml"


def test_unknown_widget_kind(tmp_path):
    problem = only(check(tmp_path, SCENARIO.replace("kind: text", "kind: sparkline")))
    assert (problem.line, problem.field) == (8, "scenario.widgets[1].kind")
    assert problem.message.startswith("unknown widget kind 'sparkline' (known: alert, bars, ")


def test_every_widget_kind_of_the_design_is_registered():
    assert set(WIDGET_KINDS) == {
        "rect", "text", "testcard", "counter", "kpi", "timeseries", "bars", "gauge", "feed",
        "ticker", "leaderboard", "map", "topics", "alert", "clock", "image", "calibration",
        "caption",
    }


def test_cells_unknown_on_the_wall(tmp_path):
    problems = check(tmp_path, SCENARIO.replace("cells: r0c0", "cells: r0c0:r9c9"), [DEMO])
    problem = only(problems)
    assert (problem.line, problem.field) == (9, "scenario.widgets[1].cells")
    assert "'r9c9'" in problem.message and "demo-2x2" in problem.message


def test_cells_without_a_wall_only_checks_syntax(tmp_path):
    assert check(tmp_path, SCENARIO.replace("cells: r0c0", "cells: r9c9")) == []
    problem = only(check(tmp_path, SCENARIO.replace("cells: r0c0", "cells: 'r0c0:'")))
    assert (problem.line, problem.field) == (9, "scenario.widgets[1].cells")


def test_scenario_checked_against_every_wall_among_the_files(tmp_path):
    scenario = write(tmp_path, SCENARIO, "s.yaml")
    lobby = write(tmp_path, TWO_PANELS, "lobby.yaml")
    problem = only(validate_files([scenario, str(DEMO), lobby]))
    assert "'r0c0'" in problem.message and "lobby" in problem.message


def test_load_scenario_checks_cells_against_the_wall(tmp_path):
    path = write(tmp_path, SCENARIO.replace("cells: r0c0", "cells: r9c9"))
    with pytest.raises(LayoutError, match="r9c9"):
        load_scenario(path, wall=load_wall(DEMO))


@pytest.mark.parametrize(
    ("value", "expected_in_message"),
    [
        ('"#ff00"', "not a colour"),
        ("red", "not a colour"),
        ("[1, 0]", "not a colour"),
        ("[1.5, 0, 0]", "not a colour"),
        ("#ff0000", "quotes"),
    ],
)
def test_bad_colour_names_the_field(tmp_path, value, expected_in_message):
    problem = only(check(tmp_path, SCENARIO.replace('color: "#ff0000"', f"color: {value}")))
    assert (problem.line, problem.field) == (7, "scenario.widgets[0].color")
    assert expected_in_message in problem.message


def test_bad_background(tmp_path):
    problem = only(check(tmp_path, SCENARIO.replace('"#05070d"', '"#05070g"')))
    assert (problem.line, problem.field) == (3, "scenario.background")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("#fff", (1.0, 1.0, 1.0, 1.0)),
        ("#ff000080", (1.0, 0.0, 0.0, 128 / 255)),
        ([0, 0.5, 1], (0.0, 0.5, 1.0, 1.0)),
        ((0.1, 0.2, 0.3, 0.4), (0.1, 0.2, 0.3, 0.4)),
    ],
)
def test_colour_forms(value, expected):
    assert parse_color(value) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("widget", "field", "message"),
    [
        ("{kind: rect, rect: [0.6, 0, 0.5, 1]}", "scenario.widgets[0].rect", "right edge"),
        ("{kind: rect, rect: [0, 0, 1, 0]}", "scenario.widgets[0].rect", "above 0"),
        ("{kind: rect, rect: [0, 0, 1.5, 1]}", "scenario.widgets[0].rect[2]", "less than"),
        ("{kind: rect}", "scenario.widgets[0]", "needs 'rect'"),
        ("{kind: rect, rect: [0, 0, 1, 1], cells: r0c0}", "scenario.widgets[0]", "both"),
        ("{kind: testcard, cells: r0c0}", "scenario.widgets[0]", "neither"),
        ("{kind: text, cells: r0c0}", "scenario.widgets[0].text", "missing"),
        (
            "{kind: text, text: x, cells: r0c0, align: middle}",
            "scenario.widgets[0].align",
            "'left'",
        ),
        ("{kind: text, text: x, cells: r0c0, size: -3}", "scenario.widgets[0].size", "greater"),
        ("{cells: r0c0}", "scenario.widgets[0].kind", "missing"),
        ("{kind: testcard, grid_px: 0}", "scenario.widgets[0].grid_px", "greater"),
        ("{kind: rect, rect: [0, 0, 1, 1], line: 3}", "scenario.widgets[0].line", "unknown key"),
    ],
)
def test_widget_problems(tmp_path, widget, field, message):
    text = f"scenario:\n  name: s\n  widgets:\n    - {widget}\n"
    problem = only(check(tmp_path, text))
    assert (problem.line, problem.field) == (4, field)
    assert message in problem.message


def test_all_widget_problems_reported_in_one_pass(tmp_path):
    text = """\
    scenario:
      name: s
      background: "#zzz"
      widgets:
        - {kind: nope}
        - {kind: rect, rect: [0, 0, 2, 1]}
    """
    assert [(p.line, p.field) for p in check(tmp_path, text)] == [
        (3, "scenario.background"),
        (5, "scenario.widgets[0].kind"),
        (6, "scenario.widgets[1].rect[2]"),
    ]


def test_scenario_from_data_and_widget_rects():
    wall = load_wall(DEMO)
    data = {
        "scenario": {
            "name": "net",
            "widgets": [
                {"kind": "rect", "rect": [0.5, 0.5, 0.5, 0.5], "color": [0, 1, 0]},
                {"kind": "text", "text": "x", "cells": "r0c0:r1c1"},
            ],
        }
    }
    rect, text = scenario_from_data(data, wall=wall).widgets
    w, h = wall.canvas
    assert widget_rect(rect, wall) == Rect(w / 2, h / 2, w / 2, h / 2)
    assert widget_rect(text, wall) == Rect(0, 0, w, h)
    assert rect.line == 0


# ----------------------------------------------------------------------------- grid == explicit


@st.composite
def grids(draw):
    width = draw(st.integers(16, 4096))
    height = draw(st.integers(16, 4096))
    rotation = draw(st.sampled_from([0, 90, 180, 270]))
    mounted_w, mounted_h = (height, width) if rotation in (90, 270) else (width, height)
    pitch = draw(st.floats(0.05, 2.0))
    bezel = st.floats(0.0, 12.0)
    return dict(
        name="prop",
        rows=draw(st.integers(1, 4)),
        cols=draw(st.integers(1, 4)),
        resolution=(width, height),
        active_mm=(mounted_w * pitch, mounted_h * pitch),
        bezel_mm={side: draw(bezel) for side in ("left", "right", "top", "bottom")},
        rotation=rotation,
    )


@settings(max_examples=60, deadline=None)
@given(grid=grids(), pin_pitch=st.booleans())
def test_grid_and_explicit_panels_describe_the_same_wall(grid, pin_pitch):
    from_grid = wall_from_text(
        yaml.safe_dump(
            {
                "wall": {
                    "name": grid["name"],
                    "grid": {
                        "rows": grid["rows"],
                        "cols": grid["cols"],
                        "panel": {
                            "resolution": list(grid["resolution"]),
                            "active_mm": list(grid["active_mm"]),
                            "bezel_mm": grid["bezel_mm"],
                            "rotation": grid["rotation"],
                        },
                    },
                }
            }
        )
    )
    assert from_grid == grid_wall(**grid)
    explicit = {
        "name": grid["name"],
        "panels": [
            {
                "id": spec.id,
                "position_mm": list(spec.position_mm),
                "active_mm": list(spec.active_mm),
                "resolution": list(spec.resolution),
                "rotation": spec.rotation,
            }
            for spec in from_grid.to_panel_specs()
        ],
    }
    if pin_pitch:
        explicit["pitch_mm"] = from_grid.pitch_mm
    from_panels = wall_from_text(yaml.safe_dump({"wall": explicit}))
    assert from_panels.canvas == from_grid.canvas
    assert [(p.id, p.rect, p.rotation) for p in from_panels.panels] == [
        (p.id, p.rect, p.rotation) for p in from_grid.panels
    ]


def test_text_straddling_a_bezel_is_a_warning_and_text_on_one_panel_is_not(tmp_path):
    wall = builtin_path("layouts", "walls", "demo-2x2.yaml")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(textwrap.dedent("""\
        scenario:
          name: s
          widgets:
            - kind: text
              rect: [0.4, 0.1, 0.2, 0.1]
              text: across the seam
            - kind: text
              cells: r0c0:r0c1
              text: spans two panels
            - kind: text
              cells: r1c1
              text: on one panel
            - kind: rect
              rect: [0.4, 0.1, 0.2, 0.1]
    """))
    problems = validate_files([scenario], [wall])
    assert [(p.line, p.severity, p.field) for p in problems] == [
        (5, "warning", "scenario.widgets[0].rect"),
        (8, "warning", "scenario.widgets[1].cells"),
    ]
    assert "straddles a bezel" in problems[0].message


def test_validate_strict_fails_on_text_a_bezel_would_cut(tmp_path, capsys):
    from wallrenderer.cli import main

    wall = builtin_path("layouts", "walls", "demo-2x2.yaml")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(textwrap.dedent("""\
        scenario:
          name: s
          widgets:
            - kind: kpi
              cells: r0c0:r0c1
              label: Mentions
              value: volume.total.1h
    """))
    assert main(["validate", str(scenario), "--wall", str(wall)]) == 0
    assert "kpi straddles a bezel" in capsys.readouterr().out
    assert main(["validate", "--strict", str(scenario), "--wall", str(wall)]) == 1


def test_cells_choices_take_the_first_that_the_wall_has(tmp_path):
    text = textwrap.dedent("""\
        scenario:
          name: s
          widgets:
            - kind: rect
              cells: [r1c1:r1c2, r1c1]
              within: [0.5, 0, 0.5, 1]
    """)
    demo = wall_from_text(builtin_path("layouts", "walls", "demo-2x2.yaml").read_text())
    hub = wall_from_text(builtin_path("layouts", "walls", "hub-3x2.yaml").read_text())
    for wall, cells in ((demo, "r1c1"), (hub, "r1c1:r1c2")):
        widget = scenario_from_text(text, wall=wall).widgets[0]
        box = wall.cells_rect(cells)
        assert widget_rect(widget, wall) == Rect(box.x + box.w / 2, box.y, box.w / 2, box.h)
    lobby = wall_from_text(builtin_path("layouts", "walls", "lobby-mixed.yaml").read_text())
    with pytest.raises(LayoutError, match="none of cells r1c1:r1c2, r1c1 is on wall"):
        scenario_from_text(text, wall=lobby)


def test_a_cells_choice_may_carry_its_own_within():
    text = textwrap.dedent("""        scenario:
          name: s
          widgets:
            - kind: rect
              cells: [r1c2, {cells: r1c1, within: [0, 0, 0.5, 1]}]
    """)
    demo = wall_from_text(builtin_path("layouts", "walls", "demo-2x2.yaml").read_text())
    hub = wall_from_text(builtin_path("layouts", "walls", "hub-3x2.yaml").read_text())
    assert widget_rect(scenario_from_text(text, wall=hub).widgets[0], hub) == hub.cells_rect("r1c2")
    half = demo.cells_rect("r1c1")
    assert widget_rect(scenario_from_text(text, wall=demo).widgets[0], demo) == Rect(
        half.x, half.y, half.w / 2, half.h)
    needs_c2 = text.replace("cells: [r1c2, {cells: r1c1, within: [0, 0, 0.5, 1]}]",
                            "cells: [{cells: r1c1, requires: r1c2}, {cells: r0c0}]")
    assert widget_rect(scenario_from_text(needs_c2, wall=hub).widgets[0], hub) == (
        hub.cells_rect("r1c1"))
    assert widget_rect(scenario_from_text(needs_c2, wall=demo).widgets[0], demo) == (
        demo.cells_rect("r0c0"))
    bad = text.replace("within: [0, 0, 0.5, 1]", "within: [0.8, 0, 0.5, 1]")
    with pytest.raises(LayoutError, match="runs past the right edge"):
        scenario_from_text(bad, wall=demo)


def test_aliases_that_multiply_a_file_are_refused_not_expanded():
    """A 'billion laughs' document: each level ten aliases of the one before."""
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    text = "scenario:\n  name: laughs\n  widgets: []\n" + "\n".join(levels) + "\n"
    with pytest.raises(LayoutError, match="expands to more than"):
        scenario_from_text(text, source="laughs.yaml")
