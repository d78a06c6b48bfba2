"""`calibrate` on synthetic photos: the wall drawn by the renderer, warped, blurred and noised.

Each wall is drawn at its known geometry with the `calibration` scenario, seen
through a known perspective with blur and sensor noise, and measured against
a NOMINAL wall that is wrong by millimetres to centimetres. A photo fixes the
panels only relative to each other, so the measured wall is compared with the
truth after the one rigid move that fits them best.
"""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest
import yaml

from wallrenderer.calibration.report import measure, report
from wallrenderer.calibration.solve import CalibrationError
from wallrenderer.cli import main
from wallrenderer.core.layout.scenarios import scenario_from_data
from wallrenderer.core.layout.walls import wall_from_data
from wallrenderer.core.markers import native_pattern
from wallrenderer.renderer.preview import render_panels, render_wall

PITCH = 2.52  # mm per native pixel of the 480 x 270 test panels
W, H = 480 * PITCH, 270 * PITCH
CALIBRATION = {"scenario": {"name": "calibration", "widgets": [{"kind": "calibration"}]}}


def panel(pid, x, y, resolution=(480, 270), rotation=0):
    w, h = (H, W) if rotation in (90, 270) else (W, H)
    return {"id": pid, "position_mm": [x, y], "active_mm": [w, h],
            "resolution": list(resolution), "rotation": rotation}


def grid(gap_mm, moved=None):
    moved = moved or {}
    panels = []
    for r in range(3):
        for c in range(3):
            dx, dy = moved.get(f"r{r}c{c}", (0, 0))
            panels.append(panel(f"r{r}c{c}", c * (W + gap_mm) + dx, r * (H + gap_mm) + dy))
    return {"wall": {"name": "test-3x3", "panels": panels}}


NOMINAL_GRID = {"wall": {"name": "test-3x3", "grid": {"rows": 3, "cols": 3, "panel": {
    "resolution": [480, 270], "active_mm": [W, H],
    "bezel_mm": {"left": 3.0, "right": 3.0, "top": 3.0, "bottom": 3.0}}}}}
# Panels moved by whole native pixels, so the drawing is exactly this geometry.
MOVED = {"r0c1": (3 * PITCH, 0), "r1c1": (0, -4 * PITCH), "r2c2": (-2 * PITCH, 3 * PITCH)}
LOBBY_TRUTH = {"wall": {"name": "lobby", "panels": [
    panel("left", 0, 0, rotation=90),
    panel("middle", H + 4 * PITCH, 2 * PITCH),
    panel("fine", H + W + 10 * PITCH, 0, resolution=(960, 540)),
    panel("under", H + 4 * PITCH, H + 6 * PITCH, rotation=270),
]}}
# As ordered: every panel a centimetre or two from where it went, "under" not turned.
LOBBY_NOMINAL = {"wall": {"name": "lobby", "panels": [
    panel("left", 0, 0, rotation=90),
    panel("middle", H + 20, 0),
    panel("fine", H + W + 40, 10, resolution=(960, 540)),
    {**panel("under", H + 20, H + 20), "rotation": 0},
]}}


def photo(ctx, truth, path, covered=(), seed=0):
    """The wall's calibration scenario as a phone would see it, written to `path`."""
    wall = wall_from_data(truth)
    scenario = scenario_from_data(CALIBRATION, wall=wall)
    image = render_wall(ctx, wall, scenario, {}, 0.0, max_side=100_000)
    for pid, fraction in covered:
        r = wall.panel(pid).rect
        image[int(r.y):int(r.bottom), int(r.x):int(r.x + r.w * fraction)] = (90, 80, 70)
    h, w = image.shape[:2]
    scale = 1600 / max(w, h)
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    seen = np.float32([[60, 90], [w * scale + 40, 40], [w * scale + 10, h * scale + 120],
                       [90, h * scale + 60]])
    warp = cv2.getPerspectiveTransform(corners - 0.5, seen - 0.5)
    size = (int(w * scale + 100), int(h * scale + 180))
    out = cv2.warpPerspective(image, warp, size, flags=cv2.INTER_AREA, borderValue=(30, 30, 30))
    out = cv2.GaussianBlur(out, (0, 0), 1.2)
    noise = np.random.default_rng(seed).normal(0, 8, out.shape)
    cv2.imwrite(str(path), np.clip(out + noise, 0, 255).astype(np.uint8)[:, :, ::-1])
    return wall


def nominal_file(tmp_path, data):
    path = tmp_path / "nominal.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def centres(specs):
    return np.array([np.add(s.position_mm, np.divide(s.active_mm, 2)) for s in specs])


def assert_matches_truth(measured, wall):
    """Within 2 mm and 0.5 degrees of the truth after the best rigid move."""
    truth = {s.id: s for s in wall.to_panel_specs()}
    got = centres(measured.specs)
    want = centres([truth[s.id] for s in measured.specs])
    a, b = got - got.mean(0), want - want.mean(0)
    angle = np.arctan2((a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]).sum(), (a * b).sum())
    assert abs(np.degrees(angle)) < 0.5, "the measured wall is not level"
    c, s = np.cos(angle), np.sin(angle)
    moved = a @ np.array([[c, s], [-s, c]]) + want.mean(0)
    errors = np.hypot(*(moved - want).T)
    ids = [s.id for s in measured.specs]
    assert errors.max() < 2.0, dict(zip(ids, errors.round(2), strict=True))
    for spec, tilt in zip(measured.specs, measured.tilts, strict=True):
        assert spec.rotation == truth[spec.id].rotation, spec.id
        assert np.allclose(spec.active_mm, truth[spec.id].active_mm, atol=0.01), spec.id
        assert abs(tilt) < 0.5, spec.id
    return errors


def test_a_regular_grid_is_measured_to_the_millimetre(ctx, tmp_path):
    wall = photo(ctx, grid(6.0), tmp_path / "photo.png")
    measured = measure(tmp_path / "photo.png", nominal_file(tmp_path, NOMINAL_GRID))
    assert_matches_truth(measured, wall)
    assert measured.markers == [8] * 9
    assert np.abs(measured.offsets()).max() < 2.0, "on the grid it was ordered as"
    assert np.abs(measured.grid).max() < 2.0


def test_panels_a_few_mm_off_are_found_and_named_against_the_grid(ctx, tmp_path):
    wall = photo(ctx, grid(12 * PITCH, MOVED), tmp_path / "photo.png",
                 covered=[("r1c2", 0.62)])
    measured = measure(tmp_path / "photo.png", nominal_file(tmp_path, NOMINAL_GRID))
    assert_matches_truth(measured, wall)
    ids = [s.id for s in measured.specs]
    assert measured.markers[ids.index("r1c2")] == 3, "the covered part hides five markers"
    for pid, offset in zip(ids, measured.grid, strict=True):
        assert np.hypot(*(offset - MOVED.get(pid, (0, 0)))) < 2.0, pid
    assert re.search(r"furthest from the grid: r1c1, (9\.[5-9]|10\.[0-5]) mm", report(measured))


def test_a_portrait_panel_among_landscape_ones_and_mixed_resolutions(ctx, tmp_path):
    wall = photo(ctx, LOBBY_TRUTH, tmp_path / "photo.png")
    measured = measure(tmp_path / "photo.png", nominal_file(tmp_path, LOBBY_NOMINAL))
    assert_matches_truth(measured, wall)
    assert [s.rotation for s in measured.specs] == [90, 0, 0, 270]
    assert measured.grid is None
    assert "under" in report(measured) and " 270*" in report(measured)


def test_the_written_wall_has_the_measured_panels_and_loads(ctx, tmp_path, capsys):
    wall = photo(ctx, LOBBY_TRUTH, tmp_path / "photo.png")
    out = tmp_path / "measured.yaml"
    code = main(["calibrate", str(tmp_path / "photo.png"), "--wall",
                 str(nominal_file(tmp_path, LOBBY_NOMINAL)), "--out", str(out)])
    assert code == 0
    assert f"wrote {out}" in capsys.readouterr().out
    written = yaml.safe_load(out.read_text())["wall"]
    assert written["name"] == "lobby"
    assert [p["id"] for p in written["panels"]] == ["left", "middle", "fine", "under"]
    assert written["panels"][3]["rotation"] == 270
    assert written["panels"][2]["resolution"] == [960, 540]
    assert set(written["panels"][0]) == {"id", "position_mm", "active_mm", "resolution",
                                         "rotation"}
    assert wall_from_data(yaml.safe_load(out.read_text())).ids == wall.ids


def test_a_covered_panel_is_named_and_nothing_is_written(ctx, tmp_path, capsys):
    photo(ctx, grid(6.0), tmp_path / "photo.png", covered=[("r2c1", 1.0)])
    out = tmp_path / "measured.yaml"
    code = main(["calibrate", str(tmp_path / "photo.png"), "--wall",
                 str(nominal_file(tmp_path, NOMINAL_GRID)), "--out", str(out)])
    assert code == 1
    err = capsys.readouterr().err
    assert "no readable marker on panel r2c1:" in err and "Nothing was written" in err
    assert not out.exists()
    with pytest.raises(CalibrationError, match=r"panel r2c1:"):
        measure(tmp_path / "photo.png", nominal_file(tmp_path, NOMINAL_GRID))


def test_markers_are_drawn_in_each_panels_native_pixels(ctx):
    wall = wall_from_data(LOBBY_TRUTH)
    frames = render_panels(ctx, wall, scenario_from_data(CALIBRATION, wall=wall), {}, 0.0)
    for index, p in enumerate(wall.panels):
        frame = frames[p.id].max(axis=-1)
        expected = native_pattern(index, p.resolution)
        h, w = expected.shape
        outside_name = np.ones_like(expected, dtype=bool)
        outside_name[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3] = False
        assert np.array_equal(frame[outside_name], expected[outside_name]), p.id
