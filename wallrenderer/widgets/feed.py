"""`feed`: the live post wall of cards, new posts sliding in."""

from __future__ import annotations

KINDS: dict = {}
