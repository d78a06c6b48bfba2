"""`topics`: trending hashtags and terms sized by count."""

from __future__ import annotations

KINDS: dict = {}
