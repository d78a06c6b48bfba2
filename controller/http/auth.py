"""Who may change the wall: the bearer token or a tablet session, checked per request."""

from __future__ import annotations

import functools
import hmac
import logging
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from controller.http.bodies import MAX_BODY_BYTES
from controller.http.errors import ApiError
from controller.http.sessions import COOKIE, TOKEN_NAME

log = logging.getLogger("controller.http")

UNAUTHORIZED = ("this request needs the header 'Authorization: Bearer TOKEN' (the controller "
                "prints its token at start) or a tablet session (enter the PIN on the page)")


def who(request: Request) -> str:
    """The name a change is made under: the token's or the tablet session's.

    Raises:
        ApiError: 401 without credentials (or with an expired session), 403 for
            a wrong token or a request from another site.
    """
    api = request.app.state.api
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, presented = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            raise _unauthorized(UNAUTHORIZED)
        sent = presented.strip().encode("latin-1", "replace")
        if not hmac.compare_digest(sent, api.token.encode("utf-8")):
            log.warning("HTTP %s %s from %s: wrong token", request.method, request.url.path,
                        _client(request))
            raise ApiError(403, "wrong token")
        return TOKEN_NAME
    sid = request.cookies.get(COOKIE)
    session = api.sessions.lookup(sid)
    if session is None:
        raise _unauthorized("your tablet session has expired: enter the PIN again" if sid
                            else UNAUTHORIZED)
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host"):
        raise ApiError(403, f"a change from another site ({origin}) is refused")
    return session.name


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, message, {"WWW-Authenticate": 'Bearer realm="wall"'})


def change(handler):
    """Endpoint decorator: the request needs the token or a session; `request.state.who`."""

    @functools.wraps(handler)
    async def guarded(request: Request) -> Response:
        request.state.who = who(request)
        return await handler(request)

    return guarded


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body as it streams in, at most `limit` bytes (413 beyond, unread if announced)."""
    announced = request.headers.get("content-length", "0").strip()
    if announced.isdigit() and int(announced) > limit:
        raise ApiError(413, f"request body of {announced} bytes is over the limit of "
                            f"{limit} bytes", {"Connection": "close"})
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, f"request body is over the limit of {limit} bytes",
                           {"Connection": "close"})
    return bytes(body)


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"
