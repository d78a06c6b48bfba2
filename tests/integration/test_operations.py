"""Operating a wall: `status` exit codes and `--watch`, JSON logs with one line per event."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading

from conftest import wait_for, wall_command, write_yaml
from test_nodes import showing
from walls import SMALL_GRID_WALL

from controller.demo import free_port_pair

ONE_PANEL = {"wall": {**SMALL_GRID_WALL["wall"], "name": "one",
                      "grid": {**SMALL_GRID_WALL["wall"]["grid"], "rows": 1, "cols": 1}}}


def status_code(connect: str, *extra: str) -> int:
    return subprocess.run(wall_command("status", "--connect", connect, *extra),
                          capture_output=True, timeout=60).returncode


def test_status_exits_nonzero_while_a_panel_is_missing_and_logs_are_json_events(tmp_path, spawn):
    wall = write_yaml(tmp_path / "wall.yaml", ONE_PANEL)
    connect = f"127.0.0.1:{free_port_pair()}"
    log = tmp_path / "controller.log"
    with open(log, "w") as out:
        spawn(wall_command("--log-format", "json", "controller", "--wall", str(wall),
                           "--bind", connect), stderr=out)
    wait_for(lambda: status_code(connect) != 1, 60, "the controller to answer")
    assert status_code(connect) == 3                # r0c0 not there yet
    renderer = spawn(wall_command("renderer", "--connect", connect, "--display", "r0c0",
                                  "--headless"))
    wait_for(lambda: showing(connect, {"r0c0"}), 60, "the renderer")
    assert status_code(connect) == 0
    assert status_code(connect, "--json") == 0

    watch = spawn(wall_command("status", "--connect", connect, "--watch", "0.3"),
                  stdout=subprocess.PIPE, text=True)
    printed: list[str] = []
    threading.Thread(target=lambda: [printed.append(line) for line in watch.stdout],
                     daemon=True).start()
    wait_for(lambda: any(line.startswith("scenario: testcard") for line in printed), 60,
             "the first table")
    os.killpg(renderer.pid, signal.SIGKILL)
    renderer.wait()
    wait_for(lambda: "missing or stale: r0c0\n" in printed, 30, "--watch to show the panel gone")
    assert status_code(connect) == 3
    os.killpg(watch.pid, signal.SIGINT)
    watch.wait(timeout=30)
    assert sum(line.startswith("scenario: testcard") for line in printed) >= 2
    assert status_code("127.0.0.1:9", "--timeout", "0.5") == 1

    entries = [json.loads(line) for line in log.read_text().splitlines()]
    messages = [e["message"] for e in entries if e["logger"] == "controller.node"]
    assert messages.count("renderer r0c0 connected") == 1
    assert messages.count("renderer r0c0 disconnected (silent for 3 s)") == 1
    assert {"time", "level", "role", "logger", "message"} <= entries[0].keys()
