"""Colour matching on a running wall: one panel nudged live, shown at once, saved to its file."""

from __future__ import annotations

import subprocess

import numpy as np
import requests
import yaml
from conftest import wait_for, wall_command, write_yaml
from PIL import Image
from walls import SMALL_GRID_WALL

from controller.demo import free_port_pair
from wallrenderer.core.client import control_request
from wallrenderer.core.layout.walls import load_wall


def capture(connect, folder):
    result = control_request(connect, "capture", {"dir": str(folder)}, timeout_s=30)
    return np.asarray(Image.open(result["paths"]["r0c1"]).convert("RGB")).astype(int)


def showing_colour_fields(connect):
    try:
        status = control_request(connect, "status", {}, timeout_s=2)
    except TimeoutError:  # still starting
        return False
    return any(r["id"] == "r0c1" and r.get("synced") and r.get("scenario") == "calibration-colour"
               for r in status["renderers"])


def test_a_nudged_gain_changes_the_panels_pixels_exactly_and_is_saved(tmp_path, spawn):
    wall_path = write_yaml(tmp_path / "wall.yaml", SMALL_GRID_WALL)
    connect = f"127.0.0.1:{free_port_pair()}"
    spawn(wall_command("controller", "--wall", str(wall_path), "--bind", connect,
                       "--scenario", "calibration-colour"))
    spawn(wall_command("renderer", "--connect", connect, "--display", "r0c1", "--headless"))
    wait_for(lambda: showing_colour_fields(connect), 60, "r0c1 to show the colour fields")
    before = capture(connect, tmp_path / "before")
    grey = tuple(before[5, 5])
    assert grey == (128, 128, 128), "the flat field is mid grey"

    done = subprocess.run(
        wall_command("calibrate", "--colour", "--panel", "r0c1", "--gain", "1", "0.5", "0.25",
                     "--brightness", "0.8", "--save", "--connect", connect),
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "r0c1: gain 1 0.5 0.25, gamma 1, brightness 0.8" in done.stdout

    # output = (input x gain) ^ gamma x brightness, on every pixel of that panel
    expected = np.clip(np.round(before * np.array([1.0, 0.5, 0.25]) * 0.8), 0, 255)
    def nudged():
        shot = capture(connect, tmp_path / "after")
        return [shot] if shot[5, 5, 1] != 128 else None

    [after] = wait_for(nudged, 30, "the nudge to reach the renderer")
    assert np.abs(after - expected).max() <= 1

    saved = load_wall(wall_path)
    assert saved.panel("r0c1").color.gain == (1.0, 0.5, 0.25)
    assert saved.panel("r0c1").color.brightness == 0.8
    assert saved.panel("r0c0").color.is_identity
    assert [p.rect for p in saved.panels] == [p.rect for p in load_wall(
        write_yaml(tmp_path / "original.yaml", SMALL_GRID_WALL)).panels]
    assert yaml.safe_load((tmp_path / "wall.yaml.bak").read_text()) == SMALL_GRID_WALL

    refused = subprocess.run(
        wall_command("calibrate", "--colour", "--panel", "r0c1", "--gamma", "-1",
                     "--connect", connect), capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "gamma" in refused.stderr
    assert load_wall(wall_path).panel("r0c1").color.gamma == 1.0, "nothing changed"


def test_the_api_nudge_changes_the_pixels_exactly_and_saves_the_file(tmp_path, spawn):
    wall_path = write_yaml(tmp_path / "wall.yaml", SMALL_GRID_WALL)
    connect, http = f"127.0.0.1:{free_port_pair()}", free_port_pair()
    spawn(wall_command("controller", "--wall", str(wall_path), "--bind", connect,
                       "--http", f"127.0.0.1:{http}", "--token", "t",
                       "--scenario", "calibration-colour"))
    spawn(wall_command("renderer", "--connect", connect, "--display", "r0c1", "--headless"))
    wait_for(lambda: showing_colour_fields(connect), 60, "r0c1 to show the colour fields")
    before = capture(connect, tmp_path / "before")

    nudge = {"panel": "r0c1", "gain": [0.5, 1, 0.75], "gamma": 2, "brightness": 0.9,
             "save": True}
    answer = requests.post(f"http://127.0.0.1:{http}/api/panel/colour", json=nudge,
                           headers={"Authorization": "Bearer t"}, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json()["saved"] == str(wall_path) and answer.json()["by"] == "token"

    # output = (input x gain) ^ gamma x brightness, in 0..1, on every pixel of that panel
    corrected = np.clip(before / 255 * np.array([0.5, 1.0, 0.75]), 0, 1) ** 2 * 0.9
    expected = np.round(corrected * 255)
    def nudged():
        shot = capture(connect, tmp_path / "after")
        return [shot] if shot[5, 5, 1] != 128 else None

    [after] = wait_for(nudged, 30, "the nudge to reach the renderer")
    assert np.abs(after - expected).max() <= 1

    saved = load_wall(wall_path).panel("r0c1").color
    assert (saved.gain, saved.gamma, saved.brightness) == ((0.5, 1.0, 0.75), 2.0, 0.9)
    assert yaml.safe_load((tmp_path / "wall.yaml.bak").read_text()) == SMALL_GRID_WALL
