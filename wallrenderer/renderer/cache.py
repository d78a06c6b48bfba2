"""The last layout and data a renderer drew, kept on disk for a cold start without a controller.

A panel PC that reboots while the controller is down would otherwise show a
black screen until the controller is back. With this cache it draws at once
what it last showed, marked stale, and follows the controller as soon as one
answers. Writes are atomic (a temporary file renamed over the old one), so a
power cut mid-write leaves the previous cache, never half a file.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# The layout is written when it changes; data, which changes all the time, at most this often.
DATA_EVERY_S = 10.0
VERSION = 1


def default_cache_path(display: str) -> Path:
    """`$XDG_STATE_HOME/wallrenderer/renderer-DISPLAY.json` (default `~/.local/state/...`)."""
    state = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(state) / "wallrenderer" / f"renderer-{display}.json"


class LayoutCache:
    """One renderer's cache file: `load()` at start, `keep()` as it draws."""

    def __init__(self, path: Path):
        self.path = path
        self._layout: tuple[Any, Any] | None = None
        self._data_saved_at = 0.0

    def load(self) -> dict[str, Any] | None:
        """The cached state (wall, scenario, data, saved_at), or None when there is none usable."""
        try:
            cached = json.loads(self.path.read_text())
            if cached.get("version") != VERSION or not isinstance(cached.get("data"), dict):
                raise ValueError("not a cache of this version")
            float(cached["saved_at"])
            cached["wall"], cached["scenario"]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("ignoring the layout cache %s: %s", self.path, exc)
            return None
        self._layout = (cached["wall"], cached["scenario"])
        return cached

    def keep(self, wall: Any, scenario: Any, data: dict[str, Any]) -> None:
        """Save what is drawn now: at once when the layout changed, else now and then.

        A layout is the very objects the controller sent (compared by identity:
        a scenario may embed images, too large to compare twice a second).
        """
        now = time.monotonic()
        same = self._layout is not None and self._layout[0] is wall and self._layout[1] is scenario
        if same and now - self._data_saved_at < DATA_EVERY_S:
            return
        state = {"version": VERSION, "saved_at": time.time(), "wall": wall,
                 "scenario": scenario, "data": data}
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "w") as out:
                json.dump(state, out, separators=(",", ":"))
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except (OSError, TypeError, ValueError) as exc:
            log.warning("cannot write the layout cache %s: %s", self.path, exc)
            tmp.unlink(missing_ok=True)
        self._layout, self._data_saved_at = (wall, scenario), now
