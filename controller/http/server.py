"""Serving the API: uvicorn in its own thread, a bounded stop, and the bridge to the controller.

The controller's ZeroMQ loop and the HTTP server never share a thread: handlers
reach the controller only through its thread-safe ``call()`` and
``request_switch()``, awaited with a timeout on the server's asyncio loop, so a
slow client never delays the wall and a stuck controller never hangs a client.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import secrets
import socket
import threading
import time
from pathlib import Path
from typing import Any

from controller.http.errors import ApiError, Closing, json_bytes
from controller.http.sessions import Sessions
from wallrenderer.core.address import parse_address
from wallrenderer.core.client import DEFAULT_HTTP_PORT, TOKEN_ENV
from wallrenderer.core.errors import WallError

log = logging.getLogger("controller.http")

PIN_ENV = "WALL_PIN"
CONTROLLER_TIMEOUT_S = 5.0
STOP_TIMEOUT_S = 3.0  # close() gives open requests and event streams this long to end
STARTUP_TIMEOUT_S = 10.0


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


def resolve_pin(cli_pin: str | None) -> str | None:
    """The tablet PIN: `--pin`, else $WALL_PIN, else none (the page then needs the token)."""
    for candidate in (cli_pin, os.environ.get(PIN_ENV)):
        if candidate and candidate.strip():
            return candidate.strip()
    return None


class HttpApi:
    """The HTTP API and tablet page of one controller, served from its own thread.

    Usage::

        api = HttpApi(controller, "0.0.0.0", 8080, token, pin="2468")
        api.start()          # binds; port 0 picks a free port, then in api.port
        ...
        api.close()          # before controller.close()

    `library` (a `LibrarySource`) lets the API reload scenario files; `thumbnails`
    (a `Thumbnails`) draws the scenario buttons' pictures; `previews` (a
    `WallPreview`) composes the live wall. Each is optional: without it the
    matching endpoint says it is not available.
    """

    def __init__(self, controller, host: str, port: int, token: str, pin: str | None = None,
                 library=None, thumbnails=None, previews=None,
                 session_ttl_s: float = 12 * 3600.0):
        if not token:
            raise ValueError("HttpApi needs a non-empty token")
        self.controller = controller
        self.host = host
        self.port = port
        self.token = token
        self.library = library
        self.thumbnails = thumbnails
        self.previews = previews
        self.sessions = Sessions(pin, session_ttl_s)
        self.timeout_s = CONTROLLER_TIMEOUT_S
        self.started_at = time.time()
        self._server = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()
        self._closing_lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        """Base URL for clients on this machine (a wildcard bind is reached via loopback)."""
        host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def closing(self) -> bool:
        return self._closing.is_set()

    def start(self) -> None:
        """Bind, then serve in a daemon thread; returns once the server accepts requests.

        Raises:
            WallError: the address cannot be bound (in use, not local, no permission).
        """
        import uvicorn

        from controller.http.app import build_app
        from controller.http.protocol import JsonErrorH11Protocol

        if self._server is not None:
            raise RuntimeError("HttpApi already started")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise WallError(f"cannot serve the HTTP API on {self.host}:{self.port}: "
                            f"{exc.strerror or exc}") from None
        sock.listen(128)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            build_app(self), http=JsonErrorH11Protocol, ws="none", lifespan="off",
            log_config=None, access_log=False, server_header=False, date_header=True,
            timeout_keep_alive=60, timeout_graceful_shutdown=STOP_TIMEOUT_S,
        )
        server = uvicorn.Server(config)
        server.install_signal_handlers = lambda: None  # the controller owns the signals
        self._server = server
        self._thread = threading.Thread(target=self._serve, args=(server, sock),
                                        name="wall-http", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not server.started:
            self.close()
            raise WallError(f"the HTTP API on {self.host}:{self.port} did not start")
        log.info("HTTP API on %s (bound to %s:%d)", self.url, self.host, self.port)

    def _serve(self, server, sock: socket.socket) -> None:
        async def serve() -> None:
            self.loop = asyncio.get_running_loop()
            await server.serve(sockets=[sock])

        try:
            asyncio.run(serve())
        except Exception:
            log.exception("the HTTP server failed")
        finally:
            sock.close()

    def close(self) -> None:
        """Stop serving within STOP_TIMEOUT_S; safe to call twice.

        From the moment close() starts, no request calls into the controller any
        more (so the controller may be closed once this returns); a request
        waiting for the controller answers 503 at once, event streams end and
        idle keep-alive connections are closed.
        """
        server, self._server = self._server, None
        if server is None:
            return
        with self._closing_lock:
            self._closing.set()
        server.should_exit = True
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_S + 2.0)
            if self._thread.is_alive():
                server.force_exit = True
                self._thread.join(2.0)
                log.warning("the HTTP server did not stop in time; connections were dropped")
            self._thread = None
        if self.thumbnails is not None:
            self.thumbnails.close()

    def __enter__(self) -> HttpApi:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- what the handlers ask of the controller (the server's loop) -----------------

    async def ask(self, submit, timeout: float | None = None) -> Any:
        """Hand work to the controller with `submit()` (returns a future) and await it.

        Waits at most `timeout` s (default `timeout_s`) and gives up as soon as
        the API closes; never submits once close() has begun.

        Raises:
            concurrent.futures.TimeoutError: no result in time.
            Closing: the API is shutting down.
            Exception: whatever the future holds (e.g. UnknownScenario).
        """
        with self._closing_lock:
            if self._closing.is_set():
                raise Closing()
            future = submit()
        waiting = asyncio.wrap_future(future)
        deadline = time.monotonic() + (self.timeout_s if timeout is None else timeout)
        while True:
            remaining = deadline - time.monotonic()
            done, _ = await asyncio.wait({waiting}, timeout=max(0.0, min(0.1, remaining)))
            if done:
                return waiting.result()
            if self._closing.is_set():
                waiting.cancel()
                raise Closing()
            if remaining <= 0.1:
                waiting.cancel()
                raise concurrent.futures.TimeoutError()

    async def call(self, fn) -> Any:
        """Run `fn` on the controller's thread; 504 when its loop does not answer in time."""
        try:
            return await self.ask(lambda: self.controller.call(fn))
        except concurrent.futures.TimeoutError:
            raise ApiError(504, f"the controller did not answer within "
                                f"{self.timeout_s:g} s") from None
        except Closing:
            raise ApiError(503, "the controller is shutting down") from None


def start_http_api(controller, bind: str, cli_token: str | None, cli_pin: str | None = None,
                   library=None, thumbnails_dir: Path | None = None) -> HttpApi:
    """Serve the API of `controller` on HOST:PORT, printing the token if it was generated.

    For `wallrenderer controller --http HOST:PORT [--token T] [--pin P]`; close the
    result before the controller. With `library` (a `LibrarySource`) scenario
    files can be reloaded and thumbnails are drawn into `thumbnails_dir`.

    Raises:
        WallError: bad address, or it cannot be bound.
    """
    from controller.http.livewall import WallPreview
    from controller.http.thumbnails import Thumbnails

    host, port = parse_address(bind, DEFAULT_HTTP_PORT)
    host = host.strip("[]")
    token, generated = resolve_token(cli_token)
    thumbnails = Thumbnails(thumbnails_dir) if library and thumbnails_dir else None
    api = HttpApi(controller, host, port, token, resolve_pin(cli_pin), library, thumbnails,
                  WallPreview(controller))
    api.start()
    if thumbnails is not None:
        thumbnails.start(controller.wall, controller.scenarios)
    if generated:
        print(f"HTTP API token (generated; fix it with --token or ${TOKEN_ENV}): {token}",
              flush=True)
    return api


__all__ = ["ApiError", "Closing", "HttpApi", "json_bytes", "resolve_pin", "resolve_token",
           "start_http_api"]
