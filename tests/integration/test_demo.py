"""`wallrenderer demo` end to end: separate controller and renderer processes over ZeroMQ."""

from __future__ import annotations

import os
import re
import signal
import subprocess

import numpy as np
import pytest
from conftest import children_of, wait_for, wall_command, write_yaml
from PIL import Image
from pixels import assert_fill_matches, predicted_mask
from walls import MIXED_WALL, SMALL_GRID_WALL

from wallrenderer.core.client import control_request
from wallrenderer.core.layout.walls import wall_from_data
from wallrenderer.core.wallimage import BEZEL_RGB

RED = (255, 0, 0)
BLUE = (0, 0, 255)


def run(argv, cwd, timeout=120):
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def load_png(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_headless_demo_on_default_wall_writes_every_panel_and_the_wall(tmp_path):
    out = tmp_path / "out"
    result = run(wall_command("demo", "--headless", "--seconds", "1", "--out-dir", str(out)),
                 tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    names = sorted(p.name for p in out.glob("*.png"))
    assert names == ["r0c0.png", "r0c1.png", "r1c0.png", "r1c1.png", "wall.png"]
    for display in ("r0c0", "r0c1", "r1c0", "r1c1"):
        assert load_png(out / f"{display}.png").shape == (1080, 1920, 3)
    wall_img = load_png(out / "wall.png")
    assert wall_img.shape == (2166, 3846, 3)
    # 1.8 + 1.8 mm of bezel at 0.63 mm per pixel: a 6-pixel dark gap between columns.
    assert np.all(wall_img[:1080, 1920:1926] == BEZEL_RGB)
    assert not np.all(wall_img[:1080, 1919] == BEZEL_RGB)
    assert np.array_equal(wall_img[1086:, 1926:], load_png(out / "r1c1.png"))
    assert str(out) in result.stdout


def test_rects_straddling_bezels_land_on_predicted_pixels_of_each_renderer_process(tmp_path):
    wall_file = write_yaml(tmp_path / "wall.yaml", MIXED_WALL)
    fractions = [(0.2, 0.1, 0.5, 0.5), (0.0, 0.62, 1.0, 0.1)]
    widgets = [{"kind": "rect", "rect": list(f), "color": "#ff0000"} for f in fractions]
    widgets.append({"kind": "rect", "cells": "fine", "color": "#0000ff"})
    write_yaml(tmp_path / "scenarios" / "rects.yaml",
               {"scenario": {"name": "rects", "background": "#000000", "widgets": widgets}})
    out = tmp_path / "out"
    result = run(wall_command("demo", "--headless", "--seconds", "0.5", "--wall", str(wall_file),
                              "--scenarios", str(tmp_path / "scenarios"), "--scenario", "rects",
                              "--out-dir", str(out)), tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    wall = wall_from_data(MIXED_WALL)
    for panel in wall.panels:
        image = load_png(out / f"{panel.id}.png")
        assert image.shape == (panel.resolution[1], panel.resolution[0], 3)
        if panel.id == "fine":
            assert np.all(image == BLUE), "a rect on cells: fine must fill that panel exactly"
            continue
        expected = np.zeros(image.shape[:2], bool)
        for f in fractions:
            expected |= predicted_mask(panel, wall.fraction_rect(f))
        assert expected.any()
        assert_fill_matches(image, expected, RED, panel.id)


def renderer_children(demo_pid: int) -> dict[str, int]:
    found = {}
    for pid, cmd in children_of(demo_pid).items():
        match = re.search(r"--display (\S+)", cmd)
        if match:
            found[match.group(1)] = pid
    return found


def test_demo_restarts_a_renderer_killed_with_sigkill(tmp_path, spawn):
    wall_file = write_yaml(tmp_path / "wall.yaml", SMALL_GRID_WALL)
    demo = spawn(wall_command("demo", "--headless", "--wall", str(wall_file), "--scenario",
                              "testcard"))
    ids = {"r0c0", "r0c1", "r1c0", "r1c1"}
    first = wait_for(lambda: (r := renderer_children(demo.pid)).keys() == ids and r, 30,
                     "four renderer processes")
    connect = re.search(r"--connect (\S+)", children_of(demo.pid)[first["r0c1"]]).group(1)

    def all_showing():
        try:
            status = control_request(connect, "status", {}, timeout_s=2)
        except TimeoutError:
            return False
        return all(r["connected"] and r.get("synced") and r.get("scenario") == "testcard"
                   for r in status["renderers"]) and status

    wait_for(all_showing, 60, "all renderers showing the testcard")
    os.kill(first["r0c1"], signal.SIGKILL)
    restarted = wait_for(
        lambda: (pid := renderer_children(demo.pid).get("r0c1")) and pid != first["r0c1"] and pid,
        30, "r0c1 to be started again",
    )
    assert restarted != first["r0c1"]
    wait_for(all_showing, 60, "the restarted renderer to show the testcard again")

    demo.send_signal(signal.SIGTERM)
    assert demo.wait(timeout=20) == 0
    for pid in (*first.values(), restarted):
        assert not os.path.exists(f"/proc/{pid}") or "Z" in open(f"/proc/{pid}/stat").read()


@pytest.mark.parametrize("bad", ["--scenario", "--wall"])
def test_demo_with_bad_arguments_says_why_without_a_traceback(tmp_path, bad):
    broken = write_yaml(tmp_path / "broken.yaml", {"wall": {"name": "x", "grid": {"rows": -1}}})
    argv = ["demo", "--headless", "--seconds", "1"]
    argv += ["--scenario", "no-such-scenario"] if bad == "--scenario" else ["--wall", str(broken)]
    result = run(wall_command(*argv), tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    expected = "no-such-scenario" if bad == "--scenario" else f"{broken}:"
    assert expected in result.stderr
