"""`leaderboard`: top authors by reach, with rank changes."""

from __future__ import annotations

KINDS: dict = {}
