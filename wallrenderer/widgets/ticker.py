"""`ticker`: one line scrolling across the wall on shared time."""

from __future__ import annotations

KINDS: dict = {}
