"""Data frames on the renderer side: rebuilding the widgets' data from deltas.

The controller's `FrameComposer` sends `{"seq", "full", "set", "drop"}` deltas;
every receiver (renderer, controller snapshot) applies them with this one function.
"""

from __future__ import annotations

from typing import Any


def apply_delta(state: dict[str, Any], delta: dict[str, Any]) -> dict[str, Any]:
    """The receiver's new state after one delta (the input is left untouched).

    A full delta replaces the state; otherwise changed keys are replaced
    whole and dropped keys removed. Deltas arrive as sequenced messages, so a
    receiver that misses one re-syncs from a snapshot holding the full state.
    """
    result = {} if delta["full"] else dict(state)
    result.update(delta["set"])
    for key in delta["drop"]:
        result.pop(key, None)
    return result
