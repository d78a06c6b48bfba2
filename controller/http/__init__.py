"""The controller's HTTP control surface: the presenter's tablet page and a JSON API.

Starlette served by uvicorn in its own thread (`server`), the application and
its page (`app`), who may change what (`auth`, `sessions`), request bodies
(`bodies`), the wall's endpoints (`routes`), the tours' and the schedule's
(`tours`) and the data path's (`data`), scenario thumbnails drawn by a worker
process (`thumbnails`). The endpoints are described for clients in
docs/http-api.md.

Importing this package stays cheap (Starlette and uvicorn load when the API
starts), because `wallrenderer.cli` and `controller.run` import it.
"""

from controller.http.bodies import MAX_BODY_BYTES
from controller.http.server import (
    CONTROLLER_TIMEOUT_S,
    HttpApi,
    resolve_pin,
    resolve_token,
    start_http_api,
)

__all__ = ["CONTROLLER_TIMEOUT_S", "MAX_BODY_BYTES", "HttpApi", "resolve_pin", "resolve_token",
           "start_http_api"]
