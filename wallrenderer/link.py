"""The renderer's link to the controller: ZeroMQ I/O in its own thread.

The render loop must never block on a socket, so an agent thread owns the
SUB socket (sequenced state, heartbeats, capture orders) and the DEALER socket
(snapshot requests, clock exchanges, reports) and talks to the render thread
through an inproc PAIR pipe, as in the ZeroMQ guide's Clone client.

Agent states: SYNCING (hello sent, waiting for a snapshot; updates are not
applied) and ACTIVE (applying sequenced updates). A gap in sequence numbers or
a new controller epoch sends it back to SYNCING, so it never draws stale state.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque

import zmq

from wallrenderer.protocol import (
    MAX_MESSAGE_BYTES,
    TOPIC_ALL,
    Message,
    ProtocolError,
    display_topic,
)

log = logging.getLogger(__name__)

DEFAULT_PORT = 7700
HELLO_INTERVAL_S = 1.0
PING_INTERVAL_S = 1.0
PING_BURST = 8
STALE_AFTER_S = 3.0


def endpoints(connect: str) -> tuple[str, str]:
    """PUB and ROUTER endpoints of a controller given as HOST or HOST:PORT.

    The controller publishes on PORT and answers requests on PORT + 1.
    """
    host, _, port = connect.rpartition(":") if ":" in connect else (connect, "", "")
    base = int(port) if port else DEFAULT_PORT
    return f"tcp://{host}:{base}", f"tcp://{host}:{base + 1}"


class ClockEstimate:
    """Offset of the controller's clock from ours, from NTP-style exchanges.

    Keeps the exchange with the smallest round trip among recent ones: its
    offset error is bounded by half that round trip.
    """

    def __init__(self, window: int = 16):
        self.samples: deque[tuple[float, float]] = deque(maxlen=window)
        self.offset = 0.0
        self.error = float("inf")

    def add(self, sent: float, controller_time: float, received: float) -> None:
        rtt = received - sent
        self.samples.append((rtt, controller_time - (sent + received) / 2))
        best_rtt, self.offset = min(self.samples)
        self.error = best_rtt / 2


class Link:
    """Render-thread handle of the link; the agent thread does the socket work.

    Events the render thread receives from `poll()` are `Message`s of kinds
    `state` (body: wall and scenario), `clock` (offset, error), `capture`
    (at, dir) and `link` (stale_since or None).
    """

    def __init__(self, connect: str, display_id: str, zctx: zmq.Context | None = None):
        self.display_id = display_id
        self.zctx = zctx or zmq.Context.instance()
        self.pub_endpoint, self.router_endpoint = endpoints(connect)
        pipe_name = f"inproc://link-{uuid.uuid4().hex}"
        self._pipe = self.zctx.socket(zmq.PAIR)
        self._pipe.bind(pipe_name)
        self._stop = threading.Event()
        self.dropped = 0
        self._thread = threading.Thread(
            target=self._agent, args=(pipe_name,), name=f"link-{display_id}", daemon=True
        )
        self._thread.start()

    def poll(self) -> list[Message]:
        """Every event waiting from the agent, without blocking."""
        events = []
        while self._pipe.poll(0):
            events.append(Message.decode(self._pipe.recv_multipart()))
        return events

    def send(self, kind: str, body: dict) -> None:
        """Queue a report or capture result for the controller."""
        self._pipe.send_multipart(Message(kind, body, time=time.time()).encode())

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._pipe.close(linger=0)

    def _agent(self, pipe_name: str) -> None:
        pipe = self.zctx.socket(zmq.PAIR)
        pipe.connect(pipe_name)
        sub = self.zctx.socket(zmq.SUB)
        dealer = self.zctx.socket(zmq.DEALER)
        for sock in (sub, dealer):
            sock.setsockopt(zmq.LINGER, 0)
            sock.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        dealer.setsockopt(zmq.SNDHWM, 100)
        sub.setsockopt(zmq.SUBSCRIBE, TOPIC_ALL)
        sub.setsockopt(zmq.SUBSCRIBE, display_topic(self.display_id))
        sub.connect(self.pub_endpoint)
        dealer.connect(self.router_endpoint)
        try:
            _Agent(self, pipe, sub, dealer).run(self._stop)
        finally:
            for sock in (pipe, sub, dealer):
                sock.close(linger=0)


class _Agent:
    """State machine of the link thread (see module docstring)."""

    def __init__(self, link: Link, pipe, sub, dealer):
        self.link, self.pipe, self.sub, self.dealer = link, pipe, sub, dealer
        self.epoch: int | None = None
        self.seq = -1
        self.active = False
        self.clock = ClockEstimate()
        self.last_heard = 0.0
        self.stale_reported = False
        self.next_hello = 0.0
        self.next_ping = 0.0
        self.burst_left = PING_BURST

    def run(self, stop: threading.Event) -> None:
        poller = zmq.Poller()
        for sock in (self.pipe, self.sub, self.dealer):
            poller.register(sock, zmq.POLLIN)
        while not stop.is_set():
            ready = dict(poller.poll(timeout=20))
            if self.sub in ready:
                self._drain(self.sub, self._on_published, topic=True)
            if self.dealer in ready:
                self._drain(self.dealer, self._on_reply, topic=False)
            if self.pipe in ready:
                while self.pipe.poll(0):
                    msg = Message.decode(self.pipe.recv_multipart())
                    self._request(msg.kind, msg.body)
            self._timers(time.time())

    def _drain(self, sock, handler, topic: bool) -> None:
        while sock.poll(0):
            frames = sock.recv_multipart()
            try:
                msg = Message.decode(frames[1:] if topic else frames)
            except ProtocolError as exc:
                self.link.dropped += 1
                log.warning("dropped a malformed message: %s", exc)
                continue
            self.last_heard = time.time()
            if self.stale_reported:
                self.stale_reported = False
                self._emit("link", {"stale_since": None})
            handler(msg)

    def _on_published(self, msg: Message) -> None:
        if self.epoch is not None and msg.epoch != self.epoch:
            log.info("controller epoch changed; re-syncing")
            self._resync()
            return
        if not self.active:
            return
        if msg.kind == "state":
            if msg.seq == self.seq + 1:
                self.seq = msg.seq
                self._emit("state", msg.body)
            elif msg.seq > self.seq + 1:
                log.info("gap in sequence (%d after %d); re-syncing", msg.seq, self.seq)
                self._resync()
        elif msg.kind == "hb" and msg.seq > self.seq:
            log.info("heartbeat shows missed updates; re-syncing")
            self._resync()
        elif msg.kind == "capture":
            self._emit("capture", msg.body)

    def _on_reply(self, msg: Message) -> None:
        if msg.kind == "snapshot":
            self.epoch, self.seq, self.active = msg.epoch, msg.seq, True
            self._emit("state", msg.body)
        elif msg.kind == "pong":
            self.clock.add(msg.body["t0"], msg.time, time.time())
            self._emit("clock", {"offset": self.clock.offset, "error": self.clock.error})

    def _request(self, kind: str, body: dict) -> None:
        body = {**body, "display": self.link.display_id}
        self._send(Message(kind, body, time=time.time()))

    def _send(self, msg: Message) -> None:
        try:
            self.dealer.send_multipart(msg.encode(), flags=zmq.NOBLOCK)
        except zmq.Again:
            log.debug("controller not reachable; %s not sent", msg.kind)

    def _resync(self) -> None:
        self.active = False
        self.epoch = None
        self.next_hello = 0.0
        self.burst_left = PING_BURST

    def _timers(self, now: float) -> None:
        if not self.active and now >= self.next_hello:
            self._request("hello", {})
            self.next_hello = now + HELLO_INTERVAL_S
        if now >= self.next_ping:
            self._request("ping", {"t0": now})
            self.burst_left = max(0, self.burst_left - 1)
            self.next_ping = now + (0.02 if self.burst_left else PING_INTERVAL_S)
        if self.last_heard and not self.stale_reported and now - self.last_heard > STALE_AFTER_S:
            self.stale_reported = True
            self._emit("link", {"stale_since": self.last_heard})

    def _emit(self, kind: str, body: dict) -> None:
        self.pipe.send_multipart(Message(kind, body, time=time.time()).encode())


def control_request(connect: str, kind: str, body: dict, timeout_s: float = 5.0) -> dict:
    """One request to a controller's ROUTER socket, as `wall status` and `wall demo` make.

    Raises:
        TimeoutError: the controller did not answer in time.
    """
    _, router = endpoints(connect)
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
    try:
        sock.connect(router)
        sock.send_multipart(Message(kind, body, time=time.time()).encode())
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            if sock.poll(int(left * 1000) + 1):
                try:
                    msg = Message.decode(sock.recv_multipart())
                except ProtocolError:
                    continue
                if msg.kind == "reply":
                    return msg.body
        raise TimeoutError(f"controller at {router} did not answer {kind!r} in {timeout_s:g} s")
    finally:
        sock.close(linger=0)
