"""Response times: customer posts awaiting a reply, own replies credited, first-response figures.

Customer posts awaiting a reply live in a capped two-generation map; answered
posts and a sample of their response times per minute and brand for 24 h.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from datetime import time as dtime
from itertools import chain, repeat
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from controller.aggregate.state import BrandMap, pack, unpack
from controller.aggregate.windows import MINUTE_BINS, Ring, per_brand
from controller.postbatch import PostBatch, row_picker

RESPONSE_SAMPLE = 1000


def _percentiles(values: Iterable[float]) -> dict[str, float] | None:
    array = np.fromiter(values, dtype=np.float64)
    if not len(array):
        return None
    mean = float(array.mean())
    median, p90 = (float(v) for v in np.percentile(array, [50, 90]))
    return {"mean": mean, "median": median, "p90": p90}


class Responses:
    """Which customer posts a brand's own accounts answered, and how fast.

    Args:
        brands: the brands compared, in order.
        minutes: the shared one-minute ring (its owner admits the minutes).
        business_hours: (start, end) local hours; when given, first-response
            times count only seconds inside them, on `weekdays`, in `timezone`.
        weekdays: working days, Monday = 0.
        timezone: IANA name, for business hours.
        max_pending: customer posts remembered for matching replies.
    """

    def __init__(self, brands: Sequence[str], minutes: Ring, *,
                 business_hours: tuple[int, int] | None, weekdays: Sequence[int],
                 timezone: str, max_pending: int):
        self.brands = brands
        self.minutes = minutes
        self._timezone = timezone
        self._tz = ZoneInfo(timezone)
        self._business = tuple(business_hours) if business_hours else None
        self._weekdays = frozenset(weekdays)
        self.answered = np.zeros((MINUTE_BINS, len(brands)), dtype=np.int64)
        self.times: list[list[list[float]]] = [[[] for _ in brands] for _ in range(MINUTE_BINS)]
        self._version = 0
        self._cache: tuple[tuple[int, int], list] | None = None
        self._pending_size = max(2, max_pending)
        self._pending_young: dict[str, int] = {}
        self._pending_old: dict[str, int] = {}
        self._pending_time = np.zeros(self._pending_size, dtype=np.float64)
        self._pending_brand = np.zeros(self._pending_size, dtype=np.int32)
        self._pending_seq = 0

    def reset(self, minute_bins: np.ndarray) -> None:
        self.answered[minute_bins] = 0
        for b in minute_bins.tolist():
            self.times[b] = [[] for _ in self.brands]
            self._version += 1

    def match(self, batch: PostBatch, customer: np.ndarray, brand: np.ndarray) -> None:
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
        held = self.minutes.period[slot] == minute
        if not held.any():
            return
        posted, replied = posted[held], at[rows[held]]
        slot, brand = slot[held], brand[rows[held]].astype(np.int64)
        np.add.at(self.answered, (slot, brand), 1)
        if self._business is None:
            waited = np.where(replied > posted, replied - posted, 0.0).tolist()
        else:
            waited = [self.seconds(p, r)
                      for p, r in zip(posted.tolist(), replied.tolist(), strict=True)]
        times = self.times
        added = False
        for s, b, seconds in zip(slot.tolist(), brand.tolist(), waited, strict=True):
            sample = times[s][b]
            if len(sample) < RESPONSE_SAMPLE:
                sample.append(seconds)
                added = True
        if added:
            self._version += 1

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
            if self.minutes.period[slot] != minute:
                return
            self.answered[slot, brand] += 1
            sample = self.times[slot][brand]
            if len(sample) < RESPONSE_SAMPLE:
                sample.append(self.seconds(posted, at))
                self._version += 1
            return

    def seconds(self, posted: float, replied: float) -> float:
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

    def figures(self, minute: int, customers: np.ndarray) -> dict[str, Any]:
        """The frame's response field for the 24 h up to this minute.

        Args:
            minute: the current minute number.
            customers: customer posts (mentions) per brand in those 24 h.
        """
        mask = self.minutes.window(minute, MINUTE_BINS)
        answered = self.answered[mask].sum(axis=0)
        key = (minute, self._version)
        if self._cache is None or self._cache[0] != key:
            bins = np.flatnonzero(mask).tolist()
            stats = [_percentiles(chain.from_iterable(self.times[s][b] for s in bins))
                     for b in range(len(self.brands))]
            self._cache = (key, stats)
        stats = self._cache[1]

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
                        "timezone": self._timezone}
        return {"window_s": 86400, "business_hours": business,
                "by_brand": per_brand(self.brands, one)}

    def to_state(self) -> dict[str, Any]:
        """Answered counts, response-time samples and the posts still awaiting a reply."""
        pending = [
            [ident, float(self._pending_time[seq % self._pending_size]),
             self.brands[self._pending_brand[seq % self._pending_size]]]
            for generation in (self._pending_old, self._pending_young)
            for ident, seq in generation.items()
            if seq >= self._pending_seq - self._pending_size
        ]
        return {
            "answered": pack(self.answered),
            "response_times": [[s, b, times] for s, by_brand in enumerate(self.times)
                               for b, times in enumerate(by_brand) if times],
            "pending": pending,
        }

    def load(self, answered: dict[str, Any], response_times: list, pending: list,
             brands: BrandMap, index: dict[str, int]) -> None:
        """Restore what `to_state` saved, under the current brands."""
        self.answered = brands.remap(unpack(answered, np.int64), 1)
        for slot, b, times in response_times:
            if brands.new_of_old[b] >= 0:
                self.times[slot][brands.new_of_old[b]] = list(times)
        self._version += 1
        for ident, posted, brand in pending:
            if brand in index:
                where = self._pending_seq % self._pending_size
                self._pending_time[where] = posted
                self._pending_brand[where] = index[brand]
                self._pending_young[ident] = self._pending_seq
                self._pending_seq += 1
