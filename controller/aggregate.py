"""Streaming aggregation: validated post batches in, the figures a command centre watches out.

Data flow: sources -> `posts.PostBatch` -> `Aggregator.ingest` -> `Aggregator.frame(now)`
-> `frames.FrameComposer` (only what the scenario's widgets need, as deltas) -> renderers.

Memory is bounded whatever the rate: counts per brand live in ring buffers of
time bins (3600 one-second bins for windows up to an hour, 1440 one-minute bins
for 24 h), hashtags, terms and shared URLs in per-minute counters for the last
hour, authors in per-hour tables for the last 24 h, each pruned to its heaviest
entries, posts carrying tracked campaign terms in per-minute bins for 24 h, and
customer posts awaiting a reply in a capped two-generation map. `to_state` and
`from_state` carry all of it through a restart. The frame's fields are
documented in docs/data-frames.md, the contract with the widgets.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from itertools import chain, count, repeat
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from controller.posts import Categorical, PostBatch, row_picker

STATE_VERSION = 1
POSITIVE = 0.05
NEGATIVE = -0.05
NET_SENTIMENT_FORMULA = (
    "(positive - negative) / (positive + negative) * 100, "
    "positive: compound >= 0.05, negative: compound <= -0.05 (VADER thresholds)"
)
VOLUME_WINDOWS = {"1m": 60, "15m": 900, "1h": 3600, "24h": 86400}
# Windows whose previous period (the same length just before) is in the frame,
# for "versus the previous period" figures; a previous day would need 48 h of bins.
PREVIOUS_WINDOWS = (60, 900, 3600)
FRAME_FIELDS = (
    "time", "brands", "own_brand", "volume", "series", "share_of_voice", "sentiment",
    "hashtags", "terms", "urls", "authors", "countries", "response", "campaign", "alerts",
    "totals",
)
SECOND_BINS = 3600
MINUTE_BINS = 1440
TOP_MINUTES = 60
AUTHOR_HOURS = 24
TOP_HASHTAGS = TOP_TERMS = 20
TOP_PER_BRAND = 10
TOP_AUTHORS = 10
TOP_URLS = 10
# Campaign bins hold one row per combination of tracked terms (2 ** terms), so that a
# restart with fewer terms still counts each post once; 8 terms make 12 MB of bins.
MAX_TRACKED = 8
ALERT_TERMS = 5
RESPONSE_SAMPLE = 1000
COUNTRY_CODES = 26 * 26
STOP_WORDS = frozenset("""
a about after all also am an and any are as at be been but by can could did do does
don't for from get got had has have he her him his how i i'm if in into is it it's its
just me more my no not now of on one only or our out over rt she so some than that the
their them then there these they this to too up us very via was we were what when which
who why will with would you your amp
au aux avec ce ces dans de des du elle en est et il je la le les leur mais me mes mon ne
nous on ou par pas pour qu que qui sa se ses son sur ta te tes ton tu un une vous y c'est
al con del el es las lo los por se su un una y que en o
der die das und ist nicht ein eine mit den dem zu von auf
os as do da em um uma não com para
""".split())
_PUNCTUATION = "!\"$%&'()*+,-./:;<=>?[\\]^_`{|}~“”‘’…«»¿¡"


@dataclass(frozen=True)
class AlertConfig:
    """Spike detection: the recent window against a baseline just before it.

    The baseline is cut into windows as long as the recent one; the recent
    count is scored against their median with a robust z-score (MAD scaled by
    1.4826, never below the Poisson or binomial noise of the recent count).

    Attributes:
        recent_min: length of the window that may spike, in minutes.
        baseline_min: the minutes just before it that define normal.
        z_threshold: robust z-score at or above which an alert fires.
        min_count: posts in the recent window (negative posts for "negative")
            below which nothing fires, so a quiet brand cannot alarm on noise.
        cooldown_s: no second alert of the same kind for the same brand within this time.
        keep: alerts kept in the frame, newest first.
    """

    recent_min: int = 10
    baseline_min: int = 120
    z_threshold: float = 5.0
    min_count: int = 20
    cooldown_s: float = 1800.0
    keep: int = 20


class _Ring:
    """Which period (a second, minute or hour number) each of `size` bins holds."""

    def __init__(self, size: int):
        self.size = size
        self.period = np.full(size, -1, dtype=np.int64)

    def admit(self, periods: np.ndarray,
              distinct: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Claim bins for these periods, newer periods evicting older ones.

        Args:
            periods: one period number per post.
            distinct: `np.unique(periods)`, when the caller has it already.

        Returns:
            A mask of the periods that now have a bin (False: older than what
            the bin holds, so outside any window), and the bins that were reset.
        """
        distinct = np.unique(periods) if distinct is None else distinct
        if not len(distinct):
            return np.zeros(0, dtype=bool), distinct
        distinct = distinct[distinct > distinct[-1] - self.size]
        bins = distinct % self.size
        newer = distinct > self.period[bins]
        reset = bins[newer]
        self.period[reset] = distinct[newer]
        return self.period[periods % self.size] == periods, reset

    def window(self, end: int, length: int) -> np.ndarray:
        """Mask of the bins holding periods in (end - length, end]."""
        return (self.period > end - length) & (self.period <= end)

    def series(self, end: int, length: int) -> tuple[np.ndarray, np.ndarray]:
        """Bins of periods end-length+1 .. end, in order, and whether each bin holds its period."""
        periods = np.arange(end - length + 1, end + 1)
        bins = periods % self.size
        return bins, self.period[bins] == periods


class _TopCounts:
    """Per-minute counters of strings per group for the last hour, pruned to the heaviest.

    Merging sixty counters is done once per minute (cached); the open minute is
    added on each frame by looking only at the candidates that can reach the top.
    """

    def __init__(self, ring: _Ring, groups: int, capacity: int,
                 clean: dict[str, str] | None = None):
        self.ring = ring
        self.groups = groups
        self.capacity = capacity
        self.bins = [[Counter() for _ in range(groups)] for _ in range(TOP_MINUTES)]
        self.version = [0] * TOP_MINUTES
        # Posts counted per bin and group, for counters that take at most so many a minute.
        self.posts = np.zeros((TOP_MINUTES, groups), dtype=np.int64)
        self._clean = clean
        self._cache: dict[tuple, tuple[tuple[int, ...], Counter, list[str]]] = {}
        self._newest_end = -1

    def reset(self, bins: Iterable[int]) -> None:
        for b in bins:
            self.bins[b] = [Counter() for _ in range(self.groups)]
            self.version[b] += 1
            self.posts[b] = 0

    def add(self, bin_: int, group: int, items: Iterable[str]) -> None:
        counter = self.bins[bin_][group]
        counter.update(items)
        if len(counter) > 2 * self.capacity:
            self.bins[bin_][group] = Counter(dict(counter.most_common(self.capacity)))
        self.version[bin_] += 1

    def _merged(self, bins: np.ndarray, groups: Sequence[int]) -> Counter:
        merged: Counter = Counter()
        for b in bins.tolist():
            for g in groups:
                merged.update(self.bins[b][g])
        return self._cleaned(merged) if self._clean is not None else merged

    def _cleaned(self, raw: Counter) -> Counter:
        out: Counter = Counter()
        clean = self._clean
        for token, n in raw.items():
            term = clean.get(token)
            if term is None:
                if len(clean) > 200_000:
                    clean.clear()
                term = clean[token] = clean_term(token)
            if term:
                out[term] += n
        return out

    def top(self, end: int, minutes: int, groups: Sequence[int], k: int) -> list[list[Any]]:
        """The k heaviest [key, count] over minutes (end - minutes, end], heaviest first."""
        bins, held = self.ring.series(end, minutes)
        closed, current = bins[:-1][held[:-1]], bins[-1:][held[-1:]]
        if end > self._newest_end:  # merges for minutes that are over will not be asked again
            self._newest_end = end
            self._cache = {key: v for key, v in self._cache.items() if key[0] >= end - 1}
        elif len(self._cache) > 4 * (self.groups + 1):  # someone is asking about the past
            self._cache.clear()
        key = (end, minutes, tuple(groups))
        versions = tuple(self.version[b] for b in closed.tolist())
        cached = self._cache.get(key)
        if cached is None or cached[0] != versions:
            merged = self._merged(closed, groups)
            ranked = sorted(merged, key=lambda c: (-merged[c], c))
            cached = self._cache[key] = (versions, merged, ranked)
        _, merged, ranked = cached
        now = self._merged(current, groups)
        candidates = set(now)
        extra = 0
        for item in ranked:
            if item not in now:
                candidates.add(item)
                extra += 1
                if extra >= k:
                    break
        scored = sorted((-(merged.get(c, 0) + now.get(c, 0)), c) for c in candidates)
        return [[c, -neg] for neg, c in scored[:k]]


def clean_term(token: str) -> str:
    """A whitespace-separated token as a lower-case trending term, or "" when it is not one.

    URLs, @handles and #hashtags (which have their own list) are not terms;
    neither are stop-words, numbers and single characters. Tokens are counted
    as written and cleaned once per distinct token when read: lower-casing
    every text as it arrives cost more.
    """
    token = token.lower()
    if token.startswith(("http://", "https://", "www.", "@", "#")) or "/" in token:
        return ""
    term = token.strip(_PUNCTUATION)
    if len(term) < 2 or term in STOP_WORDS or term.isdigit() or "@" in term:
        return ""
    return term


def _track_key(term: str) -> str:
    """A tracked term as matched, so spellings of one term are one term (also across restarts).

    "#" and the tag in lower case, or the URL without a trailing "/".

    Raises:
        ValueError: the term is neither a #hashtag nor an http(s) URL.
    """
    if term.startswith("#") and term.lstrip("#"):
        return "#" + term.lstrip("#").lower()
    if term.startswith(("http://", "https://")):
        return term.removesuffix("/")
    raise ValueError(f"tracked term {term!r} is neither a #hashtag nor an http(s) URL")


def tracked_keys(terms: Sequence[str]) -> list[str]:
    """The `--track` terms as matched, checked before a controller starts with them.

    Raises:
        ValueError: a term is neither a #hashtag nor a URL, two are the same
            term, or there are more than MAX_TRACKED.
    """
    keys = [_track_key(term) for term in terms]
    if len(set(keys)) != len(keys) or len(keys) > MAX_TRACKED:
        raise ValueError(f"tracked terms must be distinct (ignoring case and a trailing "
                         f"'/') and at most {MAX_TRACKED}, got {list(terms)}")
    return keys


def _shares_url(url: str, tracked: str) -> bool:
    """Whether a post's URL is a tracked one (its `_track_key`), tracking parameters aside.

    Shared links often carry ?utm_... parameters (or &... after a query the
    tracked URL has itself); they must not hide a share.
    """
    if url.removesuffix("/") == tracked:
        return True
    if "?" in tracked:
        return url.startswith(tracked + "&")
    return url.startswith((tracked + "?", tracked + "/?"))


def _net(positive: int, negative: int) -> float | None:
    polar = positive + negative
    return (positive - negative) / polar * 100 if polar else None


def _country_index(code: str) -> int:
    return (ord(code[0]) - 65) * 26 + ord(code[1]) - 65 if len(code) == 2 else -1


def _country_code(index: int) -> str:
    return chr(65 + index // 26) + chr(65 + index % 26)


def _pack(array: np.ndarray) -> dict[str, Any]:
    """A mostly-zero array as JSON: its shape, and the flat index and value of non-zeros."""
    flat = array.ravel()
    index = np.flatnonzero(flat)
    return {"shape": list(array.shape), "index": index.tolist(), "value": flat[index].tolist()}


def _unpack(packed: dict[str, Any], dtype: Any) -> np.ndarray:
    array = np.zeros(int(np.prod(packed["shape"])), dtype=dtype)
    array[np.asarray(packed["index"], dtype=np.int64)] = packed["value"]
    return array.reshape(packed["shape"])


def _percentiles(values: Iterable[float]) -> dict[str, float] | None:
    array = np.fromiter(values, dtype=np.float64)
    if not len(array):
        return None
    mean = float(array.mean())
    median, p90 = (float(v) for v in np.percentile(array, [50, 90]))
    return {"mean": mean, "median": median, "p90": p90}


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
        keys = tracked_keys(tracked)
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
        self._brand_index = {b: i for i, b in enumerate(brands)}
        self.tracked = tracked
        self._track_index = {key: i for i, key in enumerate(keys)}
        self._tag_bits = {key[1:]: 1 << i for i, key in enumerate(keys) if key[0] == "#"}
        self._url_keys = [(key, 1 << i) for i, key in enumerate(keys) if key[0] != "#"]
        combos = np.arange(1 << len(keys))
        # Which terms each combination holds: one row per combination, one column per term.
        self._combo_terms = (combos[:, None] >> np.arange(len(keys))) & 1
        self._tz = ZoneInfo(timezone)
        self._business = tuple(business_hours) if business_hours else None
        self._weekdays = frozenset(weekdays)
        b = len(brands)
        # Counts per bin and brand: [mentions, positive, negative, neutral].
        self._seconds = _Ring(SECOND_BINS)
        self._per_second = np.zeros((SECOND_BINS, b, 4), dtype=np.int64)
        self._minutes = _Ring(MINUTE_BINS)
        self._per_minute = np.zeros((MINUTE_BINS, b, 4), dtype=np.int64)
        self._countries = np.zeros((MINUTE_BINS, COUNTRY_CODES), dtype=np.int32)
        self._answered = np.zeros((MINUTE_BINS, b), dtype=np.int64)
        self._response_times: list[list[list[float]]] = [[[] for _ in range(b)]
                                                          for _ in range(MINUTE_BINS)]
        self._response_version = 0
        self._response_cache: tuple[tuple[int, int], list] | None = None
        self._term_cache: dict[str, str] = {}
        last_hour = _Ring(TOP_MINUTES)
        self._hashtags = _TopCounts(last_hour, b + 1, top_capacity)
        self._terms = _TopCounts(last_hour, b + 1, top_capacity, self._term_cache)
        self._urls = _TopCounts(last_hour, 1, top_capacity)
        # Posts carrying tracked terms per minute and combination of the terms they carry:
        # [posts, reach, positive, negative].
        self._campaign = np.zeros((MINUTE_BINS, len(combos), 4), dtype=np.int64)
        self._term_posts = term_posts
        self._hours = _Ring(AUTHOR_HOURS)
        self._authors: list[dict[tuple[str, str], tuple]] = [{} for _ in range(AUTHOR_HOURS)]
        self._author_version = [0] * AUTHOR_HOURS
        self._author_cache: tuple[tuple, dict, list] | None = None
        self._author_capacity = author_capacity
        self._pending_size = max(2, max_pending)
        self._pending_young: dict[str, int] = {}
        self._pending_old: dict[str, int] = {}
        self._pending_time = np.zeros(self._pending_size, dtype=np.float64)
        self._pending_brand = np.zeros(self._pending_size, dtype=np.int32)
        self._pending_seq = 0
        self._alerts: list[dict[str, Any]] = []
        self._last_alert: dict[str, float] = {}
        self._last_checked = -1
        # Alerts need a baseline: posts arriving since this minute without a long gap.
        self._covered_since: int | None = None
        self._newest_minute: int | None = None
        self._ingested = 0
        self._rejected = 0
        self._too_old = 0

    @staticmethod
    def frame_fields() -> tuple[str, ...]:
        """Top-level keys of `frame()`, so a composer can send only what widgets use."""
        return FRAME_FIELDS

    # ---------------------------------------------------------------- ingest

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
        times = batch.time
        brand = self._brand_codes(batch.brand)
        seconds = times.astype(np.int64)
        minutes = seconds // 60
        in_seconds, reset = self._seconds.admit(seconds)
        self._per_second[reset] = 0
        distinct = np.unique(minutes)
        in_minutes, reset = self._minutes.admit(minutes, distinct)
        self._per_minute[reset] = 0
        self._countries[reset] = 0
        self._answered[reset] = 0
        self._campaign[reset] = 0
        for b in reset.tolist():
            self._response_times[b] = [[] for _ in self.brands]
            self._response_version += 1
        self._too_old += int(n - np.count_nonzero(in_minutes))
        if in_minutes.any():
            self._cover(int(minutes[in_minutes].max()))
        public = ~batch.own
        mention = public & (brand >= 0)
        category = np.full(n, -1, dtype=np.int64)
        sentiment = batch.sentiment
        category[sentiment >= POSITIVE] = 0
        category[sentiment <= NEGATIVE] = 1
        category[(sentiment > NEGATIVE) & (sentiment < POSITIVE)] = 2
        self._count(self._per_second, seconds % SECOND_BINS, mention & in_seconds, brand, category)
        self._count(self._per_minute, minutes % MINUTE_BINS, mention & in_minutes, brand, category)
        self._count_countries(batch.country, minutes, public & in_minutes)
        self._count_tokens(batch, minutes, distinct, public, brand)
        self._count_campaign(batch, minutes % MINUTE_BINS, public & in_minutes, category)
        self._count_authors(batch, minutes, distinct, public)
        self._match_replies(batch, mention & in_minutes, brand)

    def _cover(self, newest: int) -> None:
        """Restart the baseline after a gap longer than half of it.

        A backfill at start (a few old posts, then live ones) or a restart
        after downtime leaves empty minutes that would make the first busy
        minutes look like a spike.
        """
        gap = self.alert_config.baseline_min // 2
        if self._newest_minute is None or newest - self._newest_minute > gap:
            self._covered_since = newest
        self._newest_minute = max(newest, self._newest_minute or newest)

    def _brand_codes(self, column: Categorical) -> np.ndarray:
        lut = np.array([self._brand_index.get(v, -1) for v in column.vocab], dtype=np.int64)
        return lut[column.codes]

    def _count(self, bins: np.ndarray, slot: np.ndarray, selected: np.ndarray,
               brand: np.ndarray, category: np.ndarray) -> None:
        size, b, _ = bins.shape
        key = slot[selected] * b + brand[selected]
        bins[:, :, 0] += np.bincount(key, minlength=size * b).reshape(size, b)
        cat = category[selected]
        scored = cat >= 0
        counts = np.bincount(key[scored] * 3 + cat[scored], minlength=size * b * 3)
        bins[:, :, 1:] += counts.reshape(size, b, 3)

    def _count_countries(self, column: Categorical, minutes: np.ndarray,
                         selected: np.ndarray) -> None:
        lut = np.array([_country_index(v) for v in column.vocab], dtype=np.int64)
        code = lut[column.codes]
        selected = selected & (code >= 0)
        if not selected.any():
            return
        slot = minutes[selected] % MINUTE_BINS
        low, high = int(slot.min()), int(slot.max())
        key = (slot - low) * COUNTRY_CODES + code[selected]
        counts = np.bincount(key, minlength=(high - low + 1) * COUNTRY_CODES)
        self._countries[low:high + 1] += counts.reshape(-1, COUNTRY_CODES).astype(np.int32)

    def _count_tokens(self, batch: PostBatch, minutes: np.ndarray, distinct: np.ndarray,
                      public: np.ndarray, brand: np.ndarray) -> None:
        """Hashtags, URLs and raw text tokens per minute and brand; terms are cleaned when read.

        Every post's hashtags and URLs count (URLs in one group, not per
        brand); text only from the first `term_posts` posts of each minute and brand.
        """
        in_hour, reset = self._hashtags.ring.admit(minutes, distinct)
        for counts in (self._hashtags, self._terms, self._urls):
            counts.reset(reset.tolist())
        rows = np.flatnonzero(public & in_hour)
        if not len(rows):
            return
        groups = len(self.brands) + 1
        group = np.where(brand[rows] >= 0, brand[rows], groups - 1)
        key = (minutes[rows] % TOP_MINUTES) * groups + group
        order = np.argsort(key, kind="stable")
        key, rows = key[order], rows[order]
        cuts = np.flatnonzero(np.diff(key)) + 1
        starts = np.concatenate([[0], cuts])
        ends = np.concatenate([cuts, [len(key)]])
        slots, gs = np.divmod(key[starts], groups)
        tags = batch.hashtags.take(rows)
        tag_at = tags.offsets[starts].tolist()
        tag_end = tags.offsets[ends].tolist()
        for slot, g, a, z in zip(slots.tolist(), gs.tolist(), tag_at, tag_end, strict=True):
            self._hashtags.add(slot, g, tags.items[a:z])
        if batch.urls.items:
            urls = batch.urls.take(rows)
            for slot, a, z in zip(slots.tolist(), urls.offsets[starts].tolist(),
                                  urls.offsets[ends].tolist(), strict=True):
                if z > a:
                    self._urls.add(slot, 0, urls.items[a:z])
        sizes = ends - starts
        taken = sizes
        if self._term_posts is not None:
            counted = self._terms.posts[slots, gs]
            taken = np.clip(self._term_posts - counted, 0, sizes)
            if taken.sum() < len(rows):
                offset = np.arange(len(rows)) - np.repeat(starts, sizes)
                rows = rows[offset < np.repeat(taken, sizes)]
        self._terms.posts[slots, gs] += taken
        texts = row_picker(rows.tolist())(batch.text)
        text_end = np.cumsum(taken).tolist()
        text_at = [0, *text_end[:-1]]
        for slot, g, a, z in zip(slots.tolist(), gs.tolist(), text_at, text_end, strict=True):
            if z > a:
                self._terms.add(slot, g, " ".join(texts[a:z]).split())

    def _count_campaign(self, batch: PostBatch, slot: np.ndarray, selected: np.ndarray,
                        category: np.ndarray) -> None:
        """Posts carrying tracked terms, per minute and combination of the terms they carry.

        By combination, so a post carrying two terms is one post, also after a
        restart that drops one of them.
        """
        if not self._track_index:
            return
        combo = np.zeros(len(batch), dtype=np.int64)
        url_bits = {url: sum(bit for key, bit in self._url_keys if _shares_url(url, key))
                    for url in set(batch.urls.items)} if self._url_keys else {}
        for column, bits in ((batch.hashtags, self._tag_bits), (batch.urls, url_bits)):
            if not bits or not column.items:
                continue
            item_bits = np.fromiter(map(bits.get, column.items, repeat(0)), dtype=np.int64,
                                    count=len(column.items))
            hit = np.flatnonzero(item_bits)
            rows = np.searchsorted(column.offsets, hit, side="right") - 1
            np.bitwise_or.at(combo, rows, item_bits[hit])
        rows = np.flatnonzero(selected & (combo > 0))
        if not len(rows):
            return
        values = np.stack([np.ones(len(rows), dtype=np.int64), batch.followers[rows],
                           category[rows] == 0, category[rows] == 1], axis=1)
        np.add.at(self._campaign, (slot[rows], combo[rows]), values)

    def _count_authors(self, batch: PostBatch, minutes: np.ndarray, distinct: np.ndarray,
                       public: np.ndarray) -> None:
        """Reach (followers summed over posts) per (network, handle) and hour.

        Entries are tuples (reach, posts, name, followers, time of the latest
        post): immutable, so the garbage collector stops scanning them.
        """
        hours = minutes // 60
        in_day, reset = self._hours.admit(hours, np.unique(distinct // 60))
        for b in reset.tolist():
            self._authors[b] = {}
            self._author_version[b] += 1
        # One dict pass: each handle's code is the row where it first appears.
        handles = batch.handle
        first_row: dict[str, int] = {}
        code = np.fromiter(map(first_row.setdefault, handles, count()), dtype=np.int64,
                           count=len(handles))
        selected = public & in_day
        if "" in first_row:
            selected &= code != first_row[""]
        networks = len(batch.network.vocab)
        key = code * networks + batch.network.codes
        for hour in np.unique(hours[selected]).tolist():
            rows = np.flatnonzero(selected & (hours == hour))[::-1]  # newest (then last) first
            if np.any(np.diff(batch.time[rows]) > 0):  # the batch was not in time order
                rows = rows[np.argsort(-batch.time[rows], kind="stable")]
            authors, first, inverse = np.unique(key[rows], return_index=True, return_inverse=True)
            reach = np.bincount(inverse, weights=batch.followers[rows].astype(np.float64))
            posts = np.bincount(inverse)
            keep = np.arange(len(authors))
            if len(authors) > self._author_capacity:
                keep = np.argpartition(-reach, self._author_capacity)[:self._author_capacity]
            latest = rows[first[keep]]
            slot = hour % AUTHOR_HOURS
            table = self._authors[slot]
            names = row_picker(latest.tolist())(batch.author)
            for a, r, p, name, followers, t in zip(
                authors[keep].tolist(), reach[keep].astype(np.int64).tolist(),
                posts[keep].tolist(), names, batch.followers[latest].tolist(),
                batch.time[latest].tolist(), strict=True,
            ):
                ident = (batch.network.vocab[a % networks], handles[a // networks])
                entry = table.get(ident)
                if entry is None:
                    table[ident] = (r, p, name, followers, t)
                elif t >= entry[4]:
                    table[ident] = (entry[0] + r, entry[1] + p, name, followers, t)
                else:
                    table[ident] = (entry[0] + r, entry[1] + p, *entry[2:])
            if len(table) > 2 * self._author_capacity:
                heaviest = sorted(table.items(), key=lambda kv: kv[1][0], reverse=True)
                self._authors[slot] = dict(heaviest[:self._author_capacity])
            self._author_version[slot] += 1

    def _match_replies(self, batch: PostBatch, customer: np.ndarray, brand: np.ndarray) -> None:
        """Remember customer posts, then credit own-account replies to the brand they mention."""
        rows = np.flatnonzero(customer)[-(self._pending_size // 2):]
        if len(rows):
            seq = self._pending_seq
            where = np.arange(seq, seq + len(rows)) % self._pending_size
            self._pending_time[where] = batch.time[rows]
            self._pending_brand[where] = brand[rows]
            self._pending_young.update(zip(row_picker(rows.tolist())(batch.id),
                                           range(seq, seq + len(rows)), strict=True))
            self._pending_seq += len(rows)
            if len(self._pending_young) >= self._pending_size // 2:
                self._pending_old, self._pending_young = self._pending_young, {}
        replies = np.flatnonzero(batch.own & (brand >= 0))
        if len(replies):
            self._credit_replies(row_picker(replies.tolist())(batch.in_reply_to),
                                 brand[replies], batch.time[replies])

    def _credit_replies(self, targets: list[str], brand: np.ndarray, at: np.ndarray) -> None:
        """Credit replies in row order, as `_credit_reply` one by one would.

        The customer posts are looked up in C (`map` over `dict.get`); Python
        only loops over the replies that found their post.
        """
        young, old = self._pending_young, self._pending_old
        n = len(targets)
        in_young = np.fromiter(map(young.get, targets, repeat(-1)), dtype=np.int64, count=n)
        in_old = np.fromiter(map(old.get, targets, repeat(-1)), dtype=np.int64, count=n)
        found = np.flatnonzero((in_young >= 0) | (in_old >= 0))
        if not len(found):
            return
        picked = row_picker(found.tolist())
        if len(set(picked(targets))) < len(found):  # two replies to one post: keep the order
            for i in found.tolist():
                self._credit_reply(targets[i], int(brand[i]), float(at[i]))
            return
        seq = np.where(in_young[found] >= 0, in_young[found], in_old[found])
        where = seq % self._pending_size
        ok = ((seq >= self._pending_seq - self._pending_size)
              & (self._pending_brand[where] == brand[found]))
        if not ok.any():
            return
        rows, where, young_rows = found[ok], where[ok], (in_young[found] >= 0)[ok]
        for target, was_young in zip(row_picker(rows.tolist())(targets), young_rows.tolist(),
                                     strict=True):
            del (young if was_young else old)[target]
        posted = self._pending_time[where]
        minute = np.floor(posted / 60).astype(np.int64)
        slot = minute % MINUTE_BINS
        held = self._minutes.period[slot] == minute
        if not held.any():
            return
        posted, replied = posted[held], at[rows[held]]
        slot, brand = slot[held], brand[rows[held]].astype(np.int64)
        np.add.at(self._answered, (slot, brand), 1)
        if self._business is None:
            waited = np.where(replied > posted, replied - posted, 0.0).tolist()
        else:
            waited = [self.response_seconds(p, r)
                      for p, r in zip(posted.tolist(), replied.tolist(), strict=True)]
        times = self._response_times
        added = False
        for s, b, seconds in zip(slot.tolist(), brand.tolist(), waited, strict=True):
            sample = times[s][b]
            if len(sample) < RESPONSE_SAMPLE:
                sample.append(seconds)
                added = True
        if added:
            self._response_version += 1

    def _credit_reply(self, target: str, brand: int, at: float) -> None:
        for generation in (self._pending_young, self._pending_old):
            seq = generation.get(target)
            if seq is None:
                continue
            where = seq % self._pending_size
            if seq < self._pending_seq - self._pending_size or self._pending_brand[where] != brand:
                return
            del generation[target]
            posted = float(self._pending_time[where])
            minute = math.floor(posted / 60)
            slot = minute % MINUTE_BINS
            if self._minutes.period[slot] != minute:
                return
            self._answered[slot, brand] += 1
            sample = self._response_times[slot][brand]
            if len(sample) < RESPONSE_SAMPLE:
                sample.append(self.response_seconds(posted, at))
                self._response_version += 1
            return

    def response_seconds(self, posted: float, replied: float) -> float:
        """Time to first response; only business seconds when business hours are set."""
        if replied <= posted:
            return 0.0
        if self._business is None:
            return replied - posted
        start, end = self._business
        day = datetime.fromtimestamp(posted, self._tz).date()
        last = datetime.fromtimestamp(replied, self._tz).date()
        total = 0.0
        while day <= last:
            if day.weekday() in self._weekdays:
                opens = self._local(day, start)
                closes = self._local(day, end)
                total += max(0.0, min(closes, replied) - max(opens, posted))
            day += timedelta(days=1)
        return total

    def _local(self, day: date, hour: int) -> float:
        if hour == 24:
            day, hour = day + timedelta(days=1), 0
        return datetime.combine(day, dtime(hour), self._tz).timestamp()

    # ----------------------------------------------------------------- frame

    def frame(self, now: float) -> dict[str, Any]:
        """The full aggregate state at `now`, as plain JSON-able data.

        Also runs spike detection for the minutes that closed since the last call.
        """
        self.check_alerts(now)
        second = math.floor(now)
        minute = second // 60
        mentions = {name: self._mentions(second, second, span)
                    for name, span in VOLUME_WINDOWS.items()}
        previous = {name: self._mentions(second, second - span, span)
                    for name, span in VOLUME_WINDOWS.items() if span in PREVIOUS_WINDOWS}
        hour = self._per_second[self._seconds.window(second, 3600)].sum(axis=0)
        return {
            "time": float(now),
            "brands": list(self.brands),
            "own_brand": self.own_brand,
            "volume": {
                "windows_s": dict(VOLUME_WINDOWS),
                "by_brand": self._by_brand(lambda b: {w: int(c[b]) for w, c in mentions.items()}),
                "total": {w: int(c.sum()) for w, c in mentions.items()},
                "previous_by_brand": self._by_brand(
                    lambda b: {w: int(c[b]) for w, c in previous.items()}),
                "previous_total": {w: int(c.sum()) for w, c in previous.items()},
            },
            "series": self._series(minute),
            "share_of_voice": self._share_of_voice(hour[:, 0]),
            "sentiment": self._sentiment(hour),
            "hashtags": self._top(self._hashtags, minute, TOP_HASHTAGS, "tag"),
            "terms": self._top(self._terms, minute, TOP_TERMS, "term"),
            "urls": {"window_s": 3600, "top": [
                {"url": url, "count": n} for url, n in self._urls.top(minute, 60, (0,), TOP_URLS)]},
            "authors": self._top_authors(minute // 60),
            "countries": {
                "1h": self._country_counts(self._minutes.window(minute, 60)),
                "24h": self._country_counts(self._minutes.window(minute, MINUTE_BINS)),
            },
            "response": self._response(minute),
            "campaign": self._campaign_figures(minute),
            "alerts": [dict(alert) for alert in self._alerts],
            "totals": {"ingested": self._ingested, "rejected": self._rejected,
                       "too_old": self._too_old},
        }

    def _mentions(self, now_second: int, end_second: int, span: int) -> np.ndarray:
        """Mentions per brand in (end - span, end], in whole minutes beyond the second bins."""
        if now_second - (end_second - span) <= SECOND_BINS:
            return self._per_second[self._seconds.window(end_second, span), :, 0].sum(axis=0)
        mask = self._minutes.window(end_second // 60, span // 60)
        return self._per_minute[mask, :, 0].sum(axis=0)

    def _by_brand(self, value: Any) -> dict[str, Any]:
        return {name: value(b) for b, name in enumerate(self.brands)}

    def _series(self, minute: int) -> dict[str, Any]:
        bins, held = self._minutes.series(minute, 60)
        counts = np.where(held[:, None], self._per_minute[bins, :, 0], 0)
        return {
            "start": float((minute - 59) * 60),
            "step_s": 60,
            "by_brand": self._by_brand(lambda b: counts[:, b].tolist()),
        }

    def _share_of_voice(self, counts: np.ndarray) -> dict[str, Any]:
        total = int(counts.sum())
        return {
            "window_s": 3600,
            "total": total,
            "by_brand": self._by_brand(lambda b: float(counts[b]) / total if total else 0.0),
        }

    def _sentiment(self, hour: np.ndarray) -> dict[str, Any]:
        def one(b: int) -> dict[str, Any]:
            mentions, positive, negative, neutral = (int(v) for v in hour[b])
            return {
                "net": _net(positive, negative),
                "positive": positive, "negative": negative, "neutral": neutral,
                "unknown": mentions - positive - negative - neutral,
            }

        return {"window_s": 3600, "formula": NET_SENTIMENT_FORMULA, "by_brand": self._by_brand(one)}

    def _campaign_figures(self, minute: int) -> dict[str, Any]:
        bins, held = self._minutes.series(minute, 60)
        hour_bins = np.where(held[:, None, None], self._campaign[bins], 0)
        hour = hour_bins.sum(axis=0)
        day = self._campaign[self._minutes.window(minute, MINUTE_BINS)].sum(axis=0)
        terms = self._combo_terms.T  # a post counts once per term it carries
        term_hour, term_day = terms @ hour, terms @ day[:, 0]
        series = (hour_bins[:, :, 0] @ self._combo_terms).T
        posts, reach, positive, negative = (int(v) for v in hour.sum(axis=0))
        return {
            "terms": list(self.tracked),
            "window_s": 3600,
            "posts": {"1h": posts, "24h": int(day[:, 0].sum())},
            "reach": {"1h": reach, "24h": int(day[:, 1].sum())},
            "by_term": {term: {"1h": int(term_hour[i, 0]), "24h": int(term_day[i]),
                               "reach_1h": int(term_hour[i, 1])}
                        for i, term in enumerate(self.tracked)},
            "series": {"start": float((minute - 59) * 60), "step_s": 60,
                       "by_term": {term: series[i].tolist()
                                   for i, term in enumerate(self.tracked)}},
            "sentiment": {"net": _net(positive, negative), "positive": positive,
                          "negative": negative},
        }

    def _top(self, counts: _TopCounts, minute: int, k: int, label: str) -> dict[str, Any]:
        def entries(groups: Sequence[int], size: int) -> list[dict[str, Any]]:
            return [{label: key, "count": n} for key, n in counts.top(minute, 60, groups, size)]

        return {
            "window_s": 3600,
            "top": entries(range(len(self.brands) + 1), k),
            "by_brand": self._by_brand(lambda b: entries((b,), TOP_PER_BRAND)),
        }

    def _top_authors(self, hour: int) -> dict[str, Any]:
        bins, held = self._hours.series(hour, AUTHOR_HOURS)
        closed = bins[:-1][held[:-1]].tolist()
        current = self._authors[int(bins[-1])] if held[-1] else {}
        versions = (hour, tuple(self._author_version[b] for b in closed))
        if self._author_cache is None or self._author_cache[0] != versions:
            merged: dict[tuple[str, str], tuple] = {}
            for b in closed:
                for ident, entry in self._authors[b].items():
                    merged[ident] = _combine(merged[ident], entry) if ident in merged else entry
            ranked = sorted(merged, key=lambda ident: (-merged[ident][0], ident))
            self._author_cache = (versions, merged, ranked)
        _, merged, ranked = self._author_cache
        candidates = set(current)
        extra = 0
        for ident in ranked:
            if ident not in current:
                candidates.add(ident)
                extra += 1
                if extra >= TOP_AUTHORS:
                    break
        rows = []
        for ident in candidates:
            entry = merged.get(ident)
            if ident in current:
                entry = current[ident] if entry is None else _combine(entry, current[ident])
            rows.append((ident, entry))
        rows.sort(key=lambda row: (-row[1][0], row[0]))
        return {
            "window_s": AUTHOR_HOURS * 3600,
            "top": [
                {"network": network, "handle": handle, "name": e[2], "followers": e[3],
                 "posts": e[1], "reach": e[0]}
                for (network, handle), e in rows[:TOP_AUTHORS]
            ],
        }

    def _country_counts(self, mask: np.ndarray) -> dict[str, int]:
        totals = self._countries[mask].sum(axis=0, dtype=np.int64)
        nonzero = np.flatnonzero(totals)
        ranked = sorted(zip((-totals[nonzero]).tolist(), nonzero.tolist(), strict=True))
        return {_country_code(i): -n for n, i in ranked}

    def _response(self, minute: int) -> dict[str, Any]:
        mask = self._minutes.window(minute, MINUTE_BINS)
        customers = self._per_minute[mask, :, 0].sum(axis=0)
        answered = self._answered[mask].sum(axis=0)
        key = (minute, self._response_version)
        if self._response_cache is None or self._response_cache[0] != key:
            bins = np.flatnonzero(mask).tolist()
            stats = [_percentiles(chain.from_iterable(self._response_times[s][b] for s in bins))
                     for b in range(len(self.brands))]
            self._response_cache = (key, stats)
        stats = self._response_cache[1]

        def one(b: int) -> dict[str, Any]:
            return {
                "customer_posts": int(customers[b]),
                "answered": int(answered[b]),
                "rate": float(answered[b]) / float(customers[b]) if customers[b] else None,
                "first_response_s": stats[b],
            }

        business = None
        if self._business is not None:
            business = {"hours": list(self._business), "weekdays": sorted(self._weekdays),
                        "timezone": self._config["timezone"]}
        return {"window_s": 86400, "business_hours": business, "by_brand": self._by_brand(one)}

    # ---------------------------------------------------------------- alerts

    def check_alerts(self, now: float) -> list[dict[str, Any]]:
        """Score the last complete minute against the baseline; returns alerts raised now.

        Each minute is scored once, so calling this on every frame is cheap.
        Alerts only suggest the crisis scenario: switching stays the presenter's call.
        """
        last = math.floor(now) // 60 - 1
        cfg = self.alert_config
        if last <= self._last_checked:
            return []
        self._last_checked = last
        blocks = cfg.baseline_min // cfg.recent_min
        start = last - cfg.recent_min * (blocks + 1) + 1
        if self._covered_since is None or self._covered_since > start:
            return []
        bins, held = self._minutes.series(last, last - start + 1)
        data = np.where(held[:, None, None], self._per_minute[bins], 0)
        windows = data.reshape(blocks + 1, cfg.recent_min, len(self.brands), 4).sum(axis=1)
        baseline, recent = windows[:-1], windows[-1]
        raised = []
        for b, brand in enumerate(self.brands):
            for kind, score in (("volume", _volume_spike), ("negative", _negative_spike)):
                found = score(baseline[:, b], recent[b], cfg)
                if found is None:
                    continue
                key = f"{kind}|{brand}"
                at = float((last + 1) * 60)
                if at - self._last_alert.get(key, -math.inf) < cfg.cooldown_s:
                    continue
                self._last_alert[key] = at
                raised.append(self._raise(kind, brand, b, last, at, found))
        day_ago = (last + 1) * 60 - 86400
        self._alerts = [a for a in raised[::-1] + self._alerts if a["started_at"] > day_ago]
        del self._alerts[cfg.keep:]
        return raised

    def _raise(self, kind: str, brand: str, b: int, last: int, at: float,
               found: dict[str, Any]) -> dict[str, Any]:
        minutes = self.alert_config.recent_min
        terms = [t for t, _ in self._terms.top(last, minutes, (b,), ALERT_TERMS)]
        if kind == "volume":
            usual = found["baseline"]
            than = (f"{found['value'] / usual:.1f} times the usual {usual:g}" if usual
                    else "where there are usually none")
            reason = (f"{brand}: {found['value']} mentions in the last {minutes} min, {than} "
                      f"(robust z {found['z']:.1f} >= {self.alert_config.z_threshold:g})")
        else:
            reason = (f"{brand}: {found['value']:.0%} of scored mentions negative in the last "
                      f"{minutes} min ({found['negative']} of {found['scored']}), against a usual "
                      f"{found['baseline']:.0%} (robust z {found['z']:.1f} >= "
                      f"{self.alert_config.z_threshold:g})")
        return {
            "id": f"{kind}-{brand}-{last}", "kind": kind, "brand": brand, "reason": reason,
            "top_terms": terms, "started_at": at, "window_s": minutes * 60, **found,
            "suggest_scenario": "crisis", "acknowledged_by": None, "acknowledged_at": None,
        }

    def acknowledge(self, alert_id: str, by: str, at: float | None = None) -> bool:
        """Mark an alert as seen by someone; it stays in the frame, marked.

        Returns:
            False when no alert has that id (it may have aged out of the list).
        """
        for alert in self._alerts:
            if alert["id"] == alert_id:
                alert["acknowledged_by"] = by
                alert["acknowledged_at"] = time.time() if at is None else at
                return True
        return False

    # ----------------------------------------------------------- persistence

    def to_state(self) -> dict[str, Any]:
        """Everything needed to resume after a restart, as JSON-able data."""
        response_times = [[s, b, times] for s, per_brand in enumerate(self._response_times)
                          for b, times in enumerate(per_brand) if times]
        pending = [
            [ident, float(self._pending_time[seq % self._pending_size]),
             self.brands[self._pending_brand[seq % self._pending_size]]]
            for generation in (self._pending_old, self._pending_young)
            for ident, seq in generation.items()
            if seq >= self._pending_seq - self._pending_size
        ]
        return {
            "version": STATE_VERSION,
            "config": {**self._config, "alerts": dict(self._config["alerts"])},
            "totals": {"ingested": self._ingested, "rejected": self._rejected,
                       "too_old": self._too_old},
            "covered_since": self._covered_since,
            "newest_minute": self._newest_minute,
            "seconds": {"period": self._seconds.period.tolist(), "counts": _pack(self._per_second)},
            "minutes": {
                "period": self._minutes.period.tolist(),
                "counts": _pack(self._per_minute),
                "countries": _pack(self._countries),
                "answered": _pack(self._answered),
                "response_times": response_times,
            },
            "hashtags": _counts_state(self._hashtags, self.brands),
            "terms": _counts_state(self._terms, self.brands),
            "urls": _counts_state(self._urls, []),
            "campaign": _pack(self._campaign),
            "authors": {
                "period": self._hours.period.tolist(),
                "entries": [[slot, *ident, *entry] for slot, table in enumerate(self._authors)
                            for ident, entry in table.items()],
            },
            "pending": pending,
            "alerts": [dict(alert) for alert in self._alerts],
            "last_alert": dict(self._last_alert),
            "last_checked": self._last_checked,
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
        old = state["config"]["brands"]
        new_of_old = np.array([self._brand_index.get(b, -1) for b in old], dtype=np.int64)
        kept = np.flatnonzero(new_of_old >= 0)

        def remap(array: np.ndarray, axis: int) -> np.ndarray:
            shape = list(array.shape)
            shape[axis] = len(self.brands)
            out = np.zeros(shape, dtype=array.dtype)
            index = [slice(None)] * len(shape)
            source = list(index)
            index[axis], source[axis] = new_of_old[kept], kept
            out[tuple(index)] = array[tuple(source)]
            return out

        totals = state["totals"]
        self._ingested, self._rejected = totals["ingested"], totals["rejected"]
        self._too_old = totals["too_old"]
        self._covered_since = state["covered_since"]
        self._newest_minute = state["newest_minute"]
        self._seconds.period[:] = state["seconds"]["period"]
        self._per_second = remap(_unpack(state["seconds"]["counts"], np.int64), 1)
        minutes = state["minutes"]
        self._minutes.period[:] = minutes["period"]
        self._per_minute = remap(_unpack(minutes["counts"], np.int64), 1)
        self._countries = _unpack(minutes["countries"], np.int32)
        self._answered = remap(_unpack(minutes["answered"], np.int64), 1)
        for slot, b, times in minutes["response_times"]:
            if new_of_old[b] >= 0:
                self._response_times[slot][new_of_old[b]] = list(times)
        self._response_version += 1
        _load_counts(self._hashtags, state["hashtags"], old, self._brand_index)
        _load_counts(self._terms, state["terms"], old, self._brand_index)
        if "urls" in state:  # absent from states saved before URLs and campaigns were counted
            _load_counts(self._urls, state["urls"], [], {})
            self._load_campaign(state["config"]["tracked"], _unpack(state["campaign"], np.int64))
        self._hours.period[:] = state["authors"]["period"]
        for slot, network, handle, *entry in state["authors"]["entries"]:
            self._authors[slot][(network, handle)] = tuple(entry)
        for ident, posted, brand in state["pending"]:
            if brand in self._brand_index:
                where = self._pending_seq % self._pending_size
                self._pending_time[where] = posted
                self._pending_brand[where] = self._brand_index[brand]
                self._pending_young[ident] = self._pending_seq
                self._pending_seq += 1
        self._alerts = [dict(alert) for alert in state["alerts"]]
        self._last_alert = dict(state["last_alert"])
        self._last_checked = state["last_checked"]

    def _load_campaign(self, old_terms: list[str], bins: np.ndarray) -> None:
        """Saved campaign bins under the current tracked list, each post still counted once.

        A saved combination of terms counts for those of its terms that remain,
        and not at all when none does.
        """
        bit = [1 << self._track_index[k] if k in self._track_index else 0
               for k in map(_track_key, old_terms)]
        for old_combo in range(1, bins.shape[1]):
            combo = sum(b for i, b in enumerate(bit) if old_combo >> i & 1)
            if combo:
                self._campaign[:, combo] += bins[:, old_combo]


def _combine(older: tuple, newer: tuple) -> tuple:
    """One author's entries added: reach and posts summed, name and followers from the latest."""
    latest = newer if newer[4] >= older[4] else older
    return (older[0] + newer[0], older[1] + newer[1], *latest[2:])


def _volume_spike(baseline: np.ndarray, recent: np.ndarray,
                  cfg: AlertConfig) -> dict[str, Any] | None:
    value = int(recent[0])
    if value < cfg.min_count:
        return None
    usual = float(np.median(baseline[:, 0]))
    spread = 1.4826 * float(np.median(np.abs(baseline[:, 0] - usual)))
    z = (value - usual) / max(spread, math.sqrt(max(usual, 1.0)))
    if z < cfg.z_threshold:
        return None
    return {"value": value, "baseline": usual, "z": round(z, 2)}


def _negative_spike(baseline: np.ndarray, recent: np.ndarray,
                    cfg: AlertConfig) -> dict[str, Any] | None:
    negative = int(recent[2])
    scored = int(recent[1] + recent[2] + recent[3])
    if negative < cfg.min_count or not scored:
        return None
    base_scored = baseline[:, 1:].sum(axis=1)
    shares = baseline[base_scored > 0, 2] / base_scored[base_scored > 0]
    if len(shares) < (len(baseline) + 1) // 2:
        return None
    usual = float(np.median(shares))
    spread = 1.4826 * float(np.median(np.abs(shares - usual)))
    p = min(max(usual, 0.02), 0.98)
    share = negative / scored
    z = (share - usual) / max(spread, math.sqrt(p * (1 - p) / scored))
    if z < cfg.z_threshold:
        return None
    return {"value": share, "baseline": usual, "z": round(z, 2), "negative": negative,
            "scored": scored}


def _counts_state(counts: _TopCounts, brands: list[str]) -> dict[str, Any]:
    names = [*brands, ""]
    return {
        "period": counts.ring.period.tolist(),
        "bins": [[slot, names[g], dict(counter)] for slot, groups in enumerate(counts.bins)
                 for g, counter in enumerate(groups) if counter],
        "posts": [[int(slot), names[g], int(counts.posts[slot, g])]
                  for slot, g in zip(*np.nonzero(counts.posts), strict=True)],
    }


def _load_counts(counts: _TopCounts, state: dict[str, Any], old: list[str],
                 index: dict[str, int]) -> None:
    counts.ring.period[:] = state["period"]
    other = counts.groups - 1
    for slot, name, counter in state["bins"]:
        counts.bins[slot][index.get(name, other)].update(counter)
    for slot, name, posts in state.get("posts", ()):
        counts.posts[slot, index.get(name, other)] += posts
