"""Wall geometry: where each panel's pixels sit on the one bezel-compensated canvas.

Both nodes use this module: the controller to lay widgets out and check layouts,
each renderer to build the projection that shows its own slice. It is pure
Python and numpy (no GL, no sockets) so it tests in milliseconds.

The canvas is measured in pixels at one reference pitch (mm per pixel). A panel
covers a rectangle of the canvas *as mounted*; bezels become gaps of canvas
pixels that no panel shows, so a line crossing a bezel continues where it would
if the bezel were transparent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from wallrenderer.core.errors import WallError

ROTATIONS = (0, 90, 180, 270)

# Local fraction (fx, fy) in the panel's on-wall rectangle -> native fraction (fu, fv).
# docs/architecture.md, "Geometry": with rotation 90, native pixel (u, v) lies at (H-1-v, u).
_LOCAL_TO_NATIVE = {
    0: ((1, 0, 0), (0, 1, 0)),
    90: ((0, 1, 0), (-1, 0, 1)),
    180: ((-1, 0, 1), (0, -1, 1)),
    270: ((0, -1, 1), (1, 0, 0)),
}


class GeometryError(WallError, ValueError):
    """A wall that cannot exist: overlapping panels, unknown display ids, bad sizes."""


@dataclass(frozen=True)
class Rect:
    """Axis-aligned rectangle in canvas pixels, origin top-left."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def intersects(self, other: Rect) -> bool:
        """True when the interiors overlap (touching edges do not count)."""
        return (
            self.x < other.right
            and other.x < self.right
            and self.y < other.bottom
            and other.y < self.bottom
        )

    def union(self, other: Rect) -> Rect:
        x0, y0 = min(self.x, other.x), min(self.y, other.y)
        x1, y1 = max(self.right, other.right), max(self.bottom, other.bottom)
        return Rect(x0, y0, x1 - x0, y1 - y0)

    def inset(self, d: float) -> Rect:
        return Rect(self.x + d, self.y + d, max(0.0, self.w - 2 * d), max(0.0, self.h - 2 * d))

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.x, self.y, self.w, self.h)


@dataclass(frozen=True)
class ColorCalibration:
    """Per-panel colour correction applied after drawing: gain, then gamma, then brightness."""

    gain: tuple[float, float, float] = (1.0, 1.0, 1.0)
    gamma: float = 1.0
    brightness: float = 1.0

    @property
    def is_identity(self) -> bool:
        return self.gain == (1.0, 1.0, 1.0) and self.gamma == 1.0 and self.brightness == 1.0


@dataclass(frozen=True)
class PanelSpec:
    """A panel as an installer measures it: millimetres on the wall, as mounted."""

    id: str
    position_mm: tuple[float, float]
    active_mm: tuple[float, float]
    resolution: tuple[int, int]
    rotation: int = 0
    color: ColorCalibration = field(default_factory=ColorCalibration)
    latency_ms: float = 0.0


@dataclass(frozen=True)
class Panel:
    """One display: its native scan-out and the canvas rectangle it shows."""

    id: str
    rect: Rect
    resolution: tuple[int, int]
    rotation: int = 0
    color: ColorCalibration = field(default_factory=ColorCalibration)
    latency_ms: float = 0.0

    @property
    def mounted_resolution(self) -> tuple[int, int]:
        """Native pixels counted along the wall's x and y axes."""
        return mounted_size(self.resolution, self.rotation)

    def canvas_to_native_fraction(self) -> np.ndarray:
        """3x3 matrix: homogeneous canvas (x, y, 1) -> native fraction (fu, fv, 1)."""
        r = self.rect
        to_local = np.array(
            [[1 / r.w, 0, -r.x / r.w], [0, 1 / r.h, -r.y / r.h], [0, 0, 1]], dtype=np.float64
        )
        rows = _LOCAL_TO_NATIVE[self.rotation]
        to_native = np.array([rows[0], rows[1], (0, 0, 1)], dtype=np.float64)
        return to_native @ to_local

    def canvas_to_ndc(self) -> np.ndarray:
        """3x3 matrix the renderer's projection uses: canvas pixels -> GL clip space.

        NDC y points up while canvas y points down, hence the flip.
        """
        to_ndc = np.array([[2, 0, -1], [0, -2, 1], [0, 0, 1]], dtype=np.float64)
        return to_ndc @ self.canvas_to_native_fraction()

    def native_to_canvas(self, u, v) -> tuple[np.ndarray, np.ndarray]:
        """Canvas coordinates of native points (continuous; pixel centres are at +0.5)."""
        w, h = self.resolution
        inv = np.linalg.inv(self.canvas_to_native_fraction())
        fu = np.asarray(u, dtype=np.float64) / w
        fv = np.asarray(v, dtype=np.float64) / h
        x = inv[0, 0] * fu + inv[0, 1] * fv + inv[0, 2]
        y = inv[1, 0] * fu + inv[1, 1] * fv + inv[1, 2]
        return x, y

    def canvas_to_native(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Native scan-out coordinates (continuous) of canvas points."""
        w, h = self.resolution
        m = self.canvas_to_native_fraction()
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        fu = m[0, 0] * x + m[0, 1] * y + m[0, 2]
        fv = m[1, 0] * x + m[1, 1] * y + m[1, 2]
        return fu * w, fv * h

    def pixel_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Canvas (x, y) of every native pixel centre, each shaped (H, W) like a framebuffer."""
        w, h = self.resolution
        u, v = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
        return self.native_to_canvas(u, v)

    def native_pitch_scale(self) -> float:
        """Native pixels per canvas pixel (1.0 on a uniform grid, below 1 on coarser panels)."""
        return self.mounted_resolution[0] / self.rect.w


@dataclass(frozen=True)
class Wall:
    """The whole canvas and every panel's slice of it."""

    name: str
    pitch_mm: float
    canvas: tuple[int, int]
    panels: tuple[Panel, ...]
    grid: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        dupes = sorted(i for i, n in Counter(p.id for p in self.panels).items() if n > 1)
        if dupes:
            raise GeometryError(f"duplicate panel ids: {', '.join(dupes)}")
        if self.grid is not None:
            return  # a grid's panels cannot overlap; large grids skip the pairwise check
        for i, a in enumerate(self.panels):
            for b in self.panels[i + 1 :]:
                if a.rect.intersects(b.rect):
                    raise GeometryError(f"panels {a.id!r} and {b.id!r} overlap")

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.panels)

    def panel(self, display_id: str) -> Panel:
        for p in self.panels:
            if p.id == display_id:
                return p
        raise GeometryError(f"unknown display id {display_id!r} (wall has {', '.join(self.ids)})")

    def cells_rect(self, cells: str) -> Rect:
        """Canvas rectangle of one panel id or a span 'first:last' (their bounding box)."""
        parts = cells.split(":")
        if len(parts) > 2 or not all(parts):
            raise GeometryError(f"cells {cells!r} is not 'ID' or 'ID:ID'")
        rects = [self.panel(p.strip()).rect for p in parts]
        return rects[0] if len(rects) == 1 else rects[0].union(rects[1])

    def fraction_rect(self, frac: Sequence[float]) -> Rect:
        """Canvas rectangle of (x, y, w, h) given in fractions of the canvas."""
        cw, ch = self.canvas
        x, y, w, h = frac
        return Rect(x * cw, y * ch, w * cw, h * ch)

    def panels_touching(self, rect: Rect) -> list[Panel]:
        return [p for p in self.panels if p.rect.intersects(rect)]

    def straddles_seam(self, rect: Rect) -> bool:
        """True when a rectangle is not inside a single panel (a bezel would cut it)."""
        inside = [
            p
            for p in self.panels
            if p.rect.x <= rect.x + 1e-6
            and p.rect.y <= rect.y + 1e-6
            and rect.right <= p.rect.right + 1e-6
            and rect.bottom <= p.rect.bottom + 1e-6
        ]
        return not inside and bool(self.panels_touching(rect))

    def to_panel_specs(self) -> list[PanelSpec]:
        """Explicit millimetre description that reproduces exactly this wall."""
        return [
            PanelSpec(
                id=p.id,
                position_mm=(p.rect.x * self.pitch_mm, p.rect.y * self.pitch_mm),
                active_mm=(p.rect.w * self.pitch_mm, p.rect.h * self.pitch_mm),
                resolution=p.resolution,
                rotation=p.rotation,
                color=p.color,
                latency_ms=p.latency_ms,
            )
            for p in self.panels
        ]


def grid_id(row: int, col: int) -> str:
    """Display id of a grid cell, `r{row}c{col}` from 0, top-left first."""
    return f"r{row}c{col}"


def mounted_size(resolution: tuple[int, int], rotation: int) -> tuple[int, int]:
    """Native pixels counted along the wall's x and y axes, for a panel turned by `rotation`."""
    w, h = resolution
    return (h, w) if rotation in (90, 270) else (w, h)


def _check_rotation(rotation: int) -> None:
    if rotation not in ROTATIONS:
        raise GeometryError(f"rotation must be one of {ROTATIONS}, not {rotation}")


def grid_wall(
    name: str,
    rows: int,
    cols: int,
    resolution: tuple[int, int],
    active_mm: tuple[float, float],
    bezel_mm: dict[str, float],
    rotation: int = 0,
    pitch_mm: float | None = None,
    color: ColorCalibration | None = None,
) -> Wall:
    """A uniform grid exactly as the README's "Walls" section states it.

    Each panel shows W x H canvas pixels (its mounted native size); the gap
    between neighbours is round((bezel_a + bezel_b) / pitch).
    """
    _check_rotation(rotation)
    if rows < 1 or cols < 1:
        raise GeometryError("a grid needs at least one row and one column")
    native_w, native_h = resolution
    w, h = mounted_size(resolution, rotation)
    pitch = pitch_mm or min(active_mm[0] / w, active_mm[1] / h)
    gx = round((bezel_mm.get("left", 0.0) + bezel_mm.get("right", 0.0)) / pitch)
    gy = round((bezel_mm.get("top", 0.0) + bezel_mm.get("bottom", 0.0)) / pitch)
    panels = tuple(
        Panel(
            id=grid_id(r, c),
            rect=Rect(c * (w + gx), r * (h + gy), w, h),
            resolution=(native_w, native_h),
            rotation=rotation,
            color=color or ColorCalibration(),
        )
        for r in range(rows)
        for c in range(cols)
    )
    canvas = (cols * w + (cols - 1) * gx, rows * h + (rows - 1) * gy)
    return Wall(name=name, pitch_mm=pitch, canvas=canvas, panels=panels, grid=(rows, cols))


def explicit_wall(name: str, specs: Iterable[PanelSpec], pitch_mm: float | None = None) -> Wall:
    """Panels placed in millimetres, mapped to canvas pixels by the reference pitch.

    The reference pitch defaults to the finest among the panels, so no panel is
    upscaled; the top-left-most active area sits at the canvas origin.
    """
    specs = list(specs)
    if not specs:
        raise GeometryError("a wall needs at least one panel")
    for s in specs:
        _check_rotation(s.rotation)

    def mounted(s: PanelSpec) -> tuple[int, int]:
        return mounted_size(s.resolution, s.rotation)

    pitch = pitch_mm or min(
        min(s.active_mm[0] / mounted(s)[0], s.active_mm[1] / mounted(s)[1]) for s in specs
    )
    x0 = min(s.position_mm[0] for s in specs)
    y0 = min(s.position_mm[1] for s in specs)

    def snapped(s: PanelSpec) -> Rect:
        # Round edges, not origin and size separately: rounding is monotonic, so
        # panels apart in millimetres never overlap in canvas pixels.
        left = round((s.position_mm[0] - x0) / pitch)
        top = round((s.position_mm[1] - y0) / pitch)
        right = round((s.position_mm[0] + s.active_mm[0] - x0) / pitch)
        bottom = round((s.position_mm[1] + s.active_mm[1] - y0) / pitch)
        return Rect(left, top, right - left, bottom - top)

    panels = tuple(
        Panel(
            id=s.id,
            rect=snapped(s),
            resolution=tuple(s.resolution),
            rotation=s.rotation,
            color=s.color,
            latency_ms=s.latency_ms,
        )
        for s in specs
    )
    canvas = (
        int(max(p.rect.right for p in panels)),
        int(max(p.rect.bottom for p in panels)),
    )
    return Wall(name=name, pitch_mm=pitch, canvas=canvas, panels=panels)
