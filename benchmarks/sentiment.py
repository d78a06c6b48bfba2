"""Sentiment scorers per language: accuracy on a labelled sample, coverage on the simulator.

Accuracy: each post of `benchmarks/data/sentiment-sample.tsv` (hand-labelled,
see docs/sentiment.md) is scored by its language's scorer and classed with
the aggregation's thresholds (positive >= 0.05, negative <= -0.05, else
neutral); a language without a scorer is reported as unscored. Coverage: one
simulated hour with the simulator's own scores removed, as a platform would
send it, through `score_missing`: the share of posts that get a score.

    .venv/bin/python benchmarks/sentiment.py

The last line is one JSON object: {"accuracy": {"fr": 0.9, ...}, "coverage": ...}.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from controller.aggregate.mentions import NEGATIVE, POSITIVE  # noqa: E402
from controller.posts import from_dicts, score_missing  # noqa: E402
from controller.sentiment import scorer  # noqa: E402
from controller.sources.simulator import SimulatorSource  # noqa: E402

SAMPLE = Path(__file__).parent / "data" / "sentiment-sample.tsv"
START = 1_795_000_000.0


def label(score: float) -> str:
    return "pos" if score >= POSITIVE else "neg" if score <= NEGATIVE else "neu"


def accuracy() -> dict[str, dict[str, float | int | None]]:
    """Per language: posts, correct labels (None without a scorer)."""
    results: dict[str, Counter] = {}
    with SAMPLE.open(encoding="utf-8") as sample:
        for row in csv.DictReader(sample, delimiter="\t"):
            tally = results.setdefault(row["language"], Counter())
            score = scorer(row["language"])
            tally["posts"] += 1
            if score is not None:
                tally["correct"] += label(score(row["text"])) == row["label"]
    return {lang: {"posts": t["posts"],
                   "accuracy": round(t["correct"] / t["posts"], 3)
                   if scorer(lang) is not None else None}
            for lang, t in sorted(results.items())}


def coverage() -> tuple[float, dict[str, int]]:
    """Share of one simulated hour's posts scored, and the posts per language."""
    source = SimulatorSource(seed=1, start=START - 3600)
    posts = source.generate_until(START)
    for post in posts:
        post["sentiment"] = None
    batch, _ = from_dicts(posts)
    score_missing(batch)
    scored = sum(not math.isnan(s) for s in batch.sentiment.tolist())
    languages = Counter(p.get("language") or "" for p in posts)
    return scored / len(posts), dict(languages.most_common())


def main() -> None:
    per_language = accuracy()
    share, languages = coverage()
    for lang, result in per_language.items():
        shown = "unscored" if result["accuracy"] is None else f"{result['accuracy']:.0%}"
        print(f"{lang}: {shown} of {result['posts']} labelled posts")
    print(f"simulator: {share:.1%} of {sum(languages.values())} posts scored; "
          f"languages {languages}")
    print(json.dumps({"accuracy": {k: v["accuracy"] for k, v in per_language.items()},
                      "sample_posts": {k: v["posts"] for k, v in per_language.items()},
                      "coverage": round(share, 3), "languages": languages}))


if __name__ == "__main__":
    main()
