"""Sentiment per language: the right scorer per post, unscored posts stay unknown."""

from __future__ import annotations

import math

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer as EnglishVader
from vaderSentiment_fr.vaderSentiment import SentimentIntensityAnalyzer as FrenchVader

from controller.aggregate.aggregator import Aggregator
from controller.postbatch import score_missing
from controller.posts import from_dicts

T = 1_700_000_040.0
FRENCH = "Service client lamentable, toujours pas remboursé. Très déçu et furieux."


def post(i: int, text: str, language: str, sentiment: float | None = None) -> dict:
    return {"id": f"p{i}", "time": T + i, "text": text, "language": language, "brand": "acme",
            "sentiment": sentiment}


def test_a_french_post_is_scored_by_the_french_scorer():
    batch, _ = from_dicts([post(0, FRENCH, "fr"), post(1, FRENCH, "fr-CA")])
    assert score_missing(batch) == 2
    french = FrenchVader().polarity_scores(FRENCH)["compound"]
    assert batch.sentiment.tolist() == pytest.approx([french, french])
    english = EnglishVader().polarity_scores(FRENCH)["compound"]
    assert french <= -0.05 and french != pytest.approx(english)


def test_posts_without_a_scorer_for_their_language_stay_unscored():
    batch, _ = from_dicts([post(0, "Che delusione, non funziona più.", "it"),
                           post(1, "最悪のサポート", "ja"), post(2, "Great, thanks!", ""),
                           post(3, "Great, thanks!", "en")])
    assert score_missing(batch) == 1
    assert [math.isnan(s) for s in batch.sentiment.tolist()] == [True, True, True, False]


def test_unscored_posts_do_not_move_the_net_and_lower_the_coverage():
    scored = [post(0, "x", "en", 0.6), post(1, "x", "en", 0.7), post(2, "x", "en", -0.5)]
    unscored = [post(3 + i, "Che delusione", "it") for i in range(3)]
    alone, mixed = Aggregator(["acme"], "acme"), Aggregator(["acme"], "acme")
    alone.ingest(from_dicts(scored)[0])
    batch, _ = from_dicts(scored + unscored)
    score_missing(batch)
    mixed.ingest(batch)
    before = alone.frame(T + 30)["sentiment"]
    after = mixed.frame(T + 30)["sentiment"]
    assert after["by_brand"]["acme"]["net"] == before["by_brand"]["acme"]["net"] == \
        pytest.approx(100 / 3)
    assert after["by_brand"]["acme"]["neutral"] == 0 and after["by_brand"]["acme"]["unknown"] == 3
    assert before["coverage"] == 1.0 and after["coverage"] == pytest.approx(0.5)
    assert after["by_brand"]["acme"]["coverage"] == pytest.approx(0.5)
