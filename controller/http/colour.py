"""Colour matching from the tablet: nudge one panel's gain, gamma and brightness, and save.

The same operation as `wallrenderer calibrate --colour --panel` (controller/colour.py),
run on the controller's thread; docs/calibration.md shows how an installer uses it.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from controller.colour import set_panel_color
from controller.http.auth import change, read_body
from controller.http.bodies import ColourBody, parse_body
from controller.http.errors import ApiError, json_response
from wallrenderer.core.errors import WallError
from wallrenderer.core.geometry import GeometryError
from wallrenderer.core.layout.problems import LayoutError

log = logging.getLogger("controller.http")


@change
async def post_panel_colour(request: Request) -> Response:
    """Set one panel's colour live (every renderer redraws at once); `save` keeps it in the file."""
    body = parse_body(await read_body(request), ColourBody)
    api = request.app.state.api
    nudge = body.model_dump(mode="json", exclude_none=True)
    try:
        answer = await api.call(lambda: set_panel_color(api.controller, nudge))
    except GeometryError as exc:
        raise ApiError(404, str(exc)) from None
    except LayoutError as exc:
        raise ApiError(400, str(exc)) from None
    except WallError as exc:  # the file could not be written; the live change stands
        raise ApiError(409, f"the colour is live but was not saved: {exc}") from None
    log.info("panel %s colour set over HTTP by %s: gain %s, gamma %g, brightness %g%s",
             answer["panel"], request.state.who, answer["gain"], answer["gamma"],
             answer["brightness"], f", saved into {answer['saved']}" if answer["saved"] else "")
    return json_response({**answer, "by": request.state.who})


ROUTES = [Route("/api/panel/colour", post_panel_colour, methods=["POST"])]
