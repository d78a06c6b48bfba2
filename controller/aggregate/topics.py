"""Trending topics: hashtags, terms and shared URLs over the last hour, per brand and overall.

Hashtags, terms and URLs are counted per minute for the last hour, each
minute's counters pruned to their heaviest entries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from controller.aggregate.windows import TOP_MINUTES, Ring, TopCounts, per_brand
from controller.postbatch import PostBatch, row_picker

TOP_HASHTAGS = TOP_TERMS = 20
TOP_PER_BRAND = 10
TOP_URLS = 10
STOP_WORDS = frozenset("""
a about after all also am an and any are as at be been but by can could did do does
don't for from get got had has have he her him his how i i'm if in into is it it's its
just me more my no not now of on one only or our out over rt she so some than that the
their them then there these they this to too up us very via was we were what when which
who why will with would you your amp
au aux avec ce ces dans de des du elle en est et il je la le les leur mais me mes mon ne
nous on ou par pas pour qu que qui sa se ses son sur ta te tes ton tu un une vous y c'est
al con del el es las lo los por se su un una y que en o
der die das und ist nicht ein eine mit den dem zu von auf
os as do da em um uma não com para
""".split())
_PUNCTUATION = "!\"$%&'()*+,-./:;<=>?[\\]^_`{|}~“”‘’…«»¿¡"


def clean_term(token: str) -> str:
    """A whitespace-separated token as a lower-case trending term, or "" when it is not one.

    URLs, @handles and #hashtags (which have their own list) are not terms;
    neither are stop-words, numbers and single characters. Tokens are counted
    as written and cleaned once per distinct token when read: lower-casing
    every text as it arrives cost more.
    """
    token = token.lower()
    if token.startswith(("http://", "https://", "www.", "@", "#")) or "/" in token:
        return ""
    term = token.strip(_PUNCTUATION)
    if len(term) < 2 or term in STOP_WORDS or term.isdigit() or "@" in term:
        return ""
    return term


class TermCleaner:
    """Raw token counts as term counts, each distinct token cleaned once (a bounded cache)."""

    def __init__(self) -> None:
        self._terms: dict[str, str] = {}

    def __call__(self, raw: Counter) -> Counter:
        out: Counter = Counter()
        terms = self._terms
        for token, n in raw.items():
            term = terms.get(token)
            if term is None:
                if len(terms) > 200_000:
                    terms.clear()
                term = terms[token] = clean_term(token)
            if term:
                out[term] += n
        return out


class Topics:
    """Hashtags and terms per brand (and for the posts about none), URLs overall.

    Args:
        brands: the brands compared, in order.
        capacity: entries kept per minute and brand.
        term_posts: posts per minute and brand whose text is counted for
            terms, the first to arrive; None counts every post.
    """

    def __init__(self, brands: Sequence[str], capacity: int, term_posts: int | None):
        self.brands = brands
        last_hour = Ring(TOP_MINUTES)
        self.hashtags = TopCounts(last_hour, len(brands) + 1, capacity)
        self.terms = TopCounts(last_hour, len(brands) + 1, capacity, TermCleaner())
        self.urls = TopCounts(last_hour, 1, capacity)
        self._term_posts = term_posts

    def count(self, batch: PostBatch, minutes: np.ndarray, distinct: np.ndarray,
              public: np.ndarray, brand: np.ndarray) -> None:
        """Hashtags, URLs and raw text tokens per minute and brand; terms are cleaned when read.

        Every post's hashtags and URLs count (URLs in one group, not per
        brand); text only from the first `term_posts` posts of each minute and brand.
        """
        in_hour, reset = self.hashtags.ring.admit(minutes, distinct)
        for counts in (self.hashtags, self.terms, self.urls):
            counts.reset(reset.tolist())
        rows = np.flatnonzero(public & in_hour)
        if not len(rows):
            return
        groups = len(self.brands) + 1
        group = np.where(brand[rows] >= 0, brand[rows], groups - 1)
        key = (minutes[rows] % TOP_MINUTES) * groups + group
        order = np.argsort(key, kind="stable")
        key, rows = key[order], rows[order]
        cuts = np.flatnonzero(np.diff(key)) + 1
        starts = np.concatenate([[0], cuts])
        ends = np.concatenate([cuts, [len(key)]])
        slots, gs = np.divmod(key[starts], groups)
        tags = batch.hashtags.take(rows)
        tag_at = tags.offsets[starts].tolist()
        tag_end = tags.offsets[ends].tolist()
        for slot, g, a, z in zip(slots.tolist(), gs.tolist(), tag_at, tag_end, strict=True):
            self.hashtags.add(slot, g, tags.items[a:z])
        if batch.urls.items:
            urls = batch.urls.take(rows)
            for slot, a, z in zip(slots.tolist(), urls.offsets[starts].tolist(),
                                  urls.offsets[ends].tolist(), strict=True):
                if z > a:
                    self.urls.add(slot, 0, urls.items[a:z])
        sizes = ends - starts
        taken = sizes
        if self._term_posts is not None:
            counted = self.terms.posts[slots, gs]
            taken = np.clip(self._term_posts - counted, 0, sizes)
            if taken.sum() < len(rows):
                offset = np.arange(len(rows)) - np.repeat(starts, sizes)
                rows = rows[offset < np.repeat(taken, sizes)]
        self.terms.posts[slots, gs] += taken
        texts = row_picker(rows.tolist())(batch.text)
        text_end = np.cumsum(taken).tolist()
        text_at = [0, *text_end[:-1]]
        for slot, g, a, z in zip(slots.tolist(), gs.tolist(), text_at, text_end, strict=True):
            if z > a:
                self.terms.add(slot, g, " ".join(texts[a:z]).split())

    def figures(self, minute: int) -> dict[str, Any]:
        """The frame's hashtags, terms and urls for the hour up to this minute."""
        return {
            "hashtags": self._top(self.hashtags, minute, TOP_HASHTAGS, "tag"),
            "terms": self._top(self.terms, minute, TOP_TERMS, "term"),
            "urls": {"window_s": 3600, "top": [
                {"url": url, "count": n} for url, n in self.urls.top(minute, 60, (0,), TOP_URLS)]},
        }

    def _top(self, counts: TopCounts, minute: int, k: int, label: str) -> dict[str, Any]:
        def entries(groups: Sequence[int], size: int) -> list[dict[str, Any]]:
            return [{label: key, "count": n} for key, n in counts.top(minute, 60, groups, size)]

        return {
            "window_s": 3600,
            "top": entries(range(len(self.brands) + 1), k),
            "by_brand": per_brand(self.brands, lambda b: entries((b,), TOP_PER_BRAND)),
        }

    def to_state(self) -> dict[str, Any]:
        return {"hashtags": self.hashtags.to_state(self.brands),
                "terms": self.terms.to_state(self.brands),
                "urls": self.urls.to_state([])}

    def load(self, state: dict[str, Any], index: dict[str, int]) -> None:
        """Restore what `to_state` saved, under the brands in `index`."""
        self.hashtags.load(state["hashtags"], index)
        self.terms.load(state["terms"], index)
        if "urls" in state:  # absent from states saved before URLs were counted
            self.urls.load(state["urls"], {})
