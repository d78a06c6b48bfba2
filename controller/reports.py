"""What the controller knows of its renderers, and the wall's status and health built from it."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

# A loop turn takes milliseconds; one that has not come round for this long is stalled.
LOOP_STALLED_S = 2.0
RENDERER_GONE_S = 3.0


@dataclass
class RendererStatus:
    """What the controller knows of one renderer, from its reports."""

    display: str
    last_seen: float = 0.0
    report: dict[str, Any] = field(default_factory=dict)

    def connected(self, now: float) -> bool:
        return now - self.last_seen < RENDERER_GONE_S


class Roster:
    """The controller's table of renderers, and the connect and disconnect events it logs.

    Loop thread only; status and health read `renderers` through a copy.

    Args:
        display_ids: the wall's displays.
        events: where the connect and disconnect lines go: the controller's own
            log, which operators filter on.
    """

    def __init__(self, display_ids: list[str], events: logging.Logger):
        self.display_ids = display_ids
        self.events = events
        self.renderers: dict[str, RendererStatus] = {}
        self._online: set[str] = set()  # renderers logged as connected

    def connected(self, now: float) -> set[str]:
        """Displays of this wall whose renderer reports recently and receives what we publish.

        A renderer that has only just connected may not get a published order
        yet; switches and captures do not wait for it.
        """
        return {d for d in self.display_ids if d in self.renderers and
                self.renderers[d].connected(now) and self.renderers[d].report.get("synced")}

    def record(self, body: dict) -> RendererStatus:
        """The record of the renderer that sent `body`, marked as just heard from.

        Ids that are not on this wall (a misconfigured renderer) are listed while
        they keep reporting, then forgotten, so they cannot grow the table forever.
        """
        now = time.time()
        display = str(body.get("display"))
        if display not in self.renderers and display not in self.display_ids:
            for gone in [d for d, r in self.renderers.items()
                         if d not in self.display_ids and not r.connected(now)]:
                del self.renderers[gone]
        status = self.renderers.setdefault(display, RendererStatus(display))
        status.last_seen = now
        if display not in self._online:
            self._online.add(display)
            self.events.info("renderer %s connected", display)
        return status

    def log_disconnects(self, now: float) -> None:
        """One line when a renderer falls silent, as one when it connected: events, not polls."""
        for display in sorted(self._online):
            status = self.renderers.get(display)
            if status is None or not status.connected(now):
                self._online.discard(display)
                self.events.warning("renderer %s disconnected (silent for %.0f s)", display,
                            RENDERER_GONE_S)


def health(controller) -> dict[str, Any]:
    """Whether the wall is whole, for `/api/health` and watchdogs; safe from any thread.

    It does not go through the loop, so a stalled loop is reported rather
    than waited on. `ok` is false (the HTTP layer answers 503) when the loop
    is stalled, a renderer of the wall is missing or stale, or a source is
    degraded; `problems` says which, one line each.
    """
    now, turned = time.time(), controller.loop_turned_at
    loop_age = None if turned is None else time.monotonic() - turned
    renderers = dict(controller.roster.renderers)
    connected = sorted(d for d in controller.display_ids
                       if d in renderers and renderers[d].connected(now))
    stale = sorted(d for d in connected if renderers[d].report.get("stale_since"))
    missing = sorted(set(controller.display_ids) - set(connected))
    pipeline = controller.pipeline
    degraded = sorted(s["name"] for s in (pipeline.source_status() if pipeline else [])
                      if s.get("state") == "degraded")
    problems = []
    if loop_age is None or loop_age > LOOP_STALLED_S:
        problems.append("controller loop not running" if loop_age is None else
                        f"controller loop stalled for {loop_age:.1f} s")
    problems += [f"renderer {d} missing" for d in missing]
    problems += [f"renderer {d} stale" for d in stale]
    problems += [f"source {name} degraded" for name in degraded]
    return {
        "ok": not problems,
        "problems": problems,
        "loop_age_s": loop_age,
        "renderers": {"expected": len(controller.display_ids), "connected": len(connected),
                      "missing": missing, "stale": stale},
        "sources_degraded": degraded,
    }


def status(controller) -> dict[str, Any]:
    """The wall's state as `wallrenderer status` and the HTTP API report it."""
    now = time.time()
    ids = sorted(set(controller.display_ids) | controller.roster.renderers.keys())
    rows = []
    for display in ids:
        status = controller.roster.renderers.get(display, RendererStatus(display))
        report = {k: v for k, v in status.report.items() if k != "display"}
        rows.append({**report, "id": display, "connected": status.connected(now)})
    return {
        "scenario": controller.scenario_name,
        "switching_to": controller._switch.name if controller._switch else None,
        "epoch": controller.epoch,
        "seq": controller.seq,
        "dropped": controller.dropped,
        "renderers": rows,
        "sources": controller.pipeline.source_status() if controller.pipeline else [],
        "alerts": controller.data.get("alerts", []),
        "tour": controller.tours.status(now),
    }
