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
import time
from pathlib import Path

import zmq

from controller.http import start_http_api
from controller.http.thumbnails import default_cache_dir
from controller.library import LibrarySource, load_library, tours_for
from controller.node import Controller
from wallrenderer.core.errors import WallError
from wallrenderer.core.security import start_authenticator
from wallrenderer.core.shutdown import stop_on_signals

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
    tours_dir: str | None = None,
    schedule_path: str | None = None,
) -> int:
    """Serve a wall until SIGINT or SIGTERM; exit code for the command line.

    `http` (HOST:PORT) turns on the HTTP API and the tablet page (`pin` unlocks
    it); SIGHUP reloads the scenario files; `curve` (a `CurveServer`)
    encrypts and authenticates every ZeroMQ connection; `sources` are
    `--source` specs whose posts become the data frames the widgets draw;
    `tracked` are the `--track` campaign hashtags and URLs; `tours_dir` holds
    the tour files (default: the shipped ones, with the shipped scenarios).
    A running tour is kept in the store, so it needs one (`--store`, or the
    default with `--source`) to survive a restart. `schedule_path` is the
    wall's schedule (a bad one is reported and left out).
    """
    stopping = stop_on_signals()
    library = load_library(wall_path, scenarios_dir)
    tours = tours_for(library, tours_dir, scenarios_dir)
    name = scenario or "testcard"
    if name not in library.scenarios:
        known = ", ".join(sorted(library.scenarios))
        log.error("scenario %r not found (available: %s)", name, known)
        return 2
    zctx = zmq.Context.instance()
    auth = start_authenticator(zctx, curve) if curve is not None else None
    controller = api = pipeline = store = scheduler = None
    try:
        controller = Controller(
            library.wall_data, library.scenarios, name, list(library.wall.ids), bind, zctx, curve,
            library.fields, tours,
        )
        controller.wall_path = Path(wall_path)
        if sources or store_path:
            store = _open_store(store_path or default_store_path(library.wall.name))
        if sources:
            pipeline = _pipeline(controller, sources, brands, store, moderation_path, tracked)
            pipeline.start()
            log.info("data from %s", ", ".join(sources))
        controller.tours.store = store
        controller.tours.restore(time.time())
        if schedule_path:
            scheduler = _scheduler(controller, schedule_path, library.scenarios, tours)
        source = LibrarySource(wall_path, scenarios_dir, library.paths)
        if http:
            api = start_http_api(controller, http, token, pin, source, default_cache_dir())
            log.info("HTTP API on %s", api.url)
        signal.signal(signal.SIGHUP, lambda *_: _reload_in_background(controller, source, api))
        log.info("controller for wall %s on %s, scenario %s%s", library.wall.name, bind, name,
                 " (CURVE)" if curve else "")
        controller.run(stopping.is_set)
        controller.tours.save(time.time())
    finally:
        if scheduler is not None:
            scheduler.stop()
        if pipeline is not None:
            pipeline.stop()  # first: it saves the aggregates, the one thing a stop can lose
        if api is not None:
            api.close()
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


def _scheduler(controller, path, scenarios, tours):
    """The wall's schedule at work, or None (every problem logged) when the file is bad."""
    from controller.schedule import Scheduler
    from wallrenderer.core.layout.problems import errors_only, read_yaml
    from wallrenderer.core.layout.schedules import build_schedule

    doc, problems = read_yaml(path)
    schedule = None
    if doc is not None:
        schedule, more = build_schedule(doc, scenarios, tours)
        problems += more
    for problem in problems:
        log.warning("%s", problem)
    if schedule is None or errors_only(problems):
        log.error("%s: schedule not used", path)
        return None
    scheduler = Scheduler(schedule, controller, Path(path).parent)
    scheduler.start()
    controller.schedule = scheduler
    return scheduler


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
