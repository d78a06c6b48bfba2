"""The controller node: owns the wall and the active scenario and publishes them.

Sockets: PUB on PORT (sequenced `state`, heartbeats, capture orders, one topic
prefix per display) and ROUTER on PORT + 1 (snapshots for renderers that join
late or re-sync, clock exchanges, renderer reports, and requests from control
clients such as `wall demo` and `wall status`). One thread, one poll loop: the
publish path never blocks (PUB drops for a subscriber past its high-water mark).
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

import zmq

from wallrenderer.protocol import MAX_MESSAGE_BYTES, TOPIC_ALL, Message, ProtocolError

log = logging.getLogger(__name__)

HEARTBEAT_S = 0.5
RENDERER_GONE_S = 3.0
CAPTURE_LEAD_S = 0.5
CAPTURE_TIMEOUT_S = 20.0


@dataclass
class Layout:
    """What the wall shows: the wall description and one scenario, as plain data.

    Plain dicts travel on the wire; each renderer validates them again with the
    same loader that checked them here.
    """

    wall: dict[str, Any]
    scenario: dict[str, Any]

    @property
    def scenario_name(self) -> str:
        return self.scenario["scenario"]["name"]


@dataclass
class RendererStatus:
    """What the controller knows of one renderer, from its reports."""

    display: str
    last_seen: float = 0.0
    report: dict[str, Any] = field(default_factory=dict)

    def connected(self, now: float) -> bool:
        return now - self.last_seen < RENDERER_GONE_S


@dataclass
class _Capture:
    client: list[bytes]
    at: float
    expected: set[str]
    deadline: float
    absent: list[str]
    paths: dict[str, str] = field(default_factory=dict)


class Controller:
    """Publishes the layout to renderers and answers their requests."""

    def __init__(self, layout: Layout, display_ids: list[str], bind: str, zctx=None):
        self.layout = layout
        self.display_ids = list(display_ids)
        self.epoch = random.getrandbits(31)
        self.seq = 0
        self.dropped = 0
        self.renderers: dict[str, RendererStatus] = {}
        self._captures: list[_Capture] = []
        self.zctx = zctx or zmq.Context.instance()
        host, _, port = bind.rpartition(":")
        self.pub = self.zctx.socket(zmq.PUB)
        self.router = self.zctx.socket(zmq.ROUTER)
        self.pub.setsockopt(zmq.SNDHWM, 1000)
        self.router.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        self.router.setsockopt(zmq.ROUTER_MANDATORY, 0)
        for sock in (self.pub, self.router):
            sock.setsockopt(zmq.LINGER, 0)
        self.pub.bind(f"tcp://{host}:{int(port)}")
        self.router.bind(f"tcp://{host}:{int(port) + 1}")

    def set_layout(self, layout: Layout) -> None:
        """Publish a new layout as the next sequenced update."""
        self.layout = layout
        self.seq += 1
        self._publish(TOPIC_ALL, "state", self._state_body(), seq=self.seq)

    def _state_body(self) -> dict[str, Any]:
        return {"wall": self.layout.wall, "scenario": self.layout.scenario}

    def _publish(self, topic: bytes, kind: str, body: dict, seq: int = 0) -> None:
        msg = Message(kind, body, seq=seq, epoch=self.epoch, time=time.time())
        self.pub.send_multipart([topic, *msg.encode()], flags=zmq.NOBLOCK)

    def _reply(self, client: list[bytes], kind: str, body: dict, seq: int = 0) -> None:
        msg = Message(kind, body, seq=seq, epoch=self.epoch, time=time.time())
        try:
            self.router.send_multipart([*client, *msg.encode()], flags=zmq.NOBLOCK)
        except zmq.Again:
            log.warning("reply %s to a client that is not reading was dropped", kind)

    def run(self, should_stop) -> None:
        """Serve until `should_stop()` is true."""
        next_beat = 0.0
        while not should_stop():
            if self.router.poll(timeout=20):
                while self.router.poll(0):
                    self._on_request(self.router.recv_multipart())
            now = time.time()
            if now >= next_beat:
                self._publish(TOPIC_ALL, "hb", {"scenario": self.layout.scenario_name}, self.seq)
                next_beat = now + HEARTBEAT_S
            self._finish_captures(now)

    def close(self) -> None:
        self.pub.close(linger=0)
        self.router.close(linger=0)

    def _on_request(self, frames: list[bytes]) -> None:
        """Answer one request; its routing envelope is every frame before header and body.

        A direct client has a one-frame envelope; through `wall relay` it has one per hop.
        """
        client, rest = frames[:-2], frames[-2:]
        try:
            msg = Message.decode(rest)
        except ProtocolError as exc:
            self.dropped += 1
            log.warning("dropped a malformed request: %s", exc)
            return
        body = msg.body
        if msg.kind == "ping":
            self._reply(client, "pong", {"t0": body.get("t0")})
        elif msg.kind == "hello":
            self._reply(client, "snapshot", self._state_body(), seq=self.seq)
        elif msg.kind == "report":
            self._status(body).report = body
        elif msg.kind == "captured":
            self._status(body)
            for capture in self._captures:
                if capture.at == body.get("at"):
                    capture.paths[str(body.get("display"))] = str(body.get("path"))
        elif msg.kind == "capture":
            self._start_capture(client, body)
        elif msg.kind == "status":
            self._reply(client, "reply", self.status())
        else:
            self.dropped += 1
            log.warning("dropped a request of unknown kind %r", msg.kind)

    def _status(self, body: dict) -> RendererStatus:
        display = str(body.get("display"))
        status = self.renderers.setdefault(display, RendererStatus(display))
        status.last_seen = time.time()
        return status

    def _start_capture(self, client: list[bytes], body: dict) -> None:
        """Every connected renderer writes the frame for one shared instant, so the PNGs line up.

        Renderers that are not connected are reported missing at once rather than waited for.
        """
        now = time.time()
        at = now + CAPTURE_LEAD_S
        connected = {d for d, r in self.renderers.items() if r.connected(now)}
        expected = connected & set(self.display_ids)
        absent = sorted(set(self.display_ids) - expected)
        self._captures.append(_Capture(client, at, expected, at + CAPTURE_TIMEOUT_S, absent))
        self._publish(TOPIC_ALL, "capture", {"at": at, "dir": str(body.get("dir", "."))})

    def _finish_captures(self, now: float) -> None:
        for capture in list(self._captures):
            done = capture.expected <= capture.paths.keys()
            if done or now >= capture.deadline:
                missing = sorted(capture.absent + list(capture.expected - capture.paths.keys()))
                self._reply(capture.client, "reply", {"paths": capture.paths, "missing": missing})
                self._captures.remove(capture)

    def status(self) -> dict[str, Any]:
        """The wall's state as `wall status` and the HTTP API report it."""
        now = time.time()
        ids = sorted(set(self.display_ids) | self.renderers.keys())
        rows = []
        for display in ids:
            status = self.renderers.get(display, RendererStatus(display))
            rows.append({"id": display, "connected": status.connected(now), **status.report})
        return {
            "scenario": self.layout.scenario_name,
            "epoch": self.epoch,
            "seq": self.seq,
            "dropped": self.dropped,
            "renderers": rows,
        }


def run_controller(
    wall_path: str, scenarios_dir: str | None, scenario: str | None, bind: str
) -> int:
    """Serve a wall until SIGINT or SIGTERM; exit code for the command line."""
    import signal

    from controller.library import load_library

    library = load_library(wall_path, scenarios_dir)
    name = scenario or "testcard"
    if name not in library.scenarios:
        known = ", ".join(sorted(library.scenarios))
        log.error("scenario %r not found (available: %s)", name, known)
        return 2
    layout = Layout(library.wall_data, library.scenarios[name])
    controller = Controller(layout, list(library.wall.ids), bind)
    stopping = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.append(True))
    log.info("controller for wall %s on %s, scenario %s", library.wall.name, bind, name)
    try:
        controller.run(lambda: bool(stopping))
    finally:
        controller.close()
    return 0
