"""Profanity masking: listed words masked after their first letter, seen through disguises."""

from __future__ import annotations

import functools
import importlib.resources
import re
import unicodedata
from collections.abc import Iterable

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
