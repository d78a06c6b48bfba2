"""The controller's HTTP control surface: a small JSON API for the presenter's tablet.

    GET  /api/scenarios   names of the scenarios and the active one
    POST /api/scenario    {"name": N}: switch the wall; answers when the switch is
                          committed, with the tick and controller-clock time it activates
    GET  /api/status      the controller's status (renderers, sources, alerts)
    GET  /api/health      {"ok": true}, for load balancers and watchdogs
    POST /api/tour/start {"scenarios": [...], "seconds": S} | /api/tour/stop: visitor tours
    POST /api/ingest, /api/spike, /api/alerts/ack and /api/moderation/*: the data
                          path (webhook posts, simulator crisis, alerts, approvals)

Requests that change something (POST) need ``Authorization: Bearer TOKEN``;
reads are open. The server is the standard library's ``ThreadingHTTPServer`` in
its own daemon thread: handlers reach the controller only through its
thread-safe ``call()`` and ``request_switch()``, with a timeout, so neither side
ever blocks the other's loop. docs/http-api.md describes the API for clients.

Importing this module stays cheap (``http.server`` and ``requests`` are imported
when first used), because the ``wallrenderer`` command line imports it for every
subcommand to register ``wallrenderer switch``.
"""

from __future__ import annotations

import concurrent.futures
import hmac
import json
import logging
import math
import os
import secrets
import socket
import sys
import threading
import time
from dataclasses import asdict
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from controller.library import UnknownScenario
from wallrenderer.core.address import parse_address
from wallrenderer.core.client import DEFAULT_HTTP_PORT, TOKEN_ENV
from wallrenderer.core.errors import WallError
from wallrenderer.core.protocol import reject_json_constant

log = logging.getLogger(__name__)

JSON_TYPE = "application/json; charset=utf-8"
MAX_BODY_BYTES = 64 * 1024
DRAIN_LIMIT_BYTES = 1024 * 1024  # unread bodies up to this are read and dropped, not reset
CONTROLLER_TIMEOUT_S = 5.0
IDLE_TIMEOUT_S = 60.0  # a connection that sends nothing for this long is closed
REQUEST_EXAMPLE = '{"name": SCENARIO}'

# path -> method -> name of the handler method; HEAD is answered wherever GET is.
ROUTES: dict[str, dict[str, str]] = {
    "/api/scenarios": {"GET": "_get_scenarios"},
    "/api/scenario": {"POST": "_post_scenario"},
    "/api/status": {"GET": "_get_status"},
    "/api/health": {"GET": "_get_health"},
    "/api/ingest": {"POST": "_post_ingest"},
    "/api/spike": {"POST": "_post_spike"},
    "/api/alerts/ack": {"POST": "_post_alert_ack"},
    "/api/moderation/queue": {"GET": "_get_moderation_queue"},
    "/api/moderation/approve": {"POST": "_post_moderation_approve"},
    "/api/moderation/reject": {"POST": "_post_moderation_reject"},
    "/api/moderation/audit": {"GET": "_get_moderation_audit"},
    "/api/tour/start": {"POST": "_post_tour_start"},
    "/api/tour/stop": {"POST": "_post_tour_stop"},
}
CHANGES = {"POST", "PUT", "PATCH", "DELETE"}


def resolve_token(cli_token: str | None) -> tuple[str, bool]:
    """The API token: `--token`, else $WALL_TOKEN, else a new random one.

    Empty values count as not given (an empty token would let anyone in).

    Returns:
        The token and whether it was generated (the caller prints it at start so
        the presenter can use it).
    """
    for candidate in (cli_token, os.environ.get(TOKEN_ENV)):
        if candidate and candidate.strip():
            return candidate.strip(), False
    return secrets.token_urlsafe(18), True


class _Closing(Exception):
    """The API is shutting down while a handler waited for the controller."""


class _ApiError(Exception):
    """Answered to the client as ``{"error": message}`` with this status."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class HttpApi:
    """The JSON API of one controller, served from its own thread.

    Usage::

        api = HttpApi(controller, "0.0.0.0", 8080, token)
        api.start()          # binds; port 0 picks a free port, then in api.port
        ...
        api.close()          # before controller.close()
    """

    def __init__(self, controller, host: str, port: int, token: str):
        if not token:
            raise ValueError("HttpApi needs a non-empty token")
        self.controller = controller
        self.host = host
        self.port = port
        self.token = token
        self._token_bytes = token.encode("utf-8")
        self._server = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()
        self._closing_lock = threading.Lock()

    @property
    def url(self) -> str:
        """Base URL for clients on this machine (a wildcard bind is reached via loopback)."""
        host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        """Bind and serve in a daemon thread.

        Raises:
            WallError: the address cannot be bound (in use, not local, no permission).
        """
        if self._server is not None:
            raise RuntimeError("HttpApi already started")
        server_class, handler_class = _server_classes()
        try:
            self._server = server_class((self.host, self.port), handler_class, self)
        except OSError as exc:
            raise WallError(f"cannot serve the HTTP API on {self.host}:{self.port}: "
                            f"{exc.strerror or exc}") from None
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name="wall-http", daemon=True,
        )
        self._thread.start()
        log.info("HTTP API on %s (bound to %s:%d)", self.url, self.host, self.port)

    def close(self) -> None:
        """Stop serving and wait for the handler threads; safe to call twice.

        From the moment close() starts, no thread of the API calls into the
        controller any more (so the controller may be closed once this returns); a
        handler waiting for the controller answers 503 at once, and idle keep-alive
        connections are woken and closed.
        """
        server, self._server = self._server, None
        if server is None:
            return
        with self._closing_lock:
            self._closing.set()
        server.shutdown()
        server.wake_connections()
        server.server_close()
        server.join_handlers(timeout=CONTROLLER_TIMEOUT_S)
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> HttpApi:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- what the handlers ask of the controller (any thread) ---------------------

    def ask(self, submit, timeout: float | None = None):
        """Hand work to the controller with `submit()` (returns a future) and wait for it.

        Waits at most `timeout` s (default CONTROLLER_TIMEOUT_S) and gives up as
        soon as the API closes; never submits once close() has begun.

        Raises:
            concurrent.futures.TimeoutError: no result in time.
            _Closing: the API is shutting down.
            Exception: whatever the future holds (e.g. UnknownScenario).
        """
        with self._closing_lock:
            if self._closing.is_set():
                raise _Closing()
            future = submit()
        deadline = time.monotonic() + (CONTROLLER_TIMEOUT_S if timeout is None else timeout)
        while True:
            remaining = deadline - time.monotonic()
            try:
                return future.result(timeout=max(0.0, min(0.1, remaining)))
            except concurrent.futures.TimeoutError:
                if self._closing.is_set():
                    raise _Closing() from None
                if remaining <= 0.1:
                    raise

    def check_token(self, presented: str) -> bool:
        # Header values arrive decoded as latin-1: encoding back gives the bytes sent.
        return hmac.compare_digest(presented.encode("latin-1", "replace"), self._token_bytes)


def start_http_api(controller, bind: str, cli_token: str | None) -> HttpApi:
    """Serve the API of `controller` on HOST:PORT, printing the token if it was generated.

    For `wallrenderer controller --http HOST:PORT [--token T]`; close the result before the
    controller.

    Raises:
        WallError: bad address, or it cannot be bound.
    """
    host, port = parse_address(bind, DEFAULT_HTTP_PORT)
    host = host.strip("[]")
    token, generated = resolve_token(cli_token)
    api = HttpApi(controller, host, port, token)
    api.start()
    if generated:
        print(f"HTTP API token (generated; fix it with --token or ${TOKEN_ENV}): {token}",
              flush=True)
    return api


# --- server and handler -----------------------------------------------------------------
#
# The logic lives in plain mixins; the classes that inherit from http.server's are
# built on first use, so importing this module does not import http.server.


class _ServerMixin:
    """ThreadingHTTPServer that knows its API, tracks connections and logs, never prints."""

    daemon_threads = True  # (socketserver joins only non-daemon threads: see join_handlers)

    def __init__(self, address, handler_class, api: HttpApi):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.api = api
        self._connections: set[socket.socket] = set()
        self._handlers: set[threading.Thread] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler_class)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would resolve the host's FQDN (a DNS lookup) for nothing.
        import socketserver

        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def process_request(self, request, client_address) -> None:
        """One daemon thread per connection, tracked until it ends."""
        thread = threading.Thread(target=self.process_request_thread,
                                  args=(request, client_address), name="wall-http-conn",
                                  daemon=True)
        with self._connections_lock:
            self._connections.add(request)
            self._handlers.add(thread)
        try:
            thread.start()
        except BaseException:
            with self._connections_lock:
                self._handlers.discard(thread)
            raise  # socketserver logs it (handle_error) and closes the connection

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._handlers.discard(threading.current_thread())

    def shutdown_request(self, request) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def join_handlers(self, timeout: float) -> None:
        """Wait (at most `timeout` s in all) for the connection threads to end."""
        deadline = time.monotonic() + timeout
        with self._connections_lock:
            handlers = list(self._handlers)
        for thread in handlers:
            thread.join(max(0.0, deadline - time.monotonic()))
        stuck = [t for t in handlers if t.is_alive()]
        if stuck:
            log.warning("%d HTTP connection(s) still writing to slow clients at close",
                        len(stuck))

    def wake_connections(self) -> None:
        """End reading on every open connection: idle keep-alive handlers see EOF and exit."""
        with self._connections_lock:
            connections = list(self._connections)
        for sock in connections:
            try:
                sock.shutdown(socket.SHUT_RD)
            except OSError:
                pass

    def handle_error(self, request, client_address) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            log.debug("connection from %s ended: %r", client_address[0], exc)
        else:
            log.exception("HTTP connection from %s failed", client_address[0])


class _HandlerMixin:
    """One request: route, authenticate, read a bounded JSON body, answer JSON."""

    server: Any
    protocol_version = "HTTP/1.1"  # keep-alive for dashboards polling /api/status
    timeout = IDLE_TIMEOUT_S

    def version_string(self) -> str:
        return "wallrenderer"

    # Every method goes through _dispatch, so unknown paths are 404 and wrong methods 405.
    def do_GET(self) -> None:
        self._dispatch()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def _dispatch(self) -> None:
        self._started = time.monotonic()
        self._answered = False
        try:
            try:
                self._route()
            except _ApiError as exc:
                self._send_json(exc.status, {"error": exc.message}, exc.headers)
        except (ConnectionError, TimeoutError):
            raise  # the client went away: nothing to answer (handle_error logs it)
        except Exception:
            log.exception("HTTP %s %s failed", self.command, self.path)
            if not self._answered:
                self.close_connection = True
                self._send_json(500, {"error": "internal error"})

    def _route(self) -> None:
        path = urlsplit(self.path).path
        methods = ROUTES.get(path)
        if methods is None:
            self._discard_body()
            raise _ApiError(404, f"no such endpoint: {path}")
        allowed = sorted(methods) + (["HEAD"] if "GET" in methods else [])
        method = "GET" if self.command == "HEAD" and "GET" in methods else self.command
        if method not in methods:
            self._discard_body()
            raise _ApiError(405, f"{self.command} is not allowed on {path}; use "
                            f"{' or '.join(allowed)}", {"Allow": ", ".join(allowed)})
        if method in CHANGES:
            self._authorize()
        else:
            self._discard_body()
        getattr(self, methods[method])()

    def _authorize(self) -> None:
        scheme, _, presented = (self.headers.get("Authorization") or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            self._discard_body()
            raise _ApiError(401, "this request needs the header 'Authorization: Bearer TOKEN' "
                            "(the controller prints its token at start)",
                            {"WWW-Authenticate": 'Bearer realm="wall"'})
        if not self.server.api.check_token(presented.strip()):
            self._discard_body()
            log.warning("HTTP %s %s from %s: wrong token", self.command, self.path,
                        self.client_address[0])
            raise _ApiError(403, "wrong token")

    # --- endpoints --------------------------------------------------------------

    def _get_health(self) -> None:
        self._send_json(200, {"ok": True})

    def _get_scenarios(self) -> None:
        controller = self.server.api.controller
        names, active = self._ask(lambda: (sorted(controller.scenarios),
                                           controller.scenario_name))
        self._send_json(200, {"scenarios": [{"name": n, "thumbnail": None} for n in names],
                              "active": active})

    def _get_status(self) -> None:
        controller = self.server.api.controller
        self._send_json(200, self._ask(controller.status))

    def _post_scenario(self) -> None:
        name = self._json_body().get("name")
        if name is None:
            raise _ApiError(400, f'missing "name": send {REQUEST_EXAMPLE}')
        if not isinstance(name, str) or not name.strip():
            raise _ApiError(400, f'"name" must be a non-empty string, got {json.dumps(name)}')
        log.info("switch to %r requested over HTTP from %s", name, self.client_address[0])
        api = self.server.api
        try:
            result = api.ask(lambda: api.controller.request_switch(name))
        except UnknownScenario as exc:
            raise _ApiError(404, str(exc)) from None
        except concurrent.futures.TimeoutError:
            raise _ApiError(504, f"the controller did not commit the switch to {name!r} within "
                            f"{CONTROLLER_TIMEOUT_S:g} s; it may still take effect") from None
        except _Closing:
            raise _ApiError(503, "the controller is shutting down") from None
        self._send_json(200, result)

    # --- visitor tours ---------------------------------------------------------------

    def _post_tour_start(self) -> None:
        body = self._json_body() if self._content_length() else {}  # no body: the defaults
        names = body.get("scenarios")
        if names is not None and (not isinstance(names, list) or not names
                                  or not all(isinstance(n, str) for n in names)):
            raise _ApiError(400, '"scenarios" must be a non-empty list of scenario names')
        seconds = body.get("seconds", TOUR_SECONDS_DEFAULT)
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not (
            TOUR_SECONDS_MIN <= seconds <= TOUR_SECONDS_MAX
        ):
            raise _ApiError(400, f'"seconds" must be a number from {TOUR_SECONDS_MIN:g} '
                                 f"to {TOUR_SECONDS_MAX:g}")
        controller = self.server.api.controller
        try:
            result = self._ask(lambda: controller.start_tour(names, float(seconds)))
        except UnknownScenario as exc:
            raise _ApiError(404, str(exc)) from None
        self._send_json(200, result)

    def _post_tour_stop(self) -> None:
        self._discard_body()
        controller = self.server.api.controller
        self._send_json(200, self._ask(controller.stop_tour))

    # --- data: webhook, crisis spike, alerts, moderation ------------------------------

    def _pipeline(self):
        pipeline = getattr(self.server.api.controller, "pipeline", None)
        if pipeline is None:
            self._discard_body()  # keep a keep-alive connection in step
            raise _ApiError(404, "this controller has no data sources (start it with --source)")
        return pipeline

    def _string_field(self, body: dict[str, Any], key: str) -> str:
        value = body.get(key)
        if not isinstance(value, str) or not value.strip():
            raise _ApiError(400, f'"{key}" must be a non-empty string')
        return value

    def _post_ingest(self) -> None:
        webhook = self._pipeline().webhook
        if webhook is None:
            self._discard_body()
            raise _ApiError(404, "no webhook source: start the controller with --source webhook")
        body = self._json_body()
        posts = body.get("posts")
        if not isinstance(posts, list):
            raise _ApiError(400, 'send {"posts": [POST, ...]} (see docs/posts.md)')
        accepted, rejected = webhook.push(posts)
        self._send_json(200, {"accepted": accepted, "rejected": rejected})

    def _post_spike(self) -> None:
        simulator = self._pipeline().simulator
        if simulator is None:
            self._discard_body()
            raise _ApiError(404, "no simulator source to inject a spike into")
        options = _spike_options(self._json_body())
        try:
            result = simulator.inject_spike(**options)
        except WallError as exc:
            raise _ApiError(400, str(exc)) from None
        log.info("spike injected over HTTP from %s: %s", self.client_address[0], options)
        self._send_json(200, result)

    def _post_alert_ack(self) -> None:
        alert_id = self._string_field(self._json_body(), "id")
        if not self._pipeline().acknowledge(alert_id, "operator"):
            raise _ApiError(404, f"no alert {alert_id!r}")
        self._send_json(200, {"id": alert_id, "acknowledged": True})

    def _get_moderation_queue(self) -> None:
        self._send_json(200, {"queue": self._pipeline().moderator.queue()})

    def _post_moderation_approve(self) -> None:
        post_id = self._string_field(self._json_body(), "id")
        pipeline = self._pipeline()
        post = pipeline.moderator.approve(post_id, "operator")
        if post is None:
            raise _ApiError(404, f"no queued post {post_id!r}")
        pipeline.add_to_feed(post)
        self._send_json(200, {"approved": post})

    def _post_moderation_reject(self) -> None:
        body = self._json_body()
        post_id = self._string_field(body, "id")
        reason = body.get("reason") if isinstance(body.get("reason"), str) else ""
        if not self._pipeline().moderator.reject(post_id, "operator", reason):
            raise _ApiError(404, f"no queued post {post_id!r}")
        self._send_json(200, {"id": post_id, "rejected": True})

    def _get_moderation_audit(self) -> None:
        records = self._pipeline().moderator.audit.recent(200)
        self._send_json(200, {"audit": [asdict(r) for r in records]})

    def _ask(self, fn):
        """Run `fn` on the controller's thread; 504 when its loop does not answer in time."""
        api = self.server.api
        try:
            return api.ask(lambda: api.controller.call(fn))
        except concurrent.futures.TimeoutError:
            raise _ApiError(504, f"the controller did not answer within "
                            f"{CONTROLLER_TIMEOUT_S:g} s") from None
        except _Closing:
            raise _ApiError(503, "the controller is shutting down") from None

    # --- bodies -----------------------------------------------------------------

    def _content_length(self) -> int:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            raise _ApiError(411, "send the body with a Content-Length (not chunked)")
        raw = (self.headers.get("Content-Length") or "0").strip()
        if not (raw.isascii() and raw.isdigit()):
            self.close_connection = True
            raise _ApiError(400, f"bad Content-Length {raw!r}")
        return int(raw)

    def _discard_body(self) -> None:
        """Read and drop a body nobody will use, so a keep-alive connection stays in step.

        Large bodies are not read: the connection is closed after the answer instead.

        Raises:
            _ApiError: a chunked body (411) or a bad Content-Length (400).
        """
        length = self._content_length()
        if length > DRAIN_LIMIT_BYTES:
            self.close_connection = True
            return
        while length > 0:
            chunk = self.rfile.read(min(length, 64 * 1024))
            if not chunk:
                self.close_connection = True
                return
            length -= len(chunk)

    def _json_body(self) -> dict[str, Any]:
        length = self._content_length()
        if length > MAX_BODY_BYTES:
            self._discard_body()
            self.close_connection = True
            raise _ApiError(413, f"request body of {length} bytes is over the limit of "
                            f"{MAX_BODY_BYTES} bytes")
        if length == 0:
            raise _ApiError(400, f"missing JSON body: send {REQUEST_EXAMPLE}")
        raw = self.rfile.read(length)
        if len(raw) < length:
            self.close_connection = True
            raise _ApiError(400, "request body is shorter than its Content-Length")
        try:
            body = json.loads(raw.decode("utf-8"), parse_constant=reject_json_constant)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise _ApiError(400, f"body is not valid JSON ({exc}); send {REQUEST_EXAMPLE}") \
                from None
        if not isinstance(body, dict):
            raise _ApiError(400, f"body must be a JSON object: send {REQUEST_EXAMPLE}")
        return body

    # --- answers ----------------------------------------------------------------

    def _send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._answered = True
        body = _json_bytes(obj)
        self.send_response(status)
        self.send_header("Content-Type", JSON_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None):
        """http.server's own errors (bad request line, header too long, ...) as JSON too."""
        self.close_connection = True
        self._send_json(code, {"error": message or HTTPStatus(code).phrase})

    # --- logging: through `logging` at DEBUG, never straight to stderr ---------

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        started = getattr(self, "_started", None)
        took = f" in {1000 * (time.monotonic() - started):.1f} ms" if started else ""
        log.debug("%s %r -> %s%s", self.client_address[0], getattr(self, "requestline", ""),
                  int(code) if isinstance(code, HTTPStatus) else code, took)

    def log_message(self, fmt: str, *args) -> None:
        log.debug("%s: %s", self.client_address[0], fmt % args)


_classes: tuple[type, type] | None = None


TOUR_SECONDS_DEFAULT, TOUR_SECONDS_MIN, TOUR_SECONDS_MAX = 30.0, 1.0, 3600.0
SPIKE_LIMITS = {"minutes": (0.5, 1440.0), "factor": (1.0, 100.0)}


def _spike_options(body: dict[str, Any]) -> dict[str, Any]:
    """A crisis spike's settings from a request, checked before the simulator sees them.

    Raises:
        _ApiError: 400 naming the field that is wrong.
    """
    options: dict[str, Any] = {}
    for key in ("kind", "brand"):
        if key in body:
            if not isinstance(body[key], str) or not body[key].strip():
                raise _ApiError(400, f'"{key}" must be a non-empty string')
            options[key] = body[key]
    for key, (low, high) in SPIKE_LIMITS.items():
        if key in body:
            value = body[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                low <= value <= high
            ):
                raise _ApiError(400, f'"{key}" must be a number from {low:g} to {high:g}')
            options[key] = float(value)
    if "terms" in body:
        terms = body["terms"]
        if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms) or len(
            terms
        ) > 20:
            raise _ApiError(400, '"terms" must be a list of at most 20 strings')
        options["terms"] = terms
    return options


def _server_classes() -> tuple[type, type]:
    """The server and handler classes, built on first use (imports http.server)."""
    global _classes
    if _classes is None:
        import http.server

        server = type("ApiServer", (_ServerMixin, http.server.ThreadingHTTPServer), {})
        handler = type("ApiHandler", (_HandlerMixin, http.server.BaseHTTPRequestHandler), {})
        _classes = server, handler
    return _classes


def _json_bytes(obj: Any) -> bytes:
    """Strict JSON (NaN and infinities become null), one line, newline-terminated."""
    try:
        text = json.dumps(obj, ensure_ascii=False, allow_nan=False, default=str)
    except ValueError:
        text = json.dumps(_finite(obj), ensure_ascii=False, allow_nan=False, default=str)
    return (text + "\n").encode("utf-8")


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj
