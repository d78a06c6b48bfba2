"""The post schema: the one record every source emits, its time parsing and its validation.

Every entry validates here and nowhere else: `replay:` lines and the
controller's raw fast path through `parse_lines`; the simulator, HTTP,
Mastodon, RSS and webhook records (after each source maps its own format onto
the schema) through `from_dicts`. Both decode into the typed `Record`, so
msgspec checks types and ranges while it decodes; what types cannot say
(times, tags, codes) is checked once per column or once per distinct value,
and the result is a columnar `PostBatch` (`controller.postbatch`).

Schema (docs/posts.md; unknown keys are ignored; an optional key may be absent or null):

    id           required: non-empty str, or an integer (kept as its decimal string)
    time         required: Unix seconds (milliseconds when above 1e11), a numeric
                 string, ISO 8601 (naive = UTC) or RFC 2822; after 1970 and at
                 most one day ahead of this machine's clock
    network      str: "mastodon", "x", "rss", ...; empty: the source's kind
    author       str: display name
    handle       str: "jane@mastodon.social"
    followers    int, 0 <= followers < 2**63
    text         str
    language     BCP-47 tag ("en", "pt-BR") or ""
    country      ISO 3166-1 alpha-2 ("FR"; lower case is upper-cased) or ""
    brand        str: the brand or topic; empty: matched from the source's brand keywords
    hashtags     list of str, stored without '#' and lower-cased; empty tags dropped
    urls         list of str
    sentiment    number in [-1, 1] on VADER's compound scale, or null = unknown
    in_reply_to  id of the post this one answers (str or integer), or ""
    own          bool: the author is one of the brands' own accounts; absent or
                 null: the handle is one of the source's own accounts

A record is never raised over, and loses as little as it can: an optional
field that breaks its rule is cleared (a field warning) and the post kept;
only a record without a valid id and time is dropped. Both are counted by
reason, with one example each, in a `Problems` the caller may pass.
"""

from __future__ import annotations

import datetime
import email.utils
import functools
import gc
import re
import time as _time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import compress, count
from typing import Annotated, Any

import msgspec
import numpy as np

from controller.postbatch import Categorical, PostBatch, Ragged

#: a time number above this is milliseconds (1e11 s is the year 5138)
MILLISECONDS_ABOVE = 1e11
MAX_AHEAD_S = 86400.0
_PRIMARY_LANGUAGE = re.compile(r"[A-Za-z]{2,3}")
_SUBTAG = re.compile(r"[A-Za-z0-9]{1,8}")
_COUNTRY = re.compile(r"[A-Za-z]{2}")
_ISO_FRACTION = re.compile(r"(\.\d+)")
_EMPTY: tuple[str, ...] = ()

PostId = Annotated[str, msgspec.Meta(min_length=1)] | int


class Record(msgspec.Struct, gc=False):
    """One post as decoded: types and ranges are checked while decoding; None = absent or null.

    Not tracked by the garbage collector: a batch holds tens of thousands of
    them, none cyclic. Hashtags and URLs decode as tuples, which cost one
    allocation where a list costs two.
    """

    id: PostId
    time: float | str
    network: str | None = None
    author: str | None = None
    handle: str | None = None
    followers: Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)] | None = None
    text: str | None = None
    language: str | None = None
    country: str | None = None
    brand: str | None = None
    hashtags: tuple[str, ...] | None = None
    urls: tuple[str, ...] | None = None
    sentiment: Annotated[float, msgspec.Meta(ge=-1.0, le=1.0)] | None = None
    in_reply_to: str | int | None = None
    own: bool | None = None


_LINE = msgspec.json.Decoder(Record)
#: items decoded at once: their records stay in the processor's cache until they are
#: transposed and freed (measured on the ingest benchmark: 250 cost a tenth less than 1,000)
_CHUNK = 250


@dataclass(frozen=True)
class Fill:
    """What a source fills in where its records leave a field empty (docs/posts.md).

    Args:
        network: for an empty `network` (the source's kind: "webhook", "http", ...).
        brands: brand keywords; an empty `brand` becomes the first brand matched.
        own_accounts: handles of the brands' accounts; a missing `own` is
            whether the handle is one of them.
    """

    network: str = ""
    brands: dict[str, list[str]] | None = None
    own_accounts: tuple[str, ...] = ()


NO_FILL = Fill()

#: the fields a post cannot do without; any other field that breaks its rule is cleared
REQUIRED = ("id", "time")
#: fields that take a list: a single string there is read as a one-item list
LIST_FIELDS = ("hashtags", "urls")
_AT_FIELD = re.compile(r"at `\$(?:\[\d+\])?\.(\w+)")
_MISSING_FIELD = re.compile(r"required field `(\w+)`")


class Problems:
    """What validation dropped and what it fixed, by reason, with the first example of each.

    `dropped` and `fixed` map a reason ("language: not a BCP-47 tag") to
    `[count, field, value]`: enough for an operator to find the offending
    data without a debugger.
    """

    def __init__(self):
        self.dropped: dict[str, list] = {}
        self.fixed: dict[str, list] = {}

    def drop(self, reason: str, field: str, value: Any, count: int = 1) -> None:
        """Count `count` records dropped for `reason`; the first `value` is kept as the example."""
        _tally(self.dropped, reason, field, value, count)

    def fix(self, reason: str, field: str, value: Any, count: int = 1) -> None:
        """Count `count` posts kept with `field` cleared for `reason`."""
        _tally(self.fixed, reason, field, value, count)


def _tally(counts: dict[str, list], reason: str, field: str, value: Any, count: int) -> None:
    entry = counts.get(reason)
    if entry is None:
        counts[reason] = [count, field, value]
    else:
        entry[0] += count


# -- time -----------------------------------------------------------------------------


def parse_time(value: Any) -> float:
    """Unix seconds from a schema time: a number, a numeric string, ISO 8601 or RFC 2822.

    Numbers above 1e11 are milliseconds; times without an offset are UTC.

    Raises:
        ValueError: not a time.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        try:
            seconds = float(value)
        except OverflowError:
            raise ValueError(f"not a time: {value!r}") from None
        if seconds != seconds:
            raise ValueError(f"not a time: {value!r}")
        return seconds / 1000.0 if abs(seconds) > MILLISECONDS_ABOVE else seconds
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"not a time: {value!r}")
    text = value.strip()
    try:
        return parse_time(float(text))
    except ValueError:
        pass
    try:
        return _parse_iso8601(text)
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise ValueError(f"not a time: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.timestamp()


def _parse_iso8601(text: str) -> float:
    """ISO 8601 with 'Z' and any number of fraction digits (Python 3.10 knows neither)."""
    text = text.replace("Z", "+00:00").replace("z", "+00:00")
    text = _ISO_FRACTION.sub(lambda m: m.group(1)[:7].ljust(7, "0"), text, count=1)
    parsed = datetime.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.timestamp()


def _time_or_nan(value: Any) -> float:
    try:
        return parse_time(value)
    except ValueError:
        return float("nan")


# -- what sources fill in ---------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _brand_patterns(brands: tuple[tuple[str, tuple[str, ...]], ...]):
    patterns = []
    for brand, keywords in brands:
        words = sorted({k.strip().lower().lstrip("#") for k in keywords if k.strip()},
                       key=len, reverse=True)
        if words:
            alternatives = "|".join(re.escape(w) for w in words)
            patterns.append((brand, re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.I),
                             frozenset(words)))
    return patterns


def match_brand(text: str, hashtags: Iterable[str], brands: dict[str, list[str]] | None) -> str:
    """The first brand (in configured order) whose keyword is in the text or the hashtags.

    Keywords match case-insensitively on word boundaries, so "acme" matches
    "Acme's" and "#acme" but not "acmeist".

    Returns:
        The brand, or "" when none matches.
    """
    if not brands:
        return ""
    key = tuple((brand, tuple(words)) for brand, words in brands.items())
    tags = {t.lower().lstrip("#") for t in hashtags}
    for brand, pattern, words in _brand_patterns(key):
        if tags & words or pattern.search(text or ""):
            return brand
    return ""


def is_own(handle: str, own_accounts: Iterable[str]) -> bool:
    """Whether a handle is one of the brands' accounts (case and a leading '@' ignored)."""
    handle = handle.lower().lstrip("@")
    return bool(handle) and handle in {a.lower().lstrip("@") for a in own_accounts}


# -- the two entries ----------------------------------------------------------------------


def parse_lines(lines: Sequence[bytes | str], fill: Fill = NO_FILL,
                problems: Problems | None = None) -> tuple[PostBatch, int]:
    """Decode and validate JSON lines into a batch.

    Args:
        lines: JSON Lines text in pieces (bytes or str), each piece one or
            more whole lines; a line holds one post. Blank lines are skipped;
            a line that is not a valid post counts as rejected.
        fill: what the source fills in where a record leaves a field empty.
        problems: where the reasons for drops and field warnings are counted.

    Returns:
        The batch of valid posts, and how many lines were rejected.
    """
    problems = Problems() if problems is None else problems
    with _gc_paused():
        columns, rejected = _columns(list(lines), _decode_lines, problems)
        batch, bad = _validate(columns, fill, problems)
        # Freed while the collector is off: surviving this block would leave
        # the decoded tags and URLs counted as new objects, and the next
        # allocation would pay for a scan of them.
        del columns
    return batch, rejected + bad


def from_dicts(records: Sequence[Any], fill: Fill = NO_FILL,
               problems: Problems | None = None) -> tuple[PostBatch, int]:
    """Validate already decoded records (a source's mapped items, webhook bodies) into a batch.

    Returns:
        The batch of valid posts, and how many records were rejected.
    """
    problems = Problems() if problems is None else problems
    with _gc_paused():
        columns, rejected = _columns(list(records), _convert, problems)
        batch, bad = _validate(columns, fill, problems)
        del columns
    return batch, rejected + bad


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Hold the cyclic collector while a batch allocates its lists and strings.

    A 20k-line batch creates tens of thousands of lists (tags, urls, columns),
    none of them cyclic; letting the collector scan them again and again costs
    more than the decoding. The switch is process-wide: overlapping pauses
    from other threads may shorten this one; the collector is on again after
    the last.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _decode_lines(pieces: list, problems: Problems) -> tuple[list[Record], int]:
    """Typed decoding of all pieces in one call; halves around a bad line to repair or count it."""
    if not pieces:
        return [], 0
    try:
        joined = (b"\n" if type(pieces[0]) is bytes else "\n").join(pieces)
        return _LINE.decode_lines(joined), 0
    except (msgspec.DecodeError, TypeError):
        pass
    if len(pieces) == 1:
        piece = pieces[0]
        if not isinstance(piece, bytes | str):
            return [], 1
        lines = piece.split(b"\n" if isinstance(piece, bytes) else "\n")
        if len(lines) == 1:
            try:
                raw = msgspec.json.decode(piece)
            except msgspec.DecodeError as exc:
                problems.drop(f"not JSON ({exc})", "", piece[:80])
                return [], 1
            return _repaired(raw, problems)
        pieces = lines
    half = len(pieces) // 2
    first, bad_first = _decode_lines(pieces[:half], problems)
    second, bad_second = _decode_lines(pieces[half:], problems)
    return first + second, bad_first + bad_second


def _convert(records: list, problems: Problems) -> tuple[list[Record], int]:
    """`Record`s from Python objects in one call; halves around a bad one to repair or count it."""
    try:
        return msgspec.convert(records, list[Record]), 0
    except msgspec.ValidationError:
        pass
    if len(records) == 1:
        return _repaired(records[0], problems)
    half = len(records) // 2
    first, bad_first = _convert(records[:half], problems)
    second, bad_second = _convert(records[half:], problems)
    return first + second, bad_first + bad_second


def _repaired(raw: Any, problems: Problems) -> tuple[list[Record], int]:
    """Keep the post, fix the field: clear each optional field msgspec refuses, one at a time.

    A single string where a list belongs becomes a one-item list (no warning:
    it says the same). A record whose id or time is refused, or that is not
    an object, is dropped.

    Returns:
        ([record], 0), or ([], 1) when the record is dropped.
    """
    if not isinstance(raw, dict):
        problems.drop("not a JSON object", "", raw)
        return [], 1
    record = dict(raw)
    for _ in range(len(Record.__struct_fields__) + 1):
        try:
            return [msgspec.convert(record, Record)], 0
        except msgspec.ValidationError as exc:
            message = str(exc)
            found = _AT_FIELD.search(message) or _MISSING_FIELD.search(message)
            name = found.group(1) if found else ""
            what = message.split(" - at ", 1)[0]
            if name in REQUIRED or name not in record:
                problems.drop(f"{name or 'record'}: {what}", name, record.get(name))
                return [], 1
            value = record.pop(name)
            if name in LIST_FIELDS and isinstance(value, str):
                record[name] = [value]
            else:
                problems.fix(f"{name}: {what}", name, value)
    return [], 1


# -- typed records -> columns, with the checks types cannot make ------------------------------


def _columns(items: list, decode: Callable[[list, Problems], tuple[list[Record], int]],
             problems: Problems) -> tuple[dict[str, list], int]:
    """Every field of the decoded records as a list of values, one per record.

    Decoding goes a chunk of items at a time, and each chunk's records are
    turned into tuples, transposed into the columns (`zip`, in C) and freed
    while they are still in the processor's cache: a whole 20k-line batch at
    once, or fifteen attribute passes over the records, cost more.

    Returns:
        The columns by field name, and how many items were dropped.
    """
    columns: list[list] = [[] for _ in Record.__struct_fields__]
    rejected = 0
    for start in range(0, len(items), _CHUNK):
        records, bad = decode(items[start:start + _CHUNK], problems)
        transposed = zip(*map(msgspec.structs.astuple, records), strict=True)
        # Nothing to transpose when the whole chunk was rejected.
        for column, values in zip(columns, transposed, strict=False):
            column.extend(values)
        rejected += bad
    return dict(zip(Record.__struct_fields__, columns, strict=True)), rejected


def _validate(columns: dict[str, list], fill: Fill,
              problems: Problems) -> tuple[PostBatch, int]:
    bad = np.zeros(len(columns["id"]), dtype=bool)
    handle = _strings(columns["handle"])
    text = _strings(columns["text"])
    hashtags = _hashtags(columns["hashtags"])
    brand = _categorical(columns["brand"], bad, None)
    if fill.brands:
        brand = _fill_brand(brand, text, hashtags, fill.brands)
    batch = PostBatch(
        id=_ids(columns["id"]),
        time=_times(columns["time"], bad, problems),
        network=_categorical(columns["network"], bad, None, fill.network),
        author=_strings(columns["author"]),
        handle=handle,
        followers=np.array(_nulls_as(columns["followers"], 0), dtype=np.int64),
        text=text,
        language=_optional_categorical(columns["language"], normalise_language,
                                       "language: not a BCP-47 tag", problems),
        country=_optional_categorical(columns["country"], _check_country,
                                      "country: not an ISO 3166 alpha-2 code", problems),
        brand=brand,
        hashtags=hashtags,
        urls=Ragged.from_lists(_nulls_as(columns["urls"], _EMPTY)),
        # numpy reads None as NaN, the column's "unknown"
        sentiment=np.array(columns["sentiment"], dtype=np.float32),
        in_reply_to=_ids(columns["in_reply_to"]),
        own=_own(columns["own"], handle, fill.own_accounts),
    )
    rejected = int(bad.sum())
    if rejected:
        batch = batch.take(~bad)
    return batch, rejected


def _nulls_as(column: list, empty: Any) -> list:
    return [empty if v is None else v for v in column] if None in column else column


def _strings(column: list) -> list[str]:
    return _nulls_as(column, "")


def _ids(column: list) -> list[str]:
    """Ids as strings: integers written in decimal, null as ""."""
    if set(map(type, column)) <= {str}:
        return column
    return ["" if v is None else v if type(v) is str else str(v) for v in column]


def _times(column: list, bad: np.ndarray, problems: Problems) -> np.ndarray:
    if set(map(type, column)) <= {float, int}:
        times = np.array(column, dtype=np.float64)
        milliseconds = np.abs(times) > MILLISECONDS_ABOVE
        if milliseconds.any():
            times[milliseconds] /= 1000.0
    else:
        times = np.array([_time_or_nan(v) for v in column], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        unusable = ~((times > 0) & (times <= _time.time() + MAX_AHEAD_S))
    if unusable.any():
        rows = np.flatnonzero(unusable)
        problems.drop("time: not a time after 1970 and at most a day ahead", "time",
                      column[rows[0]], len(rows))
        bad |= unusable
    return times


def _hashtags(column: list) -> Ragged:
    """Tags without '#', lower-cased, empty ones dropped; checked on all tags at once."""
    tags = Ragged.from_lists(_nulls_as(column, _EMPTY))
    joined = "\x1f".join(tags.items)
    if tags.items and ("#" in joined or joined.lower() != joined or "" in tags.items):
        items = [t.lstrip("#").lower() for t in tags.items]
        keep = np.fromiter(map(bool, items), dtype=bool, count=len(items))
        kept_before = np.concatenate([[0], np.cumsum(keep)])
        tags = Ragged(list(compress(items, keep.tolist())), kept_before[tags.offsets])
    return tags


def _own(column: list, handle: list[str], own_accounts: tuple[str, ...]) -> np.ndarray:
    if own_accounts and None in column:
        column = [is_own(h, own_accounts) if v is None else v
                  for v, h in zip(column, handle, strict=True)]
    return np.array(column, dtype=bool)  # null reads as False


def normalise_language(tag: str) -> str | None:
    """A language tag in BCP-47's case and separators, or None when it is no tag.

    `en_US` -> `en-US`, `PT-br` -> `pt-BR`, `zh-hant-tw` -> `zh-Hant-TW`:
    RSS writes POSIX locales, APIs vary the case, and one language must not
    count as two.
    """
    parts = tag.strip().replace("_", "-").split("-")
    if not _PRIMARY_LANGUAGE.fullmatch(parts[0]):
        return None
    normal = [parts[0].lower()]
    private = False
    for position, part in enumerate(parts[1:]):
        if not _SUBTAG.fullmatch(part):
            return None
        if private or len(part) == 1:
            private = True
            normal.append(part.lower())
        elif len(part) == 2 and part.isalpha():
            normal.append(part.upper())
        elif len(part) == 4 and part.isalpha() and position == 0:
            normal.append(part.title())
        else:
            normal.append(part.lower())
    return "-".join(normal)


def _check_country(value: str) -> str | None:
    return value.upper() if _COUNTRY.fullmatch(value) else None


def _optional_categorical(column: list, check: Any, reason: str,
                          problems: Problems) -> Categorical:
    """An optional coded field: a value `check` refuses is cleared and counted, the post kept."""
    refused = np.zeros(len(column), dtype=bool)
    codes = _categorical(column, refused, check)
    if refused.any():
        rows = np.flatnonzero(refused)
        problems.fix(reason, reason.split(":", 1)[0], column[rows[0]], len(rows))
    return codes


def _categorical(column: list, bad: np.ndarray, check: Any, empty: str = "") -> Categorical:
    """Codes into a vocabulary, checking each distinct value once.

    `check` normalises a value, or returns None when it is malformed; null and
    "" become `empty`.
    """
    # One dict pass: each row points at the row where its value first appears.
    first_row: dict[str | None, int] = {}
    rows = np.fromiter(map(first_row.setdefault, column, count()), dtype=np.intp,
                       count=len(column))
    vocab: dict[str, int] = {"": 0}
    distinct_codes = []
    for raw in first_row:
        value = raw or empty
        if raw and check is not None:
            value = check(raw)
        distinct_codes.append(-1 if value is None else vocab.setdefault(value, len(vocab)))
    code_by_first_row = np.zeros(len(column), dtype=np.int32)
    code_by_first_row[list(first_row.values())] = distinct_codes
    codes = code_by_first_row[rows]
    if -1 in distinct_codes:
        invalid = codes < 0
        bad |= invalid
        codes[invalid] = 0
    return Categorical(codes, list(vocab))


def _fill_brand(brand: Categorical, text: list[str], hashtags: Ragged,
                brands: dict[str, list[str]]) -> Categorical:
    """Posts without a brand get the first one whose keywords they mention."""
    vocab = dict(zip(brand.vocab, range(len(brand.vocab)), strict=True))
    codes = brand.codes.copy()
    for row in np.flatnonzero(codes == vocab[""]).tolist():
        found = match_brand(text[row], hashtags[row], brands)
        codes[row] = vocab.setdefault(found, len(vocab))
    return Categorical(codes, list(vocab))
