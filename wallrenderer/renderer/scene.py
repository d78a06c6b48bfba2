"""GPU drawing of a scenario for one panel: the last step of the data flow.

A `PanelView` turns the scenario's widgets into a few batched visuals (one
instanced draw per kind of primitive) whose vertices are in canvas pixels; the
`lib/viewport.glsl` projection then shows only this panel's slice, rotated as
the panel is mounted. Its text is `panel_text`'s, its still parts are cached
by `static_image`, and the GPU batches they fill are in `batches`.
"""

from __future__ import annotations

import logging

import moderngl
import numpy as np

from wallrenderer.core.geometry import Panel, Rect, Wall
from wallrenderer.core.layout.placement import widget_rect
from wallrenderer.core.layout.scenarios import Scenario
from wallrenderer.renderer import fonts
from wallrenderer.renderer.batches import FullscreenPasses, InstancedQuads
from wallrenderer.renderer.gl import release_framebuffer
from wallrenderer.renderer.panel_text import PanelText
from wallrenderer.renderer.shaders import ProgramCache
from wallrenderer.renderer.static_image import BLEND, StaticImage
from wallrenderer.renderer.widgets import VIEWS
from wallrenderer.renderer.widgets.base import (
    GROUPS_PER_WIDGET,
    SHAPE_COLUMNS,
    Draw,
    Layer,
    TextItem,
    WidgetView,
)
from wallrenderer.renderer.widgets.theme import Theme

log = logging.getLogger(__name__)

SWEEP_PERIOD_S = 8.0
OVERLAY_RGBA = (1.0, 0.75, 0.3, 0.9)
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
        self.texts: list[TextItem] = []
        self.clips: dict[int, Rect | None] = {}
        self.built = False
        self.failing: set[str] = set()  # what of the view raised, logged once until it recovers


def _guarded(slot: _WidgetSlot, what: str, fallback, call, *args):
    """`call(*args)`, or `fallback` when the widget's code raises.

    A widget's bug must not stop the render loop; it is logged once, until the
    call works again.
    """
    try:
        result = call(*args)
    except Exception:  # noqa: BLE001 - any widget bug; the panel keeps drawing the rest
        if what not in slot.failing:
            slot.failing.add(what)
            log.exception("widget %s failed in %s(); it stays as it was", slot.view.spec.kind,
                          what)
        return fallback
    slot.failing.discard(what)
    return result


def _motion_of(view: WidgetView, t: float) -> list:
    """A view's motions, taken whole, so a bug in the generator is caught where it is asked."""
    return list(view.motion(t))


def _same_key(a: tuple | None, b: tuple) -> bool:
    """Data keys compare by identity first: unchanged frame fields keep their objects."""
    if a is None or len(a) != len(b):
        return False
    return all(x is y or x == y for x, y in zip(a, b, strict=True))


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
        # Widgets the last render built: a frame that builds costs more than one that draws.
        self.built_last = 0
        self._matrix = self.panel.canvas_to_ndc().T.astype("f4").tobytes()
        self._rects = InstancedQuads(
            ctx, self.programs.get("rect.vert.glsl", "rect.frag.glsl"),
            ["in_rect", "in_color"], "4f 4f",
        )
        self._shapes = InstancedQuads(
            ctx, self.programs.get("shape.vert.glsl", "shape.frag.glsl"),
            ["in_geom", "in_params", "in_color", "in_border", "in_angles"], "4f 4f 4f 4f 2f",
        )
        self._groups = np.zeros((2, 1, 4), "f4")
        self._groups_texture: moderngl.Texture | None = None
        self._passes = FullscreenPasses(ctx, self.programs, self._rects.corner)
        self._static = StaticImage(ctx, self.programs, wall, wall.panel(panel_id).rect,
                                   self._shapes.program, self._passes)
        self._testcard_grid: float | None = None
        self._sweep = InstancedQuads(
            ctx, self._rects.program, ["in_rect", "in_color"], "4f 4f"
        )
        self._text = PanelText(ctx, self.programs, self.panel, self.px_per_canvas)
        self._atlas_generations: dict[tuple[str, int], int] = {}
        self._post = None

    def set_scenario(self, scenario: Scenario) -> None:
        """Set up a scenario's widgets; called on a switch, not per frame."""
        self.scenario = scenario
        self.background = scenario.background
        panel_h = min(p.rect.h for p in self.wall.panels)
        self.theme = Theme.for_scenario(scenario.theme, scenario.background, panel_h,
                                        scenario.locale)
        self._testcard_grid = None
        self._static.drop()
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
        self.built_last = 0
        for slot in self._slots:
            key = _guarded(slot, "key", slot.key, slot.view.key, self.data, t)
            if slot.built and _same_key(slot.key, key):
                continue
            self._build(slot, t)
            self.built_last += 1
            changed = True
        if changed:
            self._relayout_if_atlas_restarted()
            self._upload_content()
        moving = False
        for slot in self._slots:
            if slot.view.animated:
                motion = _guarded(slot, "motion", (), _motion_of, slot.view, t)
                for m in motion:
                    dx = round(m.dx * self.px_per_canvas) / self.px_per_canvas
                    dy = round(m.dy * self.px_per_canvas) / self.px_per_canvas
                    self._groups[0, slot.first_group + m.group] = (dx, dy, m.alpha, 0.0)
                moving = True
        if changed or moving or self._groups_texture is None:
            self._sync_groups()

    def _build(self, slot: _WidgetSlot, t: float) -> None:
        font = self._text.font(self.theme.font)
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
        slot.key = _guarded(slot, "key", slot.key, slot.view.key, self.data, t)
        slot.built = True
        shapes = np.array(draw.shapes, "f4").reshape(-1, SHAPE_COLUMNS)
        shapes[:, 7] += slot.first_group
        slot.shapes = shapes
        slot.backdrop = np.array(draw.backdrop, "f4").reshape(-1, SHAPE_COLUMNS)
        slot.texts = draw.texts
        slot.text = self._text.layout(draw.texts, slot.first_group, self.theme.font)
        slot.clips = draw.clips
        span = slice(slot.first_group, slot.first_group + GROUPS_PER_WIDGET)
        self._groups[0, span] = _STILL
        self._groups[1, span] = _NO_CLIP
        for group, clip in draw.clips.items():
            if clip is not None:
                self._groups[1, slot.first_group + group] = (
                    clip.x, clip.y, clip.right, clip.bottom
                )

    def _relayout_if_atlas_restarted(self) -> None:
        """Lay every widget's text out again when a full glyph atlas started again empty.

        Rows laid out before the restart point at glyphs that are gone. The
        new layout may not restart an atlas again (a glyph that does not fit
        is skipped), so this never loops.
        """
        generations = self._text.generations()
        if all(self._atlas_generations.get(key, 0) == generation
               for key, generation in generations.items()):
            self._atlas_generations = generations
            return
        with self._text.pinned():
            for slot in self._slots:
                slot.text = self._text.layout(slot.texts, slot.first_group, self.theme.font)
        self._atlas_generations = self._text.generations()

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
        self._static.set_backdrop(
            np.concatenate(parts) if parts else np.zeros((0, SHAPE_COLUMNS), "f4"))
        rows: dict[tuple[str, int], list[np.ndarray]] = {}
        for key, quads in self._text.layout(texts, 0, self.theme.font).items():
            rows.setdefault(key, []).append(quads)
        for slot in self._slots:
            for key, quads in slot.text.items():
                rows.setdefault(key, []).append(quads)
        self._text.upload(rows)

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
        self.ctx.blend_func = BLEND
        for program in (self._rects.program, self._static.testcard_program, self._shapes.program):
            program["u_canvas_to_ndc"].write(self._matrix)
        self._groups_texture.use(1)
        self._shapes.program["u_groups"] = 1
        calls = self._static.draw(scene_fbo, alpha, self.background, self._testcard_grid,
                                  self._layers, self._matrix)
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
            self.ctx.blend_func = BLEND
        calls += self._text.draw(self._matrix, alpha)
        if calibrated:
            calls += self._apply_calibration(target, fade)
        self.ctx.disable(moderngl.BLEND)
        self.draw_calls = calls

    def _draw_sweep(self, t: float, alpha: float) -> int:
        """The testcard's bar, sweeping the canvas every 8 s of shared time.

        It crosses from panel to panel without a jump when the clocks agree.
        """
        canvas_w, canvas_h = self.wall.canvas
        bar_w = 12.0 / self.px_per_canvas
        x = (t % SWEEP_PERIOD_S) / SWEEP_PERIOD_S * canvas_w - bar_w / 2
        self._sweep.upload(np.array([[x, 0.0, bar_w, canvas_h, 0.3, 1.0, 0.4, alpha]], "f4"))
        return self._sweep.draw()

    def _post_target(self, size: tuple[int, int]) -> moderngl.Framebuffer:
        if self._post is None or self._post[0].size != size:
            self._release_post()
            texture = self.ctx.texture(size, 4)
            self._post = (texture, self.ctx.framebuffer([texture]))
        return self._post[1]

    def _apply_calibration(self, target: moderngl.Framebuffer, alpha: float) -> int:
        program, vao = self._passes.get("color.frag.glsl")
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
        self._text.release()
        if self._rects is not None:
            self._static.release()
            self._sweep.release()
            self._shapes.release()
            self._rects.release()
            self._rects = None
        self._passes.release()
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
