"""The renderer process: one per physical display.

It follows the controller's state through `Link`, draws its slice with a
`PanelView`, and on a capture order writes the frame for one shared instant as
a PNG at the panel's native resolution.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wallrenderer.config import LayoutError, scenario_from_data, wall_from_data
from wallrenderer.gl import (
    WindowPlacement,
    create_headless_context,
    create_window,
    release_framebuffer,
)
from wallrenderer.link import Link
from wallrenderer.scene import PanelView, read_rgb

log = logging.getLogger(__name__)

REPORT_INTERVAL_S = 0.5


@dataclass(frozen=True)
class RendererOptions:
    """How a renderer presents: headless, in a window, or fullscreen on a screen."""

    connect: str
    display: str
    mode: str = "headless"  # "headless" | "windowed" | "fullscreen"
    screen: int = 0
    placement: WindowPlacement | None = None
    as_mounted: bool = False
    fps: float = 60.0


def save_png(path: Path, rgb: np.ndarray) -> None:
    """Write atomically, so a reader never sees half a file."""
    from PIL import Image

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    Image.fromarray(rgb).save(tmp, format="PNG")
    os.replace(tmp, path)


class Renderer:
    """Render loop of one display."""

    def __init__(self, options: RendererOptions):
        self.options = options
        self.window = None
        if options.mode == "headless":
            self.ctx = create_headless_context()
        else:
            self.window, self.ctx = create_window(
                f"wall {options.display}",
                options.placement,
                fullscreen=options.mode == "fullscreen",
                screen=options.screen,
            )
            self.window.on_close = self.stop
        self.link = Link(options.connect, options.display)
        self.view: PanelView | None = None
        self.offscreen = None
        self.clock_offset = 0.0
        self.clock_error = None
        self.stale_since: float | None = None
        self.pending_captures: list[dict] = []
        self.frame_times: list[float] = []
        self.frames_since_report = 0
        self.last_report = time.monotonic()
        self.running = True

    def stop(self) -> None:
        self.running = False

    def shared_now(self) -> float:
        """The controller's clock, as estimated over the link."""
        return time.time() + self.clock_offset

    def run(self) -> None:
        next_report = 0.0
        period = 1.0 / self.options.fps
        while self.running:
            for event in self.link.poll():
                self._handle(event.kind, event.body)
            now = self.shared_now()
            if self.window is not None:
                self.window.dispatch_events()
            started = time.perf_counter()
            self._present(now)
            self.frame_times.append(time.perf_counter() - started)
            self.frames_since_report += 1
            self._do_captures(self.shared_now())
            if time.monotonic() >= next_report:
                self._report()
                next_report = time.monotonic() + REPORT_INTERVAL_S
            if self.window is None:
                next_tick = (math.floor(self.shared_now() / period) + 1) * period
                time.sleep(max(0.0, next_tick - self.shared_now()))
        self.close()

    def _handle(self, kind: str, body: dict) -> None:
        if kind == "state":
            self._apply_state(body)
        elif kind == "clock":
            self.clock_offset, self.clock_error = body["offset"], body["error"]
        elif kind == "capture":
            self.pending_captures.append(body)
        elif kind == "link":
            self.stale_since = body.get("stale_since")

    def _apply_state(self, body: dict) -> None:
        """Rebuild for a new layout; a layout that does not load keeps the previous one."""
        try:
            wall = wall_from_data(body["wall"], source="<controller wall>")
            scenario = scenario_from_data(
                body["scenario"], source="<controller scenario>", wall=wall
            )
            wall.panel(self.options.display)
        except (LayoutError, KeyError, TypeError, ValueError) as exc:
            log.error("ignoring a layout from the controller: %s", exc)
            return
        if self.view is None or self.view.wall != wall:
            if self.view is not None:
                self.view.release()
            scale = 1.0
            if self.window is not None:
                native_w = wall.panel(self.options.display).mounted_resolution[0]
                scale = self.window.get_framebuffer_size()[0] / native_w
            self.view = PanelView(
                self.ctx, wall, self.options.display, scale, self.options.as_mounted
            )
        self.view.set_scenario(scenario)
        log.info("showing scenario %s", scenario.name)

    def _target(self):
        """Where frames go: the window, or an offscreen buffer at native resolution."""
        if self.window is not None:
            return self.ctx.detect_framebuffer()
        return self._offscreen()

    def _offscreen(self):
        size = self.view.panel.resolution
        if self.offscreen is None or self.offscreen.size != size:
            if self.offscreen is not None:
                release_framebuffer(self.ctx, self.offscreen)
            self.offscreen = self.ctx.simple_framebuffer(size)
        return self.offscreen

    def _present(self, now: float) -> None:
        if self.view is None:
            if self.window is not None:
                self.ctx.screen.use()
                self.ctx.clear(0.05, 0.05, 0.08)
                self.window.flip()
            return
        self.view.render(now, self._target())
        if self.window is not None:
            self.window.flip()

    def _do_captures(self, now: float) -> None:
        """Write the frame for the capture's shared instant, once that instant has come."""
        if self.view is None:
            return
        for order in [o for o in self.pending_captures if now >= o["at"]]:
            self.pending_captures.remove(order)
            fbo = self._offscreen()
            self.view.render(order["at"], fbo)
            out_dir = Path(order["dir"])
            out_dir.mkdir(parents=True, exist_ok=True)
            path = out_dir / f"{self.options.display}.png"
            save_png(path, read_rgb(fbo))
            self.link.send("captured", {"at": order["at"], "path": str(path.resolve())})

    def _report(self) -> None:
        times = self.frame_times[-120:]
        self.frame_times = times
        frame_ms = 1000 * float(np.median(times)) if times else None
        now = time.monotonic()
        fps = self.frames_since_report / max(1e-6, now - self.last_report)
        self.frames_since_report, self.last_report = 0, now
        self.link.send(
            "report",
            {
                "frame_ms": frame_ms,
                "fps": round(fps, 1),
                "scenario": self.view.scenario.name if self.view else None,
                "clock_offset_ms": 1000 * self.clock_offset,
                "clock_error_ms": None if self.clock_error is None else 1000 * self.clock_error,
                "stale_since": self.stale_since,
                "dropped": self.link.dropped,
            },
        )

    def close(self) -> None:
        if self.view is not None:
            self.view.release()
            self.view = None
        if self.offscreen is not None:
            release_framebuffer(self.ctx, self.offscreen)
            self.offscreen = None
        self.link.close()
        if self.window is not None:
            self.window.close()


def run_renderer(options: RendererOptions) -> int:
    """Run one display until SIGINT or SIGTERM (or its window closes)."""
    renderer = Renderer(options)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: renderer.stop())
    renderer.run()
    return 0
