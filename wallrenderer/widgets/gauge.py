"""`gauge`: net sentiment from -100 to +100."""

from __future__ import annotations

KINDS: dict = {}
