"""The wall's shared tick grid: frame k of every renderer shows shared time k / TICK_HZ.

Pure arithmetic shared by the controller (which schedules switches on a tick)
and the renderers (which pace frames on the grid and skip ticks when late,
rather than drifting).
"""

from __future__ import annotations

import math

TICK_HZ = 60


def tick_at(shared_time: float) -> int:
    """The last tick at or before a shared time."""
    return math.floor(shared_time * TICK_HZ)


def time_of(tick: int) -> float:
    """Shared time that the frame for a tick shows."""
    return tick / TICK_HZ


def next_tick(shared_time: float, every: int = 1) -> int:
    """The first tick strictly after a shared time on a grid of every `every` ticks.

    Renderers capped below TICK_HZ draw every n-th tick, all on multiples of n,
    so renderers with the same cap draw the same ticks.
    """
    return (tick_at(shared_time) // every + 1) * every


def ticks_per_frame(fps: float) -> int:
    """Grid step for a frame-rate cap (60 fps -> 1, 10 fps -> 6)."""
    return max(1, round(TICK_HZ / fps))
