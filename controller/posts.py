"""The normalised post: the one record every source emits and aggregation reads.

Sources (simulator, replay files, HTTP polling, webhooks, Mastodon, RSS) map
what they receive to JSON objects of this schema, one per line in `replay:`
files; `parse_lines` and `from_dicts` validate them in batches into a
columnar `PostBatch` that `controller.aggregate` ingests.

Schema (unknown keys are ignored; an optional key may be absent or null):

    id           str, required, non-empty     unique per network
    time         required: float Unix seconds, or an ISO-8601 string (naive = UTC);
                 after 1970 and at most one day ahead of this machine's clock
    network      str                          "mastodon", "x", "rss", ...
    author       str                          display name
    handle       str                          "jane@mastodon.social" (no leading @)
    followers    int >= 0                     audience of the author when posted
    text         str
    language     BCP-47 tag ("en", "pt-BR") or ""
    country      ISO 3166-1 alpha-2 ("FR"; lower case is upper-cased) or ""
    brand        the brand or topic the source matched, or ""
    hashtags     list of str, without '#', lower-cased (normalised if not)
    urls         list of str
    sentiment    float in [-1, 1] on VADER's compound scale, or null = unknown
    in_reply_to  id of the post this one answers, or ""
    own          bool: the author is one of the brands' own accounts

A record that breaks any rule above (missing id or time, a wrong type,
negative followers, a malformed country or language, sentiment out of range)
is rejected and counted, never raised: one bad line must not stop the wall.

Sentiment a source does not supply can be filled with `score_missing`, which
uses VADER. VADER was built for English social media; on other languages it
mostly scores emoji, punctuation and loan words, so treat its numbers for
non-English posts as weak.
"""

from __future__ import annotations

import functools
import gc
import math
import re
import time as _time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import chain, compress, count
from operator import itemgetter
from typing import Any

import numpy as np
import orjson

FIELDS = (
    "id", "time", "network", "author", "handle", "followers", "text", "language",
    "country", "brand", "hashtags", "urls", "sentiment", "in_reply_to", "own",
)
CATEGORICAL = ("network", "language", "country", "brand")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")
_COUNTRY = re.compile(r"[A-Za-z]{2}")
_MAX_AHEAD_S = 86400.0
_EMPTY: tuple[str, ...] = ()


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


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Hold the cyclic collector while a batch allocates its dicts.

    A 20k-line batch creates hundreds of thousands of containers, none of them
    cyclic; letting the collector scan them repeatedly costs about a third of
    the parse time. The switch is process-wide: overlapping pauses from other
    threads may shorten this one, and the collector is on again after the last.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_lines(lines: Sequence[bytes | str]) -> tuple[PostBatch, int]:
    """Parse and validate JSON lines (one post each) into a batch.

    Blank lines are skipped; a line that is not JSON counts as rejected.

    Returns:
        The batch of valid posts, and how many lines were rejected.
    """
    loads = orjson.loads
    with _gc_paused():
        try:
            records = list(map(loads, lines))
            bad_json = 0
        except orjson.JSONDecodeError:
            records, bad_json = [], 0
            for line in lines:
                try:
                    records.append(loads(line))
                except orjson.JSONDecodeError:
                    if line.strip():
                        bad_json += 1
        batch, rejected = _from_records(records)
        # Free the dicts while the collector is off: surviving this block would
        # leave them counted as new objects, and the first allocation after it
        # would pay for a full scan of them.
        del records
    return batch, rejected + bad_json


def from_dicts(dicts: Sequence[Any]) -> tuple[PostBatch, int]:
    """Validate already decoded records (webhook bodies, API answers) into a batch.

    Returns:
        The batch of valid posts, and how many records were rejected.
    """
    with _gc_paused():
        return _from_records(dicts)


def _from_records(records: Sequence[Any]) -> tuple[PostBatch, int]:
    n = len(records)
    columns = _columns(records)
    bad = np.zeros(n, dtype=bool)
    now = _time.time()
    values: dict[str, Any] = {
        "id": _id_column(columns["id"], bad),
        "time": _time_column(columns["time"], bad, now),
        "followers": _followers_column(columns["followers"], bad, n),
        "sentiment": _sentiment_column(columns["sentiment"], bad, n),
        "own": _own_column(columns["own"], bad, n),
        "hashtags": _hashtags_column(columns["hashtags"], bad, n),
        "urls": _ragged_column(columns["urls"], bad, n),
        "network": _categorical(columns["network"], bad, n, None),
        "language": _categorical(columns["language"], bad, n, _check_language),
        "country": _categorical(columns["country"], bad, n, _check_country),
        "brand": _categorical(columns["brand"], bad, n, None),
    }
    for name in ("author", "handle", "text", "in_reply_to"):
        values[name] = _str_column(columns[name], bad, n)
    batch = PostBatch(**values)
    rejected = int(bad.sum())
    if rejected:
        batch = batch.take(~bad)
    return batch, rejected


def _columns(records: Sequence[Any]) -> dict[str, Sequence[Any] | None]:
    """Transpose records into one raw column per schema field (None: absent everywhere).

    Records that share a set of keys (the usual case: one source, one shape)
    are transposed in C by one itemgetter and zip, rather than one dict lookup
    per field per record.
    """
    n = len(records)
    if not n:
        return dict.fromkeys(FIELDS)
    if set(map(type, records)) != {dict}:
        records = [r if type(r) is dict else {} for r in records]
    lengths = list(map(len, records))
    if lengths.count(lengths[0]) == n:
        return _transpose_shape(records) or _transpose_slow(records)
    by_length: dict[int, list[int]] = {}
    for i, length in enumerate(lengths):
        by_length.setdefault(length, []).append(i)
    groups = list(by_length.values())
    parts = []
    for rows in groups:
        group = row_picker(rows)(records)
        parts.append(_transpose_shape(group) or _transpose_slow(group))
    order = np.argsort(np.fromiter(chain.from_iterable(groups), dtype=np.int64, count=n),
                       kind="stable")
    restore = row_picker(order.tolist())
    columns: dict[str, Sequence[Any] | None] = {}
    for name in FIELDS:
        if all(part[name] is None for part in parts):
            columns[name] = None
            continue
        merged = chain.from_iterable(
            part[name] if part[name] is not None else [None] * len(rows)
            for part, rows in zip(parts, groups, strict=True)
        )
        columns[name] = restore(list(merged))
    return columns


def _transpose_shape(records: Sequence[dict]) -> dict[str, Sequence[Any] | None] | None:
    """Columns of records that all have the first record's keys, else None."""
    keys = tuple(records[0]) if records else ()
    if len(keys) < 2:
        return None
    try:
        rows = list(map(itemgetter(*keys), records))
    except KeyError:
        return None
    by_key = dict(zip(keys, zip(*rows, strict=True), strict=True))
    return {name: by_key.get(name) for name in FIELDS}


def _transpose_slow(records: Sequence[dict]) -> dict[str, Sequence[Any] | None]:
    return {name: [r.get(name) for r in records] for name in FIELDS}


def _mark(bad: np.ndarray, flags: Sequence[bool]) -> None:
    bad |= np.fromiter(flags, dtype=bool, count=len(bad))


def _id_column(column: Sequence[Any] | None, bad: np.ndarray) -> list[str]:
    if column is None:
        bad[:] = True
        return [""] * len(bad)
    if set(map(type, column)) == {str} and all(column):
        return list(column)
    _mark(bad, [type(v) is not str or not v for v in column])
    return [v if type(v) is str else "" for v in column]


def _str_column(column: Sequence[Any] | None, bad: np.ndarray, n: int) -> list[str]:
    if column is None:
        return [""] * n
    types = set(map(type, column))
    if types == {str}:
        return list(column)
    if not types - {str, type(None)}:
        return ["" if v is None else v for v in column]
    _mark(bad, [type(v) is not str and v is not None for v in column])
    return [v if type(v) is str else "" for v in column]


def _floats(column: Sequence[Any]) -> np.ndarray | None:
    """A column of numbers (None becomes NaN) as float64, or None if a value does not fit."""
    try:
        return np.array(column, dtype=np.float64)
    except OverflowError:
        return None


def _time_column(column: Sequence[Any] | None, bad: np.ndarray, now: float) -> np.ndarray:
    if column is None:
        bad[:] = True
        return np.zeros(len(bad))
    times = _floats(column) if set(map(type, column)) <= {float, int} else None
    if times is None:
        times = np.array([_one_time(v) for v in column], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad |= ~((times > 0) & (times <= now + _MAX_AHEAD_S))
    return times


def _one_time(value: Any) -> float:
    """One time value as Unix seconds, NaN when it is neither a number nor ISO-8601."""
    if type(value) is str:
        return parse_time(value)
    if type(value) in (float, int):
        try:
            return float(value)
        except OverflowError:
            return math.nan
    return math.nan


def parse_time(text: str) -> float:
    """An ISO-8601 date-time as Unix seconds (naive times are UTC), NaN if malformed.

    Accepts what sources send: `2024-05-01T12:00:00Z`, offsets such as
    `+02:00`, fractional seconds, a space instead of `T`.
    """
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return math.nan
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def _followers_column(column: Sequence[Any] | None, bad: np.ndarray, n: int) -> np.ndarray:
    if column is None:
        return np.zeros(n, dtype=np.int64)
    followers = None
    if set(map(type, column)) == {int}:
        try:
            followers = np.array(column, dtype=np.int64)
        except OverflowError:
            followers = None
    if followers is None:
        ok = [v is None or (type(v) is int and 0 <= v < 2**63) for v in column]
        _mark(bad, [not flag for flag in ok])
        kept = [v if flag and v is not None else 0 for v, flag in zip(column, ok, strict=True)]
        followers = np.array(kept, dtype=np.int64)
    bad |= followers < 0
    return followers


def _sentiment_column(column: Sequence[Any] | None, bad: np.ndarray, n: int) -> np.ndarray:
    if column is None:
        return np.full(n, np.nan, dtype=np.float32)
    numeric = set(map(type, column)) <= {float, int, type(None)}
    scores = _floats(column) if numeric else None
    if scores is None:
        ok = [v is None or (type(v) in (float, int) and abs(v) <= 1) for v in column]
        _mark(bad, [not flag for flag in ok])
        kept = [v if flag else None for v, flag in zip(column, ok, strict=True)]
        scores = np.array(kept, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad |= np.abs(scores) > 1.0
    return scores.astype(np.float32)


def _own_column(column: Sequence[Any] | None, bad: np.ndarray, n: int) -> np.ndarray:
    if column is None:
        return np.zeros(n, dtype=bool)
    if not set(map(type, column)) <= {bool, type(None)}:
        _mark(bad, [type(v) is not bool and v is not None for v in column])
        column = [v is True for v in column]
    return np.array(column, dtype=bool)


def _ragged_column(column: Sequence[Any] | None, bad: np.ndarray, n: int) -> Ragged:
    """A column of lists of str; null or absent means no items."""
    if column is None:
        return Ragged([], np.zeros(n + 1, dtype=np.int64))
    if not set(map(type, column)) <= {list, tuple}:
        _mark(bad, [type(v) not in (list, tuple, type(None)) for v in column])
        column = [v if type(v) in (list, tuple) else _EMPTY for v in column]
    ragged = Ragged.from_lists(column)
    if not set(map(type, ragged.items)) <= {str}:
        _mark(bad, [not all(type(item) is str for item in v) for v in column])
        ragged = Ragged.from_lists([v if all(type(i) is str for i in v) else _EMPTY
                                    for v in column])
    return ragged


def _hashtags_column(column: Sequence[Any] | None, bad: np.ndarray, n: int) -> Ragged:
    tags = _ragged_column(column, bad, n)
    joined = "\x1f".join(tags.items)
    if tags.items and ("#" in joined or joined.lower() != joined or "" in tags.items):
        items = [t.lstrip("#").lower() for t in tags.items]
        keep = np.fromiter(map(bool, items), dtype=bool, count=len(items))
        kept_before = np.concatenate([[0], np.cumsum(keep)])
        tags = Ragged(list(compress(items, keep.tolist())), kept_before[tags.offsets])
    return tags


def _check_language(value: str) -> str | None:
    return value if not value or _LANGUAGE.fullmatch(value) else None


def _check_country(value: str) -> str | None:
    return value.upper() if not value or _COUNTRY.fullmatch(value) else None


def _categorical(
    column: Sequence[Any] | None,
    bad: np.ndarray,
    n: int,
    check: Callable[[str], str | None] | None,
) -> Categorical:
    """Encode a string column against its own vocabulary, checking each distinct value once.

    `check` normalises a value, or returns None when it is malformed.
    """
    if column is None:
        return Categorical(np.zeros(n, dtype=np.int32), [""])
    first_row: dict[Any, int] = {}
    try:  # one dict pass: each row's value as the row where it first appears
        first = np.fromiter(map(first_row.setdefault, column, count()), dtype=np.int64, count=n)
    except TypeError:  # an unhashable value (a list, an object): certainly not a string
        _mark(bad, [type(v) not in (str, type(None)) for v in column])
        column = [v if type(v) is str else None for v in column]
        first_row = {}
        first = np.fromiter(map(first_row.setdefault, column, count()), dtype=np.int64, count=n)
    vocab: dict[str, int] = {"": 0}
    code_at = np.zeros(n, dtype=np.int32)
    invalid = []
    for raw, row in first_row.items():
        value = raw if type(raw) is str else None
        if value is not None and check is not None:
            value = check(value)
        if value is None and raw is not None:
            invalid.append(row)
        code_at[row] = vocab.setdefault(value or "", len(vocab))
    if invalid:
        bad |= np.isin(first, invalid)
    return Categorical(code_at[first], list(vocab))


@functools.cache
def _vader() -> Any:
    """One analyser per process: building its lexicon takes a noticeable fraction of a second."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def score_missing(batch: PostBatch) -> int:
    """Fill unknown (NaN) sentiment with VADER's compound score of the text, in place.

    VADER is English-centric: see the module notes.

    Returns:
        How many posts were scored.
    """
    missing = np.flatnonzero(np.isnan(batch.sentiment))
    if not len(missing):
        return 0
    polarity = _vader().polarity_scores
    text = batch.text
    batch.sentiment[missing] = [polarity(text[i])["compound"] for i in missing.tolist()]
    return len(missing)
