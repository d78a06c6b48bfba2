"""`image`: a logo or picture from the layouts folder."""

from __future__ import annotations

KINDS: dict = {}
