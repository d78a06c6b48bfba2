"""Data frames for the wall: only the fields the scenario's widgets use, rate-limited, as deltas.

Data flow: `Aggregator.frame(now)` (the full state) -> `FrameComposer.compose`
(this module) -> wire -> renderer, which rebuilds its copy with
`wallrenderer.core.dataframe.apply_delta`.

A delta is `{"seq": n, "full": bool, "set": {key: value}, "drop": [key]}` at
top-level-key granularity: a key whose value changed is sent whole, a key that
left the field set is dropped. A full frame (`"full": true`) replaces the
receiver's state; one goes out first, every `full_every_s` seconds, and after
`reset()`, so a renderer that joined late or missed a sequence number
recovers by itself. The transport's snapshot carries the full state too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson


class FrameComposer:
    """Turns successive full frames into rate-limited deltas.

    Args:
        max_rate_hz: at most this many frames per second are composed.
        full_every_s: a full frame at least this often.
    """

    def __init__(self, max_rate_hz: float = 10.0, full_every_s: float = 10.0):
        if max_rate_hz <= 0 or full_every_s <= 0:
            raise ValueError("max_rate_hz and full_every_s must be positive")
        self.min_interval = 1.0 / max_rate_hz
        self.full_every_s = full_every_s
        self.seq = 0
        self._encoded: dict[str, bytes] = {}
        self._last_at: float | None = None
        self._last_full_at: float | None = None

    def reset(self) -> None:
        """Make the next composed frame a full one (a renderer asked, or the scenario changed)."""
        self._last_full_at = None

    def compose(self, full: dict[str, Any], fields: Iterable[str] | None,
                now: float) -> dict[str, Any] | None:
        """The delta from the last composed frame to `full` restricted to `fields`.

        Args:
            full: the whole state, e.g. `Aggregator.frame(now)`.
            fields: the top-level keys the active scenario's widgets draw; None for all.
            now: seconds on any monotonic clock, for the rate limit.

        Returns:
            None when rate-limited or when nothing changed; otherwise the delta.
        """
        if self._last_at is not None and now - self._last_at < self.min_interval - 1e-9:
            return None
        wanted = set(full) if fields is None else set(fields) & set(full)
        encoded = {key: orjson.dumps(full[key], option=_COMPARE) for key in wanted}
        send_full = self._last_full_at is None or now - self._last_full_at >= self.full_every_s
        if send_full:
            changed, dropped = sorted(wanted), []
        else:
            changed = sorted(k for k in wanted if self._encoded.get(k) != encoded[k])
            dropped = sorted(set(self._encoded) - wanted)
            if not changed and not dropped:
                return None
        self.seq += 1
        self._last_at = now
        if send_full:
            self._last_full_at = now
        self._encoded = encoded
        return {"seq": self.seq, "full": send_full,
                "set": {key: full[key] for key in changed}, "drop": dropped}


# Comparison only: numpy values and non-string keys must not make a frame fail to compare.
_COMPARE = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
