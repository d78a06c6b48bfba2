"""`wallrenderer controller`: the controller node wired together and run until a signal.

The wiring (library, ZeroMQ context and authenticator, data pipeline, store,
HTTP API) lives apart from the `Controller` class, so that the class and the
HTTP API never import each other.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path

import zmq

from controller.http import start_http_api
from controller.http.thumbnails import default_cache_dir
from controller.library import LibrarySource, load_library
from controller.node import Controller
from wallrenderer.core.errors import WallError
from wallrenderer.core.security import start_authenticator

log = logging.getLogger(__name__)


def run_controller(
    wall_path: str,
    scenarios_dir: str | None,
    scenario: str | None,
    bind: str,
    http: str | None = None,
    token: str | None = None,
    curve=None,
    sources: list[str] | None = None,
    brands: list[str] | None = None,
    store_path: str | None = None,
    moderation_path: str | None = None,
    tracked: list[str] | None = None,
    pin: str | None = None,
) -> int:
    """Serve a wall until SIGINT or SIGTERM; exit code for the command line.

    `http` (HOST:PORT) turns on the HTTP API and the tablet page (`pin` unlocks
    it); SIGHUP reloads the scenario files; `curve` (a `CurveServer`)
    encrypts and authenticates every ZeroMQ connection; `sources` are
    `--source` specs whose posts become the data frames the widgets draw;
    `tracked` are the `--track` campaign hashtags and URLs.
    """
    library = load_library(wall_path, scenarios_dir)
    name = scenario or "testcard"
    if name not in library.scenarios:
        known = ", ".join(sorted(library.scenarios))
        log.error("scenario %r not found (available: %s)", name, known)
        return 2
    zctx = zmq.Context.instance()
    auth = start_authenticator(zctx, curve) if curve is not None else None
    controller = api = pipeline = store = None
    stopping = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.append(True))
    try:
        controller = Controller(
            library.wall_data, library.scenarios, name, list(library.wall.ids), bind, zctx, curve,
            library.fields,
        )
        controller.wall_path = Path(wall_path)
        if sources:
            store = _open_store(store_path or default_store_path(library.wall.name))
            pipeline = _pipeline(controller, sources, brands, store, moderation_path, tracked)
            pipeline.start()
            log.info("data from %s", ", ".join(sources))
        source = LibrarySource(wall_path, scenarios_dir, library.paths)
        if http:
            api = start_http_api(controller, http, token, pin, source, default_cache_dir())
            log.info("HTTP API on %s", api.url)
        signal.signal(signal.SIGHUP, lambda *_: _reload_in_background(controller, source, api))
        log.info("controller for wall %s on %s, scenario %s%s", library.wall.name, bind, name,
                 " (CURVE)" if curve else "")
        controller.run(lambda: bool(stopping))
    finally:
        if api is not None:
            api.close()
        if pipeline is not None:
            pipeline.stop()
        if store is not None:
            store.close()
        if controller is not None:
            controller.close()
        if auth is not None:
            auth.stop()
    return 0


def _reload_in_background(controller, source: LibrarySource, api) -> None:
    """SIGHUP: read the scenario files again off the controller's thread, then swap them in."""

    def reload() -> None:
        try:
            scenarios, report = source.reload_into(controller)
        except Exception:  # a reload must never take the wall down
            log.exception("scenario reload failed; the wall keeps the previous scenarios")
            return
        if api is not None and api.thumbnails is not None:
            api.thumbnails.update(controller.wall, scenarios)
        log.info("scenarios reloaded (SIGHUP): %s", report)

    threading.Thread(target=reload, name="wall-reload", daemon=True).start()


def default_store_path(wall_name: str) -> Path:
    """Where aggregates persist by default: the user's state folder, one file per wall."""
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "wallrenderer" / f"{wall_name}.sqlite"


def _open_store(path):
    """The SQLite store, or None (logged) when it cannot be opened: data still flows."""
    from controller.store import Store

    try:
        store, warning = Store.open_or_recover(Path(path))
    except WallError as exc:
        log.warning("%s; aggregates will not survive a restart", exc)
        return None
    if warning:
        log.warning("%s", warning)
    log.info("aggregates kept in %s", store.path)
    return store


def _pipeline(controller, sources, brands, store, moderation_path, tracked):
    from controller.moderation.policy import ModerationPolicy
    from controller.pipeline import DEFAULT_BRANDS, DataPipeline

    policy = ModerationPolicy.load(moderation_path) if moderation_path else None
    pipeline = DataPipeline(
        sources,
        list(brands or DEFAULT_BRANDS),
        lambda delta: controller.call(lambda: controller.publish_data(delta)),
        store,
        policy,
        fields=controller.data_fields,
        tracked=tracked or (),
    )
    controller.pipeline = pipeline
    return pipeline
