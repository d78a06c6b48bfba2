"""Status widgets (gauge, alert, clock) and text in any script, drawn on real GL."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from pixels import predicted_mask
from walls import WIDGET_WALL
from widgets import Built, assert_only_inside, draw_widget, lit, widget_scene

from controller.sample import sample_frame
from wallrenderer.core.layout.problems import LayoutError
from wallrenderer.core.layout.walls import wall_from_data
from wallrenderer.renderer.widgets.base import RING, SEGMENT
from wallrenderer.renderer.widgets.theme import Theme

NOW = 1795000000.0  # 2026-11-18 11:06:40 UTC; a whole number of pulse periods
BOX = {"cells": "r0c0", "within": [0.05, 0.05, 0.9, 0.9]}
GAUGE = {"kind": "gauge", **BOX}
ALERT = {"kind": "alert", **BOX}
CLOCK = {"kind": "clock", "tz": "UTC", **BOX,
         "zones": [{"label": "Singapore", "tz": "Asia/Singapore"},
                   {"label": "Kiritimati", "tz": "Pacific/Kiritimati"}]}
NEGATIVE = (255, 92, 92)  # the default theme's colours as 8-bit sRGB
WARNING = (240, 180, 41)


@pytest.fixture(scope="module")
def calm():
    """A realistic frame without alerts."""
    return sample_frame(NOW)


@pytest.fixture(scope="module")
def spike():
    """A realistic frame during a crisis: a negative and a volume alert on our brand."""
    return sample_frame(NOW, spike=True)


def json_copy(frame):
    return json.loads(json.dumps(frame))


def texts(draw):
    return [item.text for item in draw.texts]


def colour_share(wall, frames, box, color, tolerance=4):
    """Fraction of the box's pixels (on the panel holding it) within `tolerance` of `color`."""
    panel = next(p for p in wall.panels if p.rect.intersects(box))
    inside = predicted_mask(panel, box)
    close = np.abs(frames[panel.id].astype(int) - color).max(axis=-1) <= tolerance
    return (close & inside).sum() / inside.sum()


# --- every kind ---------------------------------------------------------------------


@pytest.mark.parametrize("widget", [GAUGE, ALERT, CLOCK], ids=["gauge", "alert", "clock"])
def test_status_widgets_draw_only_inside_their_box(ctx, spike, widget):
    """Card, dial, banner and text all stay in the widget's rectangle."""
    wall, box, frames = draw_widget(ctx, widget, spike, NOW)
    assert assert_only_inside(wall, box, frames) > 0.05 * box.w * box.h


ODD_FRAMES = [
    {},
    {"alerts": "none", "sentiment": [], "own_brand": 7},
    {"alerts": [None, {}, {"kind": 5, "reason": None, "top_terms": [1, None], "started_at": "x"}]},
    {"alerts": [{"kind": "volume", "acknowledged_by": "ops", "acknowledged_at": None}]},
    {"own_brand": "acme", "sentiment": {"formula": 3, "window_s": True,
                                        "by_brand": {"acme": {"net": float("nan")}}}},
    {"own_brand": "acme", "sentiment": {"by_brand": {"acme": {"net": 1e9}}}},
]


@pytest.mark.parametrize("widget", [GAUGE, ALERT, CLOCK], ids=["gauge", "alert", "clock"])
def test_odd_or_missing_data_never_raises(widget):
    """Partial, mistyped or missing fields draw a calm state instead of failing the widget."""
    built = Built(widget)
    for data in ODD_FRAMES:
        draw = built.build(data)
        assert draw.shapes, data
        list(built.view.motion(NOW))


# --- gauge --------------------------------------------------------------------------


def with_net(frame, net):
    """`frame` with our brand's net sentiment replaced."""
    sentiment = dict(frame["sentiment"])
    by_brand = dict(sentiment["by_brand"])
    by_brand[frame["own_brand"]] = dict(by_brand[frame["own_brand"]], net=net)
    return {**frame, "sentiment": {**sentiment, "by_brand": by_brand}}


def needles(draw):
    """Strokes in the theme's text colour: the gauge's needle (scale and ticks are coloured)."""
    text = Theme().text
    return [s for s in draw.shapes if s[4] == SEGMENT and s[8:12] == pytest.approx(text)]


def needle(draw):
    """(angle clockwise from 12 o'clock, tip x, hub x) of the gauge's needle."""
    (stroke,) = needles(draw)
    x0, y0, x1, y1 = stroke[:4]
    hub = next(s for s in draw.shapes if s[4] == RING and s[3] == 0.0)
    return math.atan2(x1 - x0, y0 - y1), x1, hub[0]


@pytest.mark.parametrize("net", [80, -80, 0])
def test_gauge_needle_points_at_the_value(calm, net):
    """+80 leans right of the hub, -80 left, 0 straight up; the number is signed."""
    built = Built(GAUGE)
    draw = built.build(with_net(calm, net))
    angle, tip_x, hub_x = needle(draw)
    assert angle == pytest.approx(net / 100 * math.pi / 2, abs=0.01)
    assert np.sign(round(tip_x - hub_x)) == np.sign(net)
    assert {"+80": 80, "\u221280": -80, "0": 0}[next(
        t for t in texts(draw) if t in ("+80", "\u221280", "0"))] == net


def test_gauge_without_a_value_shows_a_dash_and_no_needle(calm):
    """No rated mentions (net null) is a dash, not a needle parked at zero."""
    built = Built(GAUGE)
    valued = built.build(with_net(calm, 12))
    empty = Built(GAUGE).build(with_net(calm, None))
    assert "\u2013" in texts(empty) and "+12" in texts(valued)
    assert len(needles(valued)) == 1 and needles(empty) == []


def test_gauge_shows_the_brand_and_the_frames_formula(calm):
    """`brand` picks another brand's figure; the formula is the frame's, shortened."""
    brand = calm["brands"][1]
    draw = Built({**GAUGE, "brand": brand}).build(calm)
    net = calm["sentiment"]["by_brand"][brand]["net"]
    assert f"{round(net):+d}".replace("-", "\u2212") in texts(draw)
    assert any(t.startswith(brand) for t in texts(draw))
    assert any("(pos \u2212 neg)" in t and "(pos + neg)" in t for t in texts(draw))


def test_gauge_says_how_much_of_the_figure_is_scored(calm):
    """The caption carries the brand's scored share: "71% of mentions scored" (fr: "71 %")."""
    frame = json_copy(calm)
    brand = frame["own_brand"]
    frame["sentiment"]["by_brand"][brand]["coverage"] = 0.71
    assert any("71% of mentions scored" in t for t in texts(Built(GAUGE).build(frame)))
    french = [t.replace("\u00a0", " ") for t in texts(Built(GAUGE, locale="fr").build(frame))]
    assert any("71 % of mentions scored" in t for t in french)


def test_gauge_path_reads_any_figure_and_excludes_brand(calm):
    """`path` points anywhere in the frame (its top field is requested); not with `brand`."""
    path = f"sentiment.by_brand.{calm['brands'][1]}.net"
    built = Built({**GAUGE, "path": path})
    assert "sentiment" in built.view.spec.data_fields()
    assert needle(built.build(calm))[0] == pytest.approx(
        needle(Built({**GAUGE, "brand": calm["brands"][1]}).build(calm))[0])
    with pytest.raises(LayoutError, match="either 'path' or 'brand'"):
        Built({**GAUGE, "path": path, "brand": "acme"})


def test_gauge_needle_eases_to_a_new_value_then_stops_rebuilding(calm):
    """The needle travels for about 0.6 s, rebuilding each frame, then rests at the value."""
    built = Built(GAUGE)
    low, high = with_net(calm, -80), with_net(calm, 80)
    assert needle(built.build(low, NOW))[0] == pytest.approx(-0.4 * math.pi, abs=0.01)
    assert built.view.key(high, NOW + 1) != built.view.key(low, NOW + 1)
    start = NOW + 1
    assert needle(built.build(high, start))[0] == pytest.approx(-0.4 * math.pi, abs=0.01)
    assert built.view.key(high, start + 0.2) != built.view.key(high, start + 0.25)
    middle = needle(built.build(high, start + 0.3))[0]
    assert -0.4 * math.pi + 0.1 < middle < 0.4 * math.pi - 0.1
    settled = built.view.key(high, start + 0.7)
    assert settled == built.view.key(high, start + 5) == built.view.key(
        with_net(calm, 80.3), start + 5)
    assert needle(built.build(high, start + 0.7))[0] == pytest.approx(0.4 * math.pi, abs=0.01)


# --- alert --------------------------------------------------------------------------


def acknowledged(frame, by="maria"):
    alerts = [dict(a, acknowledged_by=by, acknowledged_at=NOW - 300) for a in frame["alerts"]]
    return {**frame, "alerts": alerts}


@pytest.mark.parametrize(("kind", "color"), [("negative", NEGATIVE), ("volume", WARNING)])
def test_alert_banner_fills_the_box_in_the_alert_colour(ctx, spike, kind, color):
    """An open alert is a bold banner: negative alerts red, volume alerts amber."""
    data = {**spike, "alerts": [a for a in spike["alerts"] if a["kind"] == kind]}
    assert data["alerts"]
    wall, box, frames = draw_widget(ctx, ALERT, data, NOW)
    assert colour_share(wall, frames, box, color) > 0.5
    other = WARNING if color == NEGATIVE else NEGATIVE
    assert colour_share(wall, frames, box, other) == 0


def test_alert_banner_says_what_why_since_when_and_what_to_do(spike):
    """Headline with brand, the reason, top terms as chips, the age and the suggestion."""
    alert = spike["alerts"][0]
    draw = Built(ALERT).build(spike, alert["started_at"] + 12 * 60 + 5)
    shown = " ".join(texts(draw))
    assert f"NEGATIVE SENTIMENT SPIKE \u00b7 {alert['brand']}" in shown
    assert "started 12 min ago" in shown and "+1 more" in shown
    assert "suggests: crisis scenario" in shown
    assert alert["reason"][:30] in shown.replace("\n", " ")
    assert set(alert["top_terms"][:3]) <= set(texts(draw))


def test_alert_pulses_between_three_quarters_and_full_opacity(spike):
    """Only the banner's background pulses, on shared time, gently."""
    built = Built(ALERT)
    built.build(spike)
    alphas = [m.alpha for k in range(40) for m in built.view.motion(NOW + k * 0.05)]
    assert len(alphas) == 40
    assert min(alphas) == pytest.approx(0.75, abs=0.01)
    assert max(alphas) == pytest.approx(1.0, abs=0.01)


def test_acknowledged_alert_calms_to_a_strip(ctx, spike):
    """Acknowledged: who did it, no red banner, no pulse; or the idle line if asked."""
    data = acknowledged(spike)
    built = Built(ALERT)
    draw = built.build(data)
    assert texts(draw)[0] == "Acknowledged by maria" and "5 min ago" in texts(draw)[1]
    assert list(built.view.motion(NOW)) == []
    wall, box, frames = draw_widget(ctx, ALERT, data, NOW)
    assert colour_share(wall, frames, box, NEGATIVE) == 0
    hidden = Built({**ALERT, "show_acknowledged": False}).build(data)
    assert texts(hidden) == ["All clear"]


def test_no_alert_shows_the_idle_text_or_nothing(ctx, calm, spike):
    """Without an alert (or none of `brand`'s) a subtle idle line; empty idle text: nothing."""
    assert calm["alerts"] == []
    assert texts(Built(ALERT).build(calm)) == ["All clear"]
    other_brand = {**ALERT, "brand": spike["brands"][1], "idle_text": "No active alerts"}
    assert texts(Built(other_brand).build(spike)) == ["No active alerts"]
    wall, box, frames = draw_widget(ctx, {**ALERT, "idle_text": ""}, calm, NOW)
    assert not any(lit(image).any() for image in frames.values())


# --- clock --------------------------------------------------------------------------


def test_clock_shows_the_shared_time_in_each_zone(calm):
    """UTC 11:06 here; Singapore 19:06; Kiritimati 01:06 the next day."""
    draw = Built(CLOCK).build({}, NOW)
    shown = texts(draw)
    assert shown[0] == "11:06"
    assert shown[1].startswith("Wednesday 18 Nov")
    assert ["Singapore", "19:06", "Kiritimati", "01:06", "+1"] == shown[2:]
    with_seconds = Built({**CLOCK, "seconds": True}).build({}, NOW)
    assert texts(with_seconds)[0] == "11:06:40"


def test_clock_rebuilds_when_the_shown_minute_changes():
    """Key is the shown minute (second with seconds: true), from shared time only."""
    view = Built(CLOCK).view
    assert view.key({}, NOW) == view.key({}, NOW + 19)  # 11:06:40 .. 11:06:59
    assert view.key({}, NOW + 19) != view.key({}, NOW + 20)
    seconds = Built({**CLOCK, "seconds": True}).view
    assert seconds.key({}, NOW) != seconds.key({}, NOW + 1)


@pytest.mark.parametrize(
    ("widget", "field"),
    [({**CLOCK, "tz": "Europe/Pariss"}, "widgets[0].tz"),
     ({**CLOCK, "zones": [{"label": "Paris", "tz": "Europe/Pariss"}]}, "widgets[0].zones[0].tz")],
)
def test_unknown_time_zone_is_a_layout_error_naming_the_field(widget, field):
    """A typo in a zone fails at load, pointing at the field and suggesting the right name."""
    with pytest.raises(LayoutError) as error:
        widget_scene(wall_from_data(WIDGET_WALL), [widget])
    message = str(error.value)
    assert field in message and "unknown time zone 'Europe/Pariss'" in message
    assert "did you mean 'Europe/Paris'" in message


# --- text in any script -------------------------------------------------------------


def test_feed_text_with_emoji_and_cjk_renders_real_glyphs(ctx):
    """A post with emoji and CJK draws inside its box, and the emoji is not a notdef box."""
    words = "Launch day \U0001f389 \u4f60\u597d \u0645\u0631\u062d\u0628\u0627"
    post = {"kind": "text", **BOX, "text": words}
    wall, box, frames = draw_widget(ctx, post, {}, NOW)
    assert assert_only_inside(wall, box, frames) > 0
    masks = []
    for text in ("\U0001f389", "\U000f0001"):  # an emoji, then a character no font has
        glyph = {**post, "text": text, "align": "left", "size": 60.0}
        _, _, frames = draw_widget(ctx, glyph, {}, NOW)
        masks.append(np.concatenate([lit(frames[p.id]).ravel() for p in wall.panels]))
    emoji, notdef = masks
    assert emoji.sum() > 100 and notdef.sum() > 100
    assert (emoji != notdef).sum() > 0.3 * emoji.sum()
