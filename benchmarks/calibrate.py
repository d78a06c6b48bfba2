"""Time of `wallrenderer calibrate` for a 3x3 and a 6x4 wall from a 12-megapixel photo.

Prints one JSON object as its last line:
{"walls": {"3x3": {"seconds", "max_error_mm", "mean_error_mm", "markers", "photo"}, "6x4": ...},
 "target_s": 5}
Each wall (1920 x 1080 panels of 55", some moved a few millimetres off the
grid) is drawn by the renderer with the `calibration` scenario, seen
through a perspective into a 4000 x 3000 photo with blur and noise, saved as
JPEG, and measured against the grid it was ordered as. `seconds` is the whole
measurement (reading the JPEG, finding markers, solving); the error is each
panel's distance from the truth after the best rigid move (a photo fixes the
panels only relative to each other).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import cv2
import numpy as np
import yaml

from wallrenderer.calibration.report import measure
from wallrenderer.core.layout.scenarios import scenario_from_data
from wallrenderer.core.layout.walls import wall_from_data
from wallrenderer.renderer.gl import create_headless_context
from wallrenderer.renderer.preview import render_wall

PITCH = 0.63
PANEL_PX = (1920, 1080)
GAP_PX = 6  # 3.78 mm: even, so the half-size drawing is exact
PHOTO = (4000, 3000)


def walls(rows: int, cols: int) -> tuple[dict, dict]:
    """(truth, nominal): the truth moves every fourth panel by a few millimetres."""
    w, h = PANEL_PX
    rng = np.random.default_rng(rows * cols)
    panels = []
    for r in range(rows):
        for c in range(cols):
            dx, dy = (2 * rng.integers(-5, 6, 2)) if (r * cols + c) % 4 == 1 else (0, 0)
            dx, dy = (min(dx, 0), min(dy, 0)) if c == cols - 1 or r == rows - 1 else (dx, dy)
            panels.append({"id": f"r{r}c{c}",
                           "position_mm": [PITCH * (c * (w + 2 * GAP_PX) + dx),
                                           PITCH * (r * (h + 2 * GAP_PX) + dy)],
                           "active_mm": [w * PITCH, h * PITCH], "resolution": [w, h]})
    truth = {"wall": {"name": f"bench-{rows}x{cols}", "pitch_mm": PITCH, "panels": panels}}
    bezel = GAP_PX * PITCH
    nominal = {"wall": {"name": f"bench-{rows}x{cols}", "grid": {"rows": rows, "cols": cols,
               "panel": {"resolution": [w, h], "active_mm": [w * PITCH, h * PITCH],
                         "bezel_mm": {"left": bezel, "right": bezel, "top": bezel,
                                      "bottom": bezel}}}}}
    return truth, nominal


def photograph(ctx, truth: dict, path: Path) -> None:
    wall = wall_from_data(truth)
    scenario = scenario_from_data(
        {"scenario": {"name": "calibration", "widgets": [{"kind": "calibration"}]}}, wall=wall)
    image = render_wall(ctx, wall, scenario, {}, 0.0, max_side=max(wall.canvas) // 2)
    h, w = image.shape[:2]
    scale = min(PHOTO[0] * 0.9 / w, PHOTO[1] * 0.9 / h)
    x0, y0 = (PHOTO[0] - w * scale) / 2, (PHOTO[1] - h * scale) / 2
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    seen = np.float32([[x0 + 40, y0 + 10], [x0 + w * scale - 30, y0 - 40],
                       [x0 + w * scale + 20, y0 + h * scale + 60], [x0 - 10, y0 + h * scale]])
    warp = cv2.getPerspectiveTransform(corners - 0.5, seen - 0.5)
    out = cv2.warpPerspective(image, warp, PHOTO, flags=cv2.INTER_LINEAR,
                              borderValue=(40, 40, 40))
    out = cv2.GaussianBlur(out, (0, 0), 1.5)
    out = np.clip(out + np.random.default_rng(1).normal(0, 6, out.shape), 0, 255)
    cv2.imwrite(str(path), out.astype(np.uint8)[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])


def errors_mm(measured, truth: dict) -> np.ndarray:
    """Each panel's centre distance from the truth after the best rigid move."""
    def centres(specs):
        return np.array([np.add(s.position_mm, np.divide(s.active_mm, 2)) for s in specs])

    truth_specs = {s.id: s for s in wall_from_data(truth).to_panel_specs()}
    got = centres(measured.specs)
    want = centres([truth_specs[s.id] for s in measured.specs])
    a, b = got - got.mean(0), want - want.mean(0)
    angle = np.arctan2((a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]).sum(), (a * b).sum())
    c, s = np.cos(angle), np.sin(angle)
    return np.hypot(*(a @ np.array([[c, s], [-s, c]]) - b).T)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per wall (median)")
    args = parser.parse_args()
    ctx = create_headless_context()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for rows, cols in ((3, 3), (4, 6)):
            truth, nominal = walls(rows, cols)
            photo, nominal_path = Path(folder) / "photo.jpg", Path(folder) / "nominal.yaml"
            nominal_path.write_text(yaml.safe_dump(nominal))
            photograph(ctx, truth, photo)
            runs = [measure(photo, nominal_path) for _ in range(args.runs)]
            errors = [errors_mm(run, truth) for run in runs]
            results[f"{cols}x{rows}" if cols > rows else f"{rows}x{cols}"] = {
                "seconds": round(float(np.median([r.seconds for r in runs])), 3),
                "max_error_mm": [round(float(e.max()), 2) for e in errors],
                "mean_error_mm": [round(float(e.mean()), 2) for e in errors],
                "markers": sum(runs[0].markers),
                "photo": f"{PHOTO[0]}x{PHOTO[1]}",
            }
    ctx.release()
    print(json.dumps({"walls": results, "target_s": 5}))


if __name__ == "__main__":
    main()
