"""Odd input that used to take a node down, found by reading the code (issue 11).

A real renderer process against a test that plays the controller, so the test
sends exactly the odd message it wants; real command lines for the rest.
"""

from __future__ import annotations

import subprocess
import threading
import time

import zmq
from conftest import wait_for, wall_command, write_yaml
from test_link import FakeController
from test_nodes import showing
from walls import SMALL_GRID_WALL

from controller.demo import free_port_pair
from controller.library import load_library
from controller.node import Controller
from wallrenderer.core.address import endpoints
from wallrenderer.core.client import control_request
from wallrenderer.core.protocol import TOPIC_ALL, Message


class Conversation:
    """The fake controller's side: snapshots for hellos, reports and acks kept."""

    def __init__(self, fake: FakeController, state: dict):
        self.fake, self.state, self.seq = fake, state, 0
        self.reports: list[dict] = []
        self.acks: list[int] = []

    def pump(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        next_beat = 0.0
        while time.monotonic() < deadline:
            if time.monotonic() >= next_beat:
                self.fake.publish("hb", {}, seq=self.seq)
                next_beat = time.monotonic() + 0.3
            if not self.fake.router.poll(20):
                continue
            *envelope, header, payload = self.fake.router.recv_multipart()
            msg = Message.decode([header, payload])
            if msg.kind == "hello":
                reply = Message("snapshot", self.state, seq=self.seq, epoch=self.fake.epoch,
                                time=time.time())
                self.fake.router.send_multipart([*envelope, *reply.encode()])
            elif msg.kind == "report":
                self.reports.append(msg.body)
            elif msg.kind == "ack":
                self.acks.append(msg.body["id"])

    def send(self, kind: str, body: dict | bytes) -> None:
        """Publish the next update; bytes go out as the body frame exactly as given."""
        self.seq += 1
        frames = Message(kind, {} if isinstance(body, bytes) else body, seq=self.seq,
                         epoch=self.fake.epoch, time=time.time()).encode()
        if isinstance(body, bytes):
            frames[1] = body
        self.fake.pub.send_multipart([TOPIC_ALL, *frames])

    def wait(self, predicate, seconds: float, what: str):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.pump(0.2)
            if predicate():
                return
        raise AssertionError(f"timed out after {seconds:g} s waiting for {what}")


def test_odd_state_and_ticks_are_dropped_and_the_renderer_keeps_drawing(tmp_path, spawn):
    library = load_library(write_yaml(tmp_path / "wall.yaml", SMALL_GRID_WALL))
    testcard = library.scenarios["testcard"]
    state = {"wall": library.wall_data, "scenario": testcard, "pending": None, "data": {}}
    zctx = zmq.Context()
    fake = FakeController(zctx)
    try:
        talk = Conversation(fake, state)
        log = tmp_path / "renderer.log"
        with open(log, "w") as stderr:
            renderer = spawn(wall_command("renderer", "--connect", fake.connect, "--display",
                                          "r0c0", "--headless"), stderr=stderr)
        talk.wait(lambda: any(r.get("scenario") == "testcard" for r in talk.reports), 60,
                  "the renderer to show the testcard")
        talk.send("state", {**state, "data": [1, 2]})
        talk.send("prepare", {"id": 7, "name": "testcard", "scenario": testcard, "tick": None})
        talk.wait(lambda: 7 in talk.acks, 30, "the switch to be prepared")
        talk.send("commit", {"id": 7, "tick": -10**400})
        talk.send("commit", b'{"id": 7, "tick": 1e400}')
        reports = len(talk.reports)
        talk.wait(lambda: len(talk.reports) > reports + 4, 30, "reports after the odd messages")
        assert renderer.poll() is None, log.read_text()[-2000:]
        assert talk.reports[-1]["dropped"] >= 3
        assert talk.reports[-1]["scenario"] == "testcard" and talk.reports[-1]["fps"] > 0
    finally:
        fake.close()
        zctx.term()


def test_a_bad_geometry_is_one_line_not_a_traceback():
    done = subprocess.run(wall_command("renderer", "--connect", "127.0.0.1:9", "--display", "r0c0",
                                       "--windowed", "--geometry", "960by540"),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "wallrenderer renderer: --geometry: window geometry '960by540' is not WxH or WxH+X+Y, "
        "e.g. 960x540+0+0"]


def test_renderers_write_captures_only_under_their_own_folder(tmp_path, spawn):
    """Anyone who reaches the request socket can order a capture; not into any folder."""
    wall = write_yaml(tmp_path / "wall.yaml", SMALL_GRID_WALL)
    connect = f"127.0.0.1:{free_port_pair()}"
    spawn(wall_command("controller", "--wall", str(wall), "--bind", connect))
    spawn(wall_command("renderer", "--connect", connect, "--display", "r0c0", "--headless",
                       "--capture-dir", str(tmp_path / "captures")))
    wait_for(lambda: showing(connect, {"r0c0"}), 60, "the renderer")
    for outside in (str(tmp_path / "elsewhere"), "../escape", "/etc/cron.d"):
        result = control_request(connect, "capture", {"dir": outside}, timeout_s=30)
        assert "outside this renderer's capture folder" in result["errors"]["r0c0"], outside
    assert not (tmp_path / "elsewhere").exists() and not (tmp_path / "escape").exists()
    inside = control_request(connect, "capture", {"dir": "shots"}, timeout_s=30)
    assert inside["paths"]["r0c0"] == str(tmp_path / "captures" / "shots" / "r0c0.png")


def test_health_tells_a_stalled_loop_and_a_missing_renderer(tmp_path):
    """`health()` (behind /api/health) reads the truth without waiting on the loop."""
    connect = f"127.0.0.1:{free_port_pair()}"
    ctl = Controller(SMALL_GRID_WALL, {"testcard": load_library(
        write_yaml(tmp_path / "wall.yaml", SMALL_GRID_WALL)).scenarios["testcard"]},
        "testcard", ["r0c0"], connect)
    stop = threading.Event()
    loop = threading.Thread(target=ctl.run, args=(stop.is_set,), daemon=True)
    loop.start()
    renderer = zmq.Context.instance().socket(zmq.DEALER)
    renderer.setsockopt(zmq.LINGER, 0)
    renderer.connect(endpoints(connect)[1])
    try:
        health = ctl.health()
        assert not health["ok"] and health["problems"] == ["renderer r0c0 missing"]

        def reported_healthy():
            renderer.send_multipart(Message("report", {"display": "r0c0", "synced": True,
                                                       "stale_since": None}).encode())
            return ctl.health()["ok"]

        wait_for(reported_healthy, 10, "the report to count")
        ctl.call(lambda: time.sleep(4))     # a loop stuck in a slow call
        wait_for(lambda: any("stalled" in p for p in ctl.health()["problems"]), 5,
                 "health to report the stalled loop")
        assert not ctl.health()["ok"]
    finally:
        renderer.close()
        stop.set()
        loop.join(10)
        ctl.close()
