"""What a renderer tells: frame statistics for the controller, the status line on its panel."""

from __future__ import annotations

import time
from typing import Any

import numpy as np


class FrameStats:
    """Frame times, ticks and publish-to-present latencies since the last report."""

    def __init__(self):
        self.frame_s: list[float] = []
        self.latencies: list[float] = []
        self.last_frame_s = 0.0
        self.last_tick: int | None = None
        self.frames = 0
        self.since = time.monotonic()

    def add(self, seconds: float, tick: int) -> None:
        self.frame_s.append(seconds)
        self.last_frame_s = seconds
        self.frames += 1
        self.last_tick = tick

    def summary(self) -> dict:
        now = time.monotonic()
        fps = self.frames / max(1e-6, now - self.since)
        frame_ms = 1000 * float(np.median(self.frame_s)) if self.frame_s else None
        latency_ms = 1000 * float(np.median(self.latencies)) if self.latencies else None
        self.frame_s, self.latencies, self.frames, self.since = self.frame_s[-1:], [], 0, now
        return {
            "fps": round(fps, 1),
            "frame_ms": frame_ms,
            "latency_ms": latency_ms,
            "tick": self.last_tick,
        }


def source_status_line(sources: Any) -> str | None:
    """What the wall's status line says about sources that are not well, or None when all are.

    Degraded sources first (they read nothing), then those in "warning" with
    the share they drop and their most common reason, so the person at the
    wall knows where to look without opening /api/status.
    """
    if not isinstance(sources, list):
        return None
    sources = [s for s in sources if isinstance(s, dict)]
    parts = []
    degraded = [str(s.get("name")) for s in sources if s.get("state") == "degraded"]
    if degraded:
        parts.append(f"degraded: {', '.join(degraded)}")
    for source in sources:
        if source.get("state") == "warning":
            share = source.get("drop_share")
            share = f" drops {share:.0%}" if isinstance(share, int | float) else ""
            reason = source.get("drop_reason")
            reason = f" ({reason})" if isinstance(reason, str) and reason else ""
            parts.append(f"warning: {source.get('name')}{share}{reason}")
    return " \u00b7 ".join(parts) or None
