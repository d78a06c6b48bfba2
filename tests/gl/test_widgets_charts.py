"""Chart widgets (`timeseries`, `bars`, `leaderboard`): where they draw, what, and how they move."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from pixels import predicted_mask
from walls import WIDGET_WALL
from widgets import assert_only_inside, draw_widget, lit, widget_scene

from controller.sample import sample_frame
from wallrenderer.core.geometry import Rect, Wall
from wallrenderer.core.layout.placement import widget_rect
from wallrenderer.core.layout.problems import LayoutError
from wallrenderer.core.layout.scenarios import scenario_from_data
from wallrenderer.core.layout.walls import wall_from_data
from wallrenderer.renderer import fonts
from wallrenderer.renderer.widgets import VIEWS
from wallrenderer.renderer.widgets.base import BOX, TRIANGLE, Draw, WidgetView, format_count
from wallrenderer.renderer.widgets.theme import Theme
from wallrenderer.renderer.widgets.timeseries import FILL_ALPHA

NOW = 1795000000.0
BRANDS = ["acme", "globex", "initech", "umbrella"]
# theme.series_color(i) of the default theme, as 8-bit RGB, in the frame's brand order.
BRAND_RGB = {"acme": (230, 159, 0), "globex": (86, 180, 233), "initech": (0, 158, 115),
             "umbrella": (240, 228, 66)}
TIMESERIES_WIDE = {"kind": "timeseries", "cells": "r0c0:r0c1"}
BARS = {"kind": "bars", "cells": "r1c0"}
LEADERBOARD = {"kind": "leaderboard", "cells": "r1c1"}
# The widget wall's panels in the 3 x 2 grid of layouts/walls/hub-3x2.yaml.
HUB_WALL = {"wall": {**WIDGET_WALL["wall"], "grid": {**WIDGET_WALL["wall"]["grid"], "cols": 3}}}


@pytest.fixture(scope="module")
def frame():
    """The sample frame, computed once (about half a second); tests copy before changing it."""
    return sample_frame(NOW)


def make_view(widget: dict, wall_data: dict = WIDGET_WALL) -> tuple[Wall, WidgetView]:
    """The widget's view as a panel would create it, for building without GL."""
    wall = wall_from_data(wall_data)
    scenario = widget_scene(wall, [widget])
    spec = scenario.widgets[0]
    panel_h = min(p.rect.h for p in wall.panels)
    theme = Theme.for_scenario(scenario.theme, scenario.background, panel_h)
    return wall, VIEWS[spec.kind](spec, widget_rect(spec, wall), theme)


def build(wall: Wall, view: WidgetView, data: dict, t: float, panel_id: str = "r0c0") -> Draw:
    panel = wall.panel(panel_id)
    draw = Draw(wall, panel.rect, panel.native_pitch_scale(), view.theme,
                str(fonts.find_font()))
    view.key(data, t)  # as the panel does before every build
    view.build(draw, data, t)
    return draw


def colour_mask(wall: Wall, frames: dict, box: Rect, rgb: tuple, tolerance: int = 12):
    """Pixels of `box` (on the panel holding its centre) within `tolerance` of `rgb`."""
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    panel = next(p for p in wall.panels if p.rect.x <= cx < p.rect.right
                 and p.rect.y <= cy < p.rect.bottom)
    image = frames[panel.id].astype(int)
    near = (np.abs(image - np.array(rgb)) <= tolerance).all(axis=-1)
    return near & predicted_mask(panel, box)


def texts_of(draw: Draw) -> list[str]:
    return [item.text for item in draw.texts]


@pytest.mark.parametrize("widget", [TIMESERIES_WIDE, BARS, LEADERBOARD],
                         ids=["timeseries", "bars", "leaderboard"])
def test_draws_only_inside_its_box_and_shows_content(ctx, frame, widget):
    wall, box, frames = draw_widget(ctx, widget, frame, NOW)
    card = assert_only_inside(wall, box, frames)
    assert card > 0.9 * box.w * box.h  # the card fills the box
    content = sum(int((lit(img, 90) & predicted_mask(wall.panel(pid), box)).sum())
                  for pid, img in frames.items())
    assert content > 0.01 * box.w * box.h, "little besides the card was drawn"


JUNK = {
    "brands": "acme", "own_brand": 3,
    "series": {"start": "x", "step_s": -1,
               "by_brand": {"acme": [1, None, "2", float("nan"), True], "b": [], "c": 4}},
    "share_of_voice": {"by_brand": {"acme": float("nan"), "b": -0.2, "c": None, "d": True}},
    "authors": {"top": [None, {"handle": 5}, {"handle": "", "reach": 3},
                        {"handle": "x", "name": 7, "followers": "many", "reach": float("inf")}]},
}


@pytest.mark.parametrize("widget", [TIMESERIES_WIDE, BARS, LEADERBOARD],
                         ids=["timeseries", "bars", "leaderboard"])
def test_malformed_data_does_not_break_a_widget(widget):
    wall, view = make_view(widget)
    for data in (JUNK, {"authors": [], "series": [], "share_of_voice": 1}, JUNK):
        draw = build(wall, view, data, NOW)  # raises if the widget cannot cope
        assert draw.texts, "neither figures nor a waiting note"


@pytest.mark.parametrize("widget", [TIMESERIES_WIDE, BARS, LEADERBOARD],
                         ids=["timeseries", "bars", "leaderboard"])
def test_missing_data_still_shows_the_card_and_says_so(ctx, widget):
    wall, box, frames = draw_widget(ctx, widget, {}, NOW)
    assert assert_only_inside(wall, box, frames) > 0.9 * box.w * box.h
    wall, view = make_view(widget)
    draw = build(wall, view, {}, NOW)  # raises if the widget cannot cope
    assert "Waiting for data" in texts_of(draw)


def test_timeseries_draws_our_brand_in_its_colour_in_the_plot(ctx, frame):
    plot_part = {"kind": "timeseries", "cells": "r0c0"}
    wall, box, frames = draw_widget(ctx, plot_part, frame, NOW)
    lower = Rect(box.x, box.y + 0.3 * box.h, box.w, 0.6 * box.h)
    own = colour_mask(wall, frames, lower, BRAND_RGB["acme"])
    assert own.sum() > 300, "our line is missing from the plot"
    others = {"kind": "timeseries", "cells": "r0c0", "brands": ["globex", "initech"]}
    wall, box, frames = draw_widget(ctx, others, frame, NOW)
    assert colour_mask(wall, frames, lower, BRAND_RGB["acme"]).sum() < 5
    assert colour_mask(wall, frames, lower, BRAND_RGB["globex"], 40).sum() > 100


def test_bars_are_sorted_by_value_with_lengths_in_proportion(ctx):
    shares = {"acme": 0.3, "globex": 0.45, "initech": 0.05, "umbrella": 0.2}
    data = {"brands": BRANDS, "own_brand": "acme", "share_of_voice": {"by_brand": shares}}
    wall, box, frames = draw_widget(ctx, BARS, data, NOW)
    lengths, rows = {}, {}
    for brand, rgb in BRAND_RGB.items():
        ys, xs = np.nonzero(colour_mask(wall, frames, box, rgb))
        assert len(xs), f"no bar for {brand}"
        lengths[brand], rows[brand] = xs.max() - xs.min() + 1, ys.mean()
    ranked = sorted(shares, key=lambda b: -shares[b])
    assert sorted(rows, key=rows.get) == ranked, "bars are not top-down by value"
    assert [lengths[b] for b in ranked] == sorted(lengths.values(), reverse=True)
    assert lengths["acme"] / lengths["globex"] == pytest.approx(0.3 / 0.45, abs=0.03)


def test_bars_show_counts_from_a_field_of_each_brand(frame):
    widget = {"kind": "bars", "cells": "r1c0", "path": "volume.by_brand", "field": "1h",
              "format": "count", "title": "Mentions, 1 h"}
    wall, view = make_view(widget)
    texts = texts_of(build(wall, view, frame, NOW, "r1c0"))
    counts = {b: frame["volume"]["by_brand"][b]["1h"] for b in BRANDS}
    ranked = sorted(BRANDS, key=lambda b: -counts[b])
    shown = [t for t in texts if t in BRANDS]
    assert shown == ranked
    assert {format_count(counts[b]) for b in BRANDS} <= set(texts)
    assert "Mentions, 1 h" in texts


def test_bars_slide_to_their_new_rows_when_the_order_changes():
    wall, view = make_view(BARS)
    before = {"acme": 0.4, "globex": 0.3, "initech": 0.2, "umbrella": 0.1}
    after = {"acme": 0.1, "globex": 0.3, "initech": 0.2, "umbrella": 0.4}

    def label_y(draw: Draw) -> dict[str, float]:
        return {i.text: i.box.y for i in draw.texts if i.text in BRANDS}

    def shown(t: float) -> dict[str, float]:
        dy = {m.group: m.dy for m in view.motion(t)}
        return {b: new[b] + dy[g] for b, g in view.row_groups.items()}

    data = {"brands": BRANDS, "own_brand": "acme", "share_of_voice": {"by_brand": before}}
    old = label_y(build(wall, view, data, 100.0, "r1c0"))
    data = {"brands": BRANDS, "own_brand": "acme", "share_of_voice": {"by_brand": after}}
    new = label_y(build(wall, view, data, 200.0, "r1c0"))
    assert new["acme"] > old["acme"] and new["umbrella"] < old["umbrella"]
    moving = shown(200.15)
    for brand in ("acme", "umbrella"):
        low, high = sorted((old[brand], new[brand]))
        assert low < moving[brand] < high, f"{brand} is not on its way"
    assert moving["globex"] == pytest.approx(new["globex"])
    # A value update in the same order (frames come 10 times a second) keeps the slide going.
    after["globex"] = 0.31
    build(wall, view, data, 200.2, "r1c0")
    assert shown(200.3)["acme"] > moving["acme"]
    assert shown(200.61) == pytest.approx(new)


def test_leaderboard_draws_the_configured_number_of_rows(frame):
    wall, view = make_view({"kind": "leaderboard", "cells": "r1c1", "rows": 5})
    draw = build(wall, view, frame, NOW, "r1c1")
    handles = [t for t in texts_of(draw) if t.startswith("@")]
    assert handles == [f"@{a['handle']}" for a in frame["authors"]["top"][:5]]
    assert [t for t in texts_of(draw) if t.isdigit()] == ["1", "2", "3", "4", "5"]


def test_leaderboard_marks_rank_changes_and_newcomers(frame):
    wall, view = make_view(LEADERBOARD)
    first = build(wall, view, frame, NOW, "r1c1")
    assert "new" not in texts_of(first)
    assert not [s for s in first.shapes if s[4] == TRIANGLE]
    changed = copy.deepcopy(frame)
    top = changed["authors"]["top"]
    top[0], top[2] = top[2], top[0]
    top[4] = {"network": "x", "handle": "fresh", "name": "Fresh Face", "followers": 10,
              "posts": 1, "reach": 10}
    draw = build(wall, view, changed, NOW + 1, "r1c1")
    assert texts_of(draw).count("new") == 1
    arrows = [s for s in draw.shapes if s[4] == TRIANGLE]
    assert sorted(s[5] for s in arrows) == [-1.0, 1.0]  # one up, one down
    theme = view.theme
    twos = [i for i in draw.texts if i.text == "2" and i.color in (theme.positive, theme.negative)]
    assert {i.color for i in twos} == {theme.positive, theme.negative}
    # Another update in the same order keeps showing the last change, as does a gap in the data.
    build(wall, view, {}, NOW + 2, "r1c1")
    again = build(wall, view, copy.deepcopy(changed), NOW + 3, "r1c1")
    assert texts_of(again).count("new") == 1


@pytest.mark.parametrize(
    "placement",
    [{"cells": "r0c0:r1c1"}, {"rect": [0.1, 0.0, 0.5, 0.6]}, {"rect": [0.05, 0.3, 0.9, 0.6]}],
    ids=["whole-wall", "legend-over-seam", "plot-over-seams"],
)
def test_timeseries_labels_never_straddle_a_seam(frame, placement):
    wall, view = make_view({"kind": "timeseries", **placement})
    texts = []
    for panel in wall.panels:
        draw = build(wall, view, frame, NOW, panel.id)
        boxes = [item.box for item in draw.texts]
        for item in draw.texts:
            assert not wall.straddles_seam(item.box), f"{item.text!r} straddles a seam"
        for i, a in enumerate(boxes):
            assert not any(a.intersects(b) for b in boxes[i + 1:]), "labels overlap"
        texts += texts_of(draw)
    assert {"Mentions per minute", "now", *BRANDS} <= set(texts)
    assert sum(t.isdigit() for t in set(texts)) >= 3, "too few gridline values"
    assert any(t.endswith(" min") for t in texts)


def _shifted(frame: dict) -> dict:
    """The frame a minute later: every series moved on by one bin."""
    later = copy.deepcopy(frame)
    series = later["series"]
    series["start"] += series["step_s"]
    for values in series["by_brand"].values():
        values.append(values.pop(0))
    return later


def test_timeseries_slides_left_by_one_step_when_a_bin_is_added(frame):
    wall, view = make_view(TIMESERIES_WIDE)
    series = frame["series"]
    new_bin = series["start"] + series["step_s"] * len(series["by_brand"]["acme"])
    build(wall, view, frame, new_bin - 5)
    build(wall, view, _shifted(frame), new_bin + 0.3)

    def dx(t: float) -> float:
        (motion,) = view.motion(t)
        return motion.dx

    held = dx(new_bin + 0.5)
    plot_w = wall.panel("r0c1").rect.right - wall.panel("r0c0").rect.x
    assert 0.5 * plot_w / 59 < held < plot_w / 59, "not held one step to the right"
    assert dx(new_bin + 0.9) == held
    assert 0 < dx(new_bin + 1.25) < held
    # The new bin filling up during the slide does not cut it short.
    filling = _shifted(frame)
    filling["series"]["by_brand"]["acme"][-1] += 3
    build(wall, view, filling, new_bin + 1.1)
    assert 0 < dx(new_bin + 1.25) < held
    assert dx(new_bin + 2.0) == 0.0
    # Nor is it a shift of its own once the slide is over: nothing moves.
    filling["series"]["by_brand"]["acme"][-1] += 3
    build(wall, view, filling, new_bin + 3)
    assert dx(new_bin + 3.1) == 0.0


def test_timeseries_caches_its_settled_fill_and_moves_it_only_to_slide(frame):
    wall, view = make_view(TIMESERIES_WIDE)
    series = frame["series"]
    new_bin = series["start"] + series["step_s"] * len(series["by_brand"]["acme"])

    def fill_boxes(rows) -> int:
        return sum(r[4] == BOX and r[11] == pytest.approx(FILL_ALPHA) for r in rows)

    settled = build(wall, view, frame, new_bin - 5)
    assert fill_boxes(settled.backdrop) > 20, "the settled fill is drawn every frame"
    assert fill_boxes(settled.shapes) < 10  # only the bin still filling up
    sliding = build(wall, view, _shifted(frame), new_bin + 0.3)
    assert fill_boxes(sliding.backdrop) == 0 and fill_boxes(sliding.shapes) > 20
    assert view.key(frame, new_bin + 1.2) != view.key(frame, new_bin + 1.6), (
        "no rebuild to cache the fill again once the slide is over")


def test_timeseries_slide_starts_on_arrival_when_clocks_disagree(frame):
    wall, view = make_view(TIMESERIES_WIDE)
    build(wall, view, frame, 10.0)
    build(wall, view, _shifted(frame), 20.0)
    (start,), (middle,), (end,) = view.motion(20.0), view.motion(20.25), view.motion(21.0)
    assert start.dx > middle.dx > end.dx == 0.0


@pytest.mark.parametrize(
    "widget, key",
    [
        ({"kind": "timeseries", "cells": "r0c0", "colour": "red"}, "colour"),
        ({"kind": "timeseries", "cells": "r0c0", "fill": "yes"}, "fill"),
        ({"kind": "bars", "cells": "r0c0", "format": "percentage"}, "format"),
        ({"kind": "bars", "cells": "r0c0", "sort": "asc"}, "sort"),
        ({"kind": "leaderboard", "cells": "r0c0", "rows": 0}, "rows"),
        ({"kind": "leaderboard", "cells": "r0c0", "top": 5}, "top"),
    ],
)
def test_bad_keys_are_rejected_with_the_key_named(widget, key):
    wall = wall_from_data(WIDGET_WALL)
    with pytest.raises(LayoutError, match=rf"widgets\[0\]\.{key}"):
        scenario_from_data({"scenario": {"name": "t", "widgets": [widget]}}, wall=wall)


def test_every_example_in_the_docs_loads_and_draws(frame):
    text = (Path(__file__).parents[2] / "docs" / "widgets-charts.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    widgets = [w for block in blocks for w in yaml.safe_load(block)]
    assert {w["kind"] for w in widgets} == {"timeseries", "bars", "leaderboard"}
    for widget in widgets:
        wall, view = make_view(widget, HUB_WALL)
        panel = next(p for p in wall.panels if p.rect.intersects(view.box))
        draw = build(wall, view, frame, NOW, panel.id)
        assert "Waiting for data" not in texts_of(draw), widget
