"""GPU batches: instanced unit quads, text at one font size with its atlas, full-screen passes."""

from __future__ import annotations

import moderngl
import numpy as np

from wallrenderer.renderer import glyphs
from wallrenderer.renderer.shaders import ProgramCache
from wallrenderer.renderer.widgets.base import UNIT_QUAD


class InstancedQuads:
    """A unit quad drawn once per instance row, uploaded in one write per change."""

    def __init__(self, ctx, program, attributes: list[str], layout: str):
        self.ctx = ctx
        self.program = program
        self.corner = ctx.buffer(UNIT_QUAD.tobytes())
        self.instances = ctx.buffer(reserve=64)
        self.count = 0
        self.vao = ctx.vertex_array(
            program,
            [(self.corner, "2f", "in_corner"), (self.instances, f"{layout}/i", *attributes)],
        )

    def upload(self, rows: np.ndarray) -> None:
        data = np.ascontiguousarray(rows, dtype="f4").tobytes()
        if len(data) > self.instances.size:
            self.instances.orphan(len(data))
        if data:
            self.instances.write(data)
        self.count = len(rows)

    def draw(self) -> int:
        if not self.count:
            return 0
        self.vao.render(moderngl.TRIANGLE_STRIP, vertices=4, instances=self.count)
        return 1

    def release(self) -> None:
        for obj in (self.vao, self.instances, self.corner):
            obj.release()


class TextBatch:
    """All text at one font and pixel size: one atlas texture, one draw call."""

    def __init__(self, ctx, programs: ProgramCache, atlas: glyphs.GlyphAtlas):
        self.atlas = atlas
        program = programs.get("text.vert.glsl", "text.frag.glsl")
        self.quads = InstancedQuads(
            ctx, program, ["in_quad", "in_uv", "in_color", "in_group"], "4f 4f 4f 1f"
        )
        self.texture = None
        self.ctx = ctx
        self.rows: list[np.ndarray] = []

    def sync_texture(self) -> None:
        """Upload only the atlas region that changed since the last frame."""
        pixels = self.atlas.pixels
        height, width = pixels.shape
        if self.texture is None or self.texture.size != (width, height):
            if self.texture is not None:
                self.texture.release()
            self.texture = self.ctx.texture((width, height), 1, pixels.tobytes())
            self.texture.filter = (moderngl.LINEAR, moderngl.LINEAR)
            self.atlas.take_dirty()
            return
        dirty = self.atlas.take_dirty()
        if dirty:
            x, y, w, h = dirty
            region = np.ascontiguousarray(pixels[y : y + h, x : x + w])
            self.texture.write(region.tobytes(), viewport=(x, y, w, h))

    def draw(self) -> int:
        if not self.quads.count:
            return 0
        self.sync_texture()
        self.texture.use(0)
        self.quads.program["u_atlas"] = 0
        return self.quads.draw()

    def release(self) -> None:
        self.quads.release()
        if self.texture is not None:
            self.texture.release()
            self.texture = None


class FullscreenPasses:
    """Full-screen quads, one vertex array per fragment shader, made when first used.

    Args:
        ctx: the moderngl context.
        programs: where the shaders come from.
        corner: a unit-quad corner buffer to draw them with.
    """

    def __init__(self, ctx, programs: ProgramCache, corner: moderngl.Buffer):
        self.ctx = ctx
        self.programs = programs
        self.corner = corner
        self._vaos: dict[str, moderngl.VertexArray] = {}

    def get(self, fragment: str) -> tuple[moderngl.Program, moderngl.VertexArray]:
        program = self.programs.get("fullscreen.vert.glsl", fragment)
        if fragment not in self._vaos:
            self._vaos[fragment] = self.ctx.vertex_array(
                program, [(self.corner, "2f", "in_corner")]
            )
        return program, self._vaos[fragment]

    def release(self) -> None:
        for vao in self._vaos.values():
            vao.release()
        self._vaos.clear()
