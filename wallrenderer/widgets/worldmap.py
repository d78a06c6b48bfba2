"""`map`: mention intensity by country on a world map."""

from __future__ import annotations

KINDS: dict = {}
