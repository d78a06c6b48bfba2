"""Widget kinds: each has a config model (what a scenario may say) and a view (how it draws).

`MODELS` feeds `wall validate` and the scenario loader; `VIEWS` is what a
panel draws with and which data-frame fields each kind reads. Each module
below exports `KINDS = {name: (model, view)}`.
"""

from __future__ import annotations

from wallrenderer.config import Widget
from wallrenderer.widgets import (
    alert,
    bars,
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
from wallrenderer.widgets.base import WidgetView
from wallrenderer.widgets.basic import RectView, TextView

_MODULES = (
    kpi, timeseries, bars, leaderboard, feed, ticker, topics, worldmap, image, gauge, alert, clock,
)
_KINDS: dict[str, tuple[type[Widget], type[WidgetView]]] = {
    name: pair for module in _MODULES for name, pair in module.KINDS.items()
}

MODELS: dict[str, type[Widget]] = {k: m for k, (m, _) in _KINDS.items()}
VIEWS: dict[str, type[WidgetView]] = {
    "rect": RectView,
    "text": TextView,
    **{k: v for k, (_, v) in _KINDS.items()},
}
