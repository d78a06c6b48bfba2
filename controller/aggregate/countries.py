"""Posts per country over the last hour and day, from each post's two-letter country code."""

from __future__ import annotations

from typing import Any

import numpy as np

from controller.aggregate.state import pack, unpack
from controller.aggregate.windows import MINUTE_BINS, Ring
from controller.postbatch import Categorical

COUNTRY_CODES = 26 * 26


def _country_index(code: str) -> int:
    return (ord(code[0]) - 65) * 26 + ord(code[1]) - 65 if len(code) == 2 else -1


def _country_code(index: int) -> str:
    return chr(65 + index // 26) + chr(65 + index % 26)


class Countries:
    """Posts per minute and country code (AA..ZZ), in the shared one-minute bins.

    Args:
        minutes: the shared one-minute ring (its owner admits the minutes).
    """

    def __init__(self, minutes: Ring):
        self.minutes = minutes
        self.bins = np.zeros((MINUTE_BINS, COUNTRY_CODES), dtype=np.int32)

    def reset(self, minute_bins: np.ndarray) -> None:
        self.bins[minute_bins] = 0

    def count(self, column: Categorical, minutes: np.ndarray, selected: np.ndarray) -> None:
        """Count the selected posts that name a country, in their minute."""
        lut = np.array([_country_index(v) for v in column.vocab], dtype=np.int64)
        code = lut[column.codes]
        selected = selected & (code >= 0)
        if not selected.any():
            return
        slot = minutes[selected] % MINUTE_BINS
        low, high = int(slot.min()), int(slot.max())
        key = (slot - low) * COUNTRY_CODES + code[selected]
        counts = np.bincount(key, minlength=(high - low + 1) * COUNTRY_CODES)
        self.bins[low:high + 1] += counts.reshape(-1, COUNTRY_CODES).astype(np.int32)

    def figures(self, minute: int) -> dict[str, dict[str, int]]:
        """The frame's countries field: counts by code, busiest first, for 1 h and 24 h."""
        return {
            "1h": self._counts(self.minutes.window(minute, 60)),
            "24h": self._counts(self.minutes.window(minute, MINUTE_BINS)),
        }

    def _counts(self, mask: np.ndarray) -> dict[str, int]:
        totals = self.bins[mask].sum(axis=0, dtype=np.int64)
        nonzero = np.flatnonzero(totals)
        ranked = sorted(zip((-totals[nonzero]).tolist(), nonzero.tolist(), strict=True))
        return {_country_code(i): -n for n, i in ranked}

    def to_state(self) -> dict[str, Any]:
        return pack(self.bins)

    def load(self, saved: dict[str, Any]) -> None:
        self.bins = unpack(saved, np.int32)
