"""Whether this process can open windows: the one test the demo and the renderer share."""

from __future__ import annotations

import os


def has_display() -> bool:
    """True when windows can open (X11 or Wayland session)."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
