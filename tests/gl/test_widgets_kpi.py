"""The kpi / counter widget: the figure, its change against the previous period, its sparkline."""

from __future__ import annotations

import numpy as np
import pytest
from walls import WIDGET_WALL
from widgets import Built, assert_only_inside, draw_widget, lit

from wallrenderer.core.layout.problems import LayoutError
from wallrenderer.core.layout.scenarios import scenario_from_data
from wallrenderer.core.layout.walls import wall_from_data
from wallrenderer.renderer.widgets.base import SEGMENT, TRIANGLE
from wallrenderer.renderer.widgets.kpi import format_value

KPI = {"kind": "kpi", "cells": "r0c1", "within": [0.1, 0.1, 0.6, 0.7],
       "label": "Mentions, last hour", "value": "volume.by_brand.{own}.1h",
       "previous": "volume.previous_by_brand.{own}.1h", "sparkline": "series.by_brand.{own}"}


def frame(now: int, before: int, series=(3, 5, 4, 8)) -> dict:
    return {"own_brand": "acme",
            "volume": {"by_brand": {"acme": {"1h": now}},
                       "previous_by_brand": {"acme": {"1h": before}}},
            "series": {"by_brand": {"acme": list(series)}}}


def test_kpi_draws_its_figure_inside_its_box_only(ctx):
    wall, box, frames = draw_widget(ctx, KPI, frame(1234, 1000))
    assert assert_only_inside(wall, box, frames) > 2000
    assert not lit(frames["r0c0"]).any() and not lit(frames["r1c1"]).any()


def test_kpi_shows_label_figure_and_change():
    draw = Built(KPI).build(frame(1234, 1000))
    shown = [item.text for item in draw.texts]
    assert shown[:2] == ["Mentions, last hour", "1.2k"]
    assert shown[2] == "+23% vs previous"


@pytest.mark.parametrize(("now", "before", "better", "up", "good"), [
    (1200, 1000, "higher", True, True),
    (800, 1000, "higher", False, False),
    (800, 1000, "lower", False, True),
])
def test_the_change_arrow_points_the_way_and_is_coloured_by_good_news(
    now, before, better, up, good
):
    built = Built({**KPI, "better": better})
    draw = built.build(frame(now, before))
    arrows = [row for row in draw.shapes if row[4] == TRIANGLE]
    assert len(arrows) == 1
    assert (arrows[0][5] > 0) == up
    expected = built.theme.positive if good else built.theme.negative
    assert tuple(arrows[0][8:12]) == pytest.approx(expected)


def test_the_sparkline_follows_the_series():
    draw = Built(KPI).build(frame(10, 10, series=(0, 10, 0, 10)))
    strokes = np.array([row[:4] for row in draw.shapes if row[4] == SEGMENT])
    assert len(strokes) == 3
    tops, bottoms = strokes[:, 1], strokes[:, 3]
    assert bottoms[0] < tops[0] and bottoms[1] > tops[1], "up, then down, in canvas y"


@pytest.mark.parametrize("data", [{}, {"volume": None}, frame(0, 0), {"own_brand": 5}])
def test_missing_or_odd_data_shows_a_dash_and_no_change(data):
    draw = Built(KPI).build(data)
    shown = [item.text for item in draw.texts]
    figure = shown[1] if len(shown) > 1 else None
    assert figure in ("\u2013", "0")
    assert not any(row[4] == TRIANGLE for row in draw.shapes), "no change without a base"


@pytest.mark.parametrize(("value", "fmt", "text"), [
    (0.4213, "percent", "42%"), (45, "duration", "45 s"), (95, "duration", "2 min"),
    (5400, "duration", "1.5 h"),
    (1234.5, "number", "1,234"), (3.25, "number", "3.2"), (4_100_000, "count", "4.1M"),
    (None, "count", "\u2013"), (True, "count", "\u2013"),
])
def test_formats(value, fmt, text):
    assert format_value(value, fmt) == text


def test_a_kpi_without_a_value_path_is_refused_with_the_field_named():
    wall = wall_from_data(WIDGET_WALL)
    bad = {k: v for k, v in KPI.items() if k != "value"}
    with pytest.raises(LayoutError, match=r"widgets\[0\]\.value: missing required field"):
        scenario_from_data({"scenario": {"name": "s", "widgets": [bad]}}, wall=wall)
