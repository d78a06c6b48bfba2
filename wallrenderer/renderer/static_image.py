"""The static image: a panel's still parts drawn once into a cached image that each frame copies."""

from __future__ import annotations

import moderngl
import numpy as np

from wallrenderer.core.geometry import Rect, Wall
from wallrenderer.renderer.batches import FullscreenPasses, InstancedQuads
from wallrenderer.renderer.gl import release_framebuffer
from wallrenderer.renderer.shaders import ProgramCache
from wallrenderer.renderer.widgets.base import SHAPE_COLUMNS, Layer

# Colour blends by source alpha; alpha accumulates as coverage, so a cached image
# holding translucent fills carries the right alpha when it is faded in.
BLEND = (
    moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA, moderngl.ONE, moderngl.ONE_MINUS_SRC_ALPHA
)


class StaticImage:
    """Background, testcard pattern, widgets' backdrop shapes (cards) and static layers, cached.

    Drawn once per size and whenever a widget's cards change; each frame
    is then a copy, so large static areas cost no shading per frame.

    Args:
        ctx: the moderngl context.
        programs: where the testcard shaders come from.
        wall: the wall, whose canvas the testcard pattern spans.
        panel_rect: this panel's rectangle on the canvas.
        shapes_program: the program that draws shapes, for the backdrop.
        passes: the full-screen passes, for blending the image in.
    """

    def __init__(self, ctx, programs: ProgramCache, wall: Wall, panel_rect: Rect,
                 shapes_program: moderngl.Program, passes: FullscreenPasses):
        self.ctx = ctx
        self._wall = wall
        self._panel_rect = panel_rect
        self._shapes_program = shapes_program
        self._passes = passes
        self.testcard_program = programs.get("testcard.vert.glsl", "testcard.frag.glsl")
        self._testcard = ctx.vertex_array(
            self.testcard_program, [(passes.corner, "2f", "in_corner")]
        )
        self._backdrop = InstancedQuads(
            ctx, shapes_program,
            ["in_geom", "in_params", "in_color", "in_border", "in_angles"], "4f 4f 4f 4f 2f",
        )
        self._backdrop_rows = np.zeros((0, SHAPE_COLUMNS), "f4")
        self._frame: tuple[moderngl.Texture, moderngl.Framebuffer] | None = None
        self._revisions: list[int] = []

    def set_backdrop(self, rows: np.ndarray) -> None:
        """The widgets' backdrop shapes; the image is redrawn when they change."""
        if self._frame is None or not np.array_equal(rows, self._backdrop_rows):
            self._backdrop_rows = rows
            self.drop()

    def _layers_changed(self, layers: list[Layer]) -> bool:
        revisions = [layer.revision for layer in layers if layer.static]
        if revisions == self._revisions:
            return False
        self._revisions = revisions
        return True

    def draw(self, target: moderngl.Framebuffer, alpha: float, background: tuple,
             testcard_grid: float | None, layers: list[Layer], matrix: bytes) -> int:
        """Copy the static image into `target`, drawing it first if needed.

        During a cross-fade (`alpha` below 1) it is blended in at `alpha` instead.
        """
        if self._layers_changed(layers) or (
            self._frame is not None and self._frame[1].size != target.size
        ):
            self.drop()
        if self._frame is None:
            texture = self.ctx.texture(target.size, 4)
            self._frame = (texture, self.ctx.framebuffer([texture]))
            frame = self._frame[1]
            frame.use()
            frame.clear(*background)
            if testcard_grid is not None:
                prog = self.testcard_program
                prog["u_canvas"] = self._wall.canvas
                prog["u_panel"] = self._panel_rect.as_tuple()
                prog["u_grid"] = testcard_grid
                self.ctx.disable(moderngl.BLEND)
                self._testcard.render(moderngl.TRIANGLE_STRIP, vertices=4)
                self.ctx.enable(moderngl.BLEND)
            if len(self._backdrop_rows):
                self._backdrop.upload(self._backdrop_rows)
                self._shapes_program["u_alpha"] = 1.0
                self._backdrop.draw()
            for layer in layers:
                if layer.static:
                    layer.draw(matrix, 1.0)
                    self.ctx.enable(moderngl.BLEND)
                    self.ctx.blend_func = BLEND
            target.use()
        if alpha >= 1.0:
            self.ctx.copy_framebuffer(target, self._frame[1])
        else:
            program, vao = self._passes.get("blit.frag.glsl")
            program["u_image"] = 0
            program["u_alpha"] = alpha
            self._frame[0].use(0)
            vao.render(moderngl.TRIANGLE_STRIP, vertices=4)
        return 1

    def drop(self) -> None:
        """Free the cached image; the next draw makes it again."""
        if self._frame is not None:
            texture, fbo = self._frame
            release_framebuffer(self.ctx, fbo)
            texture.release()
            self._frame = None

    def release(self) -> None:
        self.drop()
        self._backdrop.release()
        self._testcard.release()
