"""Rolling windows: ring buffers of time bins, and per-minute top counters over the last hour.

Memory is bounded whatever the rate: a ring holds a fixed number of bins
(seconds, minutes or hours), a newer period evicting the one its bin held.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

# One-minute bins for 24 h: the ring most figures share.
MINUTE_BINS = 1440
TOP_MINUTES = 60


class Ring:
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


class TopCounts:
    """Per-minute counters of strings per group for the last hour, pruned to the heaviest.

    Merging sixty counters is done once per minute (cached); the open minute is
    added on each frame by looking only at the candidates that can reach the top.

    Args:
        ring: the last hour's minutes, shared by the counters that count the same posts.
        groups: counters per minute (brands, and one for the posts about none).
        capacity: entries kept per minute and group.
        clean: turns merged raw counts into what is ranked (None: ranked as counted).
    """

    def __init__(self, ring: Ring, groups: int, capacity: int,
                 clean: Callable[[Counter], Counter] | None = None):
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
        return self._clean(merged) if self._clean is not None else merged

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

    def to_state(self, brands: Sequence[str]) -> dict[str, Any]:
        """The counters as JSON, groups by brand name ("" for the posts about none)."""
        names = [*brands, ""]
        return {
            "period": self.ring.period.tolist(),
            "bins": [[slot, names[g], dict(counter)] for slot, groups in enumerate(self.bins)
                     for g, counter in enumerate(groups) if counter],
            "posts": [[int(slot), names[g], int(self.posts[slot, g])]
                      for slot, g in zip(*np.nonzero(self.posts), strict=True)],
        }

    def load(self, state: dict[str, Any], index: dict[str, int]) -> None:
        """Add saved counters; a brand no longer in `index` counts with the posts about none."""
        self.ring.period[:] = state["period"]
        other = self.groups - 1
        for slot, name, counter in state["bins"]:
            self.bins[slot][index.get(name, other)].update(counter)
        for slot, name, posts in state.get("posts", ()):
            self.posts[slot, index.get(name, other)] += posts


def per_brand(brands: Sequence[str], value: Callable[[int], Any]) -> dict[str, Any]:
    """A figure for each brand by name, from a function of the brand's index."""
    return {name: value(b) for b, name in enumerate(brands)}
