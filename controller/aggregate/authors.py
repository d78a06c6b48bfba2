"""The authors' leaderboard: reach (followers summed over posts) per author over the last 24 hours.

Authors live in per-hour tables, each pruned to its heaviest entries.
"""

from __future__ import annotations

from itertools import count
from typing import Any

import numpy as np

from controller.aggregate.windows import Ring
from controller.postbatch import PostBatch, row_picker

AUTHOR_HOURS = 24
TOP_AUTHORS = 10


class Authors:
    """Reach, posts, name and followers per (network, handle) and hour.

    Args:
        capacity: authors kept per hour; the leaderboard is exact while fewer
            distinct authors than this post in an hour.
    """

    def __init__(self, capacity: int):
        self.hours = Ring(AUTHOR_HOURS)
        self.tables: list[dict[tuple[str, str], tuple]] = [{} for _ in range(AUTHOR_HOURS)]
        self._version = [0] * AUTHOR_HOURS
        self._cache: tuple[tuple, dict, list] | None = None
        self._capacity = capacity

    def count(self, batch: PostBatch, minutes: np.ndarray, distinct: np.ndarray,
              public: np.ndarray) -> None:
        """Reach (followers summed over posts) per (network, handle) and hour.

        Entries are tuples (reach, posts, name, followers, time of the latest
        post): immutable, so the garbage collector stops scanning them.
        """
        hours = minutes // 60
        in_day, reset = self.hours.admit(hours, np.unique(distinct // 60))
        for b in reset.tolist():
            self.tables[b] = {}
            self._version[b] += 1
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
            if len(authors) > self._capacity:
                keep = np.argpartition(-reach, self._capacity)[:self._capacity]
            latest = rows[first[keep]]
            slot = hour % AUTHOR_HOURS
            table = self.tables[slot]
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
            if len(table) > 2 * self._capacity:
                heaviest = sorted(table.items(), key=lambda kv: kv[1][0], reverse=True)
                self.tables[slot] = dict(heaviest[:self._capacity])
            self._version[slot] += 1

    def figures(self, hour: int) -> dict[str, Any]:
        """The frame's authors field: the top authors by reach in the 24 h up to this hour."""
        bins, held = self.hours.series(hour, AUTHOR_HOURS)
        closed = bins[:-1][held[:-1]].tolist()
        current = self.tables[int(bins[-1])] if held[-1] else {}
        versions = (hour, tuple(self._version[b] for b in closed))
        if self._cache is None or self._cache[0] != versions:
            merged: dict[tuple[str, str], tuple] = {}
            for b in closed:
                for ident, entry in self.tables[b].items():
                    merged[ident] = _combine(merged[ident], entry) if ident in merged else entry
            ranked = sorted(merged, key=lambda ident: (-merged[ident][0], ident))
            self._cache = (versions, merged, ranked)
        _, merged, ranked = self._cache
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

    def to_state(self) -> dict[str, Any]:
        return {
            "period": self.hours.period.tolist(),
            "entries": [[slot, *ident, *entry] for slot, table in enumerate(self.tables)
                        for ident, entry in table.items()],
        }

    def load(self, state: dict[str, Any]) -> None:
        self.hours.period[:] = state["period"]
        for slot, network, handle, *entry in state["entries"]:
            self.tables[slot][(network, handle)] = tuple(entry)


def _combine(older: tuple, newer: tuple) -> tuple:
    """One author's entries added: reach and posts summed, name and followers from the latest."""
    latest = newer if newer[4] >= older[4] else older
    return (older[0] + newer[0], older[1] + newer[1], *latest[2:])
