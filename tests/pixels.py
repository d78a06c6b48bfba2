"""Pixel assertions shared by GL and process tests: fills checked against the geometry."""

from __future__ import annotations

import numpy as np

from wallrenderer.core.geometry import Panel, Rect


def predicted_mask(panel: Panel, rect: Rect) -> np.ndarray:
    """Native pixels (H, W) whose centre lies inside a canvas rectangle."""
    x, y = panel.pixel_centres()
    return (x >= rect.x) & (x < rect.right) & (y >= rect.y) & (y < rect.bottom)


def grow(mask: np.ndarray, n: int = 1) -> np.ndarray:
    """Mask dilated by n pixels (4-neighbourhood)."""
    out = mask.copy()
    for _ in range(n):
        padded = np.pad(out, 1)
        out = (
            padded[1:-1, 1:-1] | padded[:-2, 1:-1] | padded[2:, 1:-1]
            | padded[1:-1, :-2] | padded[1:-1, 2:]
        )
    return out


def assert_fill_matches(image: np.ndarray, expected: np.ndarray, color, label: str) -> None:
    """The fill covers exactly the predicted pixels, give or take one pixel at edges."""
    filled = np.all(image == color, axis=-1)
    certain = ~grow(~expected)
    missing = certain & ~filled
    stray = filled & ~grow(expected)
    assert not missing.any(), f"{label}: {missing.sum()} pixels the fill should cover are not"
    assert not stray.any(), f"{label}: {stray.sum()} pixels outside the predicted fill are filled"
