"""The Moderator: screens each post bound for the feed, and holds the operator's approval queue."""

from __future__ import annotations

import bisect
import re
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from controller.moderation.audit import AuditLog, AuditRecord, guard_store
from controller.moderation.policy import ModerationPolicy, RateLimit, normalize_handle
from controller.moderation.profanity import ProfanityMasker
from controller.store import Store

POLICY = "policy"
"""The `by` of decisions the policy took on its own."""


def _normalize_term(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


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
            for post in guard_store(store.queue_load, "loading the approval queue") or ():
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
            guard_store(lambda: self._store.queue_put(post), "saving the approval queue")

    def _take(self, post_id: str) -> dict[str, Any] | None:
        post = self._pending.pop(str(post_id), None)
        if post is not None:
            self._forget(str(post_id))
        return post

    def _forget(self, post_id: str) -> None:
        if self._store is not None:
            guard_store(lambda: self._store.queue_remove(post_id), "saving the approval queue")
