"""`wallrenderer calibrate PHOTO`: measure, check, report per panel, then write the wall.

The report says, per panel, how far it sits from where NOMINAL puts it and
from the nearest regular grid (the grid that best fits the measured panels
themselves, so a wall ordered with the wrong bezels still shows which single
panel is off). Offsets are x to the right and y down, in millimetres.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import yaml

from wallrenderer.calibration.solve import (
    CalibrationError,
    detect,
    opencv,
    place,
    read_photo,
    solve,
)
from wallrenderer.core.geometry import PanelSpec
from wallrenderer.core.layout.wallfile import nominal_specs, wall_yaml
from wallrenderer.core.layout.walls import load_wall
from wallrenderer.core.markers import MARKERS_PER_PANEL

# Measured gaps this small between panels that touch are measurement noise.
OVERLAP_TOLERANCE_MM = 2.0


@dataclass
class Measured:
    """The outcome of one photo: the wall to write and what to tell the installer."""

    name: str
    pitch_mm: float | None
    specs: list[PanelSpec]
    nominal: list[PanelSpec]
    markers: list[int]
    tilts: list[float]
    residuals: list[float]
    grid: np.ndarray | None  # (N, 2) offsets from the nearest regular grid, mm
    notes: list[str]
    seconds: float

    def yaml(self) -> str:
        return wall_yaml(self.name, self.specs, self.pitch_mm,
                         header="Measured by wallrenderer calibrate from one photo.")

    def offsets(self) -> np.ndarray:
        """(N, 2) offsets of each panel's centre from NOMINAL's, mm."""
        return np.array([_centre(m) - _centre(n)
                         for m, n in zip(self.specs, self.nominal, strict=True)])


def _centre(spec: PanelSpec) -> np.ndarray:
    return np.add(spec.position_mm, np.divide(spec.active_mm, 2))


def measure(photo: str | Path, nominal_path: str | Path) -> Measured:
    """Measure the wall in `photo` against the wall file NOMINAL.

    Raises:
        LayoutError: NOMINAL is not a valid wall file.
        CalibrationError: the photo cannot be read, or some panel has no readable marker.
    """
    started = time.perf_counter()
    opencv()  # without the extra, say how to install it before anything else
    load_wall(nominal_path)  # file, line and field for a bad file, before any photo work
    data = yaml.safe_load(Path(nominal_path).read_text(encoding="utf-8"))
    nominal = nominal_specs(data)
    found = detect(read_photo(str(photo)))
    fits = solve(nominal, found)
    placed = place(fits)
    specs = [spec for spec, _ in placed]
    specs, notes = _separate(specs)
    return Measured(
        name=data["wall"]["name"], pitch_mm=data["wall"].get("pitch_mm"), specs=specs,
        nominal=nominal, markers=[len(f.markers) for f in fits],
        tilts=[tilt for _, tilt in placed], residuals=[f.residual_mm for f in fits],
        grid=grid_offsets(specs), notes=notes, seconds=time.perf_counter() - started,
    )


def _separate(specs: list[PanelSpec]) -> tuple[list[PanelSpec], list[str]]:
    """Part panels whose measured areas overlap by measurement noise; a real overlap is an error.

    A wall file may not have overlapping panels, and on seamless walls a few
    tenths of a millimetre of noise would make one.
    """
    specs, notes = list(specs), []
    for j in range(len(specs)):
        for i in range(j):
            a, b = specs[i], specs[j]
            (ax, ay), (bx, by) = a.position_mm, b.position_mm
            over_x = min(ax + a.active_mm[0], bx + b.active_mm[0]) - max(ax, bx)
            over_y = min(ay + a.active_mm[1], by + b.active_mm[1]) - max(ay, by)
            if over_x <= 0 or over_y <= 0:
                continue
            axis, amount = (0, over_x) if over_x < over_y else (1, over_y)
            if amount > OVERLAP_TOLERANCE_MM:
                raise CalibrationError(
                    f"panels {a.id} and {b.id} measure as overlapping by {amount:.1f} mm; "
                    "is the right NOMINAL wall given (same panels, same order)? Nothing was "
                    "written")
            sign = 1.0 if _centre(b)[axis] >= _centre(a)[axis] else -1.0
            step = np.zeros(2)
            step[axis] = sign * amount / 2
            specs[i] = replace(a, position_mm=tuple(np.subtract(a.position_mm, step)))
            specs[j] = replace(b, position_mm=tuple(np.add(b.position_mm, step)))
            notes.append(f"{a.id} and {b.id} overlapped by {amount:.2f} mm (noise); "
                         "moved apart")
    return specs, notes


def grid_offsets(specs: list[PanelSpec]) -> np.ndarray | None:
    """Each panel's offset from the regular grid that best fits the measured panels.

    Rows and columns are found from the centres; the grid's origin and steps
    are fitted robustly, so one panel that is off does not drag the grid.
    None when the panels differ in size (a mixed wall is no grid).
    """
    sizes = np.array([s.active_mm for s in specs])
    if np.abs(sizes / sizes[0] - 1).max() > 0.01:
        return None
    centres = np.array([_centre(s) for s in specs])
    offsets = np.zeros_like(centres)
    for axis in (0, 1):
        values = centres[:, axis]
        order = np.argsort(values)
        index = np.zeros(len(values))
        index[order] = np.cumsum(np.r_[0, np.diff(values[order]) > sizes[0, axis] / 2])
        weights = np.ones(len(values))
        design = np.stack([np.ones(len(values)), index], axis=1)
        for _ in range(10):  # iteratively reweighted: close to a least-absolute fit
            w = np.sqrt(weights)[:, None]
            coef, *_ = np.linalg.lstsq(design * w, values * w[:, 0], rcond=None)
            residual = values - design @ coef
            weights = 1 / np.maximum(np.abs(residual), 0.1)
        offsets[:, axis] = residual
    return offsets


def _xy(offset: np.ndarray) -> str:
    return f"{offset[0]:+6.1f} {offset[1]:+6.1f}"


def report(measured: Measured) -> str:
    """The per-panel table an installer acts on, with the panel most off named last."""
    offsets = measured.offsets()
    rows = [f"{'panel':<10} {'markers':>7} {'position_mm':>18} {'rot':>4} {'tilt':>6} "
            f"{'from nominal':>14} {'from grid':>14}"]
    for i, spec in enumerate(measured.specs):
        grid = "" if measured.grid is None else _xy(measured.grid[i])
        position = f"{spec.position_mm[0]:.1f}, {spec.position_mm[1]:.1f}"
        rotated = "*" if spec.rotation != measured.nominal[i].rotation else " "
        rows.append(
            f"{spec.id:<10} {measured.markers[i]:>3}/{MARKERS_PER_PANEL:<3} {position:>18} "
            f"{spec.rotation:>3}{rotated} {measured.tilts[i]:+6.2f} {_xy(offsets[i]):>14} "
            f"{grid:>14}")
    rows.append("offsets in mm, x right, y down; tilt in degrees clockwise; "
                "* rotation differs from nominal")
    if measured.grid is None:
        rows.append("panels differ in size: no regular grid to compare with")
    else:
        worst = int(np.argmax(np.hypot(*measured.grid.T)))
        rows.append(f"furthest from the grid: {measured.specs[worst].id}, "
                    f"{np.hypot(*measured.grid[worst]):.1f} mm")
    rows += measured.notes
    return "\n".join(rows)
