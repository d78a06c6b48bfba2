"""Frames with odd values (infinities, wrong shapes) never break a widget: a dash or calm instead.

JSON decoders turn 1e999 into infinity, and a source may send any shape; a
widget that raised would show nothing until its data changed.
"""

from __future__ import annotations

import pytest
from widgets import SAMPLE_NOW, Built

INF = float("inf")
PLACE = {"cells": "r0c0"}


@pytest.mark.parametrize(("widget", "data"), [
    ({"kind": "alert"}, {"alerts": [{"kind": "volume", "brand": "acme", "top_terms": 5,
                                     "started_at": SAMPLE_NOW - 60}]}),
    ({"kind": "alert"}, {"alerts": [{"kind": "negative", "top_terms": "abc",
                                     "acknowledged_by": "x", "acknowledged_at": -INF}]}),
    ({"kind": "timeseries"}, {"series": {"step_s": INF, "start": 0, "by_brand": {"a": [1, 2]}}}),
    ({"kind": "timeseries"}, {"brands": [{"x": 1}], "series": {"by_brand": {"a": [1, 2]}}}),
    ({"kind": "bars"}, {"brands": [{"x": 1}], "share_of_voice": {"by_brand": {"a": 0.5}}}),
    ({"kind": "gauge"}, {"own_brand": "a", "sentiment": {"window_s": INF,
                                                        "by_brand": {"a": {"net": INF}}}}),
    ({"kind": "map"}, {"countries": {"1h": {"FR": 1e308, "fr": 1e308, "US": INF}}}),
    ({"kind": "kpi", "label": "x", "value": "v", "previous": "p", "sparkline": "s"},
     {"v": INF, "p": 1, "s": [True, INF, -5, "x", 3]}),
])
def test_odd_values_draw_without_an_error(widget, data):
    draw = Built({**widget, **PLACE}).build(data)
    assert draw.texts or draw.backdrop, "the widget still draws its card and a calm text"
    assert not any("inf" in item.text.lower() or "nan" in item.text.lower()
                   for item in draw.texts)


def test_a_kpi_with_infinite_values_shows_a_dash_and_no_change():
    widget = {"kind": "kpi", "label": "x", "value": "v", "previous": "p", **PLACE}
    shown = [item.text for item in Built(widget).build({"v": INF, "p": 10}).texts]
    assert shown == ["x", "\u2013"]


def test_a_sparkline_with_negative_values_stays_inside_its_card():
    widget = {"kind": "kpi", "label": "x", "value": "v", "sparkline": "s", **PLACE}
    built = Built(widget)
    draw = built.build({"v": 1, "s": [-5, -1, -3, -2]})
    ys = [y for row in draw.shapes for y in (row[1], row[3])]
    assert built.box.y <= min(ys) and max(ys) <= built.box.bottom
