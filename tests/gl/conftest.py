"""GL fixtures: one headless EGL context per session, checked for errors after every test."""

from __future__ import annotations

import moderngl
import pytest

from wallrenderer.renderer.gl import create_headless_context


@pytest.fixture(scope="session")
def session_ctx():
    ctx = create_headless_context()
    yield ctx
    ctx.release()


@pytest.fixture
def ctx(session_ctx):
    """The session context; the test fails if it leaves a GL error behind."""
    _ = session_ctx.error  # reading the error clears what an earlier teardown left
    yield session_ctx
    error = session_ctx.error
    session_ctx.disable(moderngl.BLEND)
    session_ctx.blend_func = moderngl.DEFAULT_BLENDING
    assert error == "GL_NO_ERROR", f"test left a GL error behind: {error}"
