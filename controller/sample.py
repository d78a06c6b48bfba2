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


# Words of the languages a wall for thirty countries shows, with emoji as people post them.
WORLD_WORDS = (
    "Great service today", "Merci pour votre aide", "¡Qué buen servicio!", "Danke schön",
    "مرحبا بالعالم", "خدمة ممتازة شكرا", "שלום עולם", "שירות מעולה", "बहुत बढ़िया सेवा",
    "नमस्ते क्षत्रिय", "บริการดีมาก", "ขอบคุณครับ", "素晴らしいサービス", "非常好的服务",
    "Отличный сервис", "Çok teşekkürler", "Dziękuję bardzo", "Cảm ơn rất nhiều",
    "\U0001f44d\U0001f3fd", "\U0001f1eb\U0001f1f7", "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "\U0001f389", "\u2764\ufe0f", "1\ufe0f\u20e3", "#acme", "@orange", "2024", "+33 1 23",
)


def world_text(rng) -> str:
    """A random post in the wall's languages; every one also names two random ideographs.

    The ideographs stand for the long tail of rare characters that a real
    stream brings, so an atlas fed these posts fills up and must start again.
    """
    words = [rng.choice(WORLD_WORDS) for _ in range(rng.randint(2, 6))]
    words.append("".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(2)))
    rng.shuffle(words)
    return " ".join(words)
