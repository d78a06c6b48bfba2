"""Sentiment per language: each post is scored by a scorer for its language, or not at all.

Every scorer here ships its lexicon inside its package (nothing is downloaded
at run time) and answers on VADER's compound scale, so the aggregation's
thresholds (±0.05) mean the same in every language. A post in a language with
no scorer, or with no language tag, stays unscored (NaN): it counts as a
mention but never as neutral, and the frame's `coverage` says how many were
scored. Accuracy per language on a labelled sample: docs/sentiment.md.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

# language tag -> (module, analyser class): VADER and its per-language ports.
SCORERS: dict[str, tuple[str, str]] = {
    "en": ("vaderSentiment.vaderSentiment", "SentimentIntensityAnalyzer"),
    "fr": ("vaderSentiment_fr.vaderSentiment", "SentimentIntensityAnalyzer"),
    "pt": ("LeIA", "SentimentIntensityAnalyzer"),
}


def base_language(tag: str) -> str:
    """The language of a BCP-47 tag: "pt-BR" -> "pt", "EN" -> "en"."""
    return tag.split("-", 1)[0].lower()


@functools.cache
def scorer(language: str) -> Callable[[str], float] | None:
    """The compound-score function for a language tag, None when none is shipped.

    One analyser per language and process: building a lexicon takes a
    noticeable fraction of a second.
    """
    entry = SCORERS.get(base_language(language))
    if entry is None:
        return None
    module, name = entry
    analyser: Any = getattr(__import__(module, fromlist=[name]), name)()
    return lambda text: float(analyser.polarity_scores(text)["compound"])
