"""The monitors a fullscreen renderer can cover, as RandR and `xrandr --listmonitors` see them.

A two-output panel PC is usually one X screen with two RandR monitors, which
pyglet reports as one wide screen; a "separate X screens" setup is one X
screen per output, named by `DISPLAY=:D.S`. So monitors are read here, from
the X screen that `DISPLAY` names, with RandR 1.5 (`XRRGetMonitors`, the list
`xrandr --listmonitors` prints, in its order) through ctypes: no dependency
beyond the libX11 and libXrandr that pyglet needs anyway.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import re
from dataclasses import dataclass

from wallrenderer.core.errors import WallError


class ScreenError(WallError):
    """No X display, or no monitor with the asked number; the message lists what there is."""


@dataclass(frozen=True)
class Monitor:
    """One monitor: its number for `--screen`, its RandR name, its rectangle on the X screen."""

    index: int
    name: str
    x: int
    y: int
    width: int
    height: int
    primary: bool = False

    @property
    def geometry(self) -> str:
        return f"{self.width}x{self.height}+{self.x}+{self.y}"


@dataclass(frozen=True)
class XScreen:
    """The X screen `DISPLAY` names and the monitors on it."""

    display: str
    number: int
    monitors: tuple[Monitor, ...]

    def monitor(self, index: int) -> Monitor:
        if 0 <= index < len(self.monitors):
            return self.monitors[index]
        have = "; ".join(f"{m.index}: {m.name} {m.geometry}" for m in self.monitors)
        raise ScreenError(
            f"screen {index} does not exist: X screen {self.display} has "
            f"{len(self.monitors)} monitor(s) ({have}); see `wallrenderer renderer --list-screens`"
        )

    def describe(self) -> str:
        """What `--list-screens` prints: one line per monitor."""
        lines = [f"X display {self.display}, X screen {self.number}:"]
        for m in self.monitors:
            lines.append(f"{m.index}  {m.name}  {m.geometry}{'  primary' if m.primary else ''}")
        return "\n".join(lines)


class _MonitorInfo(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_ulong),
        ("primary", ctypes.c_int),
        ("automatic", ctypes.c_int),
        ("noutput", ctypes.c_int),
        ("x", ctypes.c_int),
        ("y", ctypes.c_int),
        ("width", ctypes.c_int),
        ("height", ctypes.c_int),
        ("mwidth", ctypes.c_int),
        ("mheight", ctypes.c_int),
        ("outputs", ctypes.c_void_p),
    ]


def _library(name: str, soname: str) -> ctypes.CDLL:
    try:
        return ctypes.CDLL(ctypes.util.find_library(name) or soname)
    except OSError:
        raise ScreenError(f"cannot load {soname} (Debian: apt-get install lib{name.lower()}"
                          f"{soname.rsplit('.', 1)[-1]})") from None


def named_x_screen(display_name: str) -> int:
    """The X screen number in a display name (`:0.1` -> 1; `:0` -> 0), as Xlib reads it."""
    found = re.search(r":\d+\.(\d+)$", display_name)
    return int(found.group(1)) if found else 0


def read_x_screen(display_name: str | None = None, connection: int | None = None) -> XScreen:
    """The monitors of the X screen that `display_name` (default `$DISPLAY`) names.

    Args:
        display_name: the X display, default `$DISPLAY`.
        connection: an open Xlib `Display *` (as an address) to ask instead of
            opening one. A renderer passes pyglet's: an X server without
            `-noreset` resets when its last client leaves, and a connection
            opened and closed just before pyglet's own would race that reset.

    Without RandR 1.5 the whole X screen counts as one monitor.
    """
    x11 = _library("X11", "libX11.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XDisplayString.restype = ctypes.c_char_p
    x11.XDisplayString.argtypes = [ctypes.c_void_p]
    x11.XDefaultScreen.argtypes = [ctypes.c_void_p]
    x11.XRootWindow.restype = ctypes.c_ulong
    x11.XRootWindow.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x11.XDisplayWidth.argtypes = x11.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x11.XGetAtomName.restype = ctypes.c_void_p
    x11.XGetAtomName.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    x11.XFree.argtypes = [ctypes.c_void_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    dpy = connection or x11.XOpenDisplay(display_name.encode() if display_name else None)
    if not dpy:
        raise ScreenError(f"cannot open X display {display_name or '$DISPLAY'!s}: is an X server "
                          "running there, and may this user connect (XAUTHORITY)?")
    try:
        name = x11.XDisplayString(dpy).decode()
        number = named_x_screen(name)
        root = x11.XRootWindow(dpy, number)
        monitors = _randr_monitors(x11, dpy, root)
        if not monitors:
            monitors = [Monitor(0, "screen", 0, 0, x11.XDisplayWidth(dpy, number),
                                x11.XDisplayHeight(dpy, number), True)]
        return XScreen(name, number, tuple(monitors))
    finally:
        if connection is None:
            x11.XCloseDisplay(dpy)


def _randr_monitors(x11: ctypes.CDLL, dpy: int, root: int) -> list[Monitor]:
    try:
        xrandr = ctypes.CDLL(ctypes.util.find_library("Xrandr") or "libXrandr.so.2")
        get_monitors = xrandr.XRRGetMonitors
    except (OSError, AttributeError):
        return []
    get_monitors.restype = ctypes.POINTER(_MonitorInfo)
    get_monitors.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int,
                             ctypes.POINTER(ctypes.c_int)]
    xrandr.XRRFreeMonitors.argtypes = [ctypes.c_void_p]
    count = ctypes.c_int(0)
    infos = get_monitors(dpy, root, 1, ctypes.byref(count))
    if not infos:
        return []
    monitors = []
    for i in range(count.value):
        info = infos[i]
        atom = x11.XGetAtomName(dpy, info.name)
        label = ctypes.string_at(atom).decode(errors="replace") if atom else f"monitor{i}"
        if atom:
            x11.XFree(atom)
        monitors.append(Monitor(i, label, info.x, info.y, info.width, info.height,
                                bool(info.primary)))
    xrandr.XRRFreeMonitors(infos)
    return monitors
