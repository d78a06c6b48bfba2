"""Units from `install-service` pass systemd's own checker; nodes speak sd_notify to a fake systemd.

The fake is what systemd offers a `Type=notify` service: a datagram socket
named by `$NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace) and
`$WATCHDOG_USEC`; the test reads what the real processes send to it.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import time

import pytest
from conftest import wall_command, write_yaml
from walls import SMALL_GRID_WALL

from controller.demo import free_port_pair


def install(tmp_path, role: str, *args: str, options: tuple[str, ...] = ()) -> str:
    argv = wall_command("install-service", role, "--unit-dir", str(tmp_path / "units"),
                        "--env-dir", str(tmp_path / "env"), *options, "--", *args)
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return done.stdout


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd")
def test_units_pass_systemd_analyze_and_the_token_stays_out_of_them(tmp_path):
    wall = write_yaml(tmp_path / "wall.yaml", SMALL_GRID_WALL)
    install(tmp_path, "controller", "--wall", str(wall), "--http", "0.0.0.0:8080",
            options=("--token", "s3cret-token"))
    install(tmp_path, "renderer", "--connect", "ctl:7700", "--display", "r0c1", "--fullscreen",
            "--screen", "1", options=("--user", "kiosk", "--x-display", ":0"))
    controller = tmp_path / "units" / "wallrenderer-controller.service"
    renderer = tmp_path / "units" / "wallrenderer-renderer-r0c1.service"
    for unit in (controller, renderer):
        checked = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                                 text=True)
        assert checked.returncode == 0 and not checked.stderr.strip(), checked.stderr
        text = unit.read_text()
        for line in ("Type=notify", "Restart=always", "WatchdogSec=15",
                     "Wants=network-online.target"):
            assert line in text.splitlines(), (unit.name, line)
    env = tmp_path / "env" / "wallrenderer-controller.env"
    assert "s3cret-token" not in controller.read_text()
    assert f"EnvironmentFile={env}" in controller.read_text().splitlines()
    assert env.read_text() == "WALL_TOKEN=s3cret-token\n"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert "--display r0c1 --fullscreen --screen 1" in renderer.read_text()
    assert {"User=kiosk", "Environment=DISPLAY=:0", "After=network-online.target "
            "display-manager.service"} <= set(renderer.read_text().splitlines())


def notifications(sock: socket.socket, seconds: float) -> list[str]:
    got, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            got.append(sock.recv(4096).decode())
        except TimeoutError:
            break
    return got


@pytest.mark.parametrize("abstract", [False, True], ids=["path", "abstract"])
def test_controller_and_renderer_say_ready_and_keep_the_watchdog_fed(tmp_path, spawn, abstract):
    wall = write_yaml(tmp_path / "wall.yaml", SMALL_GRID_WALL)
    connect = f"127.0.0.1:{free_port_pair()}"
    argv = {"controller": wall_command("controller", "--wall", str(wall), "--bind", connect),
            "renderer": wall_command("renderer", "--connect", connect, "--display", "r0c0",
                                     "--headless")}
    for role, command in argv.items():
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        name = f"@wallrenderer-test-{os.getpid()}-{role}" if abstract else str(tmp_path / role)
        sock.bind("\0" + name[1:] if abstract else name)
        try:
            spawn(command, env={**os.environ, "NOTIFY_SOCKET": name, "WATCHDOG_USEC": "400000"})
            sock.settimeout(60)
            first = [sock.recv(4096).decode()]
            later = notifications(sock, 1.5)
        finally:
            sock.close()
        assert first == ["READY=1"], role
        assert later.count("WATCHDOG=1") >= 4, (role, later)
