"""Every widget kind a scenario may use: its settings and the data-frame keys it reads.

These are the layout side of widgets: what a scenario file may say, checked
with file, line and field, and which data-frame fields each kind draws from,
so the controller sends only those. How each kind draws lives with the
renderer (`wallrenderer.renderer.widgets`), which imports these models.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    model_validator,
)

from wallrenderer.core.layout.fields import (
    WHITE,
    Color,
    Fraction,
    Name,
    NonNegativeNumber,
    PositiveInt,
    PositiveNumber,
)
from wallrenderer.core.layout.images import check_data
from wallrenderer.core.layout.placement import Widget


def top_field(path: str) -> str:
    """The data-frame key a dotted path starts with."""
    return path.split(".", 1)[0]


class RectWidget(Widget):
    """Solid fill, used by calibration and tests."""

    bears_text: ClassVar[bool] = False

    kind: Literal["rect"]
    color: Color = WHITE
    radius: NonNegativeNumber = 0.0


class TextWidget(Widget):
    """A line of text; with no `size` it is fitted as large as the rect allows."""

    kind: Literal["text"]
    text: Annotated[str, Strict()]
    color: Color = WHITE
    size: PositiveNumber | None = None
    align: Literal["left", "center", "right"] = "center"
    padding: Annotated[float, Strict(), Field(ge=0, lt=0.5)] = 0.08
    font: Name | None = None


class TestcardWidget(Widget):
    """Calibration pattern over the whole canvas, so bezel settings can be checked by eye."""

    __test__ = False  # not a pytest test class, despite the name
    covers_canvas: ClassVar[bool] = True
    bears_text: ClassVar[bool] = False

    kind: Literal["testcard"]
    grid_px: PositiveInt = 120


class CalibrationWidget(Widget):
    """Set-up patterns over every panel: fiducial markers for `wallrenderer calibrate`.

    `markers` draws each panel's markers in its native pixels
    (`wallrenderer.core.markers`); `colour` draws flat grey and colour fields
    on every panel, to match neighbours by eye.
    """

    covers_canvas: ClassVar[bool] = True
    bears_text: ClassVar[bool] = False

    kind: Literal["calibration"]
    pattern: Literal["markers", "colour"] = "markers"



Format = Literal["count", "number", "percent", "duration"]


class KpiWidget(Widget):
    """A figure from the data frame. `value`, `previous` and `sparkline` are dotted paths.

    `previous` gives the figure for the period before, for the change arrow;
    `sparkline` a list of numbers (e.g. `series.by_brand.{own}`). `better`
    says which direction is good news (lower is better for response times).
    """

    kind: Literal["kpi", "counter"]
    label: Name
    value: Name
    previous: Name | None = None
    sparkline: Name | None = None
    unit: str = ""
    format: Format = "count"
    better: Literal["higher", "lower"] = "higher"

    def data_fields(self) -> tuple[str, ...]:
        paths = (self.value, self.previous, self.sparkline)
        return ("own_brand", *(top_field(p) for p in paths if p))


class TimeseriesWidget(Widget):
    """Counts over time, one line per brand (by default mentions per minute, last hour).

    `path` names an object of name -> list of numbers, oldest first, all ending
    now; its parent's `start` and `step_s` give the time axis. `brands` keeps
    only those names; `fill` shades the area under our brand's line.
    """

    avoids_seams: ClassVar[bool] = True

    kind: Literal["timeseries"]
    title: str = "Mentions per minute"
    path: Name = "series.by_brand"
    brands: tuple[Name, ...] | None = None
    fill: Annotated[bool, Strict()] = True

    def data_fields(self) -> tuple[str, ...]:
        return ("brands", "own_brand", top_field(self.path))


class BarsWidget(Widget):
    """Brands compared as horizontal bars, largest first, ours highlighted.

    `path` names an object of brand -> number (by default the last hour's
    share of voice, fractions shown as percentages). When each brand maps to
    an object instead, `field` picks the number inside it (e.g. `path:
    volume.by_brand` with `field: 1h`).
    """

    kind: Literal["bars"]
    title: str = "Share of voice"
    path: Name = "share_of_voice.by_brand"
    field: Name | None = None
    format: Literal["percent", "count"] = "percent"

    def data_fields(self) -> tuple[str, ...]:
        return ("brands", "own_brand", top_field(self.path))


class LeaderboardWidget(Widget):
    """The most influential authors of the last 24 h (`authors.top`), by reach.

    Reach is followers summed over their posts. A small arrow shows how many
    places an author moved since the ranking last changed; newcomers are marked.
    """

    fields: ClassVar[tuple[str, ...]] = ("authors",)
    kind: Literal["leaderboard"]
    title: str = "Top authors by reach"
    rows: PositiveInt = 8


FilterName = Literal["negative", "brand", "hashtag"]


def _as_tuple(value: Any) -> Any:
    return (value,) if isinstance(value, str) else value


class FeedWidget(Widget):
    """The newest moderated posts (`feed`), newest first, in columns.

    Spanning several panels is the point of a post wall, so posts are laid
    out panel by panel and none is ever cut by a bezel. `filter` narrows the
    wall: `negative` posts only (a crisis), posts about `brand` (default our
    own) or carrying `hashtag` (a launch campaign); a list combines them.
    New posts come in at most every `interval` seconds, so a busy feed moves
    at a readable pace.
    """

    avoids_seams: ClassVar[bool] = True

    fields: ClassVar[tuple[str, ...]] = ("feed", "own_brand")
    kind: Literal["feed"]
    title: str | None = None
    columns: Annotated[int, Strict(), Field(gt=0, le=8)] = 1
    max_lines: Annotated[int, Strict(), Field(gt=0, le=12)] = 3
    filter: Annotated[tuple[FilterName, ...], BeforeValidator(_as_tuple)] = ()
    brand: Name = "{own}"
    hashtag: Name | None = None
    interval: PositiveNumber = 2.0

    @model_validator(mode="after")
    def _filter_keys(self) -> FeedWidget:
        if "hashtag" in self.filter and self.hashtag is None:
            raise ValueError("filter 'hashtag' needs the key 'hashtag' (the tag to show)")
        for key in ("brand", "hashtag"):
            if key in self.model_fields_set and key not in self.filter:
                raise ValueError(f"'{key}' is only used with filter '{key}'; add it to 'filter'")
        return self


class TickerWidget(Widget):
    """A news crawl: the newest posts (`feed`), `alerts` or fixed `headlines`.

    It spans panels on purpose: the line scrolls through the bezels like a
    news crawl, at the same place on every panel for the same shared time.
    New posts or alerts are taken in every `refresh` seconds, so a busy feed
    does not restart the line all the time. `label` is the badge at the left
    ("LIVE", "ALERTS" by default; an empty string for none).
    """

    avoids_seams: ClassVar[bool] = True

    kind: Literal["ticker"]
    source: Literal["feed", "headlines", "alerts"] = "feed"
    items: tuple[str, ...] = ()
    speed: PositiveNumber | None = None
    color: Color | None = None
    label: str | None = None
    refresh: PositiveNumber = 60.0

    @model_validator(mode="after")
    def _items_for_headlines(self) -> TickerWidget:
        if self.source == "headlines" and not any(i.strip() for i in self.items):
            raise ValueError("source 'headlines' needs 'items', a list of the lines to show")
        if self.source != "headlines" and self.items:
            raise ValueError(f"'items' is only used with source 'headlines', not {self.source!r}")
        return self

    def data_fields(self) -> tuple[str, ...]:
        return {"feed": ("feed",), "alerts": ("alerts",), "headlines": ()}[self.source]


class TopicsWidget(Widget):
    """Trending hashtags (`hashtags.top`) and/or terms (`terms.top`) as a tag cloud.

    Words are sized by count and coloured by rank; the most frequent sit in
    the middle. `title` defaults to one naming the source; "" hides it.
    """

    kind: Literal["topics"]
    title: str | None = None
    source: Literal["hashtags", "terms", "both"] = "hashtags"
    max_items: Annotated[int, Strict(), Field(gt=0, le=60)] = 20

    def data_fields(self) -> tuple[str, ...]:
        return {"hashtags": ("hashtags",), "terms": ("terms",),
                "both": ("hashtags", "terms")}[self.source]


class MapWidget(Widget):
    """Mentions per country over `window` ("1h" or "24h") from the frame's `countries`.

    `labels` is how many of the busiest countries the legend lists (0: no legend).
    """

    avoids_seams: ClassVar[bool] = True

    fields: ClassVar[tuple[str, ...]] = ("countries",)
    kind: Literal["map"]
    title: Annotated[str, Strict()] = "Mentions by country"
    window: Literal["1h", "24h"] = "1h"
    labels: Annotated[int, Strict(), Field(ge=0, le=10)] = 5


class GaugeWidget(Widget):
    """Net sentiment on a dial: our brand's by default, `brand`'s, or any figure at `path`."""

    kind: Literal["gauge"]
    label: Name = "Net sentiment"
    path: Name | None = None
    brand: Name | None = None

    @model_validator(mode="after")
    def _path_or_brand(self) -> GaugeWidget:
        if self.path is not None and self.brand is not None:
            raise ValueError("give either 'path' or 'brand', not both")
        return self

    @property
    def value_path(self) -> str:
        if self.path is not None:
            return self.path
        return f"sentiment.by_brand.{self.brand or '{own}'}.net"

    def data_fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(("own_brand", "sentiment", top_field(self.value_path))))


class AlertWidget(Widget):
    """The newest unacknowledged alert as a banner.

    `brand` limits it to one brand's alerts; `show_acknowledged` keeps a dim
    strip for an acknowledged one (false: the idle line instead); `idle_text`
    is shown when there is nothing to report ("" shows nothing).
    """

    fields: ClassVar[tuple[str, ...]] = ("alerts",)
    kind: Literal["alert"]
    brand: Name | None = None
    show_acknowledged: bool = True
    idle_text: str = "All clear"


def _check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(name, sorted(available_timezones()), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as 'Europe/Paris'{hint}"
        ) from None
    return name


TimeZone = Annotated[str, Strict(), AfterValidator(_check_zone)]


class ClockZone(BaseModel):
    """Another site: its name as shown and its IANA time zone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: Name
    tz: TimeZone


class ClockWidget(Widget):
    """Local time, its date, and a list of other sites' times with a day/night mark.

    `tz` is the local zone (default: the zone of the machine drawing it);
    `label` an optional heading such as the site's name.
    """

    kind: Literal["clock"]
    tz: TimeZone | None = None
    label: str = ""
    seconds: bool = False
    zones: tuple[ClockZone, ...] = ()


class ImageWidget(Widget):
    """A picture from `src`, fitted inside its box (`contain`) or filling it (`cover`).

    `src` is relative to the scenario file; `data` is the file as base64,
    which the controller fills in when it loads the scenario: do not write it.
    """

    bears_text: ClassVar[bool] = False

    kind: Literal["image"]
    src: Name
    fit: Literal["contain", "cover"] = "contain"
    opacity: Fraction = 1.0
    data: Annotated[str | None, Strict(), AfterValidator(check_data), Field(repr=False)] = None


class CaptionWidget(Widget):
    """A caption bar along the bottom of the wall, for visitors (a tour step's `caption`).

    Its text sits on one panel, so no bezel cuts it; the controller adds it to
    a tour step's scenario, and a scenario may use it too.
    """

    covers_canvas: ClassVar[bool] = True
    avoids_seams: ClassVar[bool] = True

    kind: Literal["caption"]
    text: Annotated[str, Strict(), Field(min_length=1, max_length=200)]
    height: Annotated[float, Strict(), Field(gt=0, le=0.3)] = 0.07


WIDGET_KINDS: dict[str, type[Widget]] = {
    "rect": RectWidget,
    "text": TextWidget,
    "testcard": TestcardWidget,
    "calibration": CalibrationWidget,
    "kpi": KpiWidget,
    "counter": KpiWidget,
    "timeseries": TimeseriesWidget,
    "bars": BarsWidget,
    "leaderboard": LeaderboardWidget,
    "feed": FeedWidget,
    "ticker": TickerWidget,
    "topics": TopicsWidget,
    "map": MapWidget,
    "image": ImageWidget,
    "gauge": GaugeWidget,
    "alert": AlertWidget,
    "clock": ClockWidget,
    "caption": CaptionWidget,
}
