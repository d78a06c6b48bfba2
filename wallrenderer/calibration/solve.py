"""From a photo of the `calibration` scenario to each panel's place on the wall, in millimetres.

1. Find the ArUco markers (`detect`): ids say panel and slot, corners are
   refined on the full-resolution photo.
2. Each marker corner is a known native pixel of a known panel, so a known
   point in that panel's own millimetres (its size comes from NOMINAL).
3. Solve the photo-to-wall homography and every panel's rigid pose together
   (`solve`): start from the wall as NOMINAL orders it (a robust fit, so a
   panel mounted otherwise does not spoil it), then alternate fitting each
   panel's rotation and offset and refitting the homography to all of them.
4. Turn the result to match NOMINAL: the quarter turn that most panels'
   nominal rotations agree on, level (median tilt zero), and shifted so that
   the median panel sits where NOMINAL puts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wallrenderer.core.errors import WallError
from wallrenderer.core.geometry import PanelSpec
from wallrenderer.core.markers import (
    DICTIONARY,
    MARKERS_PER_PANEL,
    panel_markers,
    split_id,
)

INSTALL_HINT = "pip install 'wallrenderer[calibrate]'"
# Markers are found on a copy of the photo at most this long, then refined at full size.
DETECT_SIDE = 2400
ITERATIONS = 30
# NOMINAL gives the first guess of the perspective; panels further off than this
# from where it puts them (turned another way, say) are left out of that guess.
ORDERED_MM = 60.0
# A marker whose corners lie further than this from its panel's fit is a misread.
OUTLIER_MM = 6.0


class CalibrationError(WallError):
    """A photo that cannot give every panel's position; nothing is written."""


def opencv():
    """The cv2 module with its ArUco detector, or a clear way to get it."""
    try:
        import cv2
    except ImportError:
        raise WallError(f"calibrate needs OpenCV, an optional extra: {INSTALL_HINT}") from None
    if not hasattr(cv2, "aruco") or not hasattr(cv2.aruco, "ArucoDetector"):
        raise WallError(f"this OpenCV ({cv2.__version__}) has no cv2.aruco.ArucoDetector "
                        f"(4.7 or later is needed): {INSTALL_HINT}")
    return cv2


def read_photo(path: str) -> np.ndarray:
    """The photo as one grey channel; a file that is not a picture is named."""
    cv2 = opencv()
    if not Path(path).is_file():
        raise CalibrationError(f"{path}: no such file")
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise CalibrationError(f"{path}: not a picture OpenCV can read (JPEG, PNG, TIFF...)")
    return image


def detect(gray: np.ndarray) -> dict[int, np.ndarray]:
    """Marker id -> (4, 2) corners in continuous photo coordinates (pixel centres at +0.5).

    An id seen twice is a misread of one of them, so neither is kept.
    """
    cv2 = opencv()
    scale = min(1.0, DETECT_SIDE / max(gray.shape))
    small = gray if scale == 1.0 else cv2.resize(gray, None, fx=scale, fy=scale,
                                                 interpolation=cv2.INTER_AREA)
    params = cv2.aruco.DetectorParameters()
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, DICTIONARY))
    corners, ids, _ = cv2.aruco.ArucoDetector(dictionary, params).detectMarkers(small)
    if ids is None:
        return {}
    found: dict[int, np.ndarray] = {}
    twice: set[int] = set()
    for marker, quad in zip(ids.ravel().tolist(), corners, strict=True):
        points = (quad.reshape(4, 2).astype(np.float64) + 0.5) / scale - 0.5
        if scale < 1.0:
            side = np.linalg.norm(points[0] - points[2]) / np.sqrt(2)
            win = max(2, int(side / 7 * 0.4))
            refined = points.astype(np.float32).reshape(-1, 1, 2)
            criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.01)
            cv2.cornerSubPix(gray, refined, (win, win), (-1, -1), criteria)
            points = refined.reshape(4, 2).astype(np.float64)
        if marker in found:
            twice.add(marker)
        found[marker] = points + 0.5
    return {m: q for m, q in found.items() if m not in twice}


@dataclass
class PanelFit:
    """One panel as measured: rigid pose on the wall plane, from its native millimetres."""

    spec: PanelSpec
    markers: list[int]
    angle: float = 0.0  # radians, clockwise on the wall, of the panel's native x axis
    origin: np.ndarray | None = None  # where its native (0, 0) corner is, mm
    residual_mm: float = 0.0

    @property
    def native_mm(self) -> tuple[float, float]:
        """The panel's size along its native x and y, in millimetres."""
        w, h = self.spec.active_mm
        return (h, w) if self.spec.rotation in (90, 270) else (w, h)

    def to_wall(self, points: np.ndarray) -> np.ndarray:
        c, s = np.cos(self.angle), np.sin(self.angle)
        return points @ np.array([[c, s], [-s, c]]) + self.origin

    def centre(self) -> np.ndarray:
        w, h = self.native_mm
        return self.to_wall(np.array([[w / 2, h / 2]]))[0]


def native_points(spec: PanelSpec, index: int, marker: int) -> np.ndarray:
    """The four corners of one marker in the panel's native millimetres."""
    _, slot = split_id(marker)
    width, height = spec.resolution
    corners = panel_markers(index, spec.resolution)[slot].corners()
    size = PanelFit(spec, []).native_mm
    return corners * (size[0] / width, size[1] / height)


def centre(quad: np.ndarray) -> np.ndarray:
    """Where the diagonals of a quadrilateral cross, as (1, 2).

    A homography keeps it the centre of the marker, and it stays put when blur
    moves every detected corner in or out along its diagonal, which biases
    the corners themselves by a fraction of a pixel.
    """
    a, b, c, d = quad
    # Solve a + s (c - a) = b + t (d - b).
    s, _ = np.linalg.solve(np.stack([c - a, b - d], axis=1), b - a)
    return (a + s * (c - a))[None, :]


def _points(spec: PanelSpec, index: int, markers: list[int], found: dict[int, np.ndarray]
            ) -> tuple[np.ndarray, np.ndarray]:
    """(native mm, photo) points of one panel: marker centres, and corners if only one marker.

    One centre cannot give a turn, so a panel with one readable marker also
    uses that marker's corners.
    """
    native = [centre(native_points(spec, index, m)) for m in markers]
    photo = [centre(found[m]) for m in markers]
    if len(markers) == 1:
        native.append(native_points(spec, index, markers[0]))
        photo.append(found[markers[0]])
    return np.concatenate(native), np.concatenate(photo)


def _rigid(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray]:
    """Angle and translation of the rotation (no scale) that best maps src onto dst."""
    a, b = src - src.mean(0), dst - dst.mean(0)
    angle = np.arctan2((a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]).sum(), (a * b).sum())
    c, s = np.cos(angle), np.sin(angle)
    origin = dst.mean(0) - src.mean(0) @ np.array([[c, s], [-s, c]])
    return float(angle), origin


def _to_plane(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    ones = np.ones((len(points), 1))
    mapped = np.hstack([points, ones]) @ h.T
    return mapped[:, :2] / mapped[:, 2:]


def solve(specs: list[PanelSpec], found: dict[int, np.ndarray]) -> list[PanelFit]:
    """Every panel's pose on the wall plane (in an arbitrary rigid frame) from the markers.

    Raises:
        CalibrationError: some panels have no readable marker (they are named).
    """
    cv2 = opencv()
    fits = [PanelFit(spec, []) for spec in specs]
    for marker in sorted(found):
        index, _ = split_id(marker)
        if index < len(fits):
            fits[index].markers.append(marker)
    _require_markers(fits)
    for _ in range(2):  # the second pass leaves out markers the first found misread
        pairs = [_points(f.spec, i, f.markers, found) for i, f in enumerate(fits)]
        photo = np.concatenate([p for _, p in pairs])
        for fit in fits:
            _as_ordered(fit)
        ordered = np.concatenate([f.to_wall(n) for f, (n, _) in zip(fits, pairs, strict=True)])
        homography, _ = cv2.findHomography(photo, ordered, cv2.RANSAC, ORDERED_MM)
        for _ in range(ITERATIONS):
            for fit, (native, seen) in zip(fits, pairs, strict=True):
                fit.angle, fit.origin = _rigid(native, _to_plane(homography, seen))
            target = np.concatenate([f.to_wall(n) for f, (n, _) in zip(fits, pairs, strict=True)])
            homography, _ = cv2.findHomography(photo, target, 0)
        if not _drop_outliers(fits, found, homography):
            break
        _require_markers(fits)
    return fits


def _as_ordered(fit: PanelFit) -> None:
    """Put a panel where NOMINAL says, as the start of the solve."""
    fit.angle = np.radians(fit.spec.rotation)
    fit.origin = np.zeros(2)  # so that centre() is the turned half-size alone
    fit.origin = np.add(fit.spec.position_mm, np.divide(fit.spec.active_mm, 2)) - fit.centre()


def _drop_outliers(fits: list[PanelFit], found: dict[int, np.ndarray],
                   homography: np.ndarray) -> bool:
    """Forget markers far from their panel's fit; True when any was dropped."""
    dropped = False
    for index, fit in enumerate(fits):
        errors = {
            m: float(np.abs(_to_plane(homography, found[m])
                            - fit.to_wall(native_points(fit.spec, index, m))).max())
            for m in fit.markers
        }
        kept = [m for m, e in errors.items() if e <= OUTLIER_MM]
        fit.residual_mm = max((errors[m] for m in kept), default=0.0)
        if kept and len(kept) < len(fit.markers):
            fit.markers, dropped = kept, True
    return dropped


def _require_markers(fits: list[PanelFit]) -> None:
    blind = [f.spec.id for f in fits if not f.markers]
    if blind:
        raise CalibrationError(
            f"no readable marker on panel{'s' if len(blind) > 1 else ''} {', '.join(blind)}: "
            "make sure the wall shows the calibration scenario (wallrenderer calibrate "
            "--show), that nothing covers those panels and that the photo shows the whole "
            f"wall in focus; each panel has {MARKERS_PER_PANEL} markers and one is enough. "
            "Nothing was written"
        )


def _median_angle(angles: np.ndarray) -> float:
    """The median of small angles around zero (radians), wrapped to (-pi, pi]."""
    return float(np.median(np.angle(np.exp(1j * angles))))


def place(fits: list[PanelFit]) -> list[tuple[PanelSpec, float]]:
    """Measured panels in NOMINAL's frame, each with its tilt from level in degrees.

    Each panel's rotation is its measured turn rounded to a quarter turn; the
    tilt is what is left over.
    """
    nominal = np.radians([f.spec.rotation for f in fits])
    measured = np.array([f.angle for f in fits])
    quarter = np.pi / 2
    turn = np.round(_median_angle(nominal - measured) / quarter) * quarter
    level = turn - _median_angle(measured + turn - np.round((measured + turn) / quarter) * quarter)
    c, s = np.cos(level), np.sin(level)
    rotate = np.array([[c, s], [-s, c]])
    centres = np.array([f.centre() for f in fits]) @ rotate
    wanted = np.array([np.add(f.spec.position_mm, np.divide(f.spec.active_mm, 2)) for f in fits])
    shift = np.median(wanted - centres, axis=0)
    placed = []
    for fit, centre, angle in zip(fits, centres + shift, measured + level, strict=True):
        quarters = int(np.round(angle / quarter)) % 4
        tilt = np.degrees(np.angle(np.exp(1j * (angle - quarters * quarter))))
        w, h = fit.native_mm
        active = (h, w) if quarters % 2 else (w, h)
        position = (centre[0] - active[0] / 2, centre[1] - active[1] / 2)
        spec = PanelSpec(fit.spec.id, position, active, fit.spec.resolution, quarters * 90,
                         fit.spec.color, fit.spec.latency_ms)
        placed.append((spec, float(tilt)))
    return placed
