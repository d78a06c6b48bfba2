"""`wallrenderer relay`: fans one controller out to many renderers through a tree of relays.

A relay connects upstream to a controller (or to another relay) exactly as a
renderer does, and offers downstream the same two ports a controller offers,
so a renderer (or the next relay) connects to it with `--connect HOST:PORT`
and cannot tell the difference:

- PORT: published traffic. An XSUB socket connected to the upstream PUB/XPUB
  and an XPUB socket bound downstream, joined by ZeroMQ's own proxy. The
  renderers' subscriptions travel up through XPUB/XSUB, so each hop only
  carries the topics someone below it wants, and the controller publishes
  each message once per relay instead of once per renderer.
- PORT + 1: requests (snapshots, clock exchanges, reports, `wallrenderer status`). A
  ROUTER bound downstream and a DEALER connected upstream, joined by a second
  proxy. The ROUTER prepends the client's routing id and the DEALER passes it
  on, so the controller sees one envelope frame per hop and its reply, sent
  along the whole envelope, finds its way back down. Snapshots pass through:
  the controller stays the only source of state.

Each proxy runs in its own thread and is steerable: `close()` sends
`TERMINATE` on an inproc PAIR control socket, so a relay stops cleanly. The
requests proxy is our own loop rather than `zmq.proxy`, whose sends block: with
the controller gone, the upstream DEALER's queue fills and that proxy would
never read `TERMINATE` again. Ours drops what a side cannot take, as the
renderers' own sends do (they repeat hellos, clock exchanges and reports).
One slow or stuck subscriber never holds up the others: XPUB drops messages
for a subscriber once its queue is full (`XPUB_NODROP` off), and the renderer
behind it notices the gap in sequence numbers and re-syncs from a snapshot.
"""

from __future__ import annotations

import logging
import struct
import threading
import time
import uuid
from collections.abc import Callable

import zmq
from zmq.utils.monitor import recv_monitor_message

from wallrenderer.core.address import endpoints
from wallrenderer.core.protocol import MAX_MESSAGE_BYTES, Message, ProtocolError
from wallrenderer.core.security import (
    CurveServer,
    Gate,
    apply_client,
    apply_server,
    start_authenticator,
)

log = logging.getLogger(__name__)

DEFAULT_BIND = "0.0.0.0:7700"
PUB_HWM = 10_000
"""Per-subscriber queue of published messages before XPUB drops for that subscriber."""
REQUEST_HWM = 1_000
"""Queued requests and replies per peer; renderers send without blocking and drop beyond it."""
STATS_INTERVAL_S = 60.0
PROXY_STOP_TIMEOUT_S = 0.5
FORWARD_BURST = 1000

_MONITORED = zmq.EVENT_CONNECTED | zmq.EVENT_DISCONNECTED | zmq.EVENT_ACCEPTED


class Relay:
    """Forwards a controller's two ports (published updates and requests) to a bound pair.

    Args:
        upstream: ``HOST[:PORT]`` of a controller or another relay (default port 7700).
        bind: ``HOST:PORT`` to offer downstream: XPUB on PORT, ROUTER on PORT + 1.
        zctx: ZeroMQ context (default: the process-wide one).
        curve_client: `CurveClient` for an upstream that requires CURVE.
        curve_server: `CurveServer` to require CURVE from downstream (needs an
            authenticator running on `zctx`).
    """

    def __init__(
        self,
        upstream: str,
        bind: str,
        zctx: zmq.Context | None = None,
        curve_client=None,
        curve_server=None,
    ):
        self.upstream = upstream
        self.bind = bind
        self.curve_client = curve_client
        self.curve_server = curve_server
        self.zctx = zctx or zmq.Context.instance()
        self.up_pub, self.up_router = endpoints(upstream)
        self.down_pub, self.down_router = endpoints(bind)
        self.downstream_links = 0
        self._sockets: list[zmq.Socket] = []
        self._controls: list[zmq.Socket] = []
        self._monitors: dict[zmq.Socket, str] = {}
        self._monitored: list[zmq.Socket] = []
        self._threads: list[threading.Thread] = []
        self._started = False
        self._closed = False

    def __enter__(self) -> Relay:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        """Bind downstream, connect upstream and start both proxy threads.

        Raises:
            zmq.ZMQError: a downstream port could not be bound (e.g. already in use).
        """
        if self._started:
            raise RuntimeError("relay already started")
        self._started = True
        try:
            xsub = self._socket(zmq.XSUB)
            xsub.setsockopt(zmq.RCVHWM, PUB_HWM)
            xpub = self._socket(zmq.XPUB)
            xpub.setsockopt(zmq.SNDHWM, PUB_HWM)
            xpub.setsockopt(zmq.XPUB_NODROP, 0)
            xpub.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
            router = self._socket(zmq.ROUTER)
            router.setsockopt(zmq.ROUTER_MANDATORY, 0)
            router.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
            dealer = self._socket(zmq.DEALER)
            for sock in (router, dealer):
                sock.setsockopt(zmq.SNDHWM, REQUEST_HWM)
                sock.setsockopt(zmq.RCVHWM, REQUEST_HWM)
            for sock in (xsub, dealer):
                if self.curve_client is not None:
                    apply_client(sock, self.curve_client)
            for sock in (xpub, router):
                if self.curve_server is not None:
                    apply_server(sock, self.curve_server)
            self._monitor(xsub, f"upstream updates {self.up_pub}")
            self._monitor(dealer, f"upstream requests {self.up_router}")
            self._monitor(xpub, "downstream")
            xpub.bind(self.down_pub)
            router.bind(self.down_router)
            xsub.connect(self.up_pub)
            dealer.connect(self.up_router)
            self._spawn("relay-updates", _proxy, xsub, xpub)
            vouch = None if self.curve_server is None else _vouching(self.curve_server)
            self._spawn("relay-requests", _forward, router, dealer, vouch)
        except BaseException:
            self.close()
            raise
        log.info(
            "relaying %s (updates) and %s (requests) to %s and %s",
            self.up_pub, self.up_router, self.down_pub, self.down_router,
        )

    def _socket(self, kind: int) -> zmq.Socket:
        sock = self.zctx.socket(kind)
        sock.setsockopt(zmq.LINGER, 0)
        self._sockets.append(sock)
        return sock

    def _monitor(self, sock: zmq.Socket, label: str) -> None:
        """Connection events of `sock`, read by `run()` in the caller's thread."""
        self._monitors[sock.get_monitor_socket(_MONITORED)] = label
        self._monitored.append(sock)

    def _spawn(self, name: str, proxy: Callable, frontend: zmq.Socket,
               backend: zmq.Socket, *extra) -> None:
        """One steerable proxy in its own thread; `close()` stops it through `control`."""
        address = f"inproc://{name}-{uuid.uuid4().hex}"
        ours = self.zctx.socket(zmq.PAIR)
        ours.setsockopt(zmq.LINGER, 0)
        ours.bind(address)
        self._controls.append(ours)
        theirs = self._socket(zmq.PAIR)
        theirs.connect(address)
        thread = threading.Thread(
            target=proxy, args=(name, frontend, backend, theirs, *extra), name=name, daemon=True
        )
        self._threads.append(thread)
        thread.start()

    @property
    def alive(self) -> bool:
        """True while both proxies are running."""
        return bool(self._threads) and all(t.is_alive() for t in self._threads)

    def statistics(self, timeout_ms: int = 1000) -> dict[str, dict[str, int]]:
        """Frames and bytes each proxy has received, as ZeroMQ counts them (message parts).

        Returns ``{"updates": {...}, "requests": {...}}`` with keys ``down_frames``,
        ``down_bytes`` (towards the renderers) and ``up_frames``, ``up_bytes``
        (subscriptions, or requests, towards the controller). Empty for a proxy
        that did not answer in time. Call from the thread that started the relay.
        """
        stats: dict[str, dict[str, int]] = {}
        names = ("updates", "requests")
        for name, control in zip(names, self._controls, strict=False):
            while control.poll(0):  # a late answer to an earlier request
                control.recv_multipart()
            try:
                control.send(b"STATISTICS", flags=zmq.NOBLOCK)
            except zmq.Again:
                continue
            if not control.poll(timeout_ms):
                continue
            frames = control.recv_multipart()
            if len(frames) != 8:
                continue
            n = [struct.unpack("=Q", f)[0] for f in frames]
            # Frontend in/out then backend in/out; updates run upstream -> downstream,
            # requests run downstream -> upstream.
            if name == "updates":
                stats[name] = {"down_frames": n[0], "down_bytes": n[1],
                               "up_frames": n[4], "up_bytes": n[5]}
            else:
                stats[name] = {"up_frames": n[0], "up_bytes": n[1],
                               "down_frames": n[4], "down_bytes": n[5]}
        return stats

    def run(self, should_stop: Callable[[], bool],
            stats_interval_s: float = STATS_INTERVAL_S) -> bool:
        """Log connections and traffic until `should_stop()`; False if a proxy died."""
        poller = zmq.Poller()
        for monitor in self._monitors:
            poller.register(monitor, zmq.POLLIN)
        next_stats = time.monotonic() + stats_interval_s
        last: dict[str, dict[str, int]] = {}
        while not should_stop():
            if not self.alive:
                log.error("a relay proxy stopped unexpectedly")
                return False
            for monitor, _ in poller.poll(timeout=200):
                while monitor.poll(0):
                    self._on_event(self._monitors[monitor], recv_monitor_message(monitor))
            if time.monotonic() >= next_stats:
                next_stats = time.monotonic() + stats_interval_s
                last = self._log_traffic(last)
        return True

    def _on_event(self, label: str, event: dict) -> None:
        kind = event["event"]
        if label == "downstream":
            if kind == zmq.EVENT_ACCEPTED:
                self.downstream_links += 1
            elif kind == zmq.EVENT_DISCONNECTED:
                self.downstream_links = max(0, self.downstream_links - 1)
            log.debug("%d downstream subscriber(s) connected", self.downstream_links)
        elif kind == zmq.EVENT_CONNECTED:
            log.info("%s: connected", label)
        elif kind == zmq.EVENT_DISCONNECTED:
            log.warning("%s: disconnected; reconnecting", label)

    def _log_traffic(self, last: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        now = self.statistics()
        if not now:
            return last
        delta = {
            name: {k: v - last.get(name, {}).get(k, 0) for k, v in counts.items()}
            for name, counts in now.items()
        }
        upd, req = delta.get("updates", {}), delta.get("requests", {})
        log.info(
            "%d downstream subscriber(s); relayed %d update frames (%.1f kB) down, "
            "%d subscription changes up, %d request frames up, %d reply frames down",
            self.downstream_links, upd.get("down_frames", 0), upd.get("down_bytes", 0) / 1e3,
            upd.get("up_frames", 0), req.get("up_frames", 0), req.get("down_frames", 0),
        )
        return now

    def close(self) -> None:
        """Stop both proxies, join their threads and close every socket (linger 0)."""
        if self._closed:
            return
        self._closed = True
        for control in self._controls:
            try:
                control.send(b"TERMINATE", flags=zmq.NOBLOCK)
            except zmq.ZMQError:
                pass
        for thread in self._threads:
            thread.join(timeout=PROXY_STOP_TIMEOUT_S)
            if thread.is_alive():
                log.warning("%s did not stop; leaving its sockets open", thread.name)
                return
        for sock in self._monitored:
            try:
                sock.disable_monitor()
            except zmq.ZMQError:
                pass
        for sock in [*self._monitors, *self._controls, *self._sockets]:
            sock.close(linger=0)


def _proxy(name: str, frontend: zmq.Socket, backend: zmq.Socket, control: zmq.Socket) -> None:
    """ZeroMQ's own proxy: for XSUB/XPUB, whose sends drop rather than block."""
    try:
        zmq.proxy_steerable(frontend, backend, None, control)
    except zmq.ContextTerminated:
        pass
    except zmq.ZMQError as exc:
        log.error("%s proxy stopped: %s", name, exc)


def _vouching(server: CurveServer) -> Callable[[list[zmq.Frame]], bool]:
    """Whether a downstream request may go up: one about a renderer needs that renderer's key.

    The controller trusts a relay's key to speak for every renderer, so the
    relay checks what the controller cannot see: who sent each message below it.
    What cannot be read goes up, for the controller to drop and count.
    """
    gate = Gate(server)

    def vouched(frames: list[zmq.Frame]) -> bool:
        try:
            msg = Message.decode([f.bytes for f in frames[-2:]])
        except ProtocolError:
            return True
        return gate.allows(Gate.sender(frames[-1]), msg.kind, msg.body)

    return vouched


def _forward(name: str, frontend: zmq.Socket, backend: zmq.Socket, control: zmq.Socket,
             vouch: Callable[[list[zmq.Frame]], bool] | None = None) -> None:
    """A steerable proxy whose sends never block; answers STATISTICS as `zmq.proxy` does.

    With `vouch`, a message from `frontend` goes on only when `vouch(frames)` says so.
    """
    # Frames and bytes: frontend in, frontend out, backend in, backend out.
    counts = [0] * 8
    poller = zmq.Poller()
    for sock in (frontend, backend, control):
        poller.register(sock, zmq.POLLIN)
    try:
        while True:
            for sock, _ in poller.poll():
                if sock is control:
                    command = control.recv()
                    if command == b"TERMINATE":
                        return
                    if command == b"STATISTICS":
                        control.send_multipart([struct.pack("=Q", n) for n in counts],
                                               flags=zmq.NOBLOCK)
                    continue
                into, out, target = (0, 6, backend) if sock is frontend else (4, 2, frontend)
                checked = vouch is not None and sock is frontend
                for _ in range(FORWARD_BURST):
                    try:
                        frames = sock.recv_multipart(flags=zmq.NOBLOCK, copy=not checked)
                    except zmq.Again:
                        break
                    size = sum(len(f) for f in frames)
                    counts[into] += len(frames)
                    counts[into + 1] += size
                    if checked:
                        if not vouch(frames):
                            continue  # received, not sent: the statistics show the gap
                        frames = [f.bytes for f in frames]
                    try:
                        target.send_multipart(frames, flags=zmq.NOBLOCK)
                    except zmq.Again:
                        log.debug("%s: the far side is not taking messages; one dropped", name)
                        continue
                    counts[out] += len(frames)
                    counts[out + 1] += size
    except zmq.ContextTerminated:
        pass
    except zmq.ZMQError as exc:
        log.error("%s proxy stopped: %s", name, exc)


def run_relay(
    upstream: str, bind: str = DEFAULT_BIND, curve_client=None, curve_server=None
) -> int:
    """Relay until SIGINT or SIGTERM; exit code for the command line."""
    from wallrenderer.core.shutdown import stop_on_signals

    stopping = stop_on_signals()
    zctx = zmq.Context.instance()
    auth = start_authenticator(zctx, curve_server) if curve_server is not None else None
    try:
        relay = Relay(upstream, bind, zctx, curve_client, curve_server)
        try:
            relay.start()
        except zmq.ZMQError as exc:
            log.error("cannot relay on %s: %s", bind, exc)
            return 1
        try:
            ok = relay.run(stopping.is_set)
        finally:
            relay.close()
        return 0 if ok else 1
    finally:
        if auth is not None:
            auth.stop()


def add_relay_parser(subparsers):
    """Add `wallrenderer relay --upstream HOST[:PORT] [--bind HOST:PORT]` to the command line."""
    relay = subparsers.add_parser(
        "relay", help="forward a controller to more renderers (trees of relays)"
    )
    relay.add_argument("--upstream", required=True, metavar="HOST[:PORT]",
                       help="controller or relay HOST or HOST:PORT (default port 7700)")
    relay.add_argument("--bind", default=DEFAULT_BIND, metavar="HOST:PORT",
                       help=f"HOST:PORT offered downstream; updates on PORT, requests on "
                            f"PORT+1 (default {DEFAULT_BIND})")
    return relay
