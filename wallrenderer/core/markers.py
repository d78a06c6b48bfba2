"""Fiducial markers of the `calibration` scenario: which marker goes where on which panel.

Each panel shows MARKERS_PER_PANEL ArUco markers (OpenCV's DICT_5X5_1000) in
its own native pixels, on a 3 x 3 grid of slots with the middle one left for
the panel's name. A marker's id says which panel (its index in the wall file)
and which slot; its corner order says how the panel is turned. The renderer
draws them from this module and `wallrenderer calibrate` finds them in a
photo with the same numbers, so the two always agree. Pure numpy: no OpenCV.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wallrenderer.core.markerbits import DICT_5X5_1000

DICTIONARY = "DICT_5X5_1000"
DICTIONARY_SIZE = len(DICT_5X5_1000) // 7
# Slot centres in fractions of the native width and height; the middle slot holds the name.
SLOTS = tuple((fx, fy) for fy in (1 / 6, 1 / 2, 5 / 6) for fx in (1 / 6, 1 / 2, 5 / 6)
              if (fx, fy) != (1 / 2, 1 / 2))
MARKERS_PER_PANEL = len(SLOTS)
MAX_PANELS = DICTIONARY_SIZE // MARKERS_PER_PANEL
# A marker is 5 x 5 bits in a black border (7 cells), on a white quiet zone one cell wide.
MARKER_CELLS = 7
QUIET_CELLS = 1


@dataclass(frozen=True)
class Placement:
    """One marker on one panel: native pixels, top-left corner and side."""

    id: int
    panel_index: int
    slot: int
    u: int
    v: int
    size: int

    def corners(self) -> np.ndarray:
        """(4, 2) native corners (continuous) in ArUco order: top-left, then clockwise."""
        u, v, s = self.u, self.v, self.size
        return np.array([(u, v), (u + s, v), (u + s, v + s), (u, v + s)], dtype=np.float64)


def marker_id(panel_index: int, slot: int) -> int:
    """The marker id of a slot on the panel at `panel_index` in the wall file."""
    return panel_index * MARKERS_PER_PANEL + slot


def split_id(marker: int) -> tuple[int, int]:
    """(panel index, slot) of a marker id."""
    return divmod(int(marker), MARKERS_PER_PANEL)


def marker_bits(marker: int) -> np.ndarray:
    """The 5 x 5 inner cells of a marker, True for white."""
    value = int(DICT_5X5_1000[7 * marker : 7 * marker + 7], 16)
    return np.array([(value >> (24 - i)) & 1 for i in range(25)], dtype=bool).reshape(5, 5)


def cell_px(resolution: tuple[int, int]) -> int:
    """Side of one marker cell in native pixels: a marker and its quiet zone fill 90 % of a slot."""
    return max(1, int(min(resolution) * 0.9 / 3 / (MARKER_CELLS + 2 * QUIET_CELLS)))


def panel_markers(panel_index: int, resolution: tuple[int, int]) -> list[Placement]:
    """Every marker of one panel, on whole native pixels so its edges are sharp.

    Raises:
        ValueError: the wall has more panels than the dictionary has markers for.
    """
    if not 0 <= panel_index < MAX_PANELS:
        raise ValueError(f"the calibration markers cover at most {MAX_PANELS} panels")
    width, height = resolution
    cell = cell_px(resolution)
    size = MARKER_CELLS * cell
    return [
        Placement(marker_id(panel_index, slot), panel_index, slot,
                  round(fx * width - size / 2), round(fy * height - size / 2), size)
        for slot, (fx, fy) in enumerate(SLOTS)
    ]


def native_pattern(panel_index: int, resolution: tuple[int, int]) -> np.ndarray:
    """The panel's markers in its native scan-out: (H, W) uint8, black with white quiet zones."""
    width, height = resolution
    image = np.zeros((height, width), dtype=np.uint8)
    cell = cell_px(resolution)
    for marker in panel_markers(panel_index, resolution):
        quiet = QUIET_CELLS * cell
        image[marker.v - quiet : marker.v + marker.size + quiet,
              marker.u - quiet : marker.u + marker.size + quiet] = 255
        cells = np.zeros((MARKER_CELLS, MARKER_CELLS), dtype=bool)
        cells[1:-1, 1:-1] = marker_bits(marker.id)
        block = np.kron(cells, np.ones((cell, cell), dtype=bool))
        image[marker.v : marker.v + marker.size, marker.u : marker.u + marker.size] = block * 255
    return image
