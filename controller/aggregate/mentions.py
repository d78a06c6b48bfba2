"""Mentions per brand: volume windows, the last hour's series, share of voice and sentiment.

Counts live per time bin and brand as [mentions, positive, negative, neutral]:
3600 one-second bins for windows up to an hour, the shared one-minute bins
for 24 h, the series and spike detection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from controller.aggregate.state import BrandMap, pack, unpack
from controller.aggregate.windows import MINUTE_BINS, Ring, per_brand

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
SECOND_BINS = 3600


def sentiment_class(sentiment: np.ndarray) -> np.ndarray:
    """Each post's class: 0 positive, 1 negative, 2 neutral, -1 not scored (NaN)."""
    category = np.full(len(sentiment), -1, dtype=np.int64)
    category[sentiment >= POSITIVE] = 0
    category[sentiment <= NEGATIVE] = 1
    category[(sentiment > NEGATIVE) & (sentiment < POSITIVE)] = 2
    return category


def net(positive: int, negative: int) -> float | None:
    """Net sentiment as NET_SENTIMENT_FORMULA says; None without polar posts."""
    polar = positive + negative
    return (positive - negative) / polar * 100 if polar else None


def coverage(mentions: int, scored: int) -> float | None:
    """Share of mentions with a sentiment score (unscored ones are not neutral); None if none."""
    return scored / mentions if mentions else None


class Mentions:
    """Mentions and their sentiment per brand, in second and minute bins.

    Args:
        brands: the brands compared, in order.
        minutes: the shared one-minute ring (its owner admits the minutes).
    """

    def __init__(self, brands: Sequence[str], minutes: Ring):
        self.brands = brands
        self.seconds = Ring(SECOND_BINS)
        self.per_second = np.zeros((SECOND_BINS, len(brands), 4), dtype=np.int64)
        self.minutes = minutes
        self.per_minute = np.zeros((MINUTE_BINS, len(brands), 4), dtype=np.int64)

    def admit_seconds(self, seconds: np.ndarray) -> np.ndarray:
        """Claim second bins; returns which posts have one."""
        in_seconds, reset = self.seconds.admit(seconds)
        self.per_second[reset] = 0
        return in_seconds

    def reset(self, minute_bins: np.ndarray) -> None:
        self.per_minute[minute_bins] = 0

    def count(self, seconds: np.ndarray, minutes: np.ndarray, in_seconds: np.ndarray,
              in_minutes: np.ndarray, brand: np.ndarray, category: np.ndarray) -> None:
        """Count the selected mentions in their second and minute bins."""
        _count(self.per_second, seconds % SECOND_BINS, in_seconds, brand, category)
        _count(self.per_minute, minutes % MINUTE_BINS, in_minutes, brand, category)

    def figures(self, second: int) -> dict[str, Any]:
        """The frame's volume, series, share_of_voice and sentiment at this second."""
        mentions = {name: self._mentions(second, second, span)
                    for name, span in VOLUME_WINDOWS.items()}
        previous = {name: self._mentions(second, second - span, span)
                    for name, span in VOLUME_WINDOWS.items() if span in PREVIOUS_WINDOWS}
        hour = self.per_second[self.seconds.window(second, 3600)].sum(axis=0)
        return {
            "volume": {
                "windows_s": dict(VOLUME_WINDOWS),
                "by_brand": per_brand(self.brands,
                                      lambda b: {w: int(c[b]) for w, c in mentions.items()}),
                "total": {w: int(c.sum()) for w, c in mentions.items()},
                "previous_by_brand": per_brand(
                    self.brands, lambda b: {w: int(c[b]) for w, c in previous.items()}),
                "previous_total": {w: int(c.sum()) for w, c in previous.items()},
            },
            "series": self._series(second // 60),
            "share_of_voice": self._share_of_voice(hour[:, 0]),
            "sentiment": self._sentiment(hour),
        }

    def in_day(self, minute: int) -> np.ndarray:
        """Mentions per brand in the 24 h up to this minute."""
        return self.per_minute[self.minutes.window(minute, MINUTE_BINS), :, 0].sum(axis=0)

    def _mentions(self, now_second: int, end_second: int, span: int) -> np.ndarray:
        """Mentions per brand in (end - span, end], in whole minutes beyond the second bins."""
        if now_second - (end_second - span) <= SECOND_BINS:
            return self.per_second[self.seconds.window(end_second, span), :, 0].sum(axis=0)
        mask = self.minutes.window(end_second // 60, span // 60)
        return self.per_minute[mask, :, 0].sum(axis=0)

    def _series(self, minute: int) -> dict[str, Any]:
        bins, held = self.minutes.series(minute, 60)
        counts = np.where(held[:, None], self.per_minute[bins, :, 0], 0)
        return {
            "start": float((minute - 59) * 60),
            "step_s": 60,
            "by_brand": per_brand(self.brands, lambda b: counts[:, b].tolist()),
        }

    def _share_of_voice(self, counts: np.ndarray) -> dict[str, Any]:
        total = int(counts.sum())
        return {
            "window_s": 3600,
            "total": total,
            "by_brand": per_brand(self.brands,
                                  lambda b: float(counts[b]) / total if total else 0.0),
        }

    def _sentiment(self, hour: np.ndarray) -> dict[str, Any]:
        def one(b: int) -> dict[str, Any]:
            mentions, positive, negative, neutral = (int(v) for v in hour[b])
            return {
                "net": net(positive, negative),
                "positive": positive, "negative": negative, "neutral": neutral,
                "unknown": mentions - positive - negative - neutral,
                "coverage": coverage(mentions, positive + negative + neutral),
            }

        total = hour.sum(axis=0)
        return {"window_s": 3600, "formula": NET_SENTIMENT_FORMULA,
                "coverage": coverage(int(total[0]), int(total[1:].sum())),
                "by_brand": per_brand(self.brands, one)}

    def to_state(self) -> dict[str, Any]:
        """The second bins (with their ring) and the minute counts, as JSON."""
        seconds = {"period": self.seconds.period.tolist(), "counts": pack(self.per_second)}
        return {"seconds": seconds, "minutes": pack(self.per_minute)}

    def load(self, seconds: dict[str, Any], minutes: dict[str, Any], brands: BrandMap) -> None:
        """Restore what `to_state` saved, under the current brands."""
        self.seconds.period[:] = seconds["period"]
        self.per_second = brands.remap(unpack(seconds["counts"], np.int64), 1)
        self.per_minute = brands.remap(unpack(minutes, np.int64), 1)


def _count(bins: np.ndarray, slot: np.ndarray, selected: np.ndarray,
           brand: np.ndarray, category: np.ndarray) -> None:
    size, b, _ = bins.shape
    key = slot[selected] * b + brand[selected]
    bins[:, :, 0] += np.bincount(key, minlength=size * b).reshape(size, b)
    cat = category[selected]
    scored = cat >= 0
    counts = np.bincount(key[scored] * 3 + cat[scored], minlength=size * b * 3)
    bins[:, :, 1:] += counts.reshape(size, b, 3)
