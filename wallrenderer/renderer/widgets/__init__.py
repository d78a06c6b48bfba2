"""How each widget kind draws, by kind name.

A kind's settings and the data-frame keys it reads are its model's, on the
layout side (`wallrenderer.core.layout.kinds`); this package is the drawing
side. Each module below exports `VIEWS = {kind: view}`.
"""

from __future__ import annotations

from wallrenderer.renderer.widgets import (
    alert,
    bars,
    calibration,
    caption,
    clock,
    feed,
    gauge,
    image,
    kpi,
    leaderboard,
    ticker,
    timeseries,
    topics,
    worldmap,
)
from wallrenderer.renderer.widgets.base import WidgetView
from wallrenderer.renderer.widgets.basic import RectView, TextView

_MODULES = (
    kpi, timeseries, bars, leaderboard, feed, ticker, topics, worldmap, image, gauge, alert, clock,
    calibration,
    caption,
)

VIEWS: dict[str, type[WidgetView]] = {
    "rect": RectView,
    "text": TextView,
    **{kind: view for module in _MODULES for kind, view in module.VIEWS.items()},
}
