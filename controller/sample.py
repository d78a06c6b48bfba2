"""A realistic data frame without a running controller: for previews, tests and benchmarks.

Runs the seeded simulator over the last few hours through the live
pipeline's own steps (`DataPipeline.ingest`: validation, scoring,
aggregation, feed moderation; `DataPipeline.full_frame`), without its
threads, so the frame has every field the widgets draw, with plausible values.
"""

from __future__ import annotations

from typing import Any

from controller.pipeline import DEFAULT_BRANDS, DataPipeline
from controller.sources.simulator import SimulatorSource

CHUNK_S = 600.0


def sample_frame(
    now: float, hours: float = 3.0, seed: int = 1, spike: bool = False, rate: float = 50.0
) -> dict[str, Any]:
    """The full data frame at `now` after `hours` of simulated posts (a crisis with `spike`)."""
    brands = list(DEFAULT_BRANDS)
    sim = SimulatorSource(seed=seed, brand=brands[0], competitors=brands[1:], rate=rate,
                          start=now - hours * 3600)
    if spike:
        sim.inject_spike("negative", minutes=30, factor=10, at=now - 20 * 60)
    pipeline = DataPipeline([], brands, publish=_unpublished, tracked=sim.campaign_terms)
    pipeline.sources.append(sim)
    sim.attach(pipeline.ingest)
    t = now - hours * 3600
    while t < now:
        t = min(now, t + CHUNK_S)
        sim.emit(sim.generate_until(t))
    frame = pipeline.full_frame(now)
    return frame


def _unpublished(delta: dict[str, Any]) -> None:
    raise AssertionError("a sample frame is never published")
