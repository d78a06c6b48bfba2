"""Campaign tracking: posts carrying tracked #hashtags or URLs, per term, over an hour and a day.

Posts are binned per minute for 24 h and per combination of the tracked terms
they carry (2 ** terms rows), so a post carrying two terms is one post, also
after a restart that drops one of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat
from typing import Any

import numpy as np

from controller.aggregate.mentions import net
from controller.aggregate.state import pack, unpack
from controller.aggregate.windows import MINUTE_BINS, Ring
from controller.postbatch import PostBatch

# One row per combination of tracked terms: 8 terms make 12 MB of bins.
MAX_TRACKED = 8


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


class Campaign:
    """Posts, reach and sentiment of the posts carrying tracked terms.

    Args:
        tracked: "#hashtag" (any case) or URL, at most MAX_TRACKED.
        minutes: the shared one-minute ring (its owner admits the minutes).

    Raises:
        ValueError: as `tracked_keys`.
    """

    def __init__(self, tracked: list[str], minutes: Ring):
        keys = tracked_keys(tracked)
        self.tracked = tracked
        self.minutes = minutes
        self._index = {key: i for i, key in enumerate(keys)}
        self._tag_bits = {key[1:]: 1 << i for i, key in enumerate(keys) if key[0] == "#"}
        self._url_keys = [(key, 1 << i) for i, key in enumerate(keys) if key[0] != "#"]
        combos = np.arange(1 << len(keys))
        # Which terms each combination holds: one row per combination, one column per term.
        self._combo_terms = (combos[:, None] >> np.arange(len(keys))) & 1
        # Per minute and combination: [posts, reach, positive, negative].
        self.bins = np.zeros((MINUTE_BINS, len(combos), 4), dtype=np.int64)

    def reset(self, minute_bins: np.ndarray) -> None:
        self.bins[minute_bins] = 0

    def count(self, batch: PostBatch, slot: np.ndarray, selected: np.ndarray,
              category: np.ndarray) -> None:
        """Count the selected posts that carry tracked terms in their minute `slot`."""
        if not self._index:
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
        np.add.at(self.bins, (slot[rows], combo[rows]), values)

    def figures(self, minute: int) -> dict[str, Any]:
        """The frame's campaign field for the hour and day up to this minute."""
        bins, held = self.minutes.series(minute, 60)
        hour_bins = np.where(held[:, None, None], self.bins[bins], 0)
        hour = hour_bins.sum(axis=0)
        day = self.bins[self.minutes.window(minute, MINUTE_BINS)].sum(axis=0)
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
            "sentiment": {"net": net(positive, negative), "positive": positive,
                          "negative": negative},
        }

    def to_state(self) -> dict[str, Any]:
        return pack(self.bins)

    def load(self, old_terms: list[str], saved: dict[str, Any]) -> None:
        """Saved campaign bins under the current tracked list, each post still counted once.

        A saved combination of terms counts for those of its terms that remain,
        and not at all when none does.
        """
        bins = unpack(saved, np.int64)
        bit = [1 << self._index[k] if k in self._index else 0
               for k in map(_track_key, old_terms)]
        for old_combo in range(1, bins.shape[1]):
            combo = sum(b for i, b in enumerate(bit) if old_combo >> i & 1)
            if combo:
                self.bins[:, combo] += bins[:, old_combo]
