"""Local stand-ins for the services sources read: an HTTP server with per-test routes, a sink.

The server is the standard library's `ThreadingHTTPServer` on 127.0.0.1 in a
thread; each test puts handlers in `routes` that answer as the service
documents it. Shared by the source tests, so each speaks one protocol once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from controller.postbatch import PostBatch


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


@dataclass
class Request:
    """What the server saw."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float
    #: every value of each key, in order (the query above keeps the last)
    lists: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Answer:
    """What a route answers: status, body (bytes, text or JSON-able), headers, delay before."""

    status: int = 200
    body: bytes | str | object = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class Service:
    """A local HTTP server; each test puts handlers in `routes` (path -> Request -> Answer)."""

    def __init__(self):
        self.routes: dict[str, Callable[[Request], Answer]] = {}
        self.requests: list[Request] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                parts = urlsplit(self.path)
                lists = parse_qs(parts.query)
                request = Request(parts.path, {k: v[-1] for k, v in lists.items()},
                                  dict(self.headers), time.monotonic(), lists)
                service.requests.append(request)
                route = service.routes.get(parts.path)
                answer = route(request) if route else Answer(404, {"error": "Record not found"})
                body = answer.body
                headers = dict(answer.headers)
                if not isinstance(body, bytes | str):
                    body = json.dumps(body)
                    headers.setdefault("Content-Type", "application/json; charset=utf-8")
                if isinstance(body, str):
                    body = body.encode()
                time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if answer.status != 304:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass            # the client gave up (timeout tests)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return self.base + path

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


class Collector:
    """A sink keeping every post as a schema record, or every raw line (list.extend is atomic)."""

    def __init__(self):
        self.posts: list = []
        self.arrivals: list[float] = []

    def __call__(self, batch, rejected=0):
        items = [post.to_dict() for post in batch.posts()] if isinstance(batch, PostBatch) \
            else batch
        self.posts.extend(items)
        self.arrivals.extend([time.monotonic()] * len(items))


