"""The renderer process: one per physical display.

It follows the controller's state through `Link`, draws its slice with a
`PanelView`, and on a capture order writes the frame for one shared instant as
a PNG at the panel's native resolution.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wallrenderer.core.dataframe import apply_delta
from wallrenderer.core.errors import WallError
from wallrenderer.core.geometry import Wall
from wallrenderer.core.layout.scenarios import Scenario, scenario_from_data
from wallrenderer.core.layout.walls import wall_from_data
from wallrenderer.core.protocol import Message
from wallrenderer.core.security import CurveClient
from wallrenderer.core.shutdown import stop_on_signals
from wallrenderer.core.systemd import SystemdNotifier
from wallrenderer.core.timing import next_tick, tick_at, ticks_per_frame, time_of
from wallrenderer.core.wallimage import encode_preview
from wallrenderer.renderer import glyphs
from wallrenderer.renderer.cache import LayoutCache
from wallrenderer.renderer.captures import capture_path
from wallrenderer.renderer.gl import (
    WindowPlacement,
    create_headless_context,
    create_window,
    release_framebuffer,
    swap_interval,
)
from wallrenderer.renderer.link import Link
from wallrenderer.renderer.reports import FrameStats, source_status_line
from wallrenderer.renderer.scene import PanelView, read_rgb
from wallrenderer.renderer.shaders import ProgramCache

log = logging.getLogger(__name__)

REPORT_INTERVAL_S = 0.5
RECEIPT_WINDOW = 60
# A switch cross-fades from the old scenario to the new one over this long,
# from the switch tick on shared time, so every panel fades in step.
CROSSFADE_S = 0.4
# The outgoing view is kept a little past the fade so a capture ordered for an
# instant inside the fade, and served late, still shows that instant.
FADE_KEPT_S = 1.6
FROM_CONTROLLER = ("state", "prepare", "commit", "data", "hb")
# A switch frame draws both scenes, at the very moment every other renderer on
# the machine does too: it is started this many times their measured cost early.
SWITCH_COST_MARGIN = 2.0


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
    curve: CurveClient | None = None
    capture_dir: Path = Path(".")  # captures are written only under this folder
    cache: Path | None = None  # the cold-start cache file (cache.py); None: no cache


def save_png(path: Path, rgb: np.ndarray) -> None:
    """Write atomically, so a reader never sees half a file."""
    from PIL import Image

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    Image.fromarray(rgb).save(tmp, format="PNG")
    os.replace(tmp, path)


class Renderer:
    """Render loop of one display, paced on the shared tick grid.

    The frame for tick k shows shared time k / TICK_HZ; a renderer that falls
    behind skips ticks instead of drifting. A committed switch takes effect at
    the first frame whose tick is at or after the switch tick.
    """

    def __init__(self, options: RendererOptions, stopping: threading.Event | None = None):
        self.options = options
        self.stopping = stopping or threading.Event()
        self.window = None
        self.swap_interval: int | None = None
        if options.mode == "headless":
            self.ctx = create_headless_context()
        else:
            self.window, self.ctx = create_window(
                f"wallrenderer {options.display}",
                options.placement,
                fullscreen=options.mode == "fullscreen",
                screen=options.screen,
            )
            self.window.on_close = self.stop
            self.swap_interval = swap_interval(self.window)
            if self.swap_interval == 1:
                log.info("vsync on: the GL driver holds swap interval 1")
            elif self.swap_interval is None:
                log.warning("vsync unknown: this GL driver offers no swap control "
                            "(GLX_EXT_swap_control or GLX_MESA_swap_control)")
            else:
                log.warning("vsync off: the GL driver holds swap interval %d; frames may tear",
                            self.swap_interval)
        self.programs = ProgramCache(self.ctx)
        glyphs.warm_up()
        self.link = Link(options.connect, options.display, curve=options.curve)
        self.wall: Wall | None = None
        self.view: PanelView | None = None
        self.data: dict = {}
        self.latency_s = 0.0
        self.prepared: dict[int, PanelView] = {}
        # Seconds a prepared view took to draw (warm), and whether data changed since.
        self.prepared_cost = 0.0
        self.prepared_stale = False
        self.fading: tuple[PanelView, float] | None = None
        self.scheduled: tuple[int, int] | None = None
        self.offscreen = None
        self.clock_offset = 0.0
        self.clock_error: float | None = None
        self.stale_since: float | None = None
        self.pending_captures: list[dict] = []
        self.unpresented: list[float] = []
        self.stats = FrameStats()
        self.seq = 0
        self.activated_tick: int | None = None
        self.activated_at: float | None = None
        self.every = ticks_per_frame(options.fps)
        self.malformed = 0
        self.next_report = 0.0
        self.cache = LayoutCache(options.cache) if options.cache else None
        self.layout_sent: tuple[dict, dict] | None = None  # raw wall and scenario shown
        self.prepared_sent: dict[int, dict] = {}
        if self.cache is not None:
            self._start_from_cache()

    def _start_from_cache(self) -> None:
        """Draw what was last shown, marked stale since it was saved, until a controller answers."""
        cached = self.cache.load()
        if cached is None:
            return
        self._apply_state(cached)
        if self.view is not None:
            self.stale_since = float(cached["saved_at"])
            self._show_status()
            log.info("no controller yet: showing the cached %s, marked stale",
                     self.view.scenario.name)

    def stop(self) -> None:
        self.stopping.set()

    def shared_now(self) -> float:
        """The controller's clock, as estimated over the link."""
        return time.time() + self.clock_offset

    def run(self) -> None:
        systemd = SystemdNotifier()
        systemd.ready()
        while not self.stopping.is_set():
            systemd.kick()  # from the render loop itself: a hung loop is restarted
            self.step()
        self.close()

    def step(self) -> None:
        """One turn of the loop: take events, draw and present the next frame, report."""
        for event in self.link.poll():
            if self.stopping.is_set():
                return  # a queue of switches to build must not hold up a stop
            self._handle(event)
        if self.prepared_stale:
            self._keep_prepared_current()
        if self.window is not None:
            self.window.dispatch_events()
        tick = self._next_tick()
        drawn = self._frame(tick)
        if drawn is not None:
            self.stats.add(drawn, tick)
        self._do_captures(self.shared_now())
        if time.monotonic() >= self.next_report:
            self._report()
            if self.cache is not None and self.stale_since is None and self.layout_sent:
                self.cache.keep(*self.layout_sent, self.data)
            self.next_report = time.monotonic() + REPORT_INTERVAL_S

    def _next_tick(self) -> int:
        """The next tick on this renderer's grid, or a committed switch tick between two.

        A renderer capped below 60 fps still draws the switch tick itself, so every
        renderer that keeps up shows a switch on the same tick.

        A switch frame draws two scenes (the cross-fade), so it may take longer
        than one tick: when there would not be time left to draw it after the
        next frame, the next frame is skipped and the switch frame starts now.
        """
        now = self.shared_now()
        tick = next_tick(now + self.stats.last_frame_s, self.every)
        if self.scheduled is not None:
            switch_tick = self.scheduled[1]
            if tick_at(now) < switch_tick < tick:
                return switch_tick
            switch_cost = SWITCH_COST_MARGIN * (self.stats.last_frame_s + self.prepared_cost)
            if tick < switch_tick and time_of(tick) + switch_cost > time_of(switch_tick):
                return switch_tick
        return tick

    def _frame(self, tick: int) -> float | None:
        """Draw the frame for `tick`, wait for that tick's time, then present it.

        Returns:
            Seconds spent drawing (not waiting), which sets how far ahead the next
            frame aims; None while there is nothing to draw yet.
        """
        if self.scheduled is not None and tick >= self.scheduled[1]:
            self._activate(*self.scheduled, tick)
        if self.view is None:
            self._present_waiting(tick)
            return None
        started = time.perf_counter()
        self._draw(time_of(tick) + self.latency_s, self._target())
        self.ctx.finish()
        drawn = time.perf_counter() - started
        time.sleep(max(0.0, time_of(tick) - self.shared_now()))
        if self.window is not None:
            self.window.flip()
        presented = self.shared_now()
        if self.activated_tick == tick and self.activated_at is None:
            self.activated_at = presented
        self.stats.latencies += [presented - sent for sent in self.unpresented]
        self.unpresented.clear()
        return drawn

    def _present_waiting(self, tick: int) -> None:
        """Before the first layout arrives: a dark window, or idle headless."""
        self.unpresented.clear()
        if self.window is not None:
            self.ctx.screen.use()
            self.ctx.clear(0.05, 0.05, 0.08)
            self.window.flip()
        else:
            self.link.wait(time_of(tick) - self.shared_now())

    def _handle(self, event: Message) -> None:
        """Apply one event; a message whose body lacks what its kind needs is dropped."""
        try:
            self._apply(event)
        except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as exc:
            self.malformed += 1
            log.warning("dropped a %s message with a malformed body: %r", event.kind, exc)

    def _apply(self, event: Message) -> None:
        kind, body = event.kind, event.body
        if kind in FROM_CONTROLLER:
            self.unpresented.append(event.time)
            self.seq = event.seq
        if kind == "state":
            self.stale_since = None  # a controller answers: the cached state is history
            self._apply_state(body)
        elif kind == "prepare":
            self._prepare(body)
        elif kind == "commit":
            self._commit(body["id"], body["tick"])
        elif kind == "data":
            self.data = apply_delta(self.data, body)
            for view in self._views():
                view.set_data(self.data)
            self._show_status()
        elif kind == "clock":
            self.clock_offset, self.clock_error = body["offset"], body["error"]
        elif kind == "capture":
            self.pending_captures.append({"at": float(body["at"]), "dir": str(body["dir"]),
                                          "inline": body.get("inline")})
        elif kind == "link":
            self.stale_since = body.get("stale_since")
            self._show_status()

    def _load(self, wall_data: dict, scenario_data: dict) -> tuple[Wall, Scenario] | None:
        """Validate a layout from the controller; None (logged) if it does not load here."""
        try:
            wall = wall_from_data(wall_data, source="<controller wall>")
            scenario = scenario_from_data(
                scenario_data, source="<controller scenario>", wall=wall
            )
            wall.panel(self.options.display)
        except (WallError, KeyError, TypeError, ValueError) as exc:
            log.error("ignoring a layout from the controller: %s", exc)
            return None
        return wall, scenario

    def _new_view(self, wall: Wall, scenario: Scenario) -> PanelView | None:
        """GPU resources for a scenario, or None (logged) when they cannot be built.

        Anything can go wrong here (a font that will not load, a texture too
        large for the GPU); the renderer then keeps showing what it had.
        """
        panel = wall.panel(self.options.display)
        scale = 1.0
        if self.window is not None:
            width = panel.mounted_resolution[0] if self.options.as_mounted else panel.resolution[0]
            scale = self.window.get_framebuffer_size()[0] / width
        view = PanelView(
            self.ctx, wall, self.options.display, scale, self.options.as_mounted, self.programs
        )
        try:
            view.set_scenario(scenario)
            view.set_data(self.data)
            view.set_overlay(self._status_line())
            # Build every widget from the data there is, fill atlases, upload,
            # draw: here, not on air, is where this first-time work belongs, and
            # where what cannot be drawn (a file that is no font) shows.
            self._warm(view, self.shared_now())
        except Exception as exc:  # keep the wall lit whatever the scenario does
            view.release()
            log.error("cannot build scenario %s here: %s", scenario.name, exc)
            return None
        return view

    def _warm(self, view: PanelView, t: float) -> None:
        """Draw `view` for shared time `t` as a switch frame first draws it (faded out).

        Drawn at alpha 0 it leaves the target as it was; what it costs is
        measured, so the switch frame can start early enough.
        """
        started = time.perf_counter()
        view.render(t + self.latency_s, self._target(view), alpha=0.0)
        self.ctx.finish()
        self.prepared_cost = time.perf_counter() - started

    def _keep_prepared_current(self) -> None:
        """Bring prepared views up to the latest data now, so the switch frame rebuilds nothing.

        Once the switch tick is known they are drawn for that tick's time, so
        widgets keyed on time (clocks, slides) are built for it already.
        """
        self.prepared_stale = False
        at = time_of(self.scheduled[1]) if self.scheduled else self.shared_now()
        for view in self.prepared.values():
            self._warm(view, at)

    def _apply_state(self, body: dict) -> None:
        """A full snapshot: show its scenario now, and take over any switch under way."""
        if not isinstance(body.get("data") or {}, dict):
            raise TypeError("state data is not a mapping")
        loaded = self._load(body["wall"], body["scenario"])
        if loaded is None:
            return
        wall, scenario = loaded
        self.data = body.get("data") or {}
        for view in self._views():
            view.set_data(self.data)
        self._drop_prepared()
        if self.view is None or self.view.wall != wall or self.view.scenario != scenario:
            view = self._new_view(wall, scenario)
            if view is None:
                return
            self._replace_view(view)
            self.activated_tick = self.activated_at = None
            log.info("showing scenario %s", scenario.name)
        self.wall = wall
        self.layout_sent = (body["wall"], body["scenario"])
        self.latency_s = wall.panel(self.options.display).latency_ms / 1000
        self._show_status()
        pending = body.get("pending")
        if pending:
            self._prepare(pending)
            if pending.get("tick") is not None:
                self._commit(pending["id"], pending["tick"])

    def _prepare(self, body: dict) -> None:
        """Phase one of a switch: build the new scenario's GPU resources, then acknowledge."""
        if self.wall is None:
            return
        try:
            scenario = scenario_from_data(
                body["scenario"], source="<controller scenario>", wall=self.wall
            )
        except WallError as exc:
            log.error("ignoring scenario %s from the controller: %s", body.get("name"), exc)
            return
        self._drop_prepared()
        view = self._new_view(self.wall, scenario)
        if view is None:
            return
        self.prepared[body["id"]] = view
        self.prepared_sent = {body["id"]: body["scenario"]}
        self.link.send("ack", {"id": body["id"]})

    def _commit(self, switch_id: int, tick: int) -> None:
        """Schedule a prepared switch; a tick no float time can hold is refused here.

        Later it would raise inside the render loop, outside `_handle`'s guard.
        """
        tick = int(tick)
        if not 0 <= tick < 2**53:
            raise ValueError(f"switch tick {tick} is out of range")
        if switch_id in self.prepared:
            self.scheduled = (switch_id, tick)
            self.prepared_stale = True

    def _activate(self, switch_id: int, switch_tick: int, tick: int) -> None:
        self.scheduled = None
        view = self.prepared.pop(switch_id, None)
        if view is None:
            return
        if self.layout_sent and switch_id in self.prepared_sent:
            self.layout_sent = (self.layout_sent[0], self.prepared_sent.pop(switch_id))
        self._replace_view(view, fade_from=time_of(switch_tick))
        self.activated_tick, self.activated_at = tick, None
        if tick > switch_tick:
            log.warning("switch %d shown at tick %d, %d late", switch_id, tick, tick - switch_tick)

    def _replace_view(self, view: PanelView, fade_from: float | None = None) -> None:
        """Show `view` from now on; with `fade_from`, cross-fade from the old one from then."""
        self._end_fade()
        if self.view is not None:
            if fade_from is None:
                self.view.release()
            else:
                self.fading = (self.view, fade_from)
        self.view = view
        self._show_status()

    def _end_fade(self) -> None:
        if self.fading is not None:
            self.fading[0].release()
            self.fading = None

    def _views(self) -> list[PanelView]:
        """Every view that draws data: the shown one, one fading out, prepared ones."""
        views = [self.view] if self.view is not None else []
        if self.fading is not None:
            views.append(self.fading[0])
        return views + list(self.prepared.values())

    def _draw(self, t: float, target) -> None:
        """The frame for shared time `t`, blending in the new scenario during a cross-fade."""
        if self.fading is not None:
            old, start = self.fading
            progress = (t - start) / CROSSFADE_S
            if progress < 1.0:
                old.render(t, target)
                self.view.render(t, target, alpha=max(0.0, progress))
                return
            if t - start > FADE_KEPT_S:
                self._end_fade()
        self.view.render(t, target)

    def _drop_prepared(self) -> None:
        for view in self.prepared.values():
            view.release()
        self.prepared.clear()
        self.scheduled = None

    def _show_status(self) -> None:
        """Every view shows the status line, prepared ones too: a switch frame changes nothing."""
        line = self._status_line()
        for view in self._views():
            view.set_overlay(line)
        self.prepared_stale = bool(self.prepared)

    def _status_line(self) -> str | None:
        """The wall's status line: a lost controller first, else sources that are not well."""
        if self.stale_since is not None:
            since = time.strftime("%H:%M:%S", time.localtime(self.stale_since))
            return f"stale since {since}"
        return source_status_line(self.data.get("sources"))

    def _target(self, view: PanelView | None = None):
        """Where a view (the shown one by default) draws: the window, or offscreen."""
        if self.window is not None:
            return self.ctx.screen
        return self._offscreen(view)

    def _offscreen(self, view: PanelView | None = None):
        size = (view or self.view).panel.resolution
        if self.offscreen is None or self.offscreen.size != size:
            if self.offscreen is not None:
                release_framebuffer(self.ctx, self.offscreen)
            self.offscreen = self.ctx.simple_framebuffer(size)
        return self.offscreen

    def _do_captures(self, now: float) -> None:
        """Write the frame for the capture's shared instant, once that instant has come."""
        if self.view is None:
            self.pending_captures = [o for o in self.pending_captures if now - o["at"] < 10]
            return
        for order in [o for o in self.pending_captures if now >= o["at"]]:
            self.pending_captures.remove(order)
            fbo = self._offscreen()
            self._draw(order["at"] + self.latency_s, fbo)
            if isinstance(order["inline"], int):  # the live preview: a small image, no file
                image = encode_preview(read_rgb(fbo), order["inline"])
                self.link.send("captured", {"at": order["at"], "image": image})
                continue
            try:
                path = capture_path(self.options.capture_dir, order["dir"], self.options.display)
                path.parent.mkdir(parents=True, exist_ok=True)
                save_png(path, read_rgb(fbo))
            except OSError as exc:
                log.error("cannot write a capture into %s: %s", order["dir"], exc)
                self.link.send("captured", {"at": order["at"], "error": str(exc)})
                continue
            self.link.send("captured", {"at": order["at"], "path": str(path.resolve())})

    def _report(self) -> None:
        self.link.send(
            "report",
            {
                **self.stats.summary(),
                "seq": self.seq,
                "synced": self.link.hearing and self.view is not None,
                "receipt_ms": self._receipt_ms(),
                "scenario": self.view.scenario.name if self.view else None,
                "activated_tick": self.activated_tick,
                "activated_at": self.activated_at,
                "clock_offset_ms": 1000 * self.clock_offset,
                "clock_error_ms": None if self.clock_error is None else 1000 * self.clock_error,
                "stale_since": self.stale_since,
                "dropped": self.link.dropped + self.malformed,
                "swap_interval": self.swap_interval,
            },
        )

    def _receipt_ms(self) -> float | None:
        """Median publish-to-receipt time of the last messages, as the link thread saw them."""
        recent = list(self.link.receipt_s)[-RECEIPT_WINDOW:]
        return 1000 * float(np.median(recent)) if recent else None

    def close(self) -> None:
        self._drop_prepared()
        self._end_fade()
        if self.view is not None:
            self.view.release()
            self.view = None
        if self.offscreen is not None:
            release_framebuffer(self.ctx, self.offscreen)
            self.offscreen = None
        self.programs.release()
        self.link.close()
        if self.window is not None:
            self.window.close()


def run_renderer(options: RendererOptions) -> int:
    """Run one display until SIGINT or SIGTERM (or its window closes).

    Signals are caught before the GL context and the link exist, so a stop that
    comes while the renderer starts is bounded too.
    """
    renderer = Renderer(options, stop_on_signals())
    renderer.run()
    return 0
