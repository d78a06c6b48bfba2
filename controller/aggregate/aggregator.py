"""The Aggregator: validated post batches in, every rolling figure a command centre watches out.

Data flow: sources -> `postbatch.PostBatch` -> `Aggregator.ingest` -> `Aggregator.frame(now)`
-> `frames.FrameComposer` (only what the scenario's widgets need, as deltas) -> renderers.

Each concern keeps its own bounded bins (see its module); the aggregator
admits each batch's minutes into the one-minute ring they share, hands the
batch to each, and puts their figures together. `to_state` and `from_state`
carry all of it through a restart. The frame's fields are documented in
docs/data-frames.md, the contract with the widgets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import numpy as np

from controller.aggregate.alerts import AlertConfig, Alerts
from controller.aggregate.authors import Authors
from controller.aggregate.campaign import Campaign
from controller.aggregate.countries import Countries
from controller.aggregate.mentions import Mentions, sentiment_class
from controller.aggregate.responses import Responses
from controller.aggregate.state import STATE_VERSION, BrandMap
from controller.aggregate.topics import Topics
from controller.aggregate.windows import MINUTE_BINS, TOP_MINUTES, Ring
from controller.postbatch import Categorical, PostBatch

FRAME_FIELDS = (
    "time", "brands", "own_brand", "volume", "series", "share_of_voice", "sentiment",
    "hashtags", "terms", "urls", "authors", "countries", "response", "campaign", "alerts",
    "totals",
)


class Aggregator:
    """Rolling KPIs per brand from a stream of post batches.

    Not thread-safe: one thread (the controller's loop) ingests and asks for frames.

    Args:
        brands: the brands (or topics) compared on the wall; a post counts for
            the one its `brand` names, other posts only for global figures.
        own_brand: ours, among `brands` (widgets highlight it).
        business_hours: (start, end) local hours; when given, first-response
            times count only seconds inside them, on `weekdays`, in `timezone`.
        weekdays: working days, Monday = 0.
        timezone: IANA name, for business hours.
        alerts: spike detection settings.
        top_capacity: entries kept per minute and brand for hashtags and terms.
        term_posts: posts per minute and brand (and for the posts about no
            brand) whose text is counted for terms, the first to arrive; None
            counts every post. Splitting text into words is the costliest
            step of ingestion, and the top terms of a sample are the same.
        author_capacity: authors kept per hour; the leaderboard is exact while
            fewer distinct authors than this post in an hour.
        max_pending: customer posts remembered for matching replies.
        tracked: campaign terms, "#hashtag" (any case) or URL, at most
            MAX_TRACKED; the `campaign` field counts the posts carrying them.
    """

    def __init__(
        self,
        brands: Sequence[str],
        own_brand: str,
        *,
        business_hours: tuple[int, int] | None = None,
        weekdays: Sequence[int] = (0, 1, 2, 3, 4),
        timezone: str = "UTC",
        alerts: AlertConfig | None = None,
        top_capacity: int = 2000,
        term_posts: int | None = 100,
        author_capacity: int = 500,
        max_pending: int = 200_000,
        tracked: Sequence[str] = (),
    ):
        brands = list(brands)
        if not brands or len(set(brands)) != len(brands) or "" in brands:
            raise ValueError(f"brands must be distinct non-empty names, got {brands}")
        if own_brand not in brands:
            raise ValueError(f"own_brand {own_brand!r} is not among the brands {brands}")
        if business_hours is not None:
            start, end = business_hours
            if not 0 <= start < end <= 24:
                raise ValueError(f"business_hours need 0 <= start < end <= 24: {business_hours}")
        if min(top_capacity, author_capacity, max_pending, term_posts or 1) < 1:
            raise ValueError("capacities must be at least 1")
        if not set(weekdays) <= set(range(7)):
            raise ValueError(f"weekdays are 0 (Monday) to 6, got {list(weekdays)}")
        tracked = list(tracked)
        self._minutes = Ring(MINUTE_BINS)
        self._campaign = Campaign(tracked, self._minutes)
        alerts = alerts or AlertConfig()
        if alerts.recent_min < 1 or alerts.baseline_min < alerts.recent_min:
            raise ValueError("alerts need recent_min >= 1 and baseline_min >= recent_min")
        if alerts.recent_min + alerts.baseline_min > MINUTE_BINS or alerts.recent_min > TOP_MINUTES:
            raise ValueError("alert windows must fit in 24 h, the recent one in 1 h")
        self._config = {
            "brands": brands, "own_brand": own_brand,
            "business_hours": list(business_hours) if business_hours else None,
            "weekdays": sorted(set(weekdays)), "timezone": timezone, "alerts": asdict(alerts),
            "top_capacity": top_capacity, "term_posts": term_posts,
            "author_capacity": author_capacity,
            "max_pending": max_pending, "tracked": tracked,
        }
        self.brands = brands
        self.own_brand = own_brand
        self.alert_config = alerts
        self.tracked = tracked
        self._brand_index = {b: i for i, b in enumerate(brands)}
        self._mentions = Mentions(brands, self._minutes)
        self._countries = Countries(self._minutes)
        self._topics = Topics(brands, top_capacity, term_posts)
        self._authors = Authors(author_capacity)
        self._responses = Responses(brands, self._minutes, business_hours=business_hours,
                                    weekdays=weekdays, timezone=timezone,
                                    max_pending=max_pending)
        self._alerts = Alerts(alerts, brands, self._mentions, self._topics.terms)
        self._ingested = 0
        self._rejected = 0
        self._too_old = 0

    @staticmethod
    def frame_fields() -> tuple[str, ...]:
        """Top-level keys of `frame()`, so a composer can send only what widgets use."""
        return FRAME_FIELDS

    def ingest(self, batch: PostBatch, rejected: int = 0) -> None:
        """Add a validated batch (in any time order) to every rolling figure.

        Args:
            batch: posts from `posts.parse_lines` / `posts.from_dicts`.
            rejected: records the source dropped in validation, for `totals`.
        """
        self._rejected += rejected
        n = len(batch)
        if not n:
            return
        self._ingested += n
        brand = self._brand_codes(batch.brand)
        seconds = batch.time.astype(np.int64)
        minutes = seconds // 60
        in_seconds = self._mentions.admit_seconds(seconds)
        distinct = np.unique(minutes)
        in_minutes, reset = self._minutes.admit(minutes, distinct)
        for part in (self._mentions, self._countries, self._campaign, self._responses):
            part.reset(reset)
        self._too_old += int(n - np.count_nonzero(in_minutes))
        if in_minutes.any():
            self._alerts.cover(int(minutes[in_minutes].max()))
        public = ~batch.own
        mention = public & (brand >= 0)
        category = sentiment_class(batch.sentiment)
        self._mentions.count(seconds, minutes, mention & in_seconds, mention & in_minutes,
                             brand, category)
        self._countries.count(batch.country, minutes, public & in_minutes)
        self._topics.count(batch, minutes, distinct, public, brand)
        self._campaign.count(batch, minutes % MINUTE_BINS, public & in_minutes, category)
        self._authors.count(batch, minutes, distinct, public)
        self._responses.match(batch, mention & in_minutes, brand)

    def _brand_codes(self, column: Categorical) -> np.ndarray:
        lut = np.array([self._brand_index.get(v, -1) for v in column.vocab], dtype=np.int64)
        return lut[column.codes]

    def response_seconds(self, posted: float, replied: float) -> float:
        """Time to first response; only business seconds when business hours are set."""
        return self._responses.seconds(posted, replied)

    def frame(self, now: float) -> dict[str, Any]:
        """The full aggregate state at `now`, as plain JSON-able data.

        Also runs spike detection for the minutes that closed since the last call.
        """
        self.check_alerts(now)
        second = math.floor(now)
        minute = second // 60
        return {
            "time": float(now),
            "brands": list(self.brands),
            "own_brand": self.own_brand,
            **self._mentions.figures(second),
            **self._topics.figures(minute),
            "authors": self._authors.figures(minute // 60),
            "countries": self._countries.figures(minute),
            "response": self._responses.figures(minute, self._mentions.in_day(minute)),
            "campaign": self._campaign.figures(minute),
            "alerts": [dict(alert) for alert in self._alerts.raised],
            "totals": {"ingested": self._ingested, "rejected": self._rejected,
                       "too_old": self._too_old},
        }

    def check_alerts(self, now: float) -> list[dict[str, Any]]:
        """Score the last complete minute against the baseline; returns alerts raised now.

        Each minute is scored once, so calling this on every frame is cheap.
        Alerts only suggest the crisis scenario: switching stays the presenter's call.
        """
        return self._alerts.check(now)

    def acknowledge(self, alert_id: str, by: str, at: float | None = None) -> bool:
        """Mark an alert as seen by someone; it stays in the frame, marked.

        Returns:
            False when no alert has that id (it may have aged out of the list).
        """
        return self._alerts.acknowledge(alert_id, by, at)

    def to_state(self) -> dict[str, Any]:
        """Everything needed to resume after a restart, as JSON-able data."""
        mentions = self._mentions.to_state()
        responses = self._responses.to_state()
        return {
            "version": STATE_VERSION,
            "config": {**self._config, "alerts": dict(self._config["alerts"])},
            "totals": {"ingested": self._ingested, "rejected": self._rejected,
                       "too_old": self._too_old},
            "seconds": mentions["seconds"],
            "minutes": {
                "period": self._minutes.period.tolist(),
                "counts": mentions["minutes"],
                "countries": self._countries.to_state(),
                "answered": responses["answered"],
                "response_times": responses["response_times"],
            },
            **self._topics.to_state(),
            "campaign": self._campaign.to_state(),
            "authors": self._authors.to_state(),
            "pending": responses["pending"],
            **self._alerts.to_state(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], **config: Any) -> Aggregator:
        """Rebuild an aggregator saved with `to_state`.

        Args:
            state: what `to_state` returned (possibly through JSON).
            **config: constructor arguments that replace the saved ones; with a
                new brand or tracked list, the brands and terms that remain keep
                their figures.
        """
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"aggregator state version {state.get('version')} is not "
                             f"{STATE_VERSION}")
        settings = {**state["config"], **config}
        alerts = settings.pop("alerts")
        if not isinstance(alerts, AlertConfig):
            alerts = AlertConfig(**alerts)
        if settings.get("business_hours") is not None:
            settings["business_hours"] = tuple(settings["business_hours"])
        agg = cls(alerts=alerts, **settings)
        agg._load(state)
        return agg

    def _load(self, state: dict[str, Any]) -> None:
        brands = BrandMap(state["config"]["brands"], self._brand_index)
        totals = state["totals"]
        self._ingested, self._rejected = totals["ingested"], totals["rejected"]
        self._too_old = totals["too_old"]
        minutes = state["minutes"]
        self._minutes.period[:] = minutes["period"]
        self._mentions.load(state["seconds"], minutes["counts"], brands)
        self._countries.load(minutes["countries"])
        self._responses.load(minutes["answered"], minutes["response_times"], state["pending"],
                             brands, self._brand_index)
        self._topics.load(state, self._brand_index)
        if "campaign" in state:  # absent from states saved before campaigns were counted
            self._campaign.load(state["config"]["tracked"], state["campaign"])
        self._authors.load(state["authors"])
        self._alerts.load(state)
