"""`clock`: local time and the times of other sites."""

from __future__ import annotations

KINDS: dict = {}
