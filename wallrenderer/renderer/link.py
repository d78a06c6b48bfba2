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
import queue
import threading
import time
import uuid
from collections import deque

import zmq

from wallrenderer.core.address import endpoints
from wallrenderer.core.protocol import MAX_MESSAGE_BYTES, TOPIC_ALL, Message, ProtocolError
from wallrenderer.core.security import apply_client

log = logging.getLogger(__name__)

HELLO_INTERVAL_S = 0.25
PING_INTERVAL_S = 1.0
PING_BURST = 6
RECEIPT_SAMPLES = 4096
MAX_IDLE_MS = 250
STALE_AFTER_S = 3.0
CLOSE_WAIT_S = 0.5
SEQUENCED = ("state", "prepare", "commit", "data")


class ClockEstimate:
    """Offset of the controller's clock from ours, from NTP-style exchanges.

    Each exchange has four times: t0 we send, t1 the controller receives, t2
    it answers, t3 we receive. The controller's own processing (t2 - t1) is
    left out of the path delay, and among recent exchanges the one with the
    smallest delay wins: its offset error is at most half that delay.
    """

    def __init__(self, window: int = 48):
        self.samples: deque[tuple[float, float]] = deque(maxlen=window)
        self.offset = 0.0
        self.error = float("inf")

    def add(self, t0: float, t1: float, t2: float, t3: float) -> None:
        delay = max(0.0, (t3 - t0) - (t2 - t1))
        self.samples.append((delay, ((t1 - t0) + (t2 - t3)) / 2))
        best_delay, self.offset = min(self.samples)
        self.error = best_delay / 2


class Link:
    """Render-thread handle of the link; the agent thread does the socket work.

    Events the render thread receives from `poll()` are `Message`s of kinds
    `state` (wall, scenario, latest data and any switch under way), `prepare`
    and `commit` (a two-phase switch), `data` (a data frame), `hb`
    (heartbeat), `clock` (offset, error), `capture` (at, dir) and `link`
    (stale_since or None). Messages from the controller keep its `seq` and
    `time` (its clock when it published them).
    """

    def __init__(
        self, connect: str, display_id: str, zctx: zmq.Context | None = None, curve=None
    ):
        self.display_id = display_id
        self.curve = curve
        self.zctx = zctx or zmq.Context.instance()
        self.pub_endpoint, self.router_endpoint = endpoints(connect)
        pipe_name = f"inproc://link-{uuid.uuid4().hex}"
        self._pipe = self.zctx.socket(zmq.PAIR)
        self._pipe.setsockopt(zmq.LINGER, 0)
        self._pipe.bind(pipe_name)
        self._events: queue.SimpleQueue[Message] = queue.SimpleQueue()
        self._stop = threading.Event()
        self.dropped = 0
        # True while published traffic arrives (heartbeats at least): the link really works.
        self.hearing = False
        # Controller clock at publish -> our clock at receipt, for recent messages (seconds).
        self.receipt_s: deque[float] = deque(maxlen=RECEIPT_SAMPLES)
        self._thread = threading.Thread(
            target=self._agent, args=(pipe_name,), name=f"link-{display_id}", daemon=True
        )
        self._thread.start()

    def poll(self) -> list[Message]:
        """Every event waiting from the agent, without blocking."""
        while self._pipe.poll(0):
            self._pipe.recv()  # wake-up signals; the messages themselves are in the queue
        events = []
        while not self._events.empty():
            events.append(self._events.get_nowait())
        return events

    def wait(self, timeout_s: float) -> bool:
        """Block until an event is waiting (True) or the timeout passes (False).

        For a renderer with nothing to draw yet, so it wakes the moment state arrives.
        """
        return not self._events.empty() or bool(self._pipe.poll(max(0, int(timeout_s * 1000))))

    def send(self, kind: str, body: dict) -> bool:
        """Queue a report or capture result for the controller; False if it was dropped.

        Never blocks: once the link thread has gone (it may see the stop flag
        first), nothing reads the pipe and a blocking send would never return.
        """
        return self._to_agent(Message(kind, body, time=time.time()))

    def close(self) -> None:
        """Stop the link thread; returns within CLOSE_WAIT_S whatever the thread is doing."""
        self._stop.set()
        self._to_agent(Message("wake", {}))
        self._thread.join(timeout=CLOSE_WAIT_S)
        self._pipe.close(linger=0)

    def _to_agent(self, msg: Message) -> bool:
        try:
            self._pipe.send_multipart(msg.encode(), flags=zmq.NOBLOCK)
        except zmq.Again:
            log.debug("link thread not reading; %s dropped", msg.kind)
            return False
        return True

    def _agent(self, pipe_name: str) -> None:
        pipe = self.zctx.socket(zmq.PAIR)
        pipe.setsockopt(zmq.LINGER, 0)
        pipe.connect(pipe_name)
        agent = _Agent(self, pipe)
        try:
            agent.run(self._stop)
        finally:
            agent.close_sockets()
            pipe.close(linger=0)


class _Agent:
    """State machine of the link thread (see module docstring)."""

    def __init__(self, link: Link, pipe):
        self.link, self.pipe = link, pipe
        self.sub = self.dealer = None
        self.poller: zmq.Poller | None = None
        self.epoch: int | None = None
        self.seq = -1
        self.active = False
        self.clock = ClockEstimate()
        self.clock_epoch: int | None = None
        self.received_at = 0.0
        self.last_published = 0.0
        self.last_rebuild = 0.0
        self.stale_reported = False
        self.next_hello = 0.0
        self.next_burst = 0.0
        self.burst_left = 0

    def open_sockets(self) -> None:
        """Fresh SUB and DEALER sockets; also the cure for a connection ZeroMQ gave up on.

        libzmq drops a connection that delivers a frame over MAXMSGSIZE and does
        not reconnect it, so a link that hears nothing is rebuilt from scratch.
        """
        self.close_sockets()
        zctx = self.link.zctx
        self.sub = zctx.socket(zmq.SUB)
        self.dealer = zctx.socket(zmq.DEALER)
        for sock in (self.sub, self.dealer):
            sock.setsockopt(zmq.LINGER, 0)
            sock.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
            if self.link.curve is not None:
                apply_client(sock, self.link.curve)
        self.dealer.setsockopt(zmq.SNDHWM, 100)
        self.dealer.setsockopt(zmq.IMMEDIATE, 1)  # no backlog of hellos for a dead controller
        self.sub.setsockopt(zmq.SUBSCRIBE, TOPIC_ALL)
        self.sub.connect(self.link.pub_endpoint)
        self.dealer.connect(self.link.router_endpoint)
        self.poller = zmq.Poller()
        for sock in (self.pipe, self.sub, self.dealer):
            self.poller.register(sock, zmq.POLLIN)
        self.last_rebuild = time.time()

    def close_sockets(self) -> None:
        for sock in (self.sub, self.dealer):
            if sock is not None:
                sock.close(linger=0)
        self.sub = self.dealer = None

    def run(self, stop: threading.Event) -> None:
        self.open_sockets()
        while not stop.is_set():
            ready = dict(self.poller.poll(timeout=self._idle_ms(time.time())))
            if self.sub in ready:
                self._drain(self.sub, self._on_published, topic=True)
            if self.dealer in ready:
                self._drain(self.dealer, self._on_reply, topic=False)
            if self.pipe in ready:
                while self.pipe.poll(0):
                    msg = Message.decode(self.pipe.recv_multipart())
                    if msg.kind != "wake":
                        self._request(msg.kind, msg.body)
            self._timers(time.time())

    def _drain(self, sock, handler, topic: bool) -> None:
        """Every message waiting on `sock`.

        Readiness comes from the socket's EVENTS option, the cheapest check
        ZeroMQ offers (`Socket.poll` builds a poller, a failed receive raises).
        """
        while sock.getsockopt(zmq.EVENTS) & zmq.POLLIN:
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            self.received_at = time.time()
            try:
                msg = Message.decode(frames[1:] if topic else frames)
            except ProtocolError as exc:
                self.link.dropped += 1
                log.warning("dropped a malformed message: %s", exc)
                continue
            if topic:
                self._heard_from_controller()
                self.link.receipt_s.append(self.received_at + self.clock.offset - msg.time)
            handler(msg)

    def _heard_from_controller(self) -> None:
        """Published traffic (heartbeats at least) proves the whole link works."""
        self.last_published = self.received_at
        self.link.hearing = True
        if self.stale_reported:
            self.stale_reported = False
            self._emit("link", {"stale_since": None})

    def _on_published(self, msg: Message) -> None:
        """Apply sequencing; what the render thread needs goes through as it came."""
        if self.epoch is not None and msg.epoch != self.epoch:
            log.info("controller epoch changed; re-syncing")
            self._resync()
            return
        if not self.active:
            return
        if msg.kind in SEQUENCED:
            if msg.seq == self.seq + 1:
                self.seq = msg.seq
                self._deliver(msg)
            elif msg.seq > self.seq + 1:
                log.info("gap in sequence (%d after %d); re-syncing", msg.seq, self.seq)
                self._resync()
        elif msg.kind == "hb":
            if msg.seq > self.seq:
                log.info("heartbeat shows missed updates; re-syncing")
                self._resync()
            else:
                self._deliver(msg)
        elif msg.kind == "capture":
            self._deliver(msg)

    def _on_reply(self, msg: Message) -> None:
        if msg.epoch != self.clock_epoch:
            self.clock = ClockEstimate()  # another controller, maybe on another host's clock
            self.clock_epoch = msg.epoch
        if msg.kind == "snapshot":
            if self.active and msg.epoch == self.epoch and msg.seq <= self.seq:
                return  # answer to a repeated hello; this state is already applied
            self.epoch, self.seq, self.active = msg.epoch, msg.seq, True
            self._deliver(Message("state", msg.body, seq=msg.seq, epoch=msg.epoch, time=msg.time))
        elif msg.kind == "pong":
            try:
                self.clock.add(float(msg.body["t0"]), float(msg.body["t1"]), msg.time,
                               self.received_at)
            except (KeyError, TypeError, ValueError):
                self.link.dropped += 1
                return
            if self.burst_left > 0:
                self._ping()
            else:
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
        self.next_burst = 0.0

    def _ping(self) -> None:
        """One exchange of a burst; the next goes out the moment its answer arrives.

        Back to back, both ends are awake: an exchange that first has to wake a
        sleeping controller is lopsided by ~100 us, the ones after it are not.
        """
        self.burst_left -= 1
        self._request("ping", {"t0": time.time()})

    def _idle_ms(self, now: float) -> int:
        """How long the thread may sleep: until its next timer, so an idle link costs nothing.

        Thirty renderers on one machine waking 50 times a second each would add
        scheduling delay to every message they are waiting for.
        """
        due = [self.next_burst, max(self.last_published, self.last_rebuild) + STALE_AFTER_S]
        if not self.active:
            due.append(self.next_hello)
        return max(0, min(MAX_IDLE_MS, int((min(due) - now) * 1000) + 1))

    def _timers(self, now: float) -> None:
        if not self.active and now >= self.next_hello:
            self._request("hello", {})
            self.next_hello = now + HELLO_INTERVAL_S
        if now >= self.next_burst:
            self.burst_left = PING_BURST
            self.next_burst = now + PING_INTERVAL_S
            self._ping()
        silent_since = max(self.last_published, self.last_rebuild)
        if now - silent_since > STALE_AFTER_S:
            self.link.hearing = False
            if self.last_published and not self.stale_reported:
                self.stale_reported = True
                self._emit("link", {"stale_since": self.last_published})
            log.info("nothing published for %.0f s; reconnecting", now - silent_since)
            self.open_sockets()
            self._resync()

    def _emit(self, kind: str, body: dict) -> None:
        self._deliver(Message(kind, body, time=time.time()))

    def _deliver(self, msg: Message) -> None:
        """Hand a decoded message to the render thread: no second decode there.

        A wake-up goes with the first event only: `Link.wait` looks at the queue
        before it blocks, so later events are never missed, and each message
        costs one signal less when the render thread is busy drawing.
        """
        events = self.link._events
        was_empty = events.empty()
        events.put(msg)
        if was_empty:
            try:
                self.pipe.send(b"", flags=zmq.NOBLOCK)
            except zmq.Again:
                pass  # the render thread has wake-ups queued already
