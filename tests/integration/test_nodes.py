"""Controller and renderer as separate programs: late join, capture, status, bad input."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest
import zmq
from conftest import wait_for, wall_command, write_yaml
from PIL import Image
from walls import SMALL_GRID_WALL

from controller.demo import free_port_pair
from wallrenderer.core.client import control_request
from wallrenderer.core.protocol import Message


def status_or_none(connect: str):
    try:
        return control_request(connect, "status", {}, timeout_s=1.5)
    except TimeoutError:
        return None


def showing(connect: str, displays: set[str], scenario: str = "testcard"):
    status = status_or_none(connect)
    if status is None:
        return None
    ok = {r["id"] for r in status["renderers"]
          if r["connected"] and r.get("synced") and r.get("scenario") == scenario}
    return status if displays <= ok else None


@pytest.fixture
def small_wall(tmp_path):
    return write_yaml(tmp_path / "wall.yaml", SMALL_GRID_WALL)


def test_renderer_started_before_the_controller_catches_up_and_captures(tmp_path, spawn,
                                                                       small_wall):
    port = free_port_pair()
    connect = f"127.0.0.1:{port}"
    spawn(wall_command("renderer", "--connect", connect, "--display", "r1c0", "--headless"))
    spawn(wall_command("controller", "--wall", str(small_wall), "--bind", connect))
    status = wait_for(lambda: showing(connect, {"r1c0"}), 60, "r1c0 to show the testcard")
    row = next(r for r in status["renderers"] if r["id"] == "r1c0")
    assert row["fps"] > 0 and row["frame_ms"] > 0
    assert abs(row["clock_offset_ms"]) < 50, "same machine: the clocks should agree"
    assert {r["id"] for r in status["renderers"]} == {"r0c0", "r0c1", "r1c0", "r1c1"}

    result = control_request(connect, "capture", {"dir": str(tmp_path / "shots")}, timeout_s=30)
    assert result["paths"].keys() == {"r1c0"}
    assert sorted(result["missing"]) == ["r0c0", "r0c1", "r1c1"]
    image = np.asarray(Image.open(result["paths"]["r1c0"]).convert("RGB"))
    assert image.shape == (180, 320, 3) and image.max() > 200


def test_a_restarted_controller_is_followed_by_running_renderers(tmp_path, spawn, small_wall):
    port = free_port_pair()
    connect = f"127.0.0.1:{port}"
    hello = write_yaml(tmp_path / "scenarios" / "other.yaml", {
        "scenario": {"name": "other", "widgets": [{"kind": "rect", "rect": [0, 0, 1, 1]}]}})
    spawn(wall_command("renderer", "--connect", connect, "--display", "r0c0", "--headless"))
    first = spawn(wall_command("controller", "--wall", str(small_wall), "--bind", connect))
    wait_for(lambda: showing(connect, {"r0c0"}), 60, "r0c0 to show the testcard")
    first.kill()
    first.wait()
    spawn(wall_command("controller", "--wall", str(small_wall), "--bind", connect,
                       "--scenarios", str(hello.parent), "--scenario", "other"))
    wait_for(lambda: showing(connect, {"r0c0"}, "other"), 60,
             "r0c0 to follow the new controller's scenario")


def test_wall_status_prints_a_row_per_renderer(tmp_path, spawn, small_wall):
    port = free_port_pair()
    connect = f"127.0.0.1:{port}"
    spawn(wall_command("controller", "--wall", str(small_wall), "--bind", connect))
    spawn(wall_command("renderer", "--connect", connect, "--display", "r0c1"))
    wait_for(lambda: showing(connect, {"r0c1"}), 60, "r0c1 to connect")
    out = subprocess.run(wall_command("status", "--connect", connect), capture_output=True,
                         text=True, timeout=30, cwd=tmp_path)
    assert out.returncode == 3, out.stderr          # three panels are missing
    lines = out.stdout.splitlines()
    assert lines[0].startswith("scenario: testcard")
    assert lines[-1] == "missing or stale: r0c0, r1c0, r1c1"
    rows = {line.split()[0]: line.split() for line in lines[2:-1]}
    assert rows.keys() == {"r0c0", "r0c1", "r1c0", "r1c1"}
    assert rows["r0c1"][1] == "yes" and rows["r0c0"][1] == "NO"


def test_wall_status_without_a_controller_fails_cleanly(tmp_path):
    connect = f"127.0.0.1:{free_port_pair()}"
    out = subprocess.run(wall_command("status", "--connect", connect, "--timeout", "0.5"),
                         capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert out.returncode == 1
    assert "did not answer" in out.stderr and "Traceback" not in out.stderr


def test_controller_drops_and_counts_garbage_and_keeps_serving(tmp_path, spawn, small_wall):
    port = free_port_pair()
    connect = f"127.0.0.1:{port}"
    spawn(wall_command("controller", "--wall", str(small_wall), "--bind", connect))
    wait_for(lambda: status_or_none(connect), 60, "the controller to answer")
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 2000)  # deliver everything before close
    sock.connect(f"tcp://127.0.0.1:{port + 1}")
    garbage = [
        [b"\xff\xfe not json", b"{}"],
        [b"only one frame"],
        [b'{"v": 99, "k": "status", "s": 0, "e": 0, "t": 0}', b"{}"],
        Message("no-such-kind", {}).encode(),
        [b"x" * 5_000_000, b"{}"],
    ]
    for frames in garbage:
        sock.send_multipart(frames)
    sock.close()
    status = wait_for(lambda: (s := status_or_none(connect)) and s["dropped"] >= 4 and s, 30,
                      "the controller to count dropped messages")
    assert status["scenario"] == "testcard"


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="make test installs Xvfb")
def test_windowed_renderer_draws_in_a_pyglet_window_on_xvfb(tmp_path, spawn, small_wall):
    display = f":{90 + os.getpid() % 50}"
    spawn(["Xvfb", display, "-screen", "0", "1280x720x24", "-nolisten", "tcp"])
    env = {**os.environ, "DISPLAY": display}
    wait_for(lambda: os.path.exists(f"/tmp/.X11-unix/X{display[1:]}"), 20, "Xvfb to start")
    port = free_port_pair()
    connect = f"127.0.0.1:{port}"
    spawn(wall_command("controller", "--wall", str(small_wall), "--bind", connect))
    spawn(wall_command("renderer", "--connect", connect, "--display", "r0c0", "--windowed",
                       "--geometry", "320x180+0+0"), env=env)
    status = wait_for(lambda: showing(connect, {"r0c0"}), 60, "the windowed renderer")
    row = next(r for r in status["renderers"] if r["id"] == "r0c0")
    assert row["fps"] > 1
    result = control_request(connect, "capture", {"dir": str(tmp_path)}, timeout_s=30)
    image = np.asarray(Image.open(result["paths"]["r0c0"]).convert("RGB"))
    assert image.shape == (180, 320, 3) and image.max() > 200
