"""`timeseries`: several series with axes, gridlines and legend."""

from __future__ import annotations

KINDS: dict = {}
