"""`wallrenderer demo`: a whole wall on one machine, run exactly as it runs on real hardware.

One controller process and one renderer process per panel, started as separate
programs talking ZeroMQ over loopback, and supervised as systemd would on a
panel PC: a renderer that dies is started again.
"""

from __future__ import annotations

import ctypes
import logging
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from controller.aggregate.campaign import tracked_keys
from controller.library import load_library
from controller.sources.simulator import SimulatorSource
from wallrenderer.core.client import control_request
from wallrenderer.core.desktop import has_display
from wallrenderer.core.geometry import Wall
from wallrenderer.core.shutdown import stop_on_signals
from wallrenderer.core.wallimage import compose_wall

log = logging.getLogger(__name__)

RESTART_BACKOFF_S = (0.5, 1.0, 2.0, 5.0)
# Children stop on their own well within this; the demo must stop within its own bound.
CHILDREN_STOP_S = 0.5
PR_SET_PDEATHSIG = 1
READY_TIMEOUT_S = 60.0


def free_port_pair(host: str = "127.0.0.1") -> int:
    """A port P such that P and P + 1 are both free (PUB and ROUTER of the controller)."""
    for _ in range(100):
        with socket.socket() as a:
            a.bind((host, 0))
            port = a.getsockname()[1]
            with socket.socket() as b:
                try:
                    b.bind((host, port + 1))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free pair of consecutive loopback ports")


def die_with_parent() -> None:
    """In a child before exec: get SIGTERM when the parent dies, even by SIGKILL (Linux).

    So a killed `wallrenderer demo` never leaves renderers drawing for nobody.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    """One supervised process and how to start it again."""

    name: str
    argv: list[str]
    proc: subprocess.Popen | None = None
    restart_at: float = 0.0
    recent_exits: list[float] = field(default_factory=list)

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, preexec_fn=die_with_parent)

    def check(self, now: float) -> None:
        """Start the process again if it died, backing off when it keeps dying."""
        if self.proc is not None and self.proc.poll() is None:
            return
        if self.proc is not None:
            code = self.proc.returncode
            self.proc = None
            self.recent_exits = [t for t in self.recent_exits if now - t < 30] + [now]
            delay = RESTART_BACKOFF_S[min(len(self.recent_exits), len(RESTART_BACKOFF_S)) - 1]
            self.restart_at = now + delay
            log.warning("%s exited with code %s; restarting in %.1f s", self.name, code, delay)
            return
        if now >= self.restart_at:
            self.start()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()

    def wait(self, deadline: float) -> None:
        """Wait until `deadline` (monotonic) for the process to exit; then kill it."""
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def window_placements(wall: Wall, screen_w: int, screen_h: int) -> dict[str, str]:
    """Preview windows laid out like the wall, scaled to fit the desktop."""
    cw, ch = wall.canvas
    scale = min(0.95 * screen_w / cw, 0.9 * screen_h / ch)
    x0 = (screen_w - cw * scale) / 2
    y0 = (screen_h - ch * scale) / 2
    return {
        p.id: (
            f"{max(1, round(p.rect.w * scale))}x{max(1, round(p.rect.h * scale))}"
            f"+{round(x0 + p.rect.x * scale)}+{round(y0 + p.rect.y * scale)}"
        )
        for p in wall.panels
    }


def _screen_size() -> tuple[int, int]:
    import pyglet

    screen = pyglet.display.get_display().get_default_screen()
    return screen.width, screen.height


def run_demo(
    wall_path: str,
    scenarios_dir: str | None,
    scenario: str,
    headless: bool,
    out_dir: str,
    seconds: float | None,
    http: str | None = None,
    token: str | None = None,
    sources: list[str] = (),
    tracked: list[str] = (),
    pin: str | None = None,
    tours_dir: str | None = None,
    schedule_path: str | None = None,
) -> int:
    """Run the demo wall; returns the process exit code.

    With only simulator sources and no `tracked` terms, the simulator's campaign
    is tracked, so the product-launch widgets have figures.
    """
    stopping = stop_on_signals()
    library = load_library(wall_path, scenarios_dir)
    if scenario not in library.scenarios:
        log.error("scenario %r not found (available: %s)", scenario, ", ".join(library.scenarios))
        return 2
    if not tracked and sources and all(s.split("?")[0] == "simulator" for s in sources):
        tracked = SimulatorSource().campaign_terms
    try:
        tracked_keys(tracked)
    except ValueError as exc:  # the controller would refuse them, and be restarted again and again
        log.error("--track: %s", exc)
        return 2
    wall = library.wall
    headless = headless or not has_display()
    port = free_port_pair()
    connect = f"127.0.0.1:{port}"
    python = [sys.executable, "-m", "wallrenderer"]
    controller_argv = [*python, "controller", "--wall", str(wall_path), "--scenario", scenario,
                       "--bind", connect]
    if scenarios_dir:
        controller_argv += ["--scenarios", str(scenarios_dir)]
    if http:
        controller_argv += ["--http", http]
    if token:
        controller_argv += ["--token", token]
    if pin:
        controller_argv += ["--pin", pin]
    for spec in sources:
        controller_argv += ["--source", spec]
    for term in tracked:
        controller_argv += ["--track", term]
    if tours_dir:
        controller_argv += ["--tours", str(tours_dir)]
    if schedule_path:
        controller_argv += ["--schedule", str(schedule_path)]
    if sources:
        controller_argv += ["--store", str(Path(out_dir).resolve() / "demo-state.sqlite")]
    children = [Child("controller", controller_argv)]
    placements = {} if headless else window_placements(wall, *_screen_size())
    for panel in wall.panels:
        argv = [*python, "renderer", "--connect", connect, "--display", panel.id,
                "--capture-dir", str(Path(out_dir).resolve())]
        if headless:
            argv.append("--headless")
        else:
            argv += ["--windowed", "--geometry", placements[panel.id], "--as-mounted"]
        children.append(Child(f"renderer {panel.id}", argv))

    for child in children:
        child.start()
    mode = "headless" if headless else "windowed"
    log.info("demo wall %s (%d panels, %s) on %s", wall.name, len(wall.panels), mode, connect)
    deadline = None if seconds is None else time.monotonic() + seconds
    capture: Future | None = None
    code = 0
    try:
        while not stopping.is_set():
            now = time.monotonic()
            for child in children:
                child.check(now)
            if deadline is not None and now >= deadline and capture is None:
                if not headless:
                    break
                capture = _in_thread(_capture, connect, wall, scenario, Path(out_dir), stopping)
            if capture is not None and capture.done():
                code = capture.result()
                break
            time.sleep(0.1)
    finally:
        for child in children:
            child.stop()
        deadline = time.monotonic() + CHILDREN_STOP_S
        for child in children:
            child.wait(deadline)
    return code


def _in_thread(fn, *args) -> Future:
    """Run `fn` beside the supervision loop, which must keep restarting renderers meanwhile."""
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(fn(*args))
        except Exception as exc:  # handed to the loop through the future
            future.set_exception(exc)

    threading.Thread(target=run, name="capture", daemon=True).start()
    return future


def _wait_until_showing(connect: str, wall: Wall, scenario: str,
                        stopping: threading.Event) -> list[str]:
    """Wait for every renderer to report the scenario; returns the ones that never did."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    missing = list(wall.ids)
    while time.monotonic() < deadline and not stopping.is_set():
        try:
            status = control_request(connect, "status", {}, timeout_s=2.0)
        except TimeoutError:
            continue
        showing = {
            r["id"] for r in status["renderers"]
            if r["connected"] and r.get("synced") and r.get("scenario") == scenario
        }
        missing = [d for d in wall.ids if d not in showing]
        if not missing:
            return []
        time.sleep(0.2)
    return missing


def _capture(connect: str, wall: Wall, scenario: str, out_dir: Path,
             stopping: threading.Event) -> int:
    """Have every renderer write the same instant, then put the wall picture together."""
    from PIL import Image

    missing = _wait_until_showing(connect, wall, scenario, stopping)
    if missing:
        log.error("renderers never showed %s: %s", scenario, ", ".join(missing))
        return 1
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        result = control_request(connect, "capture", {"dir": str(out_dir.resolve())},
                                 timeout_s=30)
    except TimeoutError as exc:
        log.error("%s", exc)
        return 1
    if result["missing"]:
        for display, error in sorted(result.get("errors", {}).items()):
            log.error("%s could not write its picture: %s", display, error)
        log.error("no picture from: %s", ", ".join(result["missing"]))
        return 1
    frames = {d: np.asarray(Image.open(p).convert("RGB")) for d, p in result["paths"].items()}
    wall_png = out_dir / "wall.png"
    Image.fromarray(compose_wall(wall, frames)).save(wall_png)
    print(f"Wrote {len(frames)} panel images and the whole wall to {out_dir.resolve()}/:")
    for display in wall.ids:
        w, h = wall.panel(display).resolution
        print(f"  {display}.png  ({w}x{h}, native)")
    print("  wall.png  (whole wall to scale, bezels as dark gaps)")
    return 0
