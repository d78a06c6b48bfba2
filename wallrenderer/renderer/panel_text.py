"""Text on one panel: text items laid out at its native pixel size, batched per font size."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import numpy as np

from wallrenderer.core.errors import WallError
from wallrenderer.core.geometry import Panel
from wallrenderer.renderer import fonts, glyphs
from wallrenderer.renderer.batches import TextBatch
from wallrenderer.renderer.shaders import ProgramCache
from wallrenderer.renderer.widgets.base import TextItem, native_px

log = logging.getLogger(__name__)

MAX_GLYPH_PX = 384
# Atlases of text sizes no longer shown are kept (a size often comes back) up to
# this many batches; past it, unused ones are freed so days on air cannot pile them up.
KEPT_TEXT_BATCHES = 24
GROUP_COLUMN = len(glyphs.LAYOUT_COLUMNS)  # the animation group follows the layout columns
TEXT_COLUMNS = GROUP_COLUMN + 1


class PanelText:
    """The text batches of one panel, one per (font file, pixel size).

    Args:
        ctx: the moderngl context.
        programs: where the text shaders come from.
        panel: the panel drawn, in its drawn orientation.
        px_per_canvas: output pixels per canvas unit on this panel.
    """

    def __init__(self, ctx, programs: ProgramCache, panel: Panel, px_per_canvas: float):
        self.ctx = ctx
        self.programs = programs
        self.panel = panel
        self.px_per_canvas = px_per_canvas
        self.batches: dict[tuple[str, int], TextBatch] = {}

    def layout(self, items: list[TextItem], first_group: int,
               theme_font: str | None) -> dict[tuple[str, int], np.ndarray]:
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
            font = self.font(item.font or theme_font)
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
            out = np.empty((len(quads), TEXT_COLUMNS), "f4")
            out[:, :GROUP_COLUMN] = quads
            out[:, 0] = x0 + quads[:, 0] / s
            out[:, 1] = y0 + quads[:, 1] / s
            out[:, 2:4] /= s
            out[:, GROUP_COLUMN] = first_group + item.group
            rows.setdefault((font, px), []).append(out)
        return {key: np.concatenate(parts) for key, parts in rows.items()}

    def generations(self) -> dict[tuple[str, int], int]:
        """How often each batch's atlas started again; rows laid out before a change are stale."""
        return {key: batch.atlas.generation for key, batch in self.batches.items()}

    @contextlib.contextmanager
    def pinned(self) -> Iterator[None]:
        """While inside, no atlas starts again: glyphs that do not fit are skipped."""
        atlases = [batch.atlas for batch in self.batches.values()]
        for atlas in atlases:
            atlas.evict = False
        try:
            yield
        finally:
            for atlas in atlases:
                atlas.evict = True

    def font(self, name: str | None) -> str | None:
        """The font file for a widget, else the default one; None (logged) if neither loads."""
        for candidate in (name, None) if name else (None,):
            try:
                return str(fonts.find_font(candidate))
            except WallError as exc:
                log.error("%s", exc)
        return None

    def upload(self, rows: dict[tuple[str, int], list[np.ndarray]]) -> None:
        """Give each batch its laid-out rows; batches not shown keep none (or go, past a limit)."""
        for key in rows:
            self._batch(*key)
        for key, batch in list(self.batches.items()):
            parts = rows.get(key)
            if not parts and len(self.batches) > KEPT_TEXT_BATCHES:
                batch.release()
                del self.batches[key]
                continue
            batch.quads.upload(
                np.concatenate(parts) if parts else np.zeros((0, TEXT_COLUMNS), "f4")
            )

    def draw(self, matrix: bytes, alpha: float) -> int:
        """Draw every batch with rows; returns the draw calls made."""
        calls = 0
        for batch in self.batches.values():
            if batch.quads.count:
                program = batch.quads.program
                program["u_canvas_to_ndc"].write(matrix)
                program["u_groups"] = 1
                program["u_alpha"] = alpha
                calls += batch.draw()
        return calls

    def _snap(self, x: float, y: float) -> tuple[float, float]:
        """Put a text origin on this panel's pixel grid so glyphs stay sharp."""
        s, r = self.px_per_canvas, self.panel.rect
        return r.x + round((x - r.x) * s) / s, r.y + round((y - r.y) * s) / s

    def _batch(self, font: str, px: int) -> TextBatch:
        key = (font, px)
        if key not in self.batches:
            self.batches[key] = TextBatch(self.ctx, self.programs, glyphs.GlyphAtlas(font, px))
        return self.batches[key]

    def release(self) -> None:
        for batch in self.batches.values():
            batch.release()
        self.batches.clear()
