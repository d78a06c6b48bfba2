"""GPU batches: instanced unit quads, text at one font size with its atlas, full-screen passes."""

from __future__ import annotations

import moderngl
import numpy as np

from wallrenderer.renderer import glyphs
from wallrenderer.renderer.shaders import ProgramCache
from wallrenderer.renderer.widgets.base import UNIT_QUAD

# Units 0 and 1 are the coverage atlas and the animation groups; layers bind
# theirs from 2 on and are drawn before text, so text may take 2 for its colour page.
COLOUR_UNIT = 2


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
    """All text at one font and pixel size: a coverage and a colour texture, one draw call."""

    def __init__(self, ctx, programs: ProgramCache, atlas: glyphs.GlyphAtlas):
        self.atlas = atlas
        program = programs.get("text.vert.glsl", "text.frag.glsl")
        self.quads = InstancedQuads(
            ctx, program, ["in_quad", "in_uv", "in_color", "in_page", "in_group"],
            "4f 4f 4f 1f 1f",
        )
        self.textures: list[moderngl.Texture | None] = [None, None]
        self.ctx = ctx

    def sync_texture(self) -> None:
        """Upload only the atlas regions that changed since the last frame."""
        for page, channels in ((glyphs.COVERAGE, 1), (glyphs.COLOUR, 4)):
            pixels = self.atlas.pages[page].pixels
            height, width = pixels.shape[:2]
            texture = self.textures[page]
            if texture is None or texture.size != (width, height):
                if texture is not None:
                    texture.release()
                texture = self.ctx.texture((width, height), channels, pixels.tobytes())
                texture.filter = (moderngl.LINEAR, moderngl.LINEAR)
                self.textures[page] = texture
                self.atlas.take_dirty(page)
                continue
            dirty = self.atlas.take_dirty(page)
            if dirty:
                x, y, w, h = dirty
                region = np.ascontiguousarray(pixels[y : y + h, x : x + w])
                texture.write(region.tobytes(), viewport=(x, y, w, h))

    def draw(self) -> int:
        if not self.quads.count:
            return 0
        self.sync_texture()
        self.textures[glyphs.COVERAGE].use(0)
        self.textures[glyphs.COLOUR].use(COLOUR_UNIT)
        self.quads.program["u_atlas"] = 0
        self.quads.program["u_colour_atlas"] = COLOUR_UNIT
        return self.quads.draw()

    def release(self) -> None:
        self.quads.release()
        for texture in self.textures:
            if texture is not None:
                texture.release()
        self.textures = [None, None]


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
