"""The running visitor tour: which step shows, until when, held or not.

`TourPlayer` lives on the controller's loop thread. Each step is an ordinary
two-phase switch, but committed for the tick at which the step is due, so a
step lasts its `seconds` to the frame: the next step's switch is prepared
PREPARE_LEAD_S before its boundary and committed for it (README, "Tours"). A presenter's manual
switch holds the tour; resuming shows the held step again for the time it
had left. The state (tour, step, time left) is saved to the controller's
store on every change and at shutdown, so a restarted controller carries on.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol

from wallrenderer.core.errors import WallError
from wallrenderer.core.layout.params import apply_params
from wallrenderer.core.layout.tours import Step, Tour

log = logging.getLogger(__name__)

# Renderers build the next step this long before it is due: a full-HD panel on
# a software GPU needs a few seconds (benchmarks/tour.py).
PREPARE_LEAD_S = 3.0
STORE_KEY = "tour"


class UnknownTour(WallError):
    """A tour name the controller has no file for."""


class NoTour(WallError):
    """A tour command (next, hold, ...) while no tour runs."""


class Wall(Protocol):
    """What the player needs of the controller: scenario data and timed switches."""

    scenarios: dict[str, dict[str, Any]]

    def showing(self) -> dict[str, Any]: ...

    def queue_switch(self, name: str, data: dict[str, Any], at: float | None) -> Future: ...

    def cancel_timed(self) -> None: ...

    def set_tour_policy(self, active: bool) -> None: ...


@dataclass
class _Running:
    tour: Tour
    step: int
    next_at: float | None = None  # when the current step ends (None: not started yet, or held)
    left: float | None = None  # seconds the step still has while held or before it starts
    held: bool = False
    generation: int = 0  # bumped on every change, so a stale switch result is ignored
    pending: bool = False  # a step's switch is on its way


class TourPlayer:
    """Runs at most one tour on a wall; every method runs on the controller's thread."""

    def __init__(self, wall: Wall, tours: dict[str, Tour], store=None):
        self.wall = wall
        self.tours = dict(tours)
        self.store = store
        self.running: _Running | None = None

    # --- commands -----------------------------------------------------------------

    def start(self, name: str, now: float, step: int = 0, left: float | None = None,
              held: bool = False) -> dict[str, Any]:
        """Start tour `name` at `step`; the first step is switched to at once.

        Raises:
            UnknownTour: no tour by that name.
        """
        tour = self.tours.get(name)
        if tour is None:
            have = ", ".join(sorted(self.tours)) or "none"
            raise UnknownTour(f"no tour {name!r} (have: {have})")
        return self._begin(tour, now, step, left, held)

    def start_adhoc(self, names: list[str], seconds: float, now: float) -> dict[str, Any]:
        """A tour of whole scenarios, `seconds` each, not from a file (the older API).

        It is not listed with the tour files, and not resumed after a restart.
        """
        unknown = [n for n in names if n not in self.wall.scenarios]
        if unknown:
            raise UnknownTour(f"no scenario {', '.join(map(repr, unknown))} for the tour")
        return self._begin(Tour("adhoc", tuple(Step(n, seconds) for n in names)), now)

    def _begin(self, tour: Tour, now: float, step: int = 0, left: float | None = None,
               held: bool = False) -> dict[str, Any]:
        self.wall.cancel_timed()
        self.running = _Running(tour, step % len(tour.steps))
        self.wall.set_tour_policy(True)
        log.info("tour %s started at step %d", tour.name, self.running.step)
        if held:
            self.running.held, self.running.left = True, left
            self.save(now)
        else:
            self._show(now, left=left)
        return self.status(now)

    def stop(self, now: float) -> dict[str, Any]:
        """End the tour; the wall stays on what it shows."""
        was = self.running
        self.running = None
        self.wall.cancel_timed()
        self.wall.set_tour_policy(False)
        self.save(now)
        return {"stopped": was is not None, "scenario": self.wall.showing()["name"]}

    def next(self, now: float) -> dict[str, Any]:
        return self._go(now, +1)

    def previous(self, now: float) -> dict[str, Any]:
        return self._go(now, -1)

    def hold(self, now: float, held: bool = True) -> dict[str, Any]:
        """Freeze the current step (`held`), or release it to run the time it had left."""
        run = self._need()
        if held and not run.held:
            run.left = self._left(run, now)
            run.held, run.next_at, run.pending = True, None, False
            run.generation += 1
            self.wall.cancel_timed()
            log.info("tour %s held at step %d, %.1f s left", run.tour.name, run.step, run.left)
        elif not held and run.held:
            run.held = False
            self._show(now, left=run.left)
        self.save(now)
        return self.status(now)

    def manual_switch(self, now: float) -> None:
        """A presenter switched by hand: the tour holds instead of overriding them."""
        if self.running is not None and not self.running.held:
            self.hold(now)

    # --- the loop -------------------------------------------------------------------

    def advance(self, now: float) -> None:
        """Prepare the next step shortly before the current one ends."""
        run = self.running
        if run is None or run.held or run.pending or run.next_at is None:
            return
        if now < run.next_at - PREPARE_LEAD_S:
            return
        last = run.step + 1 >= len(run.tour.steps)
        if last and not run.tour.loop:
            if now >= run.next_at:
                log.info("tour %s finished", run.tour.name)
                self.stop(now)
            return
        try:
            self._show(now, at=run.next_at, step=(run.step + 1) % len(run.tour.steps))
        except NoTour as exc:
            log.warning("%s", exc)

    def status(self, now: float) -> dict[str, Any] | None:
        """The `tour` object of /api/status (README, "Tours"); None when no tour runs."""
        run = self.running
        if run is None:
            return None
        step = run.tour.steps[run.step]
        return {
            "name": run.tour.name,
            "step": run.step,
            "steps": len(run.tour.steps),
            "scenario": step.scenario,
            "caption": step.caption,
            "params": dict(step.params) if step.params else None,
            "held": run.held,
            "next_at": None if run.held else run.next_at,
            "left_s": round(self._left(run, now), 3),
        }

    def listing(self) -> list[dict[str, Any]]:
        """Every tour with its steps, for GET /api/tours."""
        return [self.tours[n].wire() for n in sorted(self.tours)]

    # --- persistence ----------------------------------------------------------------

    def save(self, now: float) -> None:
        """Write the running tour (or its absence) to the store; failures are logged."""
        if self.store is None:
            return
        run = self.running
        state = None if run is None else {
            "name": run.tour.name, "step": run.step, "held": run.held,
            "left": self._left(run, now), "saved_at": now,
        }
        try:
            self.store.save_state(STORE_KEY, {"tour": state})
        except WallError as exc:
            log.warning("tour state not saved: %s", exc)

    def restore(self, now: float) -> dict[str, Any] | None:
        """Carry on the tour saved in the store, at its step with the time it had left."""
        if self.store is None:
            return None
        try:
            saved = (self.store.load_state(STORE_KEY) or {}).get("tour")
        except WallError as exc:
            log.warning("tour state not read: %s", exc)
            return None
        if not isinstance(saved, dict) or saved.get("name") not in self.tours:
            return None
        try:
            step, left = int(saved["step"]), float(saved["left"])
        except (KeyError, TypeError, ValueError):
            log.warning("ignoring a malformed saved tour state: %r", saved)
            return None
        log.info("resuming tour %s at step %d with %.1f s left", saved["name"], step, left)
        return self.start(saved["name"], now, step, max(0.0, left), bool(saved.get("held")))

    # --- inside -----------------------------------------------------------------------

    def _need(self) -> _Running:
        if self.running is None:
            raise NoTour("no tour is running (start one with POST /api/tour/start)")
        return self.running

    def _go(self, now: float, by: int) -> dict[str, Any]:
        run = self._need()
        self.wall.cancel_timed()  # the next step, if already prepared, is not shown
        run.step = (run.step + by) % len(run.tour.steps)
        run.held = False
        self._show(now)
        self.save(now)
        return self.status(now)

    @staticmethod
    def _left(run: _Running, now: float) -> float:
        if run.next_at is not None and not run.held:
            return max(0.0, run.next_at - now)
        if run.left is not None:
            return run.left
        return run.tour.steps[run.step].seconds

    def _show(self, now: float, at: float | None = None, left: float | None = None,
              step: int | None = None) -> None:
        """Switch to step `step` (default: the current one), activating at `at` (None: at once).

        The step becomes current, and its clock starts, when the switch
        activates; it runs `left` seconds (a resumed step) or the step's own.

        Raises:
            NoTour: the step's scenario left the library (a reload); the tour stops.
        """
        run = self.running
        index = run.step if step is None else step
        step_ = run.tour.steps[index]
        if step_.scenario not in self.wall.scenarios:
            self.stop(now)
            raise NoTour(f"tour {run.tour.name} stopped: step {index + 1} shows "
                         f"{step_.scenario!r}, which the scenario files no longer have")
        seconds = step_.seconds if left is None else left
        run.generation += 1
        run.pending = True
        if at is None:
            run.left, run.next_at = seconds, None
        generation = run.generation
        data = apply_params(self.wall.scenarios[step_.scenario], step_.params, step_.caption)

        def started(activates_at: float) -> None:
            if self.running is run and run.generation == generation:
                run.step = index
                run.next_at, run.left, run.pending = activates_at + seconds, None, False
                self.save(activates_at)

        showing = self.wall.showing()
        if showing["name"] == step_.scenario and showing["data"] == data:
            started(now if at is None else at)
            return
        future = self.wall.queue_switch(step_.scenario, data, at)
        future.add_done_callback(
            lambda f: started(f.result()["activates_at"]) if not f.exception() else None)
