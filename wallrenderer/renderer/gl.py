"""The one place GL contexts are made, for renderers, tests and benchmarks alike.

Headless contexts come from EGL (Mesa llvmpipe without a GPU, the real driver
with one); windowed and fullscreen contexts come from a pyglet window that
moderngl then draws into.
"""

from __future__ import annotations

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
            if not rest:
                return cls(w, h)
            x, y = (int(v) for v in rest.split("+"))
            return cls(w, h, x, y)
        except ValueError:
            raise ValueError(f"window geometry {text!r} is not WxH or WxH+X+Y") from None


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

    Returns:
        (window, ctx): the pyglet window (events, flip) and its moderngl context.
    """
    import pyglet

    config = pyglet.gl.Config(
        major_version=3, minor_version=3, forward_compatible=True, double_buffer=True
    )
    screens = pyglet.display.get_display().get_screens()
    if not 0 <= screen < len(screens):
        raise ContextError(f"screen {screen} does not exist (this display has {len(screens)})")
    target = screens[screen]
    try:
        if fullscreen:
            window = pyglet.window.Window(
                fullscreen=True, screen=target, config=config, vsync=vsync, caption=title
            )
        else:
            placement = placement or WindowPlacement(960, 540)
            window = pyglet.window.Window(
                width=placement.width,
                height=placement.height,
                config=config,
                vsync=vsync,
                caption=title,
                screen=target,
            )
            if placement.x is not None:
                window.set_location(target.x + placement.x, target.y + placement.y)
    except pyglet.window.NoSuchConfigException as exc:
        raise ContextError(f"this display offers no OpenGL 3.3 core context: {exc}") from None
    window.switch_to()
    return window, moderngl.create_context(require=GL_VERSION)


def release_framebuffer(ctx: moderngl.Context, fbo: moderngl.Framebuffer) -> None:
    """Release an offscreen framebuffer without leaving the context bound to a dead one.

    moderngl re-binds its current framebuffer after creating a new one; if that
    is a released object the driver raises GL_INVALID_OPERATION.
    """
    if ctx.fbo is fbo:
        ctx.detect_framebuffer(0).use()
    fbo.release()
