"""The visitor tour and schedule endpoints: thin routes over `controller.tours.TourPlayer`.

Every command runs on the controller's thread (`HttpApi.call`); changes need the
token or a tablet session and are logged with who made them. A tour started or
stopped by hand is a presenter taking over from the schedule. docs/http-api.md
and docs/tours.md describe them for clients.
"""

from __future__ import annotations

import logging
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from controller.http.auth import change, read_body
from controller.http.bodies import TourHoldBody, TourStartBody, parse_body
from controller.http.errors import ApiError, json_response
from controller.tours import UnknownTour
from wallrenderer.core.errors import WallError

log = logging.getLogger("controller.http")


async def _run(request: Request, command):
    """`command(controller, now)` on the controller's thread, its refusals as 404 and 409."""
    api = request.app.state.api
    controller = api.controller
    try:
        return await api.call(lambda: command(controller, time.time()))
    except UnknownTour as exc:
        raise ApiError(404, str(exc)) from None
    except WallError as exc:  # NoTour: next, hold, ... while no tour runs
        raise ApiError(409, str(exc)) from None


async def get_tours(request: Request) -> Response:
    """The tour files with their steps, and the running tour (null when none)."""
    return json_response(await _run(request, lambda c, now: {
        "tours": c.tours.listing(), "running": c.tours.status(now)}))


@change
async def post_tour_start(request: Request) -> Response:
    """Start a tour file by name (or, the older form, a tour of whole scenarios)."""
    body = parse_body(await read_body(request), TourStartBody)
    if body.name is None and body.scenarios is None:
        raise ApiError(400, f'missing "name": send {TourStartBody.EXAMPLE}')

    def start(controller, now: float):
        _presenter(controller)
        if body.name is not None:
            return controller.tours.start(body.name, now)
        return controller.tours.start_adhoc(body.scenarios, body.seconds, now)

    tour = await _run(request, start)
    log.info("tour %s started over HTTP by %s", tour["name"], request.state.who)
    return json_response({"tour": tour})


@change
async def post_tour_stop(request: Request) -> Response:
    """End the tour; the wall stays on what it shows."""
    await read_body(request)

    def stop(controller, now: float):
        _presenter(controller)
        return controller.tours.stop(now)

    answer = await _run(request, stop)
    log.info("tour stopped over HTTP by %s", request.state.who)
    return json_response(answer)


def _step(action: str):
    @change
    async def endpoint(request: Request) -> Response:
        await read_body(request)
        tour = await _run(request, lambda c, now: getattr(c.tours, action)(now))
        log.info("tour %s: %s to step %d over HTTP by %s", tour["name"], action, tour["step"],
                 request.state.who)
        return json_response({"tour": tour})

    endpoint.__doc__ = f"Show the tour's {action} step now."
    return endpoint


@change
async def post_tour_hold(request: Request) -> Response:
    """Freeze the current step (`{"held": true}`, the default) or release it (`false`)."""
    body = parse_body(await read_body(request), TourHoldBody)
    tour = await _run(request, lambda c, now: c.tours.hold(now, body.held))
    log.info("tour %s %s at step %d over HTTP by %s", tour["name"],
             "held" if body.held else "resumed", tour["step"], request.state.who)
    return json_response({"tour": tour})


def _presenter(controller) -> None:
    """A tour started or stopped by hand: the schedule waits (docs/tours.md, precedence)."""
    if controller.schedule is not None:
        controller.schedule.presenter_took_over()


# --- the schedule ---------------------------------------------------------------------


def _schedule(controller):
    if controller.schedule is None:
        raise ApiError(404, "this controller has no schedule (start it with --schedule FILE)")
    return controller.schedule


async def get_schedule(request: Request) -> Response:
    """What the schedule shows now and at each change of the next 24 h, and why."""
    return json_response(await _run(request, lambda c, now: _schedule(c).plan(now)))


@change
async def post_schedule_resume(request: Request) -> Response:
    """A presenter gives the wall back to the schedule."""
    await read_body(request)
    plan = await _run(request, lambda c, now: _schedule(c).release(now))
    log.info("wall given back to the schedule over HTTP by %s", request.state.who)
    return json_response(plan)


ROUTES = [
    Route("/api/tours", get_tours, methods=["GET"]),
    Route("/api/tour/start", post_tour_start, methods=["POST"]),
    Route("/api/tour/stop", post_tour_stop, methods=["POST"]),
    Route("/api/tour/next", _step("next"), methods=["POST"]),
    Route("/api/tour/previous", _step("previous"), methods=["POST"]),
    Route("/api/tour/hold", post_tour_hold, methods=["POST"]),
    Route("/api/schedule", get_schedule, methods=["GET"]),
    Route("/api/schedule/resume", post_schedule_resume, methods=["POST"]),
]
