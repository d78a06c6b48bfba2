"""What may appear on a public screen: the gate between aggregation and the feed.

Aggregation counts every post (the KPIs must stay honest); only the posts that
the wall shows verbatim, in the `feed` and `ticker` widgets, pass through the
`Moderator` first:

    source -> aggregation (everything)
           -> Moderator.screen -> show (masked) | hide (reason) | queue (approval)

A `ModerationPolicy` says what to mask, hide or hold for approval; a stricter
tour policy applies while a visitor tour runs. Every post hidden, approved,
rejected or dropped from the queue is written to the `AuditLog` with who did it
and why, so an operator can answer "why did that post not show?".
"""

from __future__ import annotations

import bisect
import difflib
import functools
import importlib.resources
import logging
import re
import threading
import time
import unicodedata
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from controller.store import Store
from wallrenderer.core.errors import WallError

log = logging.getLogger(__name__)

POLICY = "policy"
"""The `by` of decisions the policy took on its own."""

# --- profanity masking ------------------------------------------------------

# Simple leetspeak, mapped onto the letter it stands for. "l" and "i" share one
# class (like "1", "!" and "|"), since either may stand for the other.
_LEET = str.maketrans({
    "0": "o", "1": "i", "!": "i", "|": "i", "l": "i", "3": "e", "4": "a", "@": "a",
    "5": "s", "$": "s", "7": "t", "+": "t", "8": "b",
})
_SYMBOLS = "@$!|+"
# A word: letters or digits (any script), the leet symbols, and combining marks
# (which Python's \w leaves out, and which would otherwise split "fu\u0308ck").
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_SYM = re.escape(_SYMBOLS)
_WORD = re.compile(rf"(?:[^\W_]|[{_SYM}])(?:[^\W_]|[{_SYM}{_MARKS}])*")
_STRETCH = re.compile(r"(.)\1{2,}")


def _skeleton(word: str) -> str:
    """The letters a word is spelt with, ignoring case, accents, width and leetspeak."""
    base = unicodedata.normalize("NFKD", word)
    base = "".join(ch for ch in base if not unicodedata.combining(ch))
    return base.casefold().translate(_LEET)


def _collapse(skeleton: str) -> str:
    return re.sub(r"(.)\1+", r"\1", skeleton)


@functools.cache
def builtin_words() -> frozenset[str]:
    """The shipped English list (``controller/data/profanity.txt``)."""
    text = importlib.resources.files("controller").joinpath("data", "profanity.txt").read_text(
        encoding="utf-8")
    return frozenset(_word_lines(text))


def _word_lines(text: str) -> Iterable[str]:
    for line in text.splitlines():
        word = line.split("#", 1)[0].strip()
        if word:
            yield word


class ProfanityMasker:
    """Masks listed words, keeping the first letter: "Shit!" -> "S***!".

    Only whole words are masked, with word edges found in any script, so
    "class", "assess" or "Scunthorpe" stay intact. Case, accents, fullwidth
    forms, simple leetspeak ("sh1t", "$hit", "@ss") and stretched letters
    ("fuuuck") are seen through.
    """

    def __init__(self, words: Iterable[str], allow: Iterable[str] = ()) -> None:
        """Build the matcher.

        Args:
            words: the words to mask (single words, any case).
            allow: words never masked, e.g. a brand name that the list would catch.
        """
        allowed = {_skeleton(w) for w in allow}
        self._words = {_skeleton(w) for w in words} - allowed
        self._stretched = {_collapse(w) for w in self._words} - {_collapse(w) for w in allowed}

    def _is_profane(self, span: str) -> bool:
        if not any(ch.isalpha() for ch in span):
            return False  # "455" is a number, not leetspeak
        skeleton = _skeleton(span)
        if skeleton in self._words:
            return True
        return bool(_STRETCH.search(skeleton)) and _collapse(skeleton) in self._stretched

    def mask(self, text: str) -> str:
        """`text` with every listed word masked after its first letter."""
        if not self._words or not text:
            return text
        return _WORD.sub(self._mask_match, text)

    def _mask_match(self, match: re.Match[str]) -> str:
        token = match.group()
        # Leet symbols also work as punctuation: "shit!" and "@ss" are both meant.
        lead = len(token) - len(token.lstrip(_SYMBOLS))
        end = len(token.rstrip(_SYMBOLS))
        for start, stop in ((0, len(token)), (0, end), (lead, len(token)), (lead, end)):
            if start < stop and self._is_profane(token[start:stop]):
                return token[:start] + _star(token[start:stop]) + token[stop:]
        return token


def _star(word: str) -> str:
    """Keep the first character (with its accents); one star per later character."""
    head = 1
    while head < len(word) and unicodedata.combining(word[head]):
        head += 1
    return word[:head] + "".join("*" for ch in word[head:] if not unicodedata.combining(ch))


# --- policy -----------------------------------------------------------------


class PolicyError(WallError):
    """A moderation policy file that cannot be used; names the file and key."""


def normalize_handle(handle: str | None) -> str:
    """Handles compare without case and without a leading "@"."""
    return (handle or "").strip().lstrip("@").casefold()


def _normalize_term(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@dataclass(frozen=True)
class RateLimit:
    """At most `posts` posts of one author reach the screen in any `minutes` minutes."""

    posts: int
    minutes: float

    def __str__(self) -> str:
        return f"{self.posts} per {self.minutes:g} min"


_KEYS = ("mask_profanity", "builtin_words", "profanity_words", "allow_words", "block_authors",
         "allow_authors", "block_terms", "rate_limit", "approve_before_display", "queue_size",
         "tour")
_TOUR_KEYS = ("mask_profanity", "builtin_words", "profanity_words", "block_authors",
              "allow_authors", "block_terms", "rate_limit", "approve_before_display")


@dataclass(frozen=True)
class ModerationPolicy:
    """What the wall may show; see docs/moderation.md for the YAML form.

    Attributes:
        mask_profanity: mask listed words in the text, author name and handle.
        builtin_words: include the shipped English list in the masked words.
        profanity_words: more words to mask.
        allow_words: words never masked (names the list would catch).
        block_authors: handles whose posts are hidden.
        allow_authors: handles that skip the approval queue (not masking,
            blocks or the rate limit).
        block_terms: a post containing one is hidden (text, author, hashtags, URLs).
        rate_limits: every one applies (a tour adds its own to the base's).
        approve_before_display: posts wait in the queue for an operator.
        queue_size: pending posts kept; the oldest is dropped beyond it.
        tour: the policy while a visitor tour runs; None means the same as this one.
    """

    mask_profanity: bool = True
    builtin_words: bool = True
    profanity_words: frozenset[str] = frozenset()
    allow_words: frozenset[str] = frozenset()
    block_authors: frozenset[str] = frozenset()
    allow_authors: frozenset[str] = frozenset()
    block_terms: tuple[str, ...] = ()
    rate_limits: tuple[RateLimit, ...] = ()
    approve_before_display: bool = False
    queue_size: int = 500
    tour: ModerationPolicy | None = None

    def __post_init__(self) -> None:
        # Normalised here so policies built in code behave like loaded ones.
        set_ = functools.partial(object.__setattr__, self)
        set_("profanity_words", frozenset(w.casefold() for w in self.profanity_words))
        set_("allow_words", frozenset(w.casefold() for w in self.allow_words))
        set_("block_authors", frozenset(map(normalize_handle, self.block_authors)))
        set_("allow_authors", frozenset(map(normalize_handle, self.allow_authors)))
        set_("block_terms", tuple(dict.fromkeys(t.strip() for t in self.block_terms if t.strip())))
        set_("rate_limits", tuple(self.rate_limits))
        if self.queue_size < 1:
            raise ValueError(f"queue_size should be at least 1, got {self.queue_size}")

    def effective(self, tour: bool) -> ModerationPolicy:
        """The policy in force, with or without a visitor tour running."""
        return (self.tour or self) if tour else self

    def words(self) -> frozenset[str]:
        """Every word to mask (empty when masking is off)."""
        if not self.mask_profanity:
            return frozenset()
        return self.profanity_words | (builtin_words() if self.builtin_words else frozenset())

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "moderation") -> ModerationPolicy:
        """Build a policy from the mapping under ``moderation:`` in a policy file.

        Args:
            data: the policy keys (see docs/moderation.md).
            source: where `data` came from, for error messages.

        Raises:
            PolicyError: unknown keys, wrong types, or a tour policy that loosens the base.
        """
        reader = _Reader(source)
        values = reader.fields(data, "moderation", _KEYS)
        base = cls(**values)
        if data.get("tour") is None:
            return base
        tour = reader.fields(data["tour"], "moderation.tour", _TOUR_KEYS)
        for key in ("mask_profanity", "approve_before_display", "builtin_words"):
            if tour.get(key) is False and getattr(base, key):
                raise PolicyError(f"{source}: moderation.tour.{key}: a tour policy can only be "
                                  f"stricter; it cannot turn off what the base policy turns on")
        merged = ModerationPolicy(
            mask_profanity=tour.get("mask_profanity", base.mask_profanity),
            builtin_words=tour.get("builtin_words", base.builtin_words),
            profanity_words=base.profanity_words | tour.get("profanity_words", frozenset()),
            allow_words=base.allow_words,
            block_authors=base.block_authors | tour.get("block_authors", frozenset()),
            allow_authors=tour.get("allow_authors", base.allow_authors),
            block_terms=base.block_terms + tour.get("block_terms", ()),
            rate_limits=base.rate_limits + tour.get("rate_limits", ()),
            approve_before_display=tour.get("approve_before_display", base.approve_before_display),
            queue_size=base.queue_size,
        )
        return cls(**{**values, "tour": merged})

    @classmethod
    def load(cls, path: str | Path) -> ModerationPolicy:
        """Read a policy file whose top level is ``moderation:``.

        Raises:
            PolicyError: the file is missing, not YAML, or not a valid policy.
        """
        path = Path(path)
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise PolicyError(f"{path}: cannot read the moderation policy: {exc}") from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("moderation"), dict):
            raise PolicyError(f"{path}: expected a mapping under a top-level 'moderation:' key")
        return cls.from_mapping(doc["moderation"], source=str(path))


class _Reader:
    """Checks the YAML form of a policy, naming file and key in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> PolicyError:
        return PolicyError(f"{self.source}: {where}: {message}")

    def fields(self, data: Any, where: str, keys: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise self.fail(where, f"expected a mapping, got {type(data).__name__}")
        values: dict[str, Any] = {}
        for key, value in data.items():
            at = f"{where}.{key}"
            if key not in keys:
                if key in _KEYS:
                    raise self.fail(at, f"not allowed in a tour policy (allowed: "
                                        f"{', '.join(keys)})")
                close = difflib.get_close_matches(str(key), keys, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise self.fail(at, f"unknown key {key!r}{hint}")
            if key == "tour":
                continue
            if key in ("mask_profanity", "builtin_words", "approve_before_display"):
                if not isinstance(value, bool):
                    raise self.fail(at, f"expected true or false, got {value!r}")
                values[key] = value
            elif key == "queue_size":
                values[key] = self.positive(value, at, int)
            elif key == "rate_limit":
                values["rate_limits"] = () if value is None else (self.rate_limit(value, at),)
            elif key == "block_terms":
                values[key] = tuple(self.strings(value, at))
            elif key in ("profanity_words", "allow_words"):
                words = self.strings(value, at)
                for i, word in enumerate(words):
                    if len(word.split()) != 1:
                        raise self.fail(f"{at}[{i}]", f"{word!r} is not a single word "
                                        "(use block_terms for phrases)")
                values[key] = frozenset(words)
            else:
                values[key] = frozenset(map(normalize_handle, self.strings(value, at)))
        return values

    def strings(self, value: Any, at: str) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(at, f"expected a list of strings, got {type(value).__name__}")
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{at}[{i}]", f"expected a non-empty string, got {item!r}")
        return [item.strip() for item in value]

    def positive(self, value: Any, at: str, kind: type) -> Any:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok or (kind is int and value != int(value)) or value <= 0:
            what = "integer" if kind is int else "number"
            raise self.fail(at, f"should be a positive {what}, got {value!r}")
        return kind(value)

    def rate_limit(self, value: Any, at: str) -> RateLimit:
        if not isinstance(value, Mapping) or set(value) != {"posts", "minutes"}:
            raise self.fail(at, f"expected {{posts: N, minutes: M}}, got {value!r}")
        return RateLimit(self.positive(value["posts"], f"{at}.posts", int),
                         self.positive(value["minutes"], f"{at}.minutes", float))


# --- audit log --------------------------------------------------------------


@dataclass(frozen=True)
class AuditRecord:
    """One moderation event: who did what to which post, when and why."""

    time: float
    post_id: str
    handle: str
    action: str  # "hide", "approve", "reject" or "drop"
    reason: str
    by: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditRecord:
        return cls(float(data["time"]), str(data["post_id"]), str(data["handle"]),
                   str(data["action"]), str(data["reason"]), str(data["by"]))


class AuditLog:
    """Append-only record of moderation events, newest kept in memory and in the store.

    A store failure (disk full) is logged and the record kept in memory: the
    wall goes on moderating.
    """

    def __init__(self, store: Store | None = None, maxlen: int = 1000) -> None:
        """Start the log, with the newest records of an earlier run when `store` has them.

        Args:
            store: where records persist, or None to keep them in memory only.
            maxlen: records kept in memory.
        """
        self._store = store
        self._lock = threading.Lock()
        self._records: deque[AuditRecord] = deque(maxlen=maxlen)
        if store is not None:
            for data in _guard(lambda: store.audit_recent(maxlen), "reading the audit log") or ():
                try:
                    self._records.append(AuditRecord.from_dict(data))
                except (KeyError, TypeError, ValueError):
                    log.warning("skipping a malformed audit record from %s: %r", store.path, data)

    def append(self, record: AuditRecord) -> None:
        with self._lock:
            self._records.append(record)
        if self._store is not None:
            _guard(lambda: self._store.audit_append(record.to_dict()), "writing the audit log")

    def recent(self, n: int = 100) -> list[AuditRecord]:
        """The newest `n` records, oldest first."""
        with self._lock:
            return list(self._records)[-n:] if n > 0 else []


def _guard(work: Callable[[], Any], what: str) -> Any:
    """Run a store call; a failing store is logged, never allowed to stop moderation."""
    try:
        return work()
    except WallError as exc:
        log.warning("moderation store: %s: %s", what, exc)
        return None


# --- the moderator ----------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """What happens to one post on the screen.

    Attributes:
        action: "show", "hide" or "queue" (waiting for approval).
        reason: why it was hidden ("blocked author", "blocked term 'x'", ...).
        post: for "show", the post as the wall may display it (masked).
    """

    action: Literal["show", "hide", "queue"]
    reason: str = ""
    post: dict[str, Any] | None = None

    @property
    def text(self) -> str | None:
        """The masked text to display, for "show"."""
        return None if self.post is None else self.post.get("text")


class _Screening:
    """A policy compiled for fast screening: masker and term patterns."""

    def __init__(self, policy: ModerationPolicy) -> None:
        self.policy = policy
        self.masker = ProfanityMasker(policy.words(), policy.allow_words)
        self.terms = [(term, _term_pattern(term)) for term in policy.block_terms]

    def blocked_term(self, post: Mapping[str, Any]) -> str | None:
        parts = [post.get("text"), post.get("author"), post.get("handle")]
        parts += [f"#{str(tag).lstrip('#')}" for tag in post.get("hashtags") or ()]
        parts += list(post.get("urls") or ())
        haystack = "\n".join(_normalize_term(str(p)) for p in parts if p)
        for term, pattern in self.terms:
            if pattern.search(haystack):
                return term
        return None

    def display(self, post: Mapping[str, Any]) -> dict[str, Any]:
        shown = dict(post)
        for key in ("text", "author", "handle"):
            if isinstance(shown.get(key), str):
                shown[key] = self.masker.mask(shown[key])
        return shown


def _term_pattern(term: str) -> re.Pattern[str]:
    """A term matches as a whole: "kill" hides "kill it" but not "skills"."""
    words = _normalize_term(term).split(" ")
    body = r"\s+".join(map(re.escape, words))
    head = r"(?<!\w)" if re.match(r"\w", words[0]) else ""
    tail = r"(?!\w)" if re.search(r"\w$", words[-1]) else ""
    return re.compile(head + body + tail)


class _RateLimiter:
    """Times of the posts each author got through, for sliding-window limits."""

    PRUNE_EVERY = 1000

    def __init__(self) -> None:
        self._times: dict[tuple[str, str], list[float]] = {}
        self._calls = 0

    def admit(self, key: tuple[str, str], now: float,
              limits: tuple[RateLimit, ...]) -> RateLimit | None:
        """Record the post and return None if every limit allows it, else the limit hit."""
        if not limits:
            return None
        horizon = max(limit.minutes for limit in limits) * 60.0
        times = self._times.setdefault(key, [])
        del times[:bisect.bisect_right(times, now - horizon)]
        for limit in limits:
            recent = len(times) - bisect.bisect_right(times, now - limit.minutes * 60.0)
            if recent >= limit.posts:
                return limit
        bisect.insort(times, now)
        self._calls += 1
        if self._calls % self.PRUNE_EVERY == 0:
            self._prune(now - horizon)
        return None

    def _prune(self, before: float) -> None:
        # Authors who went quiet would otherwise stay in memory for ever.
        for key in [k for k, t in self._times.items() if not t or t[-1] <= before]:
            del self._times[key]


class Moderator:
    """Screens posts for the wall under a policy; thread-safe.

    The controller loop calls `screen` for each post bound for the feed; the
    HTTP thread calls `queue`, `approve` and `reject` for the operator.
    """

    def __init__(self, policy: ModerationPolicy, audit: AuditLog | None = None,
                 clock: Callable[[], float] = time.time, store: Store | None = None) -> None:
        """Start moderating, with the queue of an earlier run when `store` has one.

        Args:
            policy: the base policy (with its tour policy, if any).
            audit: where events go; None keeps a private in-memory log.
            clock: seconds, Unix time (tests pass a fake one).
            store: keeps the approval queue over restarts; None keeps it in memory only.
        """
        self.audit = audit if audit is not None else AuditLog()
        self._clock = clock
        self._store = store
        self._lock = threading.RLock()
        self._base = _Screening(policy)
        self._tour = _Screening(policy.tour) if policy.tour is not None else self._base
        self._tour_active = False
        self._rate = _RateLimiter()
        self._pending: OrderedDict[str, dict[str, Any]] = OrderedDict()
        if store is not None:
            for post in _guard(store.queue_load, "loading the approval queue") or ():
                self._enqueue(dict(post), persist=False)

    @property
    def policy(self) -> ModerationPolicy:
        """The policy in force now (the tour policy while a tour runs)."""
        return self._active.policy

    @property
    def _active(self) -> _Screening:
        return self._tour if self._tour_active else self._base

    @property
    def tour_active(self) -> bool:
        return self._tour_active

    def set_tour(self, active: bool) -> None:
        """Switch to the tour policy while a visitor tour runs, and back after.

        Posts already queued stay queued when the tour ends: they wait for an
        operator, as they did when they arrived.
        """
        with self._lock:
            self._tour_active = bool(active)

    def screen(self, post: Mapping[str, Any]) -> Decision:
        """Decide whether `post` may be shown on the feed; `post` is not changed."""
        with self._lock:
            screening = self._active
            policy = screening.policy
            post_id = str(post.get("id"))
            handle = normalize_handle(post.get("handle"))
            if post_id in self._pending:
                return Decision("queue")  # a source delivered it again
            if handle and handle in policy.block_authors:
                return self._hide(post, "blocked author")
            term = screening.blocked_term(post)
            if term is not None:
                return self._hide(post, f"blocked term {term!r}")
            author = handle or str(post.get("author") or "")
            if author:
                key = (str(post.get("network") or ""), author)
                limit = self._rate.admit(key, self._clock(), policy.rate_limits)
                if limit is not None:
                    return self._hide(post, f"rate limited ({limit})")
            if policy.approve_before_display and handle not in policy.allow_authors:
                self._enqueue(dict(post), persist=True)
                return Decision("queue")
            return Decision("show", post=screening.display(post))

    def queue(self) -> list[dict[str, Any]]:
        """Posts waiting for approval, oldest first, as they arrived (unmasked)."""
        with self._lock:
            return [dict(post) for post in self._pending.values()]

    def approve(self, post_id: str, by: str) -> dict[str, Any] | None:
        """Release a queued post to the wall.

        The operator's word overrides blocks and rate limits; profanity is still masked.

        Args:
            post_id: the post's id.
            by: who approved it (an operator name, or the API token's user).

        Returns:
            The post as the wall may display it, or None if it was not queued.
        """
        with self._lock:
            post = self._take(post_id)
            if post is None:
                return None
            self._record(post, "approve", "", by)
            return self._active.display(post)

    def reject(self, post_id: str, by: str, reason: str = "") -> bool:
        """Drop a queued post for good; False if it was not queued."""
        with self._lock:
            post = self._take(post_id)
            if post is None:
                return False
            self._record(post, "reject", reason, by)
            return True

    # --- internals ----------------------------------------------------------

    def _hide(self, post: Mapping[str, Any], reason: str) -> Decision:
        self._record(post, "hide", reason, POLICY)
        return Decision("hide", reason=reason)

    def _record(self, post: Mapping[str, Any], action: str, reason: str, by: str) -> None:
        self.audit.append(AuditRecord(self._clock(), str(post.get("id")),
                                      str(post.get("handle") or ""), action, reason, by))

    def _enqueue(self, post: dict[str, Any], persist: bool) -> None:
        size = self._base.policy.queue_size
        while len(self._pending) >= size:
            _, oldest = self._pending.popitem(last=False)
            self._forget(str(oldest.get("id")))
            self._record(oldest, "drop", f"approval queue full ({size} posts)", POLICY)
        self._pending[str(post.get("id"))] = post
        if persist and self._store is not None:
            _guard(lambda: self._store.queue_put(post), "saving the approval queue")

    def _take(self, post_id: str) -> dict[str, Any] | None:
        post = self._pending.pop(str(post_id), None)
        if post is not None:
            self._forget(str(post_id))
        return post

    def _forget(self, post_id: str) -> None:
        if self._store is not None:
            _guard(lambda: self._store.queue_remove(post_id), "saving the approval queue")
