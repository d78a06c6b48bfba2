"""Writing wall files: the explicit-panel form that `calibrate` measures and colour nudges save.

The output is the README's explicit-panel shape, one panel after another,
numbers rounded to a hundredth of a millimetre, so a measured wall reads like
one an installer wrote by hand and diffs cleanly against the next measurement.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import yaml

from wallrenderer.core.geometry import ColorCalibration, PanelSpec
from wallrenderer.core.layout.walls import wall_from_data, wall_from_text

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def _number(value: float) -> str:
    rounded = round(float(value), 2) + 0.0  # + 0.0 turns -0.0 into 0.0
    return str(int(rounded)) if rounded.is_integer() else repr(rounded)


def _pair(values: Iterable[float]) -> str:
    return "[" + ", ".join(_number(v) for v in values) + "]"


def _name(text: str) -> str:
    return text if _PLAIN.fullmatch(text) else json.dumps(text)


def wall_yaml(name: str, specs: Iterable[PanelSpec], pitch_mm: float | None = None,
              header: str = "") -> str:
    """An explicit-panel wall file; `color` and `latency_ms` only where they are not defaults."""
    lines = [f"# {line}" for line in header.splitlines()]
    lines += ["wall:", f"  name: {_name(name)}"]
    if pitch_mm is not None:
        lines.append(f"  pitch_mm: {_number(pitch_mm)}")
    lines.append("  panels:")
    for spec in specs:
        lines += [
            f"    - id: {_name(spec.id)}",
            f"      position_mm: {_pair(spec.position_mm)}",
            f"      active_mm: {_pair(spec.active_mm)}",
            f"      resolution: [{spec.resolution[0]}, {spec.resolution[1]}]",
            f"      rotation: {spec.rotation}",
        ]
        color = spec.color
        if not color.is_identity:
            lines.append(
                f"      color: {{gain: {_pair(color.gain)}, gamma: {_number(color.gamma)}, "
                f"brightness: {_number(color.brightness)}}}"
            )
        if spec.latency_ms:
            lines.append(f"      latency_ms: {_number(spec.latency_ms)}")
    text = "\n".join(lines) + "\n"
    wall_from_text(text, source="<written wall>")  # what is written always loads back
    return text


def nominal_specs(data: dict[str, Any]) -> list[PanelSpec]:
    """The panels of a wall document in millimetres, as ordered (a grid at its exact bezels)."""
    wall = wall_from_data(data)
    grid = data["wall"].get("grid")
    if grid is None:
        return _as_written(wall.to_panel_specs(), data)
    panel = grid["panel"]
    bezel = panel["bezel_mm"]
    width, height = panel["active_mm"]
    step_x = width + bezel["left"] + bezel["right"]
    step_y = height + bezel["top"] + bezel["bottom"]
    cols = grid["cols"]
    return [
        PanelSpec(p.id, (i % cols * step_x, i // cols * step_y), (width, height), p.resolution,
                  p.rotation, p.color)
        for i, p in enumerate(wall.panels)
    ]


def with_panel_color(data: dict[str, Any], panel_id: str, color: ColorCalibration
                     ) -> tuple[dict[str, Any], str]:
    """The wall document with one panel's colour replaced, and its file text.

    A grid has one colour for all its panels, so a grid comes back as explicit
    panels that reproduce its canvas exactly, with the reference pitch written out.

    Raises:
        LayoutError: the colour is not valid (named by file, field and value).
        GeometryError: no panel has that id.
    """
    wall = wall_from_data(data)
    wall.panel(panel_id)
    specs = [replace(s, color=color) if s.id == panel_id else s for s in wall.to_panel_specs()]
    if data["wall"].get("grid") is None:
        specs, pitch = _as_written(specs, data), data["wall"].get("pitch_mm")
    else:
        pitch = wall.pitch_mm
    text = wall_yaml(wall.name, specs, pitch)
    return yaml.safe_load(text), text


def _as_written(specs: list[PanelSpec], data: dict[str, Any]) -> list[PanelSpec]:
    """Explicit panels at the file's own millimetres, not snapped to canvas pixels."""
    panels = data["wall"]["panels"]
    return [replace(s, position_mm=tuple(p["position_mm"]), active_mm=tuple(p["active_mm"]))
            for s, p in zip(specs, panels, strict=True)]
