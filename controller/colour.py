"""Colour matching from the tablet or the command line: nudge one panel, live, and keep it.

A `colour` control request sets some of one panel's `gain`, `gamma` and
`brightness`; the controller publishes the changed wall at once (each
renderer redraws with the new correction) and, with `save`, writes it into
its wall file, keeping the first version beside it as `WALL.yaml.bak`.
"""

from __future__ import annotations

import logging
import math
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

from wallrenderer.core.errors import WallError
from wallrenderer.core.layout.wallfile import with_panel_color
from wallrenderer.core.layout.walls import wall_from_data

log = logging.getLogger(__name__)


def _number(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise WallError(f"{key} must be a number, got {value!r}")
    return float(value)


def set_panel_color(controller, body: dict[str, Any]) -> dict[str, Any]:
    """Apply one nudge on the controller's thread; the answer is the panel's colour now.

    Raises:
        WallError: no such panel, a value of the wrong type or out of range,
            or the wall file cannot be written (the live change then stands).
    """
    panel_id = str(body.get("panel"))
    current = wall_from_data(controller.wall).panel(panel_id).color
    gain = body.get("gain")
    if gain is not None:
        if not isinstance(gain, list) or len(gain) != 3:
            raise WallError(f"gain must be a list of 3 numbers, got {gain!r}")
        gain = tuple(_number({"gain": g}, "gain") for g in gain)
    gamma, brightness = _number(body, "gamma"), _number(body, "brightness")
    color = replace(current, gain=gain or current.gain,
                    gamma=current.gamma if gamma is None else gamma,
                    brightness=current.brightness if brightness is None else brightness)
    data, text = with_panel_color(controller.wall, panel_id, color)
    controller.replace_wall(data)
    log.info("panel %s colour: gain %s, gamma %g, brightness %g", panel_id, color.gain,
             color.gamma, color.brightness)
    answer = {"panel": panel_id, "gain": list(color.gain), "gamma": color.gamma,
              "brightness": color.brightness, "saved": None}
    if body.get("save"):
        answer["saved"] = str(_save(controller.wall_path, text))
    return answer


def _save(path: Path | None, text: str) -> Path:
    if path is None:
        raise WallError("this controller has no wall file to save into")
    backup = path.with_name(path.name + ".bak")
    try:
        if not backup.exists():
            shutil.copy2(path, backup)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    except OSError as exc:
        raise WallError(f"cannot save the colour into {path}: {exc}") from None
    return path
