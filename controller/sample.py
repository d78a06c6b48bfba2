"""A realistic data frame without a running controller: for previews, tests and benchmarks.

Runs the seeded simulator over the last few hours through the same
validation, scoring, aggregation and moderation as the live pipeline, so the
frame has every field the widgets draw, with plausible values.
"""

from __future__ import annotations

from typing import Any

from controller.aggregate.aggregator import Aggregator
from controller.moderation.audit import AuditLog
from controller.moderation.moderator import Moderator
from controller.moderation.policy import ModerationPolicy
from controller.pipeline import DEFAULT_BRANDS, FEED_SIZE
from controller.posts import from_dicts, score_missing
from controller.sources.simulator import SimulatorSource


def sample_frame(
    now: float, hours: float = 3.0, seed: int = 1, spike: bool = False, rate: float = 50.0
) -> dict[str, Any]:
    """The full data frame at `now` after `hours` of simulated posts (a crisis with `spike`)."""
    brands = list(DEFAULT_BRANDS)
    sim = SimulatorSource(seed=seed, brand=brands[0], competitors=brands[1:], rate=rate,
                          start=now - hours * 3600)
    if spike:
        sim.inject_spike("negative", minutes=30, factor=10, at=now - 20 * 60)
    aggregator = Aggregator(brands, brands[0], tracked=sim.campaign_terms)
    moderator = Moderator(ModerationPolicy(), AuditLog(None))
    feed: list[dict[str, Any]] = []
    chunk_s = 600.0
    t = now - hours * 3600
    while t < now:
        t = min(now, t + chunk_s)
        batch, rejected = from_dicts(sim.generate_until(t))
        score_missing(batch)
        aggregator.ingest(batch, rejected)
        if t >= now - chunk_s:
            for post in batch.posts(last=FEED_SIZE):
                decision = moderator.screen(post.to_dict())
                if decision.action == "show" and decision.post is not None:
                    feed.insert(0, decision.post)
    frame = aggregator.frame(now)
    frame.pop("time", None)  # as the pipeline does: renderers keep the shared clock
    frame["feed"] = feed[:FEED_SIZE]
    ingested = frame["totals"]["ingested"]
    frame["sources"] = [{"name": "simulator", "state": "ok", "ingested": ingested, "dropped": 0}]
    frame["moderation"] = {"queued": 0}
    return frame
