"""The controller node: owns the wall and the active scenario and publishes them.

Sockets: PUB on PORT (sequenced updates: `state`, switch `prepare` and
`commit`; heartbeats and capture orders) and
ROUTER on PORT + 1 (snapshots for renderers that join late or re-sync, clock
exchanges, renderer reports and acknowledgements, and requests from control
clients such as `wallrenderer demo` and `wallrenderer status`). One thread, one poll loop: the
publish path never blocks (PUB drops for a subscriber past its high-water mark).

A scenario switch is two-phase: `prepare` (renderers build the new scenario's
GPU resources and draw it with the data they have, then acknowledge), then
`commit` for a tick a little in the future; renderers that have not
acknowledged within SWITCH_ACK_WAIT_S are not waited for and join as soon as
they are ready. With data flowing, `prepare` waits (at most SWITCH_DATA_WAIT_S)
until a data frame has carried the fields the new scenario needs and the
renderers lack: an acknowledgement then means "I can draw the switch tick on
time with real data", and the switch frame does no first-time work.
"""

from __future__ import annotations

import logging
import math
import os
import queue
import random
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import zmq

from controller import reports
from controller.captures import CAPTURE_TIMEOUT_S, PREVIEW_LEAD_S, Captures
from controller.colour import set_panel_color
from controller.library import UnknownScenario
from controller.reports import Roster
from controller.tours import TourPlayer
from wallrenderer.core.address import endpoints
from wallrenderer.core.dataframe import apply_delta
from wallrenderer.core.errors import WallError
from wallrenderer.core.layout.tours import Tour
from wallrenderer.core.protocol import MAX_MESSAGE_BYTES, TOPIC_ALL, Message, ProtocolError
from wallrenderer.core.security import Gate, apply_server, warn_unnamed_displays
from wallrenderer.core.systemd import SystemdNotifier
from wallrenderer.core.timing import TICK_HZ, tick_at, time_of

log = logging.getLogger(__name__)

HEARTBEAT_S = 0.5
SWITCH_ACK_WAIT_S = 0.38
SWITCH_DATA_WAIT_S = 0.2
SWITCH_DEADLINE_S = 0.5
COMMIT_LEAD_S = 0.1
MIN_COMMIT_LEAD_S = 0.03
MAX_REQUESTS_PER_TURN = 500
# Sent whatever the scenario: the renderers' status line reads them.
ALWAYS_SENT = frozenset({"sources", "brands", "own_brand"})
# A scenario left at a switch keeps its data while it fades out (400 ms), and then some.
FIELDS_KEPT_S = 2.0


@dataclass
class _Switch:
    """A two-phase scenario switch: prepared, then committed for one tick."""

    id: int
    name: str
    scenario: dict[str, Any]
    requested_at: float
    expected: set[str]
    futures: list[Future]
    at: float | None = None  # a timed switch (a tour step) activates at this instant
    acks: set[str] = field(default_factory=set)
    tick: int | None = None
    prepared: bool = False

    def wire(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "scenario": self.scenario, "tick": self.tick}


@dataclass
class _Queued:
    """A switch waiting for the one under way: what to show, and who waits for it."""

    name: str
    future: Future
    requested_at: float
    data: dict[str, Any]
    at: float | None = None


class Controller:
    """Publishes the layout to renderers, answers their requests, runs switches.

    All state belongs to the thread that calls `run()`; other threads (the HTTP
    server) go through `call()` and `request_switch()`, which are thread-safe.
    """

    def __init__(
        self,
        wall: dict[str, Any],
        scenarios: dict[str, dict[str, Any]],
        active: str,
        display_ids: list[str],
        bind: str,
        zctx=None,
        curve=None,
        scenario_fields: dict[str, frozenset[str]] | None = None,
        tours: dict[str, Tour] | None = None,
    ):
        if active not in scenarios:
            raise UnknownScenario(f"scenario {active!r} not found ({', '.join(sorted(scenarios))})")
        self.wall = wall
        self.wall_path = None  # the wall's file, where colour nudges are saved
        self.scenarios = scenarios
        self.scenario_name = active
        self.scenario_data = scenarios[active]  # as shown: with a tour step's params, caption
        self.scenario_fields = scenario_fields
        self._left: tuple[str, float] | None = None
        self.data: dict[str, Any] = {}
        self.pipeline = None  # the DataPipeline feeding data frames, when there are sources
        self.tours = TourPlayer(self, tours or {})
        self.schedule = None  # a controller.schedule.Scheduler, when the wall has a schedule
        self.display_ids = list(display_ids)
        self.epoch = random.getrandbits(31)
        self.seq = 0
        self.dropped = 0
        self.gate = None if curve is None else Gate(curve, frozenset(display_ids))
        if curve is not None:
            warn_unnamed_displays(curve, display_ids)
        self.roster = Roster(self.display_ids, log)
        self.captures = Captures()
        self._switch: _Switch | None = None
        self._queued_switches: list[_Queued] = []
        self._switch_ids = 0
        self.loop_turned_at: float | None = None  # monotonic time of the loop's last turn
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self.zctx = zctx or zmq.Context.instance()
        pub_endpoint, router_endpoint = endpoints(bind)
        self.pub = self.zctx.socket(zmq.PUB)
        self.router = self.zctx.socket(zmq.ROUTER)
        self.pub.setsockopt(zmq.SNDHWM, 1000)
        self.router.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        for sock in (self.pub, self.router):
            sock.setsockopt(zmq.LINGER, 0)
            if curve is not None:
                apply_server(sock, curve)
        try:
            self.pub.bind(pub_endpoint)
            self.router.bind(router_endpoint)
        except zmq.ZMQError as exc:
            self.close()
            raise WallError(f"cannot listen on {bind} and the port after it: {exc}") from None

    # --- thread-safe entry points -------------------------------------------------

    def call(self, fn: Callable[[], Any]) -> Future:
        """Run `fn` on the controller's thread; the future holds its result."""
        future: Future = Future()
        if self._closed:
            future.set_exception(WallError("the controller has stopped"))
            return future
        self._calls.put((fn, future))
        try:
            os.write(self._wake_w, b"x")
        except BlockingIOError:
            pass  # the pipe is already full of wake-ups
        return future

    def data_fields(self) -> frozenset[str] | None:
        """Data-frame keys the wall draws now (None: all of them); safe from any thread.

        The scenario being switched to is included from its preparation on, and
        the one left stays included while it fades out, so no widget on screen
        ever loses its data.
        """
        if self.scenario_fields is None:
            return None
        names = {self.scenario_name}
        switch, left = self._switch, self._left
        if switch is not None:
            names.add(switch.name)
        if left is not None and time.time() < left[1]:
            names.add(left[0])
        fields = set(ALWAYS_SENT)
        for name in names:
            fields |= self.scenario_fields.get(name, frozenset())
        return frozenset(fields)

    def request_switch(self, name: str) -> Future:
        """Switch the wall to a scenario; the future resolves when the switch is committed.

        Its result says the tick and shared time at which every renderer shows it.

        Raises:
            UnknownScenario: (from the future) no scenario by that name.
        """
        result: Future = Future()
        requested_at = time.time()

        def start() -> None:
            if not result.set_running_or_notify_cancel():
                return
            if name not in self.scenarios:
                known = ", ".join(sorted(self.scenarios))
                result.set_exception(UnknownScenario(f"no scenario {name!r} (have: {known})"))
                return
            self.presenter_took_over()
            self._queued_switches.append(
                _Queued(name, result, requested_at, self.scenarios[name]))

        self.call(start)
        return result

    def replace_scenarios(self, scenarios: dict[str, dict[str, Any]],
                          fields: dict[str, frozenset[str]] | None) -> None:
        """Serve a reloaded library from now on (loop thread: call through `call()`).

        When the scenario on the wall changed, the wall switches to its new
        version at once, in step on every panel like any switch; while a tour
        or another switch is under way it waits for the next switch instead.
        """
        name = self.scenario_name
        if name not in scenarios:
            raise UnknownScenario(f"the reload lost the active scenario {name!r}")
        changed = scenarios[name] != self.scenarios.get(name)
        self.scenarios = scenarios
        if self.scenario_fields is not None and fields is not None:
            self.scenario_fields = fields
        idle = (self.tours.running is None and self._switch is None
                and not self._queued_switches)
        if changed and idle:
            log.info("scenario %s changed on reload: switching to its new version", name)
            self.queue_switch(name, scenarios[name])

    def health(self) -> dict[str, Any]:
        """Whether the wall is whole (`reports.health`); safe from any thread."""
        return reports.health(self)

    def status(self) -> dict[str, Any]:
        """The wall's state as `wallrenderer status` and the HTTP API report it."""
        return reports.status(self)

    # --- loop ---------------------------------------------------------------------

    def run(self, should_stop: Callable[[], bool]) -> None:
        """Serve until `should_stop()` is true."""
        poller = zmq.Poller()
        poller.register(self.router, zmq.POLLIN)
        poller.register(self._wake_r, zmq.POLLIN)
        next_beat = 0.0
        systemd = SystemdNotifier()
        systemd.ready()
        while not should_stop():
            self.loop_turned_at = time.monotonic()
            systemd.kick()  # from the loop itself: a stalled loop is restarted
            ready = dict(poller.poll(timeout=10))
            if self._wake_r in ready:
                os.read(self._wake_r, 4096)
            self._run_calls()
            for _ in range(MAX_REQUESTS_PER_TURN):  # a flood must not starve heartbeats
                if not self.router.poll(0):
                    break
                self._on_request(*self._receive(), time.time())
            now = time.time()
            self.tours.advance(now)
            if self.schedule is not None:
                self.schedule.tick(now)
            self._advance_switch(now)
            if now >= next_beat:
                self._publish("hb", {"scenario": self.scenario_name}, seq=self.seq)
                next_beat = now + HEARTBEAT_S
                self.roster.log_disconnects(now)
            self._finish_captures(now)
        self._abandon_pending()

    def _abandon_pending(self) -> None:
        """On the way out, nobody waiting on us is left hanging."""
        self._closed = True
        stopped = WallError("the controller stopped")
        self._run_calls()
        waiting = [q.future for q in self._queued_switches]
        waiting += self._switch.futures if self._switch else []
        for future in waiting:
            if not future.done():
                future.set_exception(stopped)
        self._queued_switches.clear()
        self.captures.expire()
        self._finish_captures(time.time())

    def close(self) -> None:
        """Release sockets and the wake-up pipe; safe to call twice."""
        self._closed = True
        if self.pub is None:
            return
        self.pub.close(linger=0)
        self.router.close(linger=0)
        self.pub = self.router = None
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)

    def _run_calls(self) -> None:
        while True:
            try:
                fn, future = self._calls.get_nowait()
            except queue.Empty:
                return
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn())
                except Exception as exc:  # handed to the caller's thread
                    future.set_exception(exc)

    # --- what the tour player asks (loop thread) ----------------------------------------

    def showing(self) -> dict[str, Any]:
        """The scenario the wall will show once queued switches are done: name and data."""
        if self._queued_switches:
            last = self._queued_switches[-1]
            return {"name": last.name, "data": last.data}
        if self._switch is not None:
            return {"name": self._switch.name, "data": self._switch.scenario}
        return {"name": self.scenario_name, "data": self.scenario_data}

    def queue_switch(self, name: str, data: dict[str, Any], at: float | None = None) -> Future:
        """Switch to scenario data (a variant of `name`), from tick `at` when given."""
        future: Future = Future()
        future.set_running_or_notify_cancel()
        self._queued_switches.append(_Queued(name, future, time.time(), data, at))
        return future

    def presenter_took_over(self) -> None:
        """A presenter switched by hand: a running tour holds, the schedule waits."""
        self.tours.manual_switch(time.time())
        if self.schedule is not None:
            self.schedule.presenter_took_over()

    def cancel_timed(self) -> None:
        """Drop tour steps not committed yet: a tour command (next, hold) replaces them."""
        dropped = [q.future for q in self._queued_switches if q.at is not None]
        self._queued_switches = [q for q in self._queued_switches if q.at is None]
        switch = self._switch
        if switch is not None and switch.at is not None and switch.tick is None:
            dropped += switch.futures
            self._switch = None
        for future in dropped:
            if not future.done():
                future.set_exception(WallError("replaced by a tour command"))

    def set_tour_policy(self, active: bool) -> None:
        """While a tour runs, the feed follows the stricter tour moderation policy."""
        if self.pipeline is not None:
            self.pipeline.moderator.set_tour(active)

    # --- publishing -----------------------------------------------------------------

    def publish_data(self, delta: dict[str, Any]) -> bool:
        """Publish a data-frame delta; the snapshot carries the state it builds up.

        Returns:
            False when the delta could not be sent (too large for the wire): then
            neither renderers nor the snapshot have it, and the sender should
            start again from a full frame.
        """
        if not self._publish_update("data", delta):
            return False
        self.data = apply_delta(self.data, delta)
        return True

    def snapshot(self) -> dict[str, Any]:
        """Everything a renderer needs to show the wall now (and any switch under way)."""
        return {
            "wall": self.wall,
            "scenario": self.scenario_data,
            "pending": self._switch.wire() if self._switch and self._switch.prepared else None,
            "data": self.data,
        }

    def _publish(self, kind: str, body: dict, seq: int = 0) -> bool:
        """Send to every renderer; False (logged) when the message cannot be encoded."""
        msg = Message(kind, body, seq=seq, epoch=self.epoch, time=time.time())
        try:
            frames = msg.encode()
        except ProtocolError as exc:
            log.error("not published: %s", exc)
            return False
        self.pub.send_multipart([TOPIC_ALL, *frames], flags=zmq.NOBLOCK)
        return True

    def _publish_update(self, kind: str, body: dict) -> bool:
        """A sequenced update: renderers that miss one re-sync from a snapshot."""
        if not self._publish(kind, body, seq=self.seq + 1):
            return False
        self.seq += 1
        return True

    def _reply(self, client: list[bytes], kind: str, body: dict, seq: int = 0) -> None:
        msg = Message(kind, body, seq=seq, epoch=self.epoch, time=time.time())
        try:
            self.router.send_multipart([*client, *msg.encode()], flags=zmq.NOBLOCK)
        except zmq.Again:
            log.warning("reply %s to a client that is not reading was dropped", kind)
        except ProtocolError as exc:
            log.error("reply not sent: %s", exc)

    # --- switches -------------------------------------------------------------------

    def _advance_switch(self, now: float) -> None:
        """Prepare, wait for acknowledgements (bounded), commit, then make it current."""
        switch = self._switch
        if switch is None:
            if self._queued_switches:
                self._start_switch(self._queued_switches.pop(0), now)
            return
        if not switch.prepared:
            if not self._missing_fields(switch) or now - switch.requested_at >= SWITCH_DATA_WAIT_S:
                self._prepare(switch)
            return
        if switch.tick is None:
            waited = now - switch.requested_at
            if switch.at is not None:  # a timed switch waits for renderers until just before
                waited = SWITCH_ACK_WAIT_S if now >= switch.at - COMMIT_LEAD_S else 0.0
            if switch.expected <= switch.acks or waited >= SWITCH_ACK_WAIT_S:
                self._commit(switch, now)
        elif tick_at(now) >= switch.tick:
            log.info("switch %d: %s on air from tick %d", switch.id, switch.name, switch.tick)
            self._left = (self.scenario_name, now + FIELDS_KEPT_S)
            self.scenario_name, self.scenario_data = switch.name, switch.scenario
            self._switch = None

    def _start_switch(self, queued: _Queued, now: float) -> None:
        """A switch begins; from now on data frames carry its scenario's fields too.

        A request that waited behind another switch is timed from now: its
        renderers need the full preparation time whatever the queue did.
        """
        self._switch_ids += 1
        connected = self.roster.connected(now)
        requested_at = queued.requested_at
        started = requested_at if now - requested_at < COMMIT_LEAD_S else now
        self._switch = _Switch(self._switch_ids, queued.name, queued.data, started, connected,
                               [queued.future], queued.at)
        if not self._missing_fields(self._switch):
            self._prepare(self._switch)

    def _missing_fields(self, switch: _Switch) -> set[str]:
        """Data fields the switch's scenario draws that no frame has brought the renderers yet."""
        if self.pipeline is None or self.scenario_fields is None:
            return set()
        return set(self.scenario_fields.get(switch.name, ())) - self.data.keys()

    def _prepare(self, switch: _Switch) -> None:
        """Phase one: every renderer builds and draws the scenario, then acknowledges."""
        switch.prepared = True
        self._publish_update("prepare", switch.wire())
        log.info("switch %d to %s: prepare sent to %d renderers", switch.id, switch.name,
                 len(switch.expected))

    def _commit(self, switch: _Switch, now: float) -> None:
        """Fix the switch tick and tell every renderer.

        The tick is a little ahead, so the commit reaches every renderer first,
        but no later than SWITCH_DEADLINE_S after the request while that is possible.
        """
        latest = tick_at(switch.requested_at + SWITCH_DEADLINE_S)
        earliest = tick_at(now + MIN_COMMIT_LEAD_S) + 1
        if switch.at is not None:  # the first tick at or after `at` (which may be on one)
            switch.tick = max(earliest, math.ceil(round(switch.at * TICK_HZ, 6)))
        else:
            switch.tick = max(earliest, min(tick_at(now + COMMIT_LEAD_S) + 1, latest))
        self._publish_update("commit", {"id": switch.id, "tick": switch.tick})
        late = sorted(switch.expected - switch.acks)
        if late:
            log.warning("switch %d committed without %s", switch.id, ", ".join(late))
        result = {
            "name": switch.name,
            "tick": switch.tick,
            "activates_at": time_of(switch.tick),
            "acknowledged": sorted(switch.acks),
            "not_acknowledged": late,
        }
        for future in switch.futures:
            if not future.done():  # already running: `start` claimed it, so no cancel race
                future.set_result(result)

    # --- requests -------------------------------------------------------------------

    def _receive(self) -> tuple[list[bytes], str | None]:
        """One request's frames, and with CURVE the sender's public key (its ZAP User-Id)."""
        if self.gate is None:
            return self.router.recv_multipart(), None
        frames = self.router.recv_multipart(copy=False)
        return [f.bytes for f in frames], Gate.sender(frames[-1])

    def _on_request(self, frames: list[bytes], sender: str | None, received: float) -> None:
        """Answer one request; its routing envelope is every frame before header and body.

        A direct client has a one-frame envelope; through `wallrenderer relay` it has one per hop.
        """
        client, rest = frames[:-2], frames[-2:]
        try:
            msg = Message.decode(rest)
        except ProtocolError as exc:
            self.dropped += 1
            log.warning("dropped a malformed request: %s", exc)
            return
        body = msg.body
        if self.gate is not None and not self.gate.allows(sender, msg.kind, body):
            self.dropped += 1
            return
        if msg.kind == "ping":
            self._reply(client, "pong", {"t0": body.get("t0"), "t1": received})
        elif msg.kind == "hello":
            self._reply(client, "snapshot", self.snapshot(), seq=self.seq)
        elif msg.kind == "report":
            self.roster.record(body).report = body
        elif msg.kind == "ack":
            self.roster.record(body)
            if self._switch is not None and body.get("id") == self._switch.id:
                self._switch.acks.add(str(body.get("display")))
        elif msg.kind == "captured":
            self.captures.received(self.roster.record(body).display, body)
        elif msg.kind == "capture":
            self._start_capture(client, body)
        elif msg.kind == "status":
            self._reply(client, "reply", self.status())
        elif msg.kind == "colour":
            self._reply(client, "reply", self._colour(body))
        else:
            self.dropped += 1
            log.warning("dropped a request of unknown kind %r", msg.kind)

    def replace_wall(self, wall: dict[str, Any]) -> None:
        """Show a changed wall (same panels, new colours) from now on, on every renderer."""
        self.wall = wall
        self._publish_update("state", self.snapshot())

    def _colour(self, body: dict) -> dict[str, Any]:
        try:
            return set_panel_color(self, body)
        except WallError as exc:
            return {"error": str(exc)}

    def capture_images(self, max_side: int, wait_s: float) -> Future:
        """Every connected renderer's frame for one shared instant, sent back small (any thread).

        The future holds ``{"images": {display: base64 JPEG}, "missing": [...], "errors"}``
        within `wait_s`; each image's longest side is at most `max_side` (0: native size).
        """
        future: Future = Future()
        order = {"inline": max_side, "at": time.time() + PREVIEW_LEAD_S}
        self.call(lambda: self._start_capture(None, order, future, wait_s))
        return future

    def _start_capture(self, client: list[bytes] | None, body: dict,
                       future: Future | None = None, wait_s: float = CAPTURE_TIMEOUT_S) -> None:
        """Every connected renderer captures the frame for one shared instant, so they line up."""
        now = time.time()
        order = self.captures.start(client, body, now, self.roster.connected(now), self.display_ids,
                                    future, wait_s)
        self._publish("capture", order)

    def _finish_captures(self, now: float) -> None:
        for capture in self.captures.finished(now):
            answer = capture.answer()
            if capture.future is None:
                self._reply(capture.client, "reply", answer)
            elif capture.future.set_running_or_notify_cancel():
                capture.future.set_result({**answer, "images": capture.images})

