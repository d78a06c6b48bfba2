"""The wall's endpoints: scenarios, switches, status, health, reload, sessions, live events.

docs/http-api.md describes each for clients.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from controller.http.auth import change, read_body, who
from controller.http.bodies import LoginBody, SwitchBody, parse_body
from controller.http.errors import ApiError, Closing, json_bytes, json_response
from controller.http.livewall import PREVIEW_INTERVAL_S, PREVIEW_SIDE
from controller.http.sessions import COOKIE
from controller.library import SAFE_SCREEN, UnknownScenario
from wallrenderer.core.errors import WallError

log = logging.getLogger("controller.http")

EVENT_INTERVAL_S = 0.25  # how often a stream looks for news
EVENT_KEEPALIVE_S = 5.0  # an unchanged status is sent again this often


def _api(request: Request):
    return request.app.state.api


async def get_scenarios(request: Request) -> Response:
    """Scenario names with their thumbnail URLs, and the active one."""
    api = _api(request)
    controller = api.controller
    names, active = await api.call(lambda: (sorted(controller.scenarios),
                                            controller.scenario_name))
    thumbs = api.thumbnails
    return json_response({
        "scenarios": [{"name": n, "thumbnail": thumbs.url(n) if thumbs else None} for n in names],
        "active": active,
    })


async def get_thumbnail(request: Request) -> Response:
    """A scenario's picture (404 until drawn)."""
    thumbs = _api(request).thumbnails
    png = thumbs.png(request.path_params["name"]) if thumbs else None
    if png is None:
        raise ApiError(404, f"no thumbnail for {request.path_params['name']!r} (yet)")
    return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=86400"})


async def get_wall(request: Request) -> Response:
    """The panels as fractions of the canvas (for tiles laid out like the wall), with colours."""
    from wallrenderer.core.layout.walls import wall_from_data

    wall = wall_from_data(_api(request).controller.wall)
    width, height = wall.canvas
    return json_response({"name": wall.name, "canvas": list(wall.canvas), "panels": [
        {"id": p.id, "rect": [p.rect.x / width, p.rect.y / height,
                              (p.rect.right - p.rect.x) / width,
                              (p.rect.bottom - p.rect.y) / height],
         "color": {"gain": list(p.color.gain), "gamma": p.color.gamma,
                   "brightness": p.color.brightness}} for p in wall.panels]})


async def get_preview(request: Request) -> Response:
    """The live wall picture (about 1 s old while a page watches; made now otherwise)."""
    previews = _previews(request)
    if previews.png is None or time.time() - previews.refreshed_at > 2 * PREVIEW_INTERVAL_S:
        previews.png, previews.missing = await _compose(request, PREVIEW_SIDE)
        previews.refreshed_at = time.time()
    return _png(previews.png, previews.missing)


async def get_snapshot(request: Request) -> Response:
    """The whole wall as it is now, at full size, bezels drawn."""
    return _png(*await _compose(request, 0))


def _previews(request: Request):
    previews = _api(request).previews
    if previews is None:
        raise ApiError(404, "this API has no live preview")
    return previews


async def _compose(request: Request, max_side: int) -> tuple[bytes, list[str]]:
    api = _api(request)
    try:
        return await _previews(request).compose(api, max_side)
    except concurrent.futures.TimeoutError:
        raise ApiError(504, "the renderers' frames did not arrive in time") from None
    except Closing:
        raise ApiError(503, "the controller is shutting down") from None


def _png(png: bytes, missing: list[str]) -> Response:
    return Response(png, media_type="image/png", headers={
        "Cache-Control": "no-store", "X-Missing-Panels": ",".join(missing)})


async def get_status(request: Request) -> Response:
    """The controller's status, as `wallrenderer status --json`."""
    api = _api(request)
    return json_response(await api.call(api.controller.status))


async def get_health(request: Request) -> Response:
    """200 when the loop turns, every panel is connected and fresh and no source is degraded.

    Otherwise 503 with the reasons, one line each (`Controller.health`, which
    reads the truth without waiting on the loop, so a stalled loop is named).
    """
    health = _api(request).controller.health()
    reasons = health["problems"]
    if reasons:
        return json_response({**health, "error": "; ".join(reasons), "reasons": reasons}, 503)
    return json_response(health)


@change
async def post_scenario(request: Request) -> Response:
    """Switch the wall; answers at commit."""
    body = parse_body(await read_body(request), SwitchBody)
    log.info("switch to %r requested over HTTP by %s", body.name, request.state.who)
    return json_response(await _switch(_api(request), body.name))


@change
async def post_safe_screen(request: Request) -> Response:
    """The neutral scenario on the whole wall in one switch; a running tour stops first."""
    api = _api(request)
    await read_body(request)
    await api.call(lambda: api.controller.tours.stop(time.time()))
    log.warning("safe screen requested over HTTP by %s", request.state.who)
    return json_response(await _switch(api, SAFE_SCREEN))


async def _switch(api, name: str) -> dict:
    try:
        return await api.ask(lambda: api.controller.request_switch(name))
    except UnknownScenario as exc:
        raise ApiError(404, str(exc)) from None
    except concurrent.futures.TimeoutError:
        raise ApiError(504, f"the controller did not commit the switch to {name!r} within "
                            f"{api.timeout_s:g} s; it may still take effect") from None
    except Closing:
        raise ApiError(503, "the controller is shutting down") from None


@change
async def post_reload(request: Request) -> Response:
    """Read the scenario files again; refused files keep their previous version (422)."""
    api = _api(request)
    await read_body(request)
    if api.library is None:
        raise ApiError(404, "this controller was not started from scenario files")
    try:
        scenarios, report = await asyncio.to_thread(api.library.reload_into, api.controller)
    except WallError as exc:
        raise ApiError(422, f"nothing was reloaded: {exc}") from None
    if api.thumbnails is not None:
        api.thumbnails.update(api.controller.wall, scenarios)
    log.info("scenarios reloaded by %s: %s", request.state.who, report)
    if report["problems"]:
        return json_response({"error": f"{len(report['problems'])} problem(s): refused files "
                                       f"keep their previous version", **report}, 422)
    return json_response(report)


# --- tablet sessions ----------------------------------------------------------------------


async def post_session(request: Request) -> Response:
    """Enter the PIN: a session cookie (HttpOnly, SameSite=Strict) for this tablet."""
    body = parse_body(await read_body(request), LoginBody)
    client = request.client.host if request.client else "?"
    sessions = _api(request).sessions
    try:
        sid, session = sessions.login(client, body.pin, body.name or f"tablet {client}")
    except ApiError as exc:
        if exc.status == 403:
            log.warning("wrong PIN from %s", client)
        raise
    log.info("tablet session %r opened from %s", session.name, client)
    answer = json_response({"name": session.name, "expires": session.expires})
    answer.set_cookie(COOKIE, sid, max_age=max(1, round(sessions.ttl_s)), path="/", httponly=True,
                      samesite="strict")
    return answer


async def get_session(request: Request) -> Response:
    """Whether this tablet is unlocked, and as whom."""
    sessions = _api(request).sessions
    session = sessions.lookup(request.cookies.get(COOKIE))
    return json_response({"pin_required": sessions.enabled, "unlocked": session is not None,
                          "name": session.name if session else None,
                          "expires": session.expires if session else None})


async def delete_session(request: Request) -> Response:
    """Lock this tablet again."""
    _api(request).sessions.logout(request.cookies.get(COOKIE))
    answer = json_response({"unlocked": False})
    answer.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return answer


# --- live events (server-sent) ------------------------------------------------------------


async def get_events(request: Request) -> Response:
    """The wall's status as server-sent events: at once, on every change, and every 5 s."""
    api = _api(request)
    unlocked = _unlocked(request)

    async def stream():
        last, sent_at = b"", 0.0
        if api.previews is not None:
            api.previews.watch(api)
        try:
            while not api.closing and not await request.is_disconnected():
                try:
                    event = await api.call(lambda: _event(api, unlocked))
                except ApiError:
                    return
                data = json_bytes(event).strip()
                if data != last or time.monotonic() - sent_at > EVENT_KEEPALIVE_S:
                    yield b"event: status\ndata: " + data + b"\n\n"
                    last, sent_at = data, time.monotonic()
                await asyncio.sleep(EVENT_INTERVAL_S)
        finally:
            if api.previews is not None:
                api.previews.unwatch()

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _unlocked(request: Request) -> bool:
    try:
        who(request)
    except ApiError:
        return False
    return True


def _event(api, unlocked: bool) -> dict:
    """One status event (controller thread); the queue length only for an unlocked page."""
    controller = api.controller
    status = controller.status()
    status["scenarios"] = sorted(controller.scenarios)
    pipeline = controller.pipeline
    status["queue"] = len(pipeline.moderator.queue()) if pipeline and unlocked else None
    previews = api.previews
    status["preview"] = previews.version if previews and previews.png else None
    return status


ROUTES = [
    Route("/api/scenarios", get_scenarios, methods=["GET"]),
    Route("/api/thumbnails/{name}.png", get_thumbnail, methods=["GET"]),
    Route("/api/scenario", post_scenario, methods=["POST"]),
    Route("/api/safe-screen", post_safe_screen, methods=["POST"]),
    Route("/api/scenarios/reload", post_reload, methods=["POST"]),
    Route("/api/status", get_status, methods=["GET"]),
    Route("/api/wall", get_wall, methods=["GET"]),
    Route("/api/preview.png", get_preview, methods=["GET"]),
    Route("/api/snapshot.png", get_snapshot, methods=["GET"]),
    Route("/api/health", get_health, methods=["GET"]),
    Route("/api/events", get_events, methods=["GET"]),
    Route("/api/session", post_session, methods=["POST"]),
    Route("/api/session", get_session, methods=["GET"]),
    Route("/api/session", delete_session, methods=["DELETE"]),
]
