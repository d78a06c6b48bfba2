"""Text widgets `feed`, `ticker` and `topics`: where they draw, what they show, how they move."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pixels import predicted_mask
from walls import WIDGET_WALL
from widgets import assert_only_inside, draw_widget, lit, region, widget_scene

from controller.sample import sample_frame
from wallrenderer.core.geometry import Rect
from wallrenderer.core.layout.placement import widget_rect
from wallrenderer.core.layout.problems import LayoutError
from wallrenderer.core.layout.scenarios import ThemeModel
from wallrenderer.core.layout.walls import wall_from_data
from wallrenderer.renderer import fonts
from wallrenderer.renderer.widgets import VIEWS
from wallrenderer.renderer.widgets.base import BOX, ELLIPSIS, SEGMENT, Draw, intersection
from wallrenderer.renderer.widgets.theme import Theme

NOW = 1_795_000_000.0
FEED = {"kind": "feed", "cells": "r0c0"}
TICKER = {"kind": "ticker", "cells": "r1c0:r1c1", "within": [0, 0.7, 1, 0.3]}
TOPICS = {"kind": "topics", "cells": "r0c1"}
# Card surfaces and borders stay below this channel value; text and tints are above it.
BRIGHT = 110


@pytest.fixture(scope="module")
def frame():
    return sample_frame(NOW)


def post(text="Loving the new Box", sentiment=0.5, **extra):
    base = {"id": text, "time": NOW - 30, "author": "Ann Martin", "handle": "annm",
            "followers": 1840, "text": text, "sentiment": sentiment, "brand": "acme",
            "country": "FR", "network": "x", "own": False, "hashtags": []}
    return {**base, **extra}


def build(widget, data, t=NOW, panel="r0c0", view=None):
    """A widget's view built for one panel of WIDGET_WALL, as the scene would; and its Draw."""
    wall = wall_from_data(WIDGET_WALL)
    spec = widget_scene(wall, [widget]).widgets[0]
    theme = Theme.for_scenario(ThemeModel(), (0.0, 0.0, 0.0, 1.0), wall.panels[0].rect.h)
    view = view or VIEWS[spec.kind](spec, widget_rect(spec, wall), theme)
    p = wall.panel(panel)
    draw = Draw(wall, p.rect, p.native_pitch_scale(), theme, str(fonts.find_font()))
    view.key(data, t)  # as the panel does before every build
    view.build(draw, data, t)
    return wall, view, draw


def visible_rects(draw):
    """Boxes of every text and box shape a build drew, cut to their group's clip."""
    drawn = [(item.box, item.group) for item in draw.texts]
    drawn += [(Rect(*row[:4]), int(row[7])) for row in draw.shapes if row[4] == BOX]
    for rect, group in drawn:
        clip = draw.clips[group]
        visible = rect if clip is None else intersection(rect, clip)
        if visible is not None:
            yield visible


def bright_inside(wall, box, frames):
    """Pixels inside `box` bright enough to be text or tints, not card backgrounds or borders."""
    return sum(int((lit(frames[p.id], BRIGHT) & predicted_mask(p, box)).sum())
               for p in wall.panels)


@pytest.mark.parametrize(
    "widget, minimum",
    [
        (FEED, 8_000),
        ({**FEED, "cells": "r0c0:r1c0", "columns": 2, "title": "Live"}, 25_000),
        (TICKER, 5_000),
        (TOPICS, 14_000),
        ({**TOPICS, "source": "both", "cells": "r1c1", "within": [0.1, 0.1, 0.4, 0.3]}, 1_200),
    ],
    ids=["feed", "feed-spanning", "ticker", "topics", "topics-small"],
)
def test_widget_draws_plenty_and_only_inside_its_box(ctx, frame, widget, minimum):
    wall, box, frames = draw_widget(ctx, widget, frame, NOW)
    assert assert_only_inside(wall, box, frames) > 0.7 * box.w * box.h, "card background"
    assert bright_inside(wall, box, frames) > minimum


@pytest.mark.parametrize("widget", [FEED, TICKER, TOPICS, {**TOPICS, "source": "both"},
                                    {**TICKER, "source": "alerts"}],
                         ids=["feed", "ticker", "topics", "topics-both", "ticker-alerts"])
@pytest.mark.parametrize(
    "data",
    [{}, {"feed": "nope", "alerts": {"x": 1}, "hashtags": [], "terms": {"top": None}},
     {"feed": [None, {"text": 5, "time": "soon", "followers": -1, "sentiment": "bad"}],
      "alerts": [None, {"reason": 7}], "hashtags": {"top": [{"tag": None, "count": 3}, 4]},
      "terms": {"top": [{"term": "x", "count": float("nan")}]}}],
    ids=["empty", "wrong-types", "junk-entries"],
)
def test_missing_or_malformed_data_still_draws_the_card(ctx, widget, data):
    wall, box, frames = draw_widget(ctx, widget, data, NOW)
    inside = assert_only_inside(wall, box, frames)
    assert inside > 0.7 * box.w * box.h, "the card background should be drawn"
    assert bright_inside(wall, box, frames) > 100, "a note such as 'Waiting for posts'"


def test_long_post_is_wrapped_to_max_lines_and_ends_with_an_ellipsis():
    text = " ".join(["unacceptable service from the whole team"] * 12)
    _, _, draw = build({**FEED, "max_lines": 2}, {"feed": [post(text)]})
    [shown] = [item for item in draw.texts if item.text.startswith("unacceptable")]
    lines = shown.text.split("\n")
    assert len(lines) == 2 and lines[-1].endswith(ELLIPSIS)
    for line in lines:
        assert draw.measure(line, shown.size)[0] <= shown.box.w + 1e-6


def test_post_shows_author_handle_followers_and_age():
    _, _, draw = build(FEED, {"feed": [post(time=NOW - 250)]})
    texts = {item.text for item in draw.texts}
    assert {"Ann Martin", "@annm \u00b7 1.8k followers", "4 min", "AM"} <= texts


def test_sentiment_stripe_is_tinted_negative_or_positive(ctx):
    data = {"feed": [post("This is awful", -0.8), post("This is great", 0.8)]}
    wall, view, draw = build(FEED, data)
    theme = view.theme
    stripes = {tuple(round(c, 3) for c in row[8:11]): row for row in draw.shapes
               if row[4] == SEGMENT}
    _, _, frames = draw_widget(ctx, FEED, data, NOW)
    panel = wall.panel("r0c0")
    for color in (theme.negative, theme.positive):
        x0, y0, x1, y1 = stripes[tuple(round(c, 3) for c in color[:3])][:4]
        u, v = (int(c) for c in panel.canvas_to_native((x0 + x1) / 2, (y0 + y1) / 2))
        expected = np.array(color[:3]) * 255
        assert np.abs(frames["r0c0"][v, u].astype(float) - expected).max() < 12


def test_spanning_feed_never_puts_a_post_or_label_across_a_seam(frame):
    widget = {**FEED, "cells": "r0c0:r1c1", "columns": 2, "title": "Live"}
    for panel in ("r0c0", "r0c1", "r1c0", "r1c1"):
        wall, _, draw = build(widget, frame, panel=panel)
        assert sum(item.text == "Live" for item in draw.texts) <= 1
        assert len(draw.texts) > 10, f"{panel}: cards expected on every panel"
        for rect in visible_rects(draw):
            assert not wall.straddles_seam(rect), f"{panel}: {rect} crosses a bezel"


def test_feed_filters_negative_brand_and_hashtag():
    feed = [post("bad acme", -0.6), post("bad globex", -0.6, brand="globex"),
            post("good acme", 0.6, hashtags=["acmelaunch"]), post("unscored", None)]
    data = {"feed": feed, "own_brand": "acme"}
    cases = [({"filter": "negative"}, {"bad acme", "bad globex"}),
             ({"filter": ["negative", "brand"]}, {"bad acme"}),
             ({"filter": "brand", "brand": "globex"}, {"bad globex"}),
             ({"filter": "hashtag", "hashtag": "#AcmeLaunch"}, {"good acme"})]
    for keys, expected in cases:
        _, _, draw = build({**FEED, **keys}, data)
        assert {i.text for i in draw.texts} & {p["text"] for p in feed} == expected, keys


def test_new_posts_slide_in_and_a_busy_feed_advances_at_most_every_interval():
    first = {"feed": [post("older")]}
    newer = {"feed": [post("newest"), post("older")]}
    _, view, _ = build(FEED, first)
    assert {m.dy for m in view.motion(NOW)} == {0.0}
    assert view.key(first, NOW) != view.key(newer, NOW + 0.1 + view.spec.interval)
    assert view.key(newer, NOW + 0.2 + view.spec.interval) == view.key(
        {"feed": [post("even newer"), *newer["feed"]]}, NOW + 0.3 + view.spec.interval
    ), "within one interval the feed shown must not change"
    build(FEED, newer, t=NOW + 5, view=view)
    sliding = list(view.motion(NOW + 5))
    assert all(m.dy < 0 for m in sliding) and min(m.alpha for m in sliding) == 0.0
    settled = list(view.motion(NOW + 6))
    assert {m.dy for m in settled} == {0.0}
    assert sorted(m.alpha for m in settled) == [1.0, 1.0]


def test_feed_renders_accents_cjk_and_emoji(ctx):
    text = "Café très réussi ! 新しいBoxが発表された 🎉🔥 ça marche 👍"
    wall, box, frames = draw_widget(ctx, FEED, {"feed": [post(text, author="Zoë 佐藤")]}, NOW)
    assert assert_only_inside(wall, box, frames) > 20_000
    text_band = Rect(box.x, box.y + 0.15 * box.h, box.w, 0.15 * box.h)
    assert region(wall, frames, text_band).sum() > 500


def ticker_views(widget, data, t):
    return [build(widget, data, t=t, panel=panel)[1] for panel in ("r1c0", "r1c1")]


def test_ticker_scrolls_at_its_speed_on_shared_time(frame):
    widget = {**TICKER, "speed": 80.0}
    [view, _] = ticker_views(widget, frame, NOW)
    now, later = (next(iter(view.motion(t))) for t in (NOW + 3.25, NOW + 4.25))
    assert (now.dx - later.dx) % view.period == pytest.approx(80.0)


def test_ticker_is_continuous_across_the_bezel(ctx, frame):
    left, right = ticker_views(TICKER, frame, NOW)
    for t in (NOW, NOW + 1.7, NOW + 123.4):
        assert list(left.motion(t)) == list(right.motion(t))
    wall, box, frames = draw_widget(ctx, TICKER, frame, NOW + 1.7)
    line = Rect(box.x, box.y + 0.3 * box.h, box.w, 0.4 * box.h)
    for panel in ("r1c0", "r1c1"):
        p = wall.panel(panel).rect
        part = Rect(max(p.x, line.x) + 0.3 * p.w, line.y, 0.4 * p.w, line.h)
        assert region(wall, frames, part).sum() > 1500, f"no ticker text on {panel}"


def test_ticker_takes_new_posts_at_refresh_and_starts_them_at_the_right_edge(frame):
    widget = {**TICKER, "refresh": 30.0}
    newest = max(p["time"] for p in frame["feed"])
    boundary = math.ceil(newest / 30.0) * 30.0
    [view, _] = ticker_views(widget, frame, boundary)
    scroll = next(iter(view.motion(boundary)))
    assert scroll.dx == pytest.approx(0.0, abs=1e-3)
    busier = {"feed": [post("breaking news", time=boundary + 1), *frame["feed"]]}
    assert view.key(frame, boundary + 1) == view.key(busier, boundary + 2)
    assert view.key(busier, boundary + 31) != view.key(frame, boundary + 1)


def test_ticker_headlines_are_laid_out_once_as_enough_copies(frame):
    items = ["Acme Launch Week", "Visit booth 4B"]
    _, view, draw = build({**TICKER, "source": "headlines", "items": items}, {},
                          panel="r1c0")
    drawn = [item.text for item in draw.texts if item.group]
    copies = drawn.count("Acme Launch Week")
    assert copies >= 2 and drawn.count("Visit booth 4B") == copies
    assert copies * view.period >= view.box.w


def test_topics_largest_count_gets_the_largest_size_and_nothing_overflows(frame):
    wall, view, draw = build(TOPICS, frame, panel="r0c1")
    words = [item for item in draw.texts if item.text.startswith("#")]
    top = max(frame["hashtags"]["top"], key=lambda e: e["count"])["tag"]
    sizes = {item.size for item in words}
    assert len(sizes) <= 4
    assert next(i.size for i in words if i.text == f"#{top}") == max(sizes)
    assert len(words) == len(frame["hashtags"]["top"])
    for item in words:
        assert draw.measure(item.text, item.size)[0] <= item.box.w + 1e-6
        assert view.box.x <= item.box.x and item.box.right <= view.box.right
        assert view.box.y <= item.box.y and item.box.bottom <= view.box.bottom


def test_topics_in_a_small_box_drops_words_rather_than_overflowing(ctx, frame):
    widget = {**TOPICS, "source": "both", "max_items": 40,
              "cells": "r1c1", "within": [0.3, 0.3, 0.3, 0.25]}
    wall, box, frames = draw_widget(ctx, widget, frame, NOW)
    assert assert_only_inside(wall, box, frames) > 1500


@pytest.mark.parametrize(
    "widget, message",
    [({**FEED, "filter": "hashtag"}, "needs the key 'hashtag'"),
     ({**FEED, "hashtag": "acme"}, "only used with filter"),
     ({**FEED, "filter": "loud"}, "filter"),
     ({**TICKER, "source": "headlines"}, "needs 'items'"),
     ({**TICKER, "items": ["a"]}, "only used with source 'headlines'"),
     ({**TOPICS, "source": "emoji"}, "source")],
)
def test_bad_settings_are_reported(widget, message):
    wall = wall_from_data(WIDGET_WALL)
    with pytest.raises(LayoutError, match=message):
        widget_scene(wall, [widget])
