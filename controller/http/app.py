"""The Starlette application: routing, authentication, body limits, logging, the tablet page.

Every answer, errors included, is JSON except the page, its files and images.
A change needs the bearer token or a tablet session (the PIN); the page and
its files ship in the wheel (`controller/http/static`) and name no outside
origin, which the Content-Security-Policy enforces.
"""

from __future__ import annotations

import functools
import logging
import time
from importlib import resources

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from controller.http.errors import ApiError, error_response, json_bytes

log = logging.getLogger("controller.http")

KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
STATIC_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
                ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
PAGE_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")


def build_app(api) -> Starlette:
    """The application serving `api` (an `HttpApi`)."""
    from controller.http import colour, data, routes, tours

    app = Starlette(
        routes=[*routes.ROUTES, *tours.ROUTES, *data.ROUTES, *colour.ROUTES, *page_routes()],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error,
                            Exception: _internal_error},
    )
    app.state.api = api
    return Guard(app)


# --- errors ---------------------------------------------------------------------------


async def _api_error(request: Request, exc: ApiError) -> Response:
    return error_response(exc)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 404:
        return error_response(ApiError(404, f"no such endpoint: {request.url.path}"))
    if exc.status_code == 405:
        allowed = sorted(m.strip() for m in (exc.headers or {}).get("Allow", "").split(","))
        return error_response(ApiError(
            405, f"{request.method} is not allowed on {request.url.path}; use "
                 f"{' or '.join(allowed)}", {"Allow": ", ".join(allowed)}))
    return error_response(ApiError(exc.status_code, str(exc.detail)))


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.error("HTTP %s %s failed", request.method, request.url.path, exc_info=exc)
    return error_response(ApiError(500, "internal error", {"Connection": "close"}))


# --- the page -------------------------------------------------------------------------


@functools.cache
def static_file(name: str) -> tuple[bytes, str] | None:
    """A file of the tablet page from the package, with its content type (None: no such file)."""
    suffix = "." + name.rpartition(".")[2]
    if "/" in name or name.startswith(".") or suffix not in STATIC_TYPES:
        return None
    try:
        return (resources.files("controller.http") / "static" / name).read_bytes(), \
            STATIC_TYPES[suffix]
    except (FileNotFoundError, IsADirectoryError):
        return None


async def _page_file(request: Request) -> Response:
    name = request.path_params.get("name", "index.html")
    found = static_file(name)
    if found is None:
        raise ApiError(404, f"no such endpoint: {request.url.path}")
    content, media_type = found
    return Response(content, media_type=media_type, headers={
        "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": PAGE_POLICY, "Referrer-Policy": "no-referrer"})


def page_routes() -> list[Route]:
    """The page at / and its files under /static/."""
    return [Route("/", _page_file, methods=["GET"]),
            Route("/static/{name}", _page_file, methods=["GET"])]


# --- the outer layer: what must hold before routing ----------------------------------------


class Guard:
    """Plain ASGI wrapper: refuses what the routes must never see, and logs every request.

    Unknown methods get 501 and chunked bodies 411 (a Content-Length keeps the
    body limit checkable before reading); each request is logged at DEBUG with
    its status and time through the `controller.http` logger.
    """

    def __init__(self, app: Starlette):
        self.app = app
        self.state = app.state

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.monotonic()
        answer = {"status": 0}

        async def logged_send(message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            await send(message)

        refusal = _refusal(scope)
        try:
            if refusal is not None:
                await _send_error(send, refusal)
                answer["status"] = refusal.status
            else:
                await self.app(scope, receive, logged_send)
        finally:
            client = (scope.get("client") or ("?",))[0]
            # The access log names the client: changes and refusals at INFO, reads
            # (a watchdog polls /api/health) only at DEBUG.
            read = scope["method"] in ("GET", "HEAD") and answer["status"] < 400
            log.log(logging.DEBUG if read else logging.INFO, "%s %s %s -> %s in %.1f ms",
                    client, scope["method"], scope["path"], answer["status"],
                    1000 * (time.monotonic() - started))


def _refusal(scope) -> ApiError | None:
    method = scope["method"]
    if method not in KNOWN_METHODS:
        return ApiError(501, f"method {method} is not implemented", {"Connection": "close"})
    headers = dict(scope["headers"])
    if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
        return ApiError(411, "send the body with a Content-Length (not chunked)",
                        {"Connection": "close"})
    return None


async def _send_error(send, exc: ApiError) -> None:
    body = json_bytes({"error": exc.message})
    headers = [(b"content-type", b"application/json; charset=utf-8"),
               (b"content-length", str(len(body)).encode()), (b"cache-control", b"no-store")]
    headers += [(k.lower().encode(), v.encode()) for k, v in exc.headers.items()]
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
