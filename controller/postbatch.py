"""The columnar post batch: validated posts column by column, as aggregation reads them.

`controller.posts` owns the schema and builds these batches; this module is
only their shape: numpy arrays, categorical codes and flat lists, so the hot
path never holds one Python object per post longer than decoding needs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np

from controller import sentiment

FIELDS = (
    "id", "time", "network", "author", "handle", "followers", "text", "language",
    "country", "brand", "hashtags", "urls", "sentiment", "in_reply_to", "own",
)
CATEGORICAL = ("network", "language", "country", "brand")


@dataclass(frozen=True)
class Post:
    """One post, for the feed and for tests; the hot path stays columnar in `PostBatch`."""

    id: str
    time: float
    network: str = ""
    author: str = ""
    handle: str = ""
    followers: int = 0
    text: str = ""
    language: str = ""
    country: str = ""
    brand: str = ""
    hashtags: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    sentiment: float | None = None
    in_reply_to: str = ""
    own: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The post as a schema record (lists for hashtags and urls), ready for JSON."""
        record = {name: getattr(self, name) for name in FIELDS}
        record["hashtags"] = list(self.hashtags)
        record["urls"] = list(self.urls)
        return record


@dataclass
class Categorical:
    """A string column stored as small integer codes into a vocabulary."""

    codes: np.ndarray
    vocab: list[str]

    def values(self) -> list[str]:
        """The decoded strings, one per row."""
        return [self.vocab[c] for c in self.codes.tolist()]

    def take(self, rows: np.ndarray) -> Categorical:
        """The rows selected by an index or boolean array, sharing the vocabulary."""
        return Categorical(self.codes[rows], self.vocab)


@dataclass
class Ragged:
    """A column of lists of strings, stored flat: row i is `items[offsets[i]:offsets[i + 1]]`.

    One list per post would outlive parsing as a container that the garbage
    collector scans again and again; one flat list and an offsets array do not,
    and aggregation wants the items flat anyway.
    """

    items: list[str]
    offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, row: int) -> list[str]:
        return self.items[self.offsets[row]:self.offsets[row + 1]]

    @classmethod
    def from_lists(cls, lists: Sequence[Sequence[str]]) -> Ragged:
        """Flatten one list per row."""
        offsets = np.zeros(len(lists) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, lists), dtype=np.int64, count=len(lists)), out=offsets[1:])
        return cls(list(chain.from_iterable(lists)), offsets)

    def take(self, rows: np.ndarray) -> Ragged:
        """The rows selected by an index array, in that order."""
        starts = self.offsets[rows]
        lengths = self.offsets[rows + 1] - starts
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        flat = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
        return Ragged(row_picker(flat.tolist())(self.items), offsets)


@dataclass
class PostBatch:
    """Validated posts, column by column, so aggregation works on whole arrays.

    Arrays: `time` (float64), `followers` (int64), `sentiment` (float32, NaN =
    unknown), `own` (bool). Categorical: `network`, `language`, `country`,
    `brand`. Python lists: `id`, `author`, `handle`, `text`, `in_reply_to`.
    `Ragged` (one flat list of str and row offsets): `hashtags`, `urls`.
    """

    id: list[str]
    time: np.ndarray
    network: Categorical
    author: list[str]
    handle: list[str]
    followers: np.ndarray
    text: list[str]
    language: Categorical
    country: Categorical
    brand: Categorical
    hashtags: Ragged
    urls: Ragged
    sentiment: np.ndarray
    in_reply_to: list[str]
    own: np.ndarray

    def __len__(self) -> int:
        return len(self.id)

    def take(self, rows: np.ndarray) -> PostBatch:
        """The posts selected by an index array or a boolean mask, in that order."""
        rows = np.asarray(rows)
        index = np.flatnonzero(rows) if rows.dtype == bool else rows
        pick = row_picker(index.tolist())
        return PostBatch(
            **{name: pick(getattr(self, name)) for name in _LIST_FIELDS},
            **{name: getattr(self, name)[index] for name in _ARRAY_FIELDS},
            **{name: getattr(self, name).take(index) for name in (*CATEGORICAL, *_RAGGED_FIELDS)},
        )

    def posts(self, last: int | None = None) -> list[Post]:
        """The batch as `Post` objects, or only its `last` ones (the feed shows a few).

        Args:
            last: how many posts from the end of the batch; all when None.
        """
        start = 0 if last is None else max(0, len(self) - last)
        rows = range(start, len(self))
        decoded = {name: [getattr(self, name).vocab[c] for c in getattr(self, name).codes[start:]]
                   for name in CATEGORICAL}
        out = []
        for k, i in enumerate(rows):
            sentiment = float(self.sentiment[i])
            out.append(Post(
                id=self.id[i], time=float(self.time[i]), network=decoded["network"][k],
                author=self.author[i], handle=self.handle[i], followers=int(self.followers[i]),
                text=self.text[i], language=decoded["language"][k], country=decoded["country"][k],
                brand=decoded["brand"][k], hashtags=tuple(self.hashtags[i]),
                urls=tuple(self.urls[i]), sentiment=None if math.isnan(sentiment) else sentiment,
                in_reply_to=self.in_reply_to[i], own=bool(self.own[i]),
            ))
        return out


_LIST_FIELDS = ("id", "author", "handle", "text", "in_reply_to")
_RAGGED_FIELDS = ("hashtags", "urls")
_ARRAY_FIELDS = ("time", "followers", "sentiment", "own")


def row_picker(index: list[int]) -> Callable[[Sequence[Any]], list[Any]]:
    """A function selecting these rows of any Python list, in C (itemgetter), not a loop.

    Built once and applied to several columns of the same batch.
    """
    if not index:
        return lambda _column: []
    if len(index) == 1:
        return lambda column: [column[index[0]]]
    getter = itemgetter(*index)
    return lambda column: list(getter(column))


def lookup(table: dict[Any, int], keys: Sequence[Any], dtype: Any) -> np.ndarray:
    """`table[k]` for every key as an array; one itemgetter call does the lookups in C."""
    if len(keys) < 2:
        return np.array([table[k] for k in keys], dtype=dtype)
    return np.array(itemgetter(*keys)(table), dtype=dtype)


def score_missing(batch: PostBatch) -> int:
    """Fill unknown (NaN) sentiment with the scorer for each post's language, in place.

    Posts in a language without a scorer (`controller.sentiment`), or with
    no language, stay NaN: unscored, never neutral.

    Returns:
        How many posts were scored.
    """
    missing = np.flatnonzero(np.isnan(batch.sentiment))
    if not len(missing):
        return 0
    codes, vocab, text = batch.language.codes, batch.language.vocab, batch.text
    scored = 0
    for code in np.unique(codes[missing]).tolist():
        score = sentiment.scorer(vocab[code])
        if score is None:
            continue
        rows = missing[codes[missing] == code]
        batch.sentiment[rows] = [score(text[i]) for i in rows.tolist()]
        scored += len(rows)
    return scored
