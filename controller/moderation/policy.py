"""Moderation policies: what the wall may show, read from YAML with file and key in every error."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from controller.moderation.profanity import builtin_words
from wallrenderer.core.errors import WallError


class PolicyError(WallError):
    """A moderation policy file that cannot be used; names the file and key."""


def normalize_handle(handle: str | None) -> str:
    """Handles compare without case and without a leading "@"."""
    return (handle or "").strip().lstrip("@").casefold()


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
