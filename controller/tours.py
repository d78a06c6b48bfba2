"""Visitor tours: the wall shows scenarios in turn, a step at a time, until stopped.

Part of the `Controller`, whose loop thread owns it: other threads go through
`Controller.call()`.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from controller.library import UnknownScenario
from wallrenderer.core.errors import WallError

log = logging.getLogger("controller.node")

TOUR_SECONDS = 30.0


@dataclass
class Tour:
    """A visitor tour: scenarios shown in turn, `seconds` each."""

    scenarios: list[str]
    seconds: float
    index: int
    next_at: float
    held: bool = False

    def wire(self) -> dict[str, Any]:
        current = self.scenarios[self.index] if self.index >= 0 else None
        return {"scenarios": self.scenarios, "seconds": self.seconds, "current": current,
                "held": self.held}


class Tours:
    """The tour methods of the `Controller` (its scenarios, switch queue and pipeline)."""

    tour: Tour | None
    scenarios: dict[str, dict[str, Any]]
    scenario_name: str
    pipeline: Any
    _switch: Any
    _queued_switches: list

    def start_tour(self, names: list[str] | None = None, seconds: float = TOUR_SECONDS) -> dict:
        """Cycle the wall through scenarios, each shown for `seconds`, until `stop_tour`.

        While a tour runs, the feed follows the stricter tour moderation policy.

        Raises:
            UnknownScenario: a name the controller does not have.
        """
        names = list(names) if names else sorted(self.scenarios)
        unknown = [n for n in names if n not in self.scenarios]
        if unknown:
            raise UnknownScenario(f"no scenario {', '.join(map(repr, unknown))} for the tour")
        self.tour = Tour(names, seconds, index=-1, next_at=0.0)
        if self.pipeline is not None:
            self.pipeline.moderator.set_tour(True)
        log.info("tour started: %s, %g s each", ", ".join(names), seconds)
        self._advance_tour(time.time())
        return self.tour.wire()

    def stop_tour(self) -> dict:
        """End the tour; the wall stays on the scenario it shows."""
        was = self.tour.wire() if self.tour else None
        self.tour = None
        if self.pipeline is not None:
            self.pipeline.moderator.set_tour(False)
        return {"stopped": was is not None, "scenario": self.scenario_name}

    def step_tour(self, steps: int) -> dict:
        """Show the tour's next (1) or previous (-1) scenario now; a held tour stays held.

        Raises:
            WallError: no tour runs.
        """
        tour = self._running_tour()
        tour.index = (tour.index + steps - 1) % len(tour.scenarios)
        tour.next_at = 0.0
        self._advance_tour(time.time(), force=True)
        return tour.wire()

    def hold_tour(self) -> dict:
        """Keep the tour on its current scenario until held again (a toggle).

        Raises:
            WallError: no tour runs.
        """
        tour = self._running_tour()
        tour.held = not tour.held
        tour.next_at = time.time() + tour.seconds
        return tour.wire()

    def _running_tour(self) -> Tour:
        if self.tour is None:
            raise WallError("no tour is running: start one first")
        return self.tour

    def _advance_tour(self, now: float, force: bool = False) -> None:
        tour = self.tour
        if tour is None or (tour.held and not force) or now < tour.next_at:
            return
        if self._switch or self._queued_switches:
            return
        tour.index = (tour.index + 1) % len(tour.scenarios)
        tour.next_at = now + tour.seconds
        name = tour.scenarios[tour.index]
        if name != self.scenario_name:
            started: Future = Future()
            started.set_running_or_notify_cancel()
            self._queued_switches.append((name, started, now))
