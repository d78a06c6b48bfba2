"""Wall files -> `geometry.Wall`: the hardware, in millimetres, as an installer measured it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator

from wallrenderer.core.geometry import (
    ColorCalibration,
    GeometryError,
    PanelSpec,
    Wall,
    explicit_wall,
    grid_wall,
    mounted_size,
)
from wallrenderer.core.layout.fields import (
    GridSide,
    Model,
    Name,
    NonNegativeNumber,
    Number,
    PositiveInt,
    PositiveNumber,
    Rotation,
)
from wallrenderer.core.layout.problems import (
    Doc,
    LayoutError,
    Loc,
    Problem,
    Report,
    check_top_key,
    data_doc,
    parse_yaml,
    raise_errors,
    read_yaml,
)

# An active area whose aspect differs more than this from its (rotated) resolution
# is almost certainly a forgotten `rotation`.
ASPECT_TOLERANCE = 0.10
# Interior overlaps below this many millimetres are measurement noise, not overlaps.
_OVERLAP_EPS_MM = 1e-6


class _ColorModel(Model):
    gain: tuple[NonNegativeNumber, NonNegativeNumber, NonNegativeNumber] = (1.0, 1.0, 1.0)
    gamma: PositiveNumber = 1.0
    brightness: NonNegativeNumber = 1.0

    def to_geometry(self) -> ColorCalibration:
        return ColorCalibration(self.gain, self.gamma, self.brightness)


class _BezelModel(Model):
    left: NonNegativeNumber
    right: NonNegativeNumber
    top: NonNegativeNumber
    bottom: NonNegativeNumber


class _GridPanelModel(Model):
    resolution: tuple[PositiveInt, PositiveInt]
    active_mm: tuple[PositiveNumber, PositiveNumber]
    bezel_mm: _BezelModel
    rotation: Rotation = 0
    color: _ColorModel | None = None


class _GridModel(Model):
    rows: GridSide
    cols: GridSide
    panel: _GridPanelModel


class _PanelModel(Model):
    id: Name
    position_mm: tuple[Number, Number]
    active_mm: tuple[PositiveNumber, PositiveNumber]
    resolution: tuple[PositiveInt, PositiveInt]
    rotation: Rotation = 0
    color: _ColorModel | None = None
    latency_ms: NonNegativeNumber = 0.0


class _WallModel(Model):
    name: Name
    pitch_mm: PositiveNumber | None = None
    grid: _GridModel | None = None
    panels: Annotated[tuple[_PanelModel, ...], Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> _WallModel:
        if (self.grid is None) == (self.panels is None):
            raise ValueError("give exactly one of 'grid' (uniform) or 'panels' (explicit)")
        return self


class _WallFile(Model):
    wall: _WallModel



def build_wall(doc: Doc) -> tuple[Wall | None, list[Problem]]:
    """Validate a wall document and turn it into geometry; problems include warnings."""
    report = Report(doc)
    if not check_top_key(report, "wall"):
        return None, report.problems
    model = report.validate(_WallFile, doc.data)
    if model is None:
        return None, report.problems
    spec: _WallModel = model.wall
    if spec.grid is not None:
        panel = spec.grid.panel
        _check_aspect(report, ("wall", "grid", "panel"), panel)
    else:
        for index, panel in enumerate(spec.panels):
            _check_aspect(report, ("wall", "panels", index), panel)
        _check_panel_ids(report, spec.panels)
        _check_overlaps(report, spec.panels)
    if not report.ok:
        return None, report.problems
    try:
        wall = _geometry(spec)
    except GeometryError as exc:
        report.add(("wall",), str(exc))
        return None, report.problems
    for index, panel in enumerate(wall.panels):
        if panel.rect.w < 1 or panel.rect.h < 1:
            report.add(
                ("wall", "panels", index, "active_mm"),
                f"panel {panel.id!r} is under one canvas pixel at pitch_mm {wall.pitch_mm:g}",
            )
    return (wall if report.ok else None), report.problems


def _geometry(spec: _WallModel) -> Wall:
    if spec.grid is not None:
        panel = spec.grid.panel
        return grid_wall(
            spec.name,
            spec.grid.rows,
            spec.grid.cols,
            panel.resolution,
            panel.active_mm,
            panel.bezel_mm.model_dump(),
            rotation=panel.rotation,
            pitch_mm=spec.pitch_mm,
            color=panel.color.to_geometry() if panel.color else None,
        )
    specs = [
        PanelSpec(
            id=panel.id,
            position_mm=panel.position_mm,
            active_mm=panel.active_mm,
            resolution=panel.resolution,
            rotation=panel.rotation,
            color=panel.color.to_geometry() if panel.color else ColorCalibration(),
            latency_ms=panel.latency_ms,
        )
        for panel in spec.panels
    ]
    return explicit_wall(spec.name, specs, spec.pitch_mm)


def _check_aspect(report: Report, loc: Loc, panel: _GridPanelModel | _PanelModel) -> None:
    """Warn when the active area's shape does not match the pixels as mounted."""
    active_mm, rotation = panel.active_mm, panel.rotation
    width, height = panel.resolution
    mounted_w, mounted_h = mounted_size((width, height), rotation)
    expected = mounted_w / mounted_h
    actual = active_mm[0] / active_mm[1]
    if abs(actual / expected - 1) <= ASPECT_TOLERANCE:
        return
    message = (
        f"active_mm {active_mm[0]:g} x {active_mm[1]:g} has aspect {actual:.2f}, but "
        f"resolution {width}x{height} at rotation {rotation} has {expected:.2f}"
    )
    if abs(actual * expected - 1) <= ASPECT_TOLERANCE:
        turned = 90 if rotation in (0, 180) else 0
        message += f"; forgotten 'rotation: {turned}'?"
    report.add(loc + ("active_mm",), message, severity="warning")


def _check_panel_ids(report: Report, panels: Sequence[_PanelModel]) -> None:
    first: dict[str, int] = {}
    for index, panel in enumerate(panels):
        loc = ("wall", "panels", index, "id")
        if panel.id in first:
            previous = report.doc.line(("wall", "panels", first[panel.id], "id"))
            where = f" (first at line {previous})" if previous else ""
            report.add(loc, f"duplicate panel id {panel.id!r}{where}")
        else:
            first[panel.id] = index


def _check_overlaps(report: Report, panels: Sequence[_PanelModel]) -> None:
    """Overlaps are judged in millimetres, as measured, before any rounding to pixels."""
    for j, b in enumerate(panels):
        for i, a in enumerate(panels[:j]):
            overlap_w = min(a.position_mm[0] + a.active_mm[0], b.position_mm[0] + b.active_mm[0])
            overlap_w -= max(a.position_mm[0], b.position_mm[0])
            overlap_h = min(a.position_mm[1] + a.active_mm[1], b.position_mm[1] + b.active_mm[1])
            overlap_h -= max(a.position_mm[1], b.position_mm[1])
            if overlap_w > _OVERLAP_EPS_MM and overlap_h > _OVERLAP_EPS_MM:
                line_a = report.doc.line(("wall", "panels", i))
                where = f" (line {line_a})" if line_a else ""
                report.add(
                    ("wall", "panels", j, "position_mm"),
                    f"panel {b.id!r} overlaps panel {a.id!r}{where} "
                    f"by {overlap_w:g} x {overlap_h:g} mm",
                )


def _wall_or_raise(doc: Doc | None, problems: list[Problem]) -> Wall:
    if doc is None:
        raise LayoutError(problems)
    wall, found = build_wall(doc)
    raise_errors(problems + found)
    return wall


def load_wall(path: str | Path) -> Wall:
    """Read a wall YAML file.

    Args:
        path: the file.

    Returns:
        The wall's geometry.

    Raises:
        LayoutError: with every error found (warnings are left to `validate_files`).
    """
    return _wall_or_raise(*read_yaml(path))


def wall_from_text(text: str, source: str = "<text>") -> Wall:
    """A wall from YAML text; `source` names it in problems."""
    return _wall_or_raise(*parse_yaml(text, source))


def wall_from_data(data: dict, source: str = "<data>") -> Wall:
    """A wall from an already-parsed document ``{"wall": {...}}`` (problems have line 0)."""
    return _wall_or_raise(data_doc(data, source), [])
