"""Spike detection: a brand's recent minutes scored against a robust baseline, raised as alerts."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from controller.aggregate.mentions import Mentions
from controller.aggregate.windows import TopCounts

ALERT_TERMS = 5


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


class Alerts:
    """Volume and negative-share spikes per brand, from the mentions' minute bins.

    Args:
        config: spike detection settings.
        brands: the brands compared, in order.
        mentions: whose minute bins are scored.
        terms: the trending terms, whose top entries explain an alert.
    """

    def __init__(self, config: AlertConfig, brands: Sequence[str], mentions: Mentions,
                 terms: TopCounts):
        self.config = config
        self.brands = brands
        self._mentions = mentions
        self._terms = terms
        self.raised: list[dict[str, Any]] = []
        self._last_alert: dict[str, float] = {}
        self._last_checked = -1
        # Alerts need a baseline: posts arriving since this minute without a long gap.
        self._covered_since: int | None = None
        self._newest_minute: int | None = None

    def cover(self, newest: int) -> None:
        """Restart the baseline after a gap longer than half of it.

        A backfill at start (a few old posts, then live ones) or a restart
        after downtime leaves empty minutes that would make the first busy
        minutes look like a spike.
        """
        gap = self.config.baseline_min // 2
        if self._newest_minute is None or newest - self._newest_minute > gap:
            self._covered_since = newest
        self._newest_minute = max(newest, self._newest_minute or newest)

    def check(self, now: float) -> list[dict[str, Any]]:
        """Score the last complete minute against the baseline; returns alerts raised now.

        Each minute is scored once, so calling this on every frame is cheap.
        Alerts only suggest the crisis scenario: switching stays the presenter's call.
        """
        last = math.floor(now) // 60 - 1
        cfg = self.config
        if last <= self._last_checked:
            return []
        self._last_checked = last
        blocks = cfg.baseline_min // cfg.recent_min
        start = last - cfg.recent_min * (blocks + 1) + 1
        if self._covered_since is None or self._covered_since > start:
            return []
        bins, held = self._mentions.minutes.series(last, last - start + 1)
        data = np.where(held[:, None, None], self._mentions.per_minute[bins], 0)
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
        self.raised = [a for a in raised[::-1] + self.raised if a["started_at"] > day_ago]
        del self.raised[cfg.keep:]
        return raised

    def _raise(self, kind: str, brand: str, b: int, last: int, at: float,
               found: dict[str, Any]) -> dict[str, Any]:
        minutes = self.config.recent_min
        terms = [t for t, _ in self._terms.top(last, minutes, (b,), ALERT_TERMS)]
        if kind == "volume":
            usual = found["baseline"]
            than = (f"{found['value'] / usual:.1f} times the usual {usual:g}" if usual
                    else "where there are usually none")
            reason = (f"{brand}: {found['value']} mentions in the last {minutes} min, {than} "
                      f"(robust z {found['z']:.1f} >= {self.config.z_threshold:g})")
        else:
            reason = (f"{brand}: {found['value']:.0%} of scored mentions negative in the last "
                      f"{minutes} min ({found['negative']} of {found['scored']}), against a usual "
                      f"{found['baseline']:.0%} (robust z {found['z']:.1f} >= "
                      f"{self.config.z_threshold:g})")
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
        for alert in self.raised:
            if alert["id"] == alert_id:
                alert["acknowledged_by"] = by
                alert["acknowledged_at"] = time.time() if at is None else at
                return True
        return False

    def to_state(self) -> dict[str, Any]:
        """The baseline's coverage, the alerts kept, cooldowns and the last minute scored."""
        return {
            "covered_since": self._covered_since,
            "newest_minute": self._newest_minute,
            "alerts": [dict(alert) for alert in self.raised],
            "last_alert": dict(self._last_alert),
            "last_checked": self._last_checked,
        }

    def load(self, state: dict[str, Any]) -> None:
        self._covered_since = state["covered_since"]
        self._newest_minute = state["newest_minute"]
        self.raised = [dict(alert) for alert in state["alerts"]]
        self._last_alert = dict(state["last_alert"])
        self._last_checked = state["last_checked"]


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
