"""Frame-accurate switches and CURVE, with real controller and renderer processes."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest
import requests
import zmq
from conftest import wait_for, wall_command, write_yaml
from PIL import Image
from walls import SMALL_GRID_WALL

from controller.demo import free_port_pair
from controller.library import load_library
from controller.node import ALWAYS_SENT
from wallrenderer.core.client import control_request
from wallrenderer.core.dataframe import apply_delta
from wallrenderer.core.protocol import TOPIC_ALL, Message
from wallrenderer.core.security import CurveClient, generate_keys
from wallrenderer.core.timing import time_of

TOKEN = "test-token"
OTHER = {"scenario": {"name": "other", "widgets": [{"kind": "rect", "rect": [0, 0, 1, 1],
                                                    "color": "#00ff00"}]}}


def status(connect: str, curve=None):
    try:
        return control_request(connect, "status", {}, timeout_s=1.5, curve=curve)
    except TimeoutError:
        return None


def rows_showing(connect: str, displays, scenario: str, curve=None):
    current = status(connect, curve)
    if current is None:
        return None
    rows = {r["id"]: r for r in current["renderers"]
            if r["connected"] and r.get("synced") and r.get("scenario") == scenario}
    return rows if set(displays) <= rows.keys() else None


@pytest.fixture
def wall_with_http(tmp_path, spawn):
    """A controller with the HTTP API and a 2x2 wall of small headless renderers at 60 fps."""
    wall = write_yaml(tmp_path / "wall.yaml", SMALL_GRID_WALL)
    write_yaml(tmp_path / "scenarios" / "other.yaml", OTHER)
    port, http_port = free_port_pair(), free_port_pair()
    connect = f"127.0.0.1:{port}"
    spawn(wall_command("controller", "--wall", str(wall), "--scenarios",
                       str(tmp_path / "scenarios"), "--bind", connect,
                       "--http", f"127.0.0.1:{http_port}", "--token", TOKEN))
    renderers = {
        display: spawn(wall_command("renderer", "--connect", connect, "--display", display,
                                    "--headless", "--fps", "60"))
        for display in ("r0c0", "r0c1", "r1c0", "r1c1")
    }
    wait_for(lambda: rows_showing(connect, renderers, "testcard"), 60, "all four renderers")
    return connect, f"http://127.0.0.1:{http_port}", renderers


def switch(api: str, name: str) -> dict:
    answer = requests.post(f"{api}/api/scenario", json={"name": name},
                           headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_switch_activates_at_the_committed_tick_and_never_before(wall_with_http):
    connect, api, renderers = wall_with_http
    requested = time.time()
    result = switch(api, "other")
    assert result["activates_at"] == pytest.approx(time_of(result["tick"]))
    assert result["activates_at"] - requested <= 0.5 + 1 / 60
    assert sorted(result["acknowledged"]) == sorted(renderers)
    rows = wait_for(lambda: rows_showing(connect, renderers, "other"), 30,
                    "every renderer to show the new scenario")
    ticks = {d: r["activated_tick"] for d, r in rows.items()}
    assert all(t >= result["tick"] for t in ticks.values()), f"shown before the tick: {ticks}"
    on_time = [d for d, t in ticks.items() if t == result["tick"]]
    assert len(on_time) >= 2, f"renderers that keep up share the switch tick: {ticks}"
    presented = [rows[d]["activated_at"] for d in on_time]
    assert max(presented) - min(presented) < 0.1
    assert min(presented) >= result["activates_at"] - 0.005


def test_a_renderer_that_does_not_acknowledge_is_not_waited_for(wall_with_http):
    connect, api, renderers = wall_with_http
    os.kill(renderers["r1c1"].pid, signal.SIGSTOP)
    try:
        requested = time.time()
        result = switch(api, "other")
        answered = time.time()
        time.sleep(max(0.0, result["activates_at"] + 0.2 - time.time()))
    finally:
        os.kill(renderers["r1c1"].pid, signal.SIGCONT)
    assert result["not_acknowledged"] == ["r1c1"]
    assert answered - requested < 1.0
    assert result["activates_at"] - requested <= 0.5 + 1 / 60
    rows = wait_for(lambda: rows_showing(connect, renderers, "other"), 30,
                    "the stopped renderer to join once it runs again")
    assert rows["r1c1"]["activated_tick"] > result["tick"]
    assert rows["r0c0"]["activated_tick"] >= result["tick"]


def test_renderers_without_an_allowed_key_are_refused(tmp_path, spawn):
    keys = tmp_path / "keys"
    for name in ("controller", "r0c0", "intruder", "ops"):
        generate_keys(keys, name)
    allowed = keys / "allowed"
    allowed.mkdir()
    for name in ("r0c0", "ops"):
        (allowed / f"{name}.key").write_bytes((keys / f"{name}.key").read_bytes())
    wall = write_yaml(tmp_path / "wall.yaml", SMALL_GRID_WALL)
    connect = f"127.0.0.1:{free_port_pair()}"
    spawn(wall_command("controller", "--wall", str(wall), "--bind", connect,
                       "--curve-secret", str(keys / "controller.key_secret"),
                       "--curve-allow", str(allowed)))
    server_key = str(keys / "controller.key")
    spawn(wall_command("renderer", "--connect", connect, "--display", "r0c0",
                       "--curve-secret", str(keys / "r0c0.key_secret"), "--curve-server",
                       server_key))
    spawn(wall_command("renderer", "--connect", connect, "--display", "r0c1",
                       "--curve-secret", str(keys / "intruder.key_secret"), "--curve-server",
                       server_key))
    spawn(wall_command("renderer", "--connect", connect, "--display", "r1c0"))
    ops = CurveClient(keys / "ops.key_secret", keys / "controller.key")
    wait_for(lambda: rows_showing(connect, ["r0c0"], "testcard", ops), 60,
             "the renderer with an allowed key")
    time.sleep(3)
    current = status(connect, ops)
    connected = sorted(r["id"] for r in current["renderers"] if r["connected"])
    assert connected == ["r0c0"], "renderers with unknown or no keys must be refused"
    assert status(connect) is None, "a plain-text client gets no answer"


def test_a_switch_cross_fades_in_step_on_every_panel(wall_with_http, tmp_path):
    connect, api, renderers = wall_with_http
    result = switch(api, "other")
    at = result["activates_at"] + 0.5 * 0.4
    shot = control_request(connect, "capture", {"dir": str(tmp_path / "mid"), "at": at},
                           timeout_s=30)
    assert sorted(shot["paths"]) == sorted(renderers), shot
    greens = {}
    for display, path in shot["paths"].items():
        image = np.asarray(Image.open(path).convert("RGB")).astype(int)
        # Halfway through, a dark testcard pixel is half green: about 8 / 2 + 255 / 2.
        greens[display] = float(np.median(image[..., 1]))
        assert 110 <= greens[display] <= 150, (display, greens[display])
        assert image[..., 0].max() <= 135, "no testcard pixel stays at full strength"
    assert max(greens.values()) - min(greens.values()) < 8, f"in step on every panel: {greens}"
    after = control_request(connect, "capture", {"dir": str(tmp_path / "after")}, timeout_s=30)
    for path in after["paths"].values():
        image = np.asarray(Image.open(path).convert("RGB")).astype(int)
        assert (image == (0, 255, 0)).all(axis=-1).mean() > 0.99


def test_a_switch_is_prepared_only_once_its_scenarios_data_has_gone_out(tmp_path, spawn):
    """An acknowledgement means "I drew it with its data": the data must reach renderers first.

    On testcard the frames carry almost nothing; crisis needs alerts, authors,
    terms and more, which go out only from the moment the switch begins.
    """
    wall = write_yaml(tmp_path / "wall.yaml", SMALL_GRID_WALL)
    needed = load_library(wall, None).fields["crisis"] - ALWAYS_SENT  # sent before the switch
    port, http_port = free_port_pair(), free_port_pair()
    spawn(wall_command("controller", "--wall", str(wall), "--bind", f"127.0.0.1:{port}",
                       "--http", f"127.0.0.1:{http_port}", "--token", TOKEN,
                       "--source", "simulator?backfill=600", "--store", str(tmp_path / "s.db")))
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, TOPIC_ALL)
    sub.connect(f"tcp://127.0.0.1:{port}")
    try:
        wait_for(lambda: sub.poll(100) and sub.recv_multipart(), 30, "the controller to publish")
        switch(f"http://127.0.0.1:{http_port}", "crisis")
        data: dict = {}
        while sub.poll(1000):
            msg = Message.decode(sub.recv_multipart()[1:])
            if msg.kind == "data":
                data = apply_delta(data, msg.body)
            elif msg.kind == "prepare":
                break
        else:
            raise AssertionError("no prepare published")
    finally:
        sub.close()
    assert msg.body["name"] == "crisis"
    assert needed <= data.keys(), f"prepared before its data went out: {needed - data.keys()}"
