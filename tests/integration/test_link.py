"""The renderer's link against a local server that speaks the controller's protocol.

Real ZeroMQ sockets on loopback; the test plays the controller so it can send
gaps, garbage and a new epoch exactly when it wants.
"""

from __future__ import annotations

import threading
import time

import pytest
import zmq
from conftest import wait_for

from controller.demo import free_port_pair
from wallrenderer.core.protocol import TOPIC_ALL, Message
from wallrenderer.renderer.link import STALE_AFTER_S, Link


class FakeController:
    """PUB and ROUTER on a port pair, driven step by step by the test."""

    def __init__(self, zctx: zmq.Context):
        self.port = free_port_pair()
        self.pub = zctx.socket(zmq.PUB)
        self.router = zctx.socket(zmq.ROUTER)
        for sock in (self.pub, self.router):
            sock.setsockopt(zmq.LINGER, 0)
        self.pub.bind(f"tcp://127.0.0.1:{self.port}")
        self.router.bind(f"tcp://127.0.0.1:{self.port + 1}")
        self.epoch = 1
        self.hellos = 0

    @property
    def connect(self) -> str:
        return f"127.0.0.1:{self.port}"

    def serve(self, seconds: float, snapshot_seq: int = 0, body: dict | None = None) -> None:
        """Answer hellos with a snapshot (and ignore pings) for a while."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not self.router.poll(20):
                continue
            *envelope, header, payload = self.router.recv_multipart()
            msg = Message.decode([header, payload])
            if msg.kind == "hello":
                self.hellos += 1
                reply = Message("snapshot", body or {"n": snapshot_seq}, seq=snapshot_seq,
                                epoch=self.epoch, time=time.time())
                self.router.send_multipart([*envelope, *reply.encode()])

    def publish(self, kind: str, body: dict, seq: int = 0) -> None:
        msg = Message(kind, body, seq=seq, epoch=self.epoch, time=time.time())
        self.pub.send_multipart([TOPIC_ALL, *msg.encode()])

    def close(self) -> None:
        self.pub.close()
        self.router.close()


@pytest.fixture
def zctx():
    ctx = zmq.Context()
    yield ctx
    ctx.term()


@pytest.fixture
def fake(zctx):
    server = FakeController(zctx)
    yield server
    server.close()


@pytest.fixture
def link(fake, zctx):
    client = Link(fake.connect, "r0c0", zctx)
    yield client
    client.close()


def events_of(link: Link, kind: str, seconds: float, fake: FakeController | None = None):
    """Events of one kind received within a time, serving hellos meanwhile."""
    found = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if fake is not None:
            fake.serve(0.05)
        else:
            time.sleep(0.05)
        found += [e for e in link.poll() if e.kind == kind]
    return found


def synced(link: Link, fake: FakeController, seq: int) -> None:
    """Serve the snapshot, then beat until a heartbeat gets through: SUB is connected."""
    wait_for(lambda: [e for e in link.poll() if e.kind == "state"] or fake.serve(0.1, seq), 10,
             "the snapshot to reach the link")

    def heartbeat_through():
        fake.publish("hb", {}, seq=seq)
        fake.serve(0.05, seq)
        return any(e.kind == "hb" for e in link.poll())

    wait_for(heartbeat_through, 10, "a heartbeat to reach the link")


def test_sequenced_updates_apply_in_order_and_a_gap_forces_a_resync(link, fake):
    synced(link, fake, seq=5)
    fake.publish("state", {"n": 6}, seq=6)
    states = events_of(link, "state", 0.5)
    assert [e.body["n"] for e in states] == [6]
    hellos_before = fake.hellos
    fake.publish("state", {"n": 8}, seq=8)
    fake.publish("state", {"n": 9}, seq=9)
    fake.serve(0.6, snapshot_seq=9, body={"n": 9})
    states = [e.body["n"] for e in link.poll() if e.kind == "state"]
    assert fake.hellos > hellos_before, "a gap must send the link back for a snapshot"
    assert 8 not in states and states[-1] == 9


def test_heartbeat_ahead_of_the_link_forces_a_resync(link, fake):
    synced(link, fake, seq=3)
    hellos_before = fake.hellos
    fake.publish("hb", {}, seq=4)
    fake.serve(0.6, snapshot_seq=4)
    assert fake.hellos > hellos_before


def test_silence_marks_the_link_stale_and_a_new_epoch_recovers_it(link, fake):
    synced(link, fake, seq=1)
    fake.publish("hb", {}, seq=1)
    last_heard = time.time()
    stale = events_of(link, "link", STALE_AFTER_S + 1.0)
    assert stale and stale[0].body["stale_since"] == pytest.approx(last_heard, abs=0.5)
    fake.epoch = 2
    fake.publish("hb", {}, seq=0)
    events = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(e.kind == "state" for e in events):
        fake.serve(0.1, snapshot_seq=0, body={"n": "new controller"})
        events += link.poll()
    assert {"kind": "link", "stale_since": None} in [
        {"kind": e.kind, "stale_since": e.body.get("stale_since")} for e in events
    ]
    assert [e.body["n"] for e in events if e.kind == "state"] == ["new controller"]


def test_garbage_on_the_wire_is_dropped_and_counted(link, fake):
    synced(link, fake, seq=1)
    fake.pub.send_multipart([TOPIC_ALL, b"not json", b"{}"])
    fake.pub.send_multipart([TOPIC_ALL, b'{"v": 7, "k": "state", "s": 2, "e": 1, "t": 0}', b"{}"])
    fake.pub.send_multipart([TOPIC_ALL, b"\xff\xfe"])
    fake.pub.send_multipart([TOPIC_ALL, b"{}", b"x" * (5 * 1024 * 1024)])
    time.sleep(0.3)
    fake.publish("state", {"n": 2}, seq=2)
    received = []
    deadline = time.monotonic() + STALE_AFTER_S + 5
    while time.monotonic() < deadline and 2 not in received:
        fake.publish("hb", {}, seq=2)  # as the controller does: lets a link that lost data notice
        fake.serve(0.1, snapshot_seq=2, body={"n": 2})
        received += [e.body["n"] for e in link.poll() if e.kind == "state"]
    assert link.dropped >= 3
    assert 2 in received, "after garbage (and a dropped oversized frame) the link must catch up"


def test_a_stuck_subscriber_holds_up_neither_the_controller_nor_other_renderers(zctx):
    from controller.node import Controller

    wall = {"wall": {"name": "w", "grid": {"rows": 1, "cols": 1, "panel": {
        "resolution": [320, 180], "active_mm": [201.6, 113.4],
        "bezel_mm": {"left": 1, "right": 1, "top": 1, "bottom": 1}}}}}
    scenarios = {"testcard": {"scenario": {"name": "testcard", "widgets": [{"kind": "testcard"}]}}}
    connect = f"127.0.0.1:{free_port_pair()}"
    controller = Controller(wall, scenarios, "testcard", ["r0c0"], connect, zctx)
    stop = threading.Event()
    loop = threading.Thread(target=controller.run, args=(stop.is_set,))
    loop.start()
    stuck = zctx.socket(zmq.SUB)
    stuck.setsockopt(zmq.RCVHWM, 5)
    stuck.setsockopt(zmq.LINGER, 0)
    stuck.setsockopt(zmq.SUBSCRIBE, b"")
    stuck.connect(f"tcp://{connect}")
    link = Link(connect, "r0c0", zctx)
    try:
        wait_for(lambda: any(e.kind == "state" for e in link.poll()), 10, "the link to sync")
        blob = "x" * 50_000
        deltas = [{"seq": i, "full": False, "set": {"blob": blob, "n": i}, "drop": []}
                  for i in range(2000)]
        calls = [controller.call(lambda d=d: controller.publish_data(d)) for d in deltas]
        for call in calls:
            call.result(timeout=20)  # publishing never waits for the stuck subscriber
        newest = []

        def caught_up():
            for event in link.poll():
                if event.kind == "data":
                    newest.append(event.body["set"]["n"])
                elif event.kind == "state":
                    newest.append(event.body["data"].get("n"))
            return newest and newest[-1] == 1999

        wait_for(caught_up, 30, "the healthy link to reach the newest frame")
        status = controller.call(controller.status).result(timeout=5)
        assert status["seq"] == 2000
    finally:
        link.close()
        stuck.close()
        stop.set()
        loop.join()
        controller.close()


def test_close_and_send_never_block_once_the_link_thread_has_gone():
    """close() sets the stop flag, then wakes the thread; the thread may see the flag first.

    Then nothing reads the pipe any more, and a blocking send would keep the
    renderer alive after SIGTERM for ever. Here the thread wins that race on purpose.
    """
    zctx = zmq.Context()
    link = Link(f"127.0.0.1:{free_port_pair()}", "r0c0", zctx)
    link._stop.set()
    link._thread.join(timeout=5)
    assert not link._thread.is_alive()

    def report_then_close():
        link.send("report", {})
        link.close()

    closer = threading.Thread(target=report_then_close, daemon=True)
    started = time.monotonic()
    closer.start()
    closer.join(timeout=3)
    assert not closer.is_alive(), "close() blocked on a pipe nobody reads"
    assert time.monotonic() - started < 1.0
    zctx.term()
