"""The one place GL contexts are made, for renderers, tests and benchmarks alike.

Headless contexts come from EGL (Mesa llvmpipe without a GPU, the real driver
with one); windowed and fullscreen contexts come from a pyglet window that
moderngl then draws into.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass

import moderngl

from wallrenderer.core.errors import WallError

GL_VERSION = 330


class ContextError(WallError):
    """No usable OpenGL 3.3 context; the message says what to install."""


@dataclass(frozen=True)
class WindowPlacement:
    """Where a windowed renderer opens: size and top-left position on the desktop."""

    width: int
    height: int
    x: int | None = None
    y: int | None = None

    @classmethod
    def parse(cls, text: str) -> WindowPlacement:
        """Parse X11-style 'WxH' or 'WxH+X+Y'."""
        try:
            size, _, rest = text.partition("+")
            w, h = (int(v) for v in size.lower().split("x"))
            x, y = (int(v) for v in rest.split("+")) if rest else (None, None)
            if w <= 0 or h <= 0:
                raise ValueError
        except ValueError:
            raise ValueError(f"window geometry {text!r} is not WxH or WxH+X+Y, "
                             "e.g. 960x540+0+0") from None
        return cls(w, h, x, y)


def create_headless_context() -> moderngl.Context:
    """A context with no window, through EGL so it works without X or Wayland."""
    try:
        return moderngl.create_standalone_context(backend="egl", require=GL_VERSION)
    except Exception as exc:
        raise ContextError(
            f"cannot create a headless OpenGL {GL_VERSION // 100}.{GL_VERSION % 100 // 10} "
            f"context through EGL ({exc}); install Mesa's EGL and drivers "
            "(Debian: apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri)"
        ) from None


def create_window(
    title: str,
    placement: WindowPlacement | None = None,
    fullscreen: bool = False,
    screen: int = 0,
    vsync: bool = True,
):
    """A pyglet window with a current GL 3.3 core context, and moderngl on top of it.

    Both open on the X screen that `DISPLAY` names (pyglet alone would use X
    screen 0). Fullscreen is a borderless window exactly covering RandR monitor
    `screen` (see `screens.py`), with the cursor hidden: pyglet's own screens
    are outputs, and one wide screen when monitors share an output.

    Returns:
        (window, ctx): the pyglet window (events, flip) and its moderngl context.
    """
    import pyglet

    # pyglet's hidden shadow window lives on X screen 0 and every context would
    # share with it, which GLX refuses for a window on another X screen.
    pyglet.options["shadow_window"] = False
    from pyglet.display.xlib import NoSuchDisplayException, XlibDisplay, XlibScreen

    from wallrenderer.renderer.screens import named_x_screen, read_x_screen

    config = pyglet.gl.Config(
        major_version=3, minor_version=3, forward_compatible=True, double_buffer=True
    )
    try:
        display = XlibDisplay(x_screen=named_x_screen(os.environ.get("DISPLAY", "")))
    except NoSuchDisplayException as exc:
        raise ContextError(f"cannot open the X display: {exc}") from None
    x_screen = read_x_screen(connection=ctypes.cast(display._display, ctypes.c_void_p).value)
    monitor = x_screen.monitor(screen)
    target = XlibScreen(display, monitor.x, monitor.y, monitor.width, monitor.height)
    try:
        if fullscreen:
            window = pyglet.window.Window(
                fullscreen=True, display=display, screen=target, config=config, vsync=vsync,
                caption=title,
            )
            window.set_mouse_visible(False)
        else:
            placement = placement or WindowPlacement(960, 540)
            window = pyglet.window.Window(
                width=placement.width,
                height=placement.height,
                config=config,
                vsync=vsync,
                caption=title,
                display=display,
                screen=target,
            )
            if placement.x is not None:
                window.set_location(target.x + placement.x, target.y + placement.y)
    except pyglet.window.NoSuchConfigException as exc:
        raise ContextError(f"this display offers no OpenGL 3.3 core context: {exc}") from None
    window.switch_to()
    return window, moderngl.create_context(require=GL_VERSION)


def swap_interval(window) -> int | None:
    """The swap interval the GL driver holds for `window` (1: vsync on); None if it cannot say.

    Asked of the driver itself, not of pyglet's flag, so a driver that ignored
    the request, or offers no swap control at all, shows in the renderer's
    report and log.
    """
    from pyglet.gl import glx, glxext_arb

    context = window.context
    if context._have_EXT_swap_control:
        value = ctypes.c_uint()
        glx.glXQueryDrawable(context.x_display, glx.glXGetCurrentDrawable(),
                             glxext_arb.GLX_SWAP_INTERVAL_EXT, ctypes.byref(value))
        return int(value.value)
    if context._have_MESA_swap_control:
        return int(glx.glXGetSwapIntervalMESA())
    return None


def release_framebuffer(ctx: moderngl.Context, fbo: moderngl.Framebuffer) -> None:
    """Release an offscreen framebuffer without leaving the context bound to a dead one.

    moderngl re-binds its current framebuffer after creating a new one; if that
    is a released object the driver raises GL_INVALID_OPERATION.
    """
    if ctx.fbo is fbo:
        ctx.detect_framebuffer(0).use()
    fbo.release()
