"""A renderer that starts while no controller answers shows its cached wall, marked stale."""

from __future__ import annotations

import os
import shutil
import signal

import numpy as np
import pytest
from conftest import wait_for, wall_command, write_yaml
from PIL import ImageGrab
from test_kiosk import free_x_display, start_x
from test_nodes import showing
from walls import SMALL_GRID_WALL

from controller.demo import free_port_pair


def grab(display: str) -> np.ndarray:
    return np.asarray(ImageGrab.grab(xdisplay=display).convert("RGB"), dtype=float)


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="make test installs Xvfb")
def test_a_cold_start_without_controller_shows_the_cached_wall_marked_stale(tmp_path, spawn):
    number = free_x_display()
    display = f":{number}"
    start_x(spawn, ["Xvfb", display, "-screen", "0", "320x180x24", "-noreset", "-nolisten",
                    "tcp"], number)
    wall = write_yaml(tmp_path / "wall.yaml", SMALL_GRID_WALL)
    connect = f"127.0.0.1:{free_port_pair()}"
    cache = tmp_path / "cache" / "r0c0.json"
    renderer_argv = wall_command("renderer", "--connect", connect, "--display", "r0c0",
                                 "--fullscreen", "--fps", "5", "--cache", str(cache))
    env = {**os.environ, "DISPLAY": display}
    controller = spawn(wall_command("controller", "--wall", str(wall), "--bind", connect,
                                    "--scenario", "hello"))
    renderer = spawn(renderer_argv, env=env)
    wait_for(lambda: showing(connect, {"r0c0"}, "hello"), 60, "the renderer to show hello")
    wait_for(cache.exists, 10, "the cache to be written")
    live = grab(display)

    for proc in (controller, renderer):
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    dark = live * 0 + live[0, 0]            # the dark fill a renderer shows with nothing to draw
    spawn(renderer_argv, env=env)

    def cached_and_marked():
        shot = grab(display)
        body = np.abs(shot[:120] - live[:120]).mean()     # the scenario itself, corner aside
        corner = np.abs(shot[150:, 200:] - live[150:, 200:]).mean()
        return body < 2 and corner > 2 and np.abs(shot - dark).mean() > 5

    wait_for(cached_and_marked, 60, "the cached hello with the stale mark")

    # A controller answers (another scenario): the renderer follows it.
    spawn(wall_command("controller", "--wall", str(wall), "--bind", connect))
    status = wait_for(lambda: showing(connect, {"r0c0"}, "testcard"), 60,
                      "the renderer to follow the new controller")
    row = next(r for r in status["renderers"] if r["id"] == "r0c0")
    assert "stale_since" in row and row["stale_since"] is None
