"""GPU drawing of a scenario for one panel: the last step of the data flow.

A `PanelView` turns the scenario's widgets into a few batched visuals (one
instanced draw per kind of primitive) whose vertices are in canvas pixels; the
`lib/viewport.glsl` projection then shows only this panel's slice, rotated as
the panel is mounted.
"""

from __future__ import annotations

import logging

import moderngl
import numpy as np

from wallrenderer.core.errors import WallError
from wallrenderer.core.geometry import Panel, Rect, Wall
from wallrenderer.core.layout.placement import widget_rect
from wallrenderer.core.layout.scenarios import Scenario
from wallrenderer.renderer import fonts, glyphs
from wallrenderer.renderer.gl import release_framebuffer
from wallrenderer.renderer.shaders import ProgramCache
from wallrenderer.renderer.widgets import VIEWS
from wallrenderer.renderer.widgets.base import (
    GROUPS_PER_WIDGET,
    SHAPE_COLUMNS,
    UNIT_QUAD,
    Draw,
    Layer,
    TextItem,
    WidgetView,
    native_px,
)
from wallrenderer.renderer.widgets.theme import Theme

log = logging.getLogger(__name__)

# Colour blends by source alpha; alpha accumulates as coverage, so a cached image
# holding translucent fills carries the right alpha when it is faded in.
_BLEND = (
    moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA, moderngl.ONE, moderngl.ONE_MINUS_SRC_ALPHA
)
SWEEP_PERIOD_S = 8.0
MAX_GLYPH_PX = 384
# Atlases of text sizes no longer shown are kept (a size often comes back) up to
# this many batches; past it, unused ones are freed so days on air cannot pile them up.
KEPT_TEXT_BATCHES = 24
OVERLAY_RGBA = (1.0, 0.75, 0.3, 0.9)
_TEXT_COLUMNS = len(glyphs.LAYOUT_COLUMNS) + 1  # and the animation group
_NO_CLIP = (1.0, 0.0, -1.0, 0.0)
_STILL = (0.0, 0.0, 1.0, 0.0)


class _WidgetSlot:
    """One widget on this panel: its view, its groups and what its last build produced."""

    def __init__(self, view: WidgetView, first_group: int):
        self.view = view
        self.first_group = first_group
        self.key: tuple | None = None
        self.shapes = np.zeros((0, SHAPE_COLUMNS), "f4")
        self.backdrop = np.zeros((0, SHAPE_COLUMNS), "f4")
        self.text: dict[tuple[str, int], np.ndarray] = {}
        self.clips: dict[int, Rect | None] = {}
        self.built = False


def _same_key(a: tuple | None, b: tuple) -> bool:
    """Data keys compare by identity first: unchanged frame fields keep their objects."""
    if a is None or len(a) != len(b):
        return False
    return all(x is y or x == y for x, y in zip(a, b, strict=True))


class _InstancedQuads:
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


class _TextBatch:
    """All text at one font and pixel size: one atlas texture, one draw call."""

    def __init__(self, ctx, programs: ProgramCache, atlas: glyphs.GlyphAtlas):
        self.atlas = atlas
        program = programs.get("text.vert.glsl", "text.frag.glsl")
        self.quads = _InstancedQuads(
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


class PanelView:
    """Draws one panel's slice of a wall scenario into a framebuffer.

    Args:
        ctx: moderngl context (headless EGL or a pyglet window's).
        wall: the whole wall; its canvas is the coordinate system of every widget.
        panel_id: which display this is.
        output_scale: output pixels per native pixel (1 on a real panel, below 1
            for a preview window smaller than the panel).
        as_mounted: draw the panel as it looks on the wall instead of in its
            native scan-out orientation (preview windows on an ordinary desktop).
    """

    def __init__(
        self,
        ctx: moderngl.Context,
        wall: Wall,
        panel_id: str,
        output_scale: float = 1.0,
        as_mounted: bool = False,
        programs: ProgramCache | None = None,
    ):
        self.ctx = ctx
        self.wall = wall
        native = wall.panel(panel_id)
        self.panel = (
            Panel(native.id, native.rect, native.mounted_resolution, 0, native.color)
            if as_mounted
            else native
        )
        self.output_scale = output_scale
        self.px_per_canvas = self.panel.native_pitch_scale() * output_scale
        self.programs = programs or ProgramCache(ctx)
        self._own_programs = programs is None
        self.scenario: Scenario | None = None
        self.theme = Theme()
        self.data: dict = {}
        self._slots: list[_WidgetSlot] = []
        self._layers: list[Layer] = []
        self._static_texts: list[TextItem] = []
        self._overlay: str | None = None
        self._content_dirty = True
        self.background = (0.0, 0.0, 0.0, 1.0)
        self.draw_calls = 0
        self._matrix = self.panel.canvas_to_ndc().T.astype("f4").tobytes()
        self._rects = _InstancedQuads(
            ctx, self.programs.get("rect.vert.glsl", "rect.frag.glsl"),
            ["in_rect", "in_color"], "4f 4f",
        )
        self._shapes = _InstancedQuads(
            ctx, self.programs.get("shape.vert.glsl", "shape.frag.glsl"),
            ["in_geom", "in_params", "in_color", "in_border", "in_angles"], "4f 4f 4f 4f 2f",
        )
        self._groups = np.zeros((2, 1, 4), "f4")
        self._groups_texture: moderngl.Texture | None = None
        self._testcard_program = self.programs.get("testcard.vert.glsl", "testcard.frag.glsl")
        self._testcard = ctx.vertex_array(
            self._testcard_program, [(self._rects.corner, "2f", "in_corner")]
        )
        self._testcard_grid: float | None = None
        self._static_frame: tuple[moderngl.Texture, moderngl.Framebuffer] | None = None
        self._backdrop_rows = np.zeros((0, SHAPE_COLUMNS), "f4")
        self._static_revisions: list[int] = []
        self._backdrop = _InstancedQuads(
            ctx, self._shapes.program,
            ["in_geom", "in_params", "in_color", "in_border", "in_angles"], "4f 4f 4f 4f 2f",
        )
        self._sweep = _InstancedQuads(
            ctx, self._rects.program, ["in_rect", "in_color"], "4f 4f"
        )
        self._text: dict[tuple[str, int], _TextBatch] = {}
        self._post = None
        self._fullscreen: dict[str, moderngl.VertexArray] = {}

    def set_scenario(self, scenario: Scenario) -> None:
        """Set up a scenario's widgets; called on a switch, not per frame."""
        self.scenario = scenario
        self.background = scenario.background
        panel_h = min(p.rect.h for p in self.wall.panels)
        self.theme = Theme.for_scenario(scenario.theme, scenario.background, panel_h)
        self._testcard_grid = None
        self._drop_static_frame()
        self._static_texts = []
        self._slots = []
        self._release_layers()
        own = self.wall.panel(self.panel.id).rect
        for widget in scenario.widgets:
            box = widget_rect(widget, self.wall)
            if widget.kind == "testcard":
                self._testcard_grid = float(widget.grid_px)
                self._static_texts += self._testcard_labels()
            elif own.intersects(box):
                view = VIEWS[widget.kind](widget, box, self.theme)
                self._slots.append(_WidgetSlot(view, 1 + len(self._slots) * GROUPS_PER_WIDGET))
                layer = view.create_layer(self.ctx, self.programs, self.panel)
                if layer is not None:
                    self._layers.append(layer)
        self._groups = np.zeros((2, 1 + len(self._slots) * GROUPS_PER_WIDGET, 4), "f4")
        self._groups[0] = _STILL
        self._groups[1] = _NO_CLIP
        self._content_dirty = True

    def set_data(self, data: dict) -> None:
        """The latest data frame; widgets whose fields changed rebuild at the next frame."""
        self.data = data

    def set_overlay(self, text: str | None) -> None:
        """A small status note in this panel's bottom-right corner (e.g. stale data), or none."""
        if text == self._overlay:
            return
        self._overlay = text
        self._content_dirty = True

    def _update(self, t: float) -> None:
        """Rebuild widgets whose data changed, then upload; move animated groups."""
        changed = self._content_dirty
        for slot in self._slots:
            key = slot.view.key(self.data, t)
            if slot.built and _same_key(slot.key, key):
                continue
            self._build(slot, t)
            changed = True
        if changed:
            self._upload_content()
        moving = False
        for slot in self._slots:
            if slot.view.animated:
                for m in slot.view.motion(t):
                    dx = round(m.dx * self.px_per_canvas) / self.px_per_canvas
                    dy = round(m.dy * self.px_per_canvas) / self.px_per_canvas
                    self._groups[0, slot.first_group + m.group] = (dx, dy, m.alpha, 0.0)
                moving = True
        if changed or moving or self._groups_texture is None:
            self._sync_groups()

    def _build(self, slot: _WidgetSlot, t: float) -> None:
        font = self._font(self.theme.font)
        draw = Draw(self.wall, self.wall.panel(self.panel.id).rect, self.px_per_canvas,
                    self.theme, font or str(fonts.find_font()))
        try:
            slot.view.build(draw, self.data, t)
        except Exception:  # noqa: BLE001 - a widget's bug must not blank the wall
            log.exception("widget %s failed to draw; it shows nothing until its data changes",
                          slot.view.spec.kind)
            draw = Draw(self.wall, draw.panel, self.px_per_canvas, self.theme, draw.font)
        # A build may move state the key reads (a slide's start): take the key
        # again, or the widget would rebuild once more on the next frame.
        slot.key, slot.built = slot.view.key(self.data, t), True
        shapes = np.array(draw.shapes, "f4").reshape(-1, SHAPE_COLUMNS)
        shapes[:, 7] += slot.first_group
        slot.shapes = shapes
        slot.backdrop = np.array(draw.backdrop, "f4").reshape(-1, SHAPE_COLUMNS)
        slot.text = self._layout_text(draw.texts, slot.first_group)
        slot.clips = draw.clips
        span = slice(slot.first_group, slot.first_group + GROUPS_PER_WIDGET)
        self._groups[0, span] = _STILL
        self._groups[1, span] = _NO_CLIP
        for group, clip in draw.clips.items():
            if clip is not None:
                self._groups[1, slot.first_group + group] = (
                    clip.x, clip.y, clip.right, clip.bottom
                )

    def _upload_content(self) -> None:
        self._content_dirty = False
        rects = []
        texts = list(self._static_texts)
        if self._overlay:
            r = self.wall.panel(self.panel.id).rect
            box = Rect(r.right - 0.34 * r.w, r.bottom - 0.055 * r.h, 0.33 * r.w, 0.045 * r.h)
            rects.append((*box.as_tuple(), 0.0, 0.0, 0.0, 0.65))
            texts.append(TextItem(self._overlay, box.inset(0.1 * box.h), OVERLAY_RGBA, "right"))
        self._rects.upload(np.array(rects, dtype="f4").reshape(-1, 8))
        parts = [slot.shapes for slot in self._slots if len(slot.shapes)]
        self._shapes.upload(np.concatenate(parts) if parts else np.zeros((0, SHAPE_COLUMNS), "f4"))
        parts = [slot.backdrop for slot in self._slots if len(slot.backdrop)]
        backdrop = np.concatenate(parts) if parts else np.zeros((0, SHAPE_COLUMNS), "f4")
        if self._static_frame is None or not np.array_equal(backdrop, self._backdrop_rows):
            self._backdrop_rows = backdrop
            self._drop_static_frame()
        rows: dict[tuple[str, int], list[np.ndarray]] = {}
        for key, quads in self._layout_text(texts, 0).items():
            rows.setdefault(key, []).append(quads)
        for slot in self._slots:
            for key, quads in slot.text.items():
                rows.setdefault(key, []).append(quads)
        for key in rows:
            self._batch(*key)
        for key, batch in list(self._text.items()):
            parts = rows.get(key)
            if not parts and len(self._text) > KEPT_TEXT_BATCHES:
                batch.release()
                del self._text[key]
                continue
            batch.quads.upload(
                np.concatenate(parts) if parts else np.zeros((0, _TEXT_COLUMNS), "f4")
            )

    def _static_layers_changed(self) -> bool:
        revisions = [layer.revision for layer in self._layers if layer.static]
        if revisions == self._static_revisions:
            return False
        self._static_revisions = revisions
        return True

    def _sync_groups(self) -> None:
        data = np.ascontiguousarray(self._groups)
        width = data.shape[1]
        if self._groups_texture is None or self._groups_texture.width != width:
            if self._groups_texture is not None:
                self._groups_texture.release()
            self._groups_texture = self.ctx.texture((width, 2), 4, dtype="f4")
            self._groups_texture.filter = (moderngl.NEAREST, moderngl.NEAREST)
        self._groups_texture.write(data.tobytes())

    def _testcard_labels(self) -> list[TextItem]:
        """Each panel's id and resolution in large type, centred on that panel."""
        items = []
        for p in self.wall.panels:
            r = p.rect
            w, h = p.resolution
            items.append(
                TextItem(p.id, Rect(r.x + r.w * 0.2, r.y + r.h * 0.28, r.w * 0.6, r.h * 0.26),
                         (1.0, 1.0, 1.0, 1.0))
            )
            detail = f"{w} x {h}  rot {p.rotation}  at ({int(r.x)}, {int(r.y)})"
            items.append(
                TextItem(detail, Rect(r.x + r.w * 0.15, r.y + r.h * 0.58, r.w * 0.7, r.h * 0.09),
                         (0.75, 0.85, 1.0, 1.0))
            )
        own = self.panel.rect
        return [i for i in items if i.box.intersects(own)]

    def _layout_text(
        self, items: list[TextItem], first_group: int
    ) -> dict[tuple[str, int], np.ndarray]:
        """Lay text out at this panel's native pixel size, then map quads back to canvas units.

        Sizes are rounded down to a ladder of steps (`native_px`) so a whole
        scenario uses few atlases and draw calls. Glyphs larger than
        MAX_GLYPH_PX are rasterised at that size and scaled up, so huge text
        costs bounded memory and always fits the atlas.
        """
        rows: dict[tuple[str, int], list[np.ndarray]] = {}
        own = self.panel.rect
        for item in items:
            box = item.box
            if not box.intersects(own) and item.group == 0:
                continue
            font = self._font(item.font or self.theme.font)
            if font is None:
                continue
            s = self.px_per_canvas
            if item.size is not None:
                px = native_px(item.size, s)
            else:
                limit = None if item.max_size is None else native_px(item.max_size, s)
                px = native_px(glyphs.fit_font_px(font, item.text, box.w * s, box.h * s, limit), 1)
            if px > MAX_GLYPH_PX:
                s *= MAX_GLYPH_PX / px
                px = MAX_GLYPH_PX
            batch = self._batch(font, px)
            _, block_h = glyphs.measure_text(batch.atlas, item.text)
            anchor = {"left": box.x, "center": box.x + box.w / 2, "right": box.right}[item.align]
            free = box.h - block_h / s
            top = box.y + {"top": 0.0, "center": free / 2, "bottom": free}[item.valign]
            x0, y0 = self._snap(anchor, top)
            quads = glyphs.layout_text(batch.atlas, item.text, 0.0, 0.0, item.color, item.align)
            if not len(quads):
                continue
            out = np.empty((len(quads), _TEXT_COLUMNS), "f4")
            out[:, :12] = quads
            out[:, 0] = x0 + quads[:, 0] / s
            out[:, 1] = y0 + quads[:, 1] / s
            out[:, 2:4] /= s
            out[:, 12] = first_group + item.group
            rows.setdefault((font, px), []).append(out)
        return {key: np.concatenate(parts) for key, parts in rows.items()}

    def _font(self, name: str | None) -> str | None:
        """The font file for a widget, else the default one; None (logged) if neither loads."""
        for candidate in (name, None) if name else (None,):
            try:
                return str(fonts.find_font(candidate))
            except WallError as exc:
                log.error("%s", exc)
        return None

    def _snap(self, x: float, y: float) -> tuple[float, float]:
        """Put a text origin on this panel's pixel grid so glyphs stay sharp."""
        s, r = self.px_per_canvas, self.panel.rect
        return r.x + round((x - r.x) * s) / s, r.y + round((y - r.y) * s) / s

    def _batch(self, font: str, px: int) -> _TextBatch:
        key = (font, px)
        if key not in self._text:
            self._text[key] = _TextBatch(self.ctx, self.programs, glyphs.GlyphAtlas(font, px))
        return self._text[key]

    def render(self, t: float, target: moderngl.Framebuffer, alpha: float = 1.0) -> None:
        """Draw the frame for shared wall-clock time `t` into `target`.

        With `alpha` below 1 the scene is blended over what `target` already
        holds (the previous scenario during a cross-fade) instead of replacing it:
        its static image (background, cards) at `alpha`, then its other content
        at `alpha`. That costs no extra full-screen pass, and it is an exact
        cross-fade wherever the dynamic content of only one scene is drawn.
        """
        self._update(t)
        calibrated = not self.panel.color.is_identity
        scene_fbo = self._post_target(target.size) if calibrated else target
        # A calibrated panel draws its scene whole, then fades the calibrated image in.
        fade, alpha = (alpha, 1.0) if calibrated else (1.0, alpha)
        scene_fbo.use()
        self.ctx.viewport = (0, 0, *target.size)
        self.ctx.enable(moderngl.BLEND)
        self.ctx.blend_func = _BLEND
        for program in (self._rects.program, self._testcard_program, self._shapes.program):
            program["u_canvas_to_ndc"].write(self._matrix)
        self._groups_texture.use(1)
        self._shapes.program["u_groups"] = 1
        calls = self._draw_static(scene_fbo, alpha)
        if self._testcard_grid is not None:
            calls += self._draw_sweep(t, alpha)
        calls += self._rects.draw()
        if self._shapes.count:
            self._shapes.program["u_alpha"] = alpha
            calls += self._shapes.draw()
        for layer in self._layers:
            if layer.static:
                continue
            calls += layer.draw(self._matrix, alpha)
            self.ctx.enable(moderngl.BLEND)
            self.ctx.blend_func = _BLEND
        for batch in self._text.values():
            if batch.quads.count:
                program = batch.quads.program
                program["u_canvas_to_ndc"].write(self._matrix)
                program["u_groups"] = 1
                program["u_alpha"] = alpha
                calls += batch.draw()
        if calibrated:
            calls += self._apply_calibration(target, fade)
        self.ctx.disable(moderngl.BLEND)
        self.draw_calls = calls

    def _fullscreen_vao(self, fragment: str) -> tuple[moderngl.Program, moderngl.VertexArray]:
        program = self.programs.get("fullscreen.vert.glsl", fragment)
        if fragment not in self._fullscreen:
            self._fullscreen[fragment] = self.ctx.vertex_array(
                program, [(self._rects.corner, "2f", "in_corner")]
            )
        return program, self._fullscreen[fragment]

    def _draw_static(self, target: moderngl.Framebuffer, alpha: float) -> int:
        """Copy the static image (background, testcard pattern, cards) into `target`.

        Drawn once per size and whenever a widget's cards change; each frame
        is then a copy, so large static areas cost no shading per frame. During
        a cross-fade it is blended in at `alpha` instead.
        """
        if self._static_layers_changed() or (
            self._static_frame is not None and self._static_frame[1].size != target.size
        ):
            self._drop_static_frame()
        if self._static_frame is None:
            texture = self.ctx.texture(target.size, 4)
            self._static_frame = (texture, self.ctx.framebuffer([texture]))
            frame = self._static_frame[1]
            frame.use()
            frame.clear(*self.background)
            if self._testcard_grid is not None:
                prog = self._testcard_program
                prog["u_canvas"] = self.wall.canvas
                prog["u_panel"] = self.wall.panel(self.panel.id).rect.as_tuple()
                prog["u_grid"] = self._testcard_grid
                self.ctx.disable(moderngl.BLEND)
                self._testcard.render(moderngl.TRIANGLE_STRIP, vertices=4)
                self.ctx.enable(moderngl.BLEND)
            if len(self._backdrop_rows):
                self._backdrop.upload(self._backdrop_rows)
                self._shapes.program["u_alpha"] = 1.0
                self._backdrop.draw()
            for layer in self._layers:
                if layer.static:
                    layer.draw(self._matrix, 1.0)
                    self.ctx.enable(moderngl.BLEND)
                    self.ctx.blend_func = _BLEND
            target.use()
        if alpha >= 1.0:
            self.ctx.copy_framebuffer(target, self._static_frame[1])
        else:
            program, vao = self._fullscreen_vao("blit.frag.glsl")
            program["u_image"] = 0
            program["u_alpha"] = alpha
            self._static_frame[0].use(0)
            vao.render(moderngl.TRIANGLE_STRIP, vertices=4)
        return 1

    def _draw_sweep(self, t: float, alpha: float) -> int:
        """The testcard's bar, sweeping the canvas every 8 s of shared time.

        It crosses from panel to panel without a jump when the clocks agree.
        """
        canvas_w, canvas_h = self.wall.canvas
        bar_w = 12.0 / self.px_per_canvas
        x = (t % SWEEP_PERIOD_S) / SWEEP_PERIOD_S * canvas_w - bar_w / 2
        self._sweep.upload(np.array([[x, 0.0, bar_w, canvas_h, 0.3, 1.0, 0.4, alpha]], "f4"))
        return self._sweep.draw()

    def _drop_static_frame(self) -> None:
        if self._static_frame is not None:
            texture, fbo = self._static_frame
            release_framebuffer(self.ctx, fbo)
            texture.release()
            self._static_frame = None

    def _post_target(self, size: tuple[int, int]) -> moderngl.Framebuffer:
        if self._post is None or self._post[0].size != size:
            self._release_post()
            texture = self.ctx.texture(size, 4)
            self._post = (texture, self.ctx.framebuffer([texture]))
        return self._post[1]

    def _apply_calibration(self, target: moderngl.Framebuffer, alpha: float) -> int:
        program, vao = self._fullscreen_vao("color.frag.glsl")
        color = self.panel.color
        program["u_gain"] = color.gain
        program["u_gamma"] = color.gamma
        program["u_brightness"] = color.brightness
        program["u_alpha"] = alpha
        program["u_scene"] = 0
        target.use()
        if alpha >= 1.0:
            self.ctx.disable(moderngl.BLEND)
        self._post[0].use(0)
        vao.render(moderngl.TRIANGLE_STRIP, vertices=4)
        return 1

    def _release_post(self) -> None:
        if self._post is not None:
            texture, fbo = self._post
            release_framebuffer(self.ctx, fbo)
            texture.release()
            self._post = None

    def _release_layers(self) -> None:
        for layer in self._layers:
            layer.release()
        self._layers = []

    def release(self) -> None:
        """Free GPU objects now; safe to call twice (never left to __del__)."""
        self._release_layers()
        for batch in self._text.values():
            batch.release()
        self._text.clear()
        self._drop_static_frame()
        if self._rects is not None:
            self._backdrop.release()
            self._sweep.release()
            self._testcard.release()
            self._shapes.release()
            self._rects.release()
            self._rects = None
        for vao in self._fullscreen.values():
            vao.release()
        self._fullscreen.clear()
        if self._groups_texture is not None:
            self._groups_texture.release()
            self._groups_texture = None
        self._release_post()
        if self._own_programs:
            self.programs.release()


def read_rgb(fbo: moderngl.Framebuffer) -> np.ndarray:
    """Framebuffer pixels as an (H, W, 3) uint8 array, top row first like a PNG."""
    w, h = fbo.size
    data = np.frombuffer(fbo.read(components=3, alignment=1), dtype=np.uint8)
    return data.reshape(h, w, 3)[::-1].copy()
