"""`alert`: a banner while the data holds an unacknowledged alert."""

from __future__ import annotations

KINDS: dict = {}
