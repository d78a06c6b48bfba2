"""Fullscreen renderers on real X servers, set up as the two usual two-output panel PCs.

One X screen with two RandR monitors (Xorg's dummy driver, `xrandr --setmonitor`)
and two X screens (Xvfb with two `-screen`s): in both, two renderers must each
cover exactly their own monitor and show their own panel of the testcard.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import wait_for, wall_command, write_yaml
from PIL import Image, ImageGrab
from test_nodes import showing

from controller.demo import free_port_pair
from wallrenderer.core.client import control_request

XORG_DUMMY = Path("/usr/lib/xorg/modules/drivers/dummy_drv.so")
needs_x_tools = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("xrandr", "xset", "xwininfo")),
    reason="make test installs x11-xserver-utils and x11-utils",
)

DUMMY_CONF = """
Section "Device"
    Identifier "dummy"
    Driver "dummy"
    VideoRam 65536
EndSection
Section "Monitor"
    Identifier "monitor"
    HorizSync 5.0-1000.0
    VertRefresh 5.0-200.0
    Modeline "3840x1080" 300.0 3840 3848 3880 3920 1080 1081 1084 1100
EndSection
Section "Screen"
    Identifier "screen"
    Device "dummy"
    Monitor "monitor"
    DefaultDepth 24
    SubSection "Display"
        Depth 24
        Modes "3840x1080"
        Virtual 3840 1080
    EndSubSection
EndSection
"""


def pair_wall(tmp_path: Path, width: int, height: int) -> Path:
    return write_yaml(tmp_path / "wall.yaml", {"wall": {"name": "pair", "grid": {
        "rows": 1, "cols": 2, "panel": {
            "resolution": [width, height], "active_mm": [width * 0.2646, height * 0.2646],
            "bezel_mm": {"left": 2, "right": 2, "top": 2, "bottom": 2}}}}})


def free_x_display() -> int:
    number = 60 + os.getpid() % 200
    while Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
        number += 1
    return number


def start_x(spawn, argv: list[str], number: int) -> None:
    spawn(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: Path(f"/tmp/.X11-unix/X{number}").exists(), 30, "the X server to start")


def window_geometry(display: str, title: str) -> tuple[int, int, int, int] | None:
    """(x, y, width, height) of the window titled `title`, as the X server places it."""
    done = subprocess.run(["xwininfo", "-display", display, "-name", title],
                          capture_output=True, text=True)
    if done.returncode != 0:
        return None
    fields = dict(re.findall(r"^\s*(Absolute upper-left [XY]|Width|Height):\s*(-?\d+)",
                             done.stdout, re.M))
    return tuple(int(fields[k]) for k in ("Absolute upper-left X", "Absolute upper-left Y",
                                          "Width", "Height"))


def screen_saver(display: str) -> str:
    text = subprocess.run(["xset", "-display", display, "q"], capture_output=True,
                          text=True).stdout
    found = re.findall(r"prefer blanking:\s*\w+|timeout:\s*\d+", text)
    return re.sub(r"\s+", " ", " ".join(found))


class _CursorImage(ctypes.Structure):
    """XFixesCursorImage, as <X11/extensions/Xfixes.h> lays it out."""

    _fields_ = [("x", ctypes.c_short), ("y", ctypes.c_short), ("width", ctypes.c_ushort),
                ("height", ctypes.c_ushort), ("xhot", ctypes.c_ushort), ("yhot", ctypes.c_ushort),
                ("cursor_serial", ctypes.c_ulong), ("pixels", ctypes.POINTER(ctypes.c_ulong)),
                ("atom", ctypes.c_ulong), ("name", ctypes.c_char_p)]


def visible_cursor_pixels(display: str, x: int, y: int) -> int:
    """Moves the X pointer to (x, y) and counts the cursor image's non-transparent pixels.

    The cursor is what X shows there (XFixesGetCursorImage), so this sees the
    window's cursor as a person in the room would, not the renderer's own flag.
    """
    x11, xfixes = ctypes.CDLL("libX11.so.6"), ctypes.CDLL("libXfixes.so.3")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XDefaultRootWindow.restype = ctypes.c_ulong
    x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x11.XWarpPointer.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_int,
                                 ctypes.c_int, ctypes.c_uint, ctypes.c_uint, ctypes.c_int,
                                 ctypes.c_int]
    x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x11.XFree.argtypes = [ctypes.c_void_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    xfixes.XFixesGetCursorImage.restype = ctypes.POINTER(_CursorImage)
    xfixes.XFixesGetCursorImage.argtypes = [ctypes.c_void_p]
    connection = x11.XOpenDisplay(display.encode())
    assert connection, f"cannot open X display {display}"
    try:
        x11.XWarpPointer(connection, 0, x11.XDefaultRootWindow(connection), 0, 0, 0, 0, x, y)
        x11.XSync(connection, 0)
        image = xfixes.XFixesGetCursorImage(connection)
        cursor = image.contents
        pixels = [cursor.pixels[i] & 0xFFFFFFFF for i in range(cursor.width * cursor.height)]
        x11.XFree(image)
        return sum(1 for pixel in pixels if pixel >> 24)
    finally:
        x11.XCloseDisplay(connection)


def assert_shows_own_panel(shot: Image.Image, captures: dict[str, str], own: str) -> None:
    """The monitor's screenshot is much closer to its own panel's frame than to the other's."""
    def small(image: Image.Image) -> np.ndarray:
        return np.asarray(image.convert("L").resize((192, 108)), dtype=float)

    distance = {display: float(np.abs(small(shot) - small(Image.open(path))).mean())
                for display, path in captures.items()}
    other = next(d for d in distance if d != own)
    assert distance[own] < 0.5 * distance[other], distance


def run_pair(spawn, displays: dict[str, tuple[str, list[str]]], wall: Path):
    """A controller and two renderers, each on (DISPLAY, extra arguments); waits until both show.

    Returns:
        (connect, renderer processes).
    """
    connect = f"127.0.0.1:{free_port_pair()}"
    spawn(wall_command("controller", "--wall", str(wall), "--bind", connect))
    renderers = [spawn(wall_command("renderer", "--connect", connect, "--display", panel,
                                    "--fps", "4", *extra), env={**os.environ, "DISPLAY": x})
                 for panel, (x, extra) in displays.items()]
    wait_for(lambda: showing(connect, set(displays)), 90, "both fullscreen renderers")
    return connect, renderers


def capture(connect: str, folder: Path) -> dict[str, str]:
    return control_request(connect, "capture", {"dir": str(folder)}, timeout_s=60)["paths"]


@needs_x_tools
@pytest.mark.skipif(shutil.which("Xorg") is None or not XORG_DUMMY.exists(),
                    reason="make test installs xserver-xorg-core and xserver-xorg-video-dummy")
def test_two_randr_monitors_on_one_x_screen_each_get_their_own_renderer(tmp_path, spawn):
    number = free_x_display()
    display = f":{number}"
    (tmp_path / "xorg.conf").write_text(DUMMY_CONF)
    start_x(spawn, ["Xorg", display, "-config", str(tmp_path / "xorg.conf"), "-noreset",
                    "-nolisten", "tcp", "-logfile", str(tmp_path / "xorg.log")], number)
    for args in (["L", "1920/508x1080/286+0+0", "DUMMY0"], ["R", "1920/508x1080/286+1920+0",
                                                             "none"]):
        subprocess.run(["xrandr", "-display", display, "--setmonitor", *args], check=True,
                       capture_output=True)
    listed = subprocess.run(wall_command("renderer", "--list-screens"), capture_output=True,
                            text=True, env={**os.environ, "DISPLAY": display}, check=True).stdout
    assert re.findall(r"^(\d+)\s+(\w+)\s+(\S+)", listed, re.M) == [
        ("0", "L", "1920x1080+0+0"), ("1", "R", "1920x1080+1920+0")]
    blanking_before = screen_saver(display)
    assert visible_cursor_pixels(display, 960, 540) > 0, "X's own cursor shows before"

    # No mode flag on a machine with a display: fullscreen on screen 0.
    connect, renderers = run_pair(
        spawn, {"r0c0": (display, []), "r0c1": (display, ["--fullscreen", "--screen", "1"])},
        pair_wall(tmp_path, 1920, 1080))
    assert window_geometry(display, "wallrenderer r0c0") == (0, 0, 1920, 1080)
    assert window_geometry(display, "wallrenderer r0c1") == (1920, 0, 1920, 1080)
    assert screen_saver(display) == "prefer blanking: no timeout: 0"
    for x in (960, 1920 + 960):
        assert visible_cursor_pixels(display, x, 540) == 0, f"a cursor shows at x={x}"
    rows = {r["id"]: r for r in control_request(connect, "status", {}, timeout_s=5)["renderers"]}
    # The dummy driver offers no swap control (None); a driver holding 0 would mean vsync off.
    assert all(rows[d].get("swap_interval", 0) != 0 for d in ("r0c0", "r0c1")), rows

    captures = capture(connect, tmp_path / "shots")
    shot = ImageGrab.grab(xdisplay=display)
    assert shot.size == (3840, 1080)
    assert_shows_own_panel(shot.crop((0, 0, 1920, 1080)), captures, "r0c0")
    assert_shows_own_panel(shot.crop((1920, 0, 3840, 1080)), captures, "r0c1")

    for proc in renderers:
        proc.send_signal(signal.SIGTERM)
    wait_for(lambda: screen_saver(display) == blanking_before, 30,
             "the last renderer to put screen blanking back")


@needs_x_tools
@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="make test installs Xvfb")
def test_two_x_screens_each_get_their_own_renderer(tmp_path, spawn):
    number = free_x_display()
    start_x(spawn, ["Xvfb", f":{number}", "-screen", "0", "640x360x24", "-screen", "1",
                    "640x360x24", "-noreset", "-nolisten", "tcp"], number)
    screens = {"r0c0": f":{number}.0", "r0c1": f":{number}.1"}
    connect, _ = run_pair(spawn, {panel: (x, ["--fullscreen"]) for panel, x in screens.items()},
                          pair_wall(tmp_path, 640, 360))
    for panel, x_screen in screens.items():
        assert window_geometry(x_screen, f"wallrenderer {panel}") == (0, 0, 640, 360), panel
    captures = capture(connect, tmp_path / "shots")
    shots = {panel: ImageGrab.grab(xdisplay=x) for panel, x in screens.items()}
    for panel, shot in shots.items():
        assert shot.size == (640, 360)
        assert_shows_own_panel(shot, captures, panel)
