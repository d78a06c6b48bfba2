"""`bars`: share of voice or mentions by brand, sorted, animated re-ordering."""

from __future__ import annotations

KINDS: dict = {}
