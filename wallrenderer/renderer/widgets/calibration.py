"""`calibration`: the set-up patterns of the built-in `calibration` and `calibration-colour`.

The markers are drawn as one texture per panel made from
`wallrenderer.core.markers` in the panel's native pixels, then turned the way
the panel hangs, so on the panel itself each marker lands exactly on the
native pixels `wallrenderer calibrate` expects, whatever the rotation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from wallrenderer.core.geometry import Panel, Rect, Wall
from wallrenderer.core.layout.kinds import CalibrationWidget
from wallrenderer.core.markers import native_pattern
from wallrenderer.core.wallimage import as_mounted
from wallrenderer.renderer.widgets.base import Draw, Layer, WidgetView
from wallrenderer.renderer.widgets.image import ImageLayer

GREY = (0.5, 0.5, 0.5, 1.0)
# The colour pattern's fields, left to right, under the name: compare them panel to panel.
FIELDS = (
    (1.0, 1.0, 1.0, 1.0), (0.75, 0.75, 0.75, 1.0), (0.25, 0.25, 0.25, 1.0),
    (1.0, 0.0, 0.0, 1.0), (0.0, 1.0, 0.0, 1.0), (0.0, 0.0, 1.0, 1.0),
)
LABEL = (0.85, 0.9, 1.0, 1.0)


class MarkerLayer(Layer):
    """The panel's markers as one texture, made at the first build (which knows the wall)."""

    static = True

    def __init__(self, ctx: Any, programs: Any):
        self.ctx, self.programs = ctx, programs
        self.image: ImageLayer | None = None

    def show(self, wall: Wall, panel: Panel) -> None:
        if self.image is not None:
            return
        index = wall.panels.index(panel)
        pattern = as_mounted(native_pattern(index, panel.resolution), panel.rotation)
        rgba = np.dstack([pattern] * 3 + [np.full_like(pattern, 255)])
        self.image = ImageLayer(self.ctx, self.programs, panel.rect,
                                Image.fromarray(np.ascontiguousarray(rgba)), 1.0)
        self.revision += 1

    def draw(self, canvas_to_ndc: bytes, alpha: float) -> int:
        return 0 if self.image is None else self.image.draw(canvas_to_ndc, alpha)

    def release(self) -> None:
        if self.image is not None:
            self.image.release()
            self.image = None


class CalibrationView(WidgetView):
    """Markers and each panel's name, or flat grey and colour fields."""

    spec: CalibrationWidget

    def __init__(self, spec: CalibrationWidget, box: Rect, theme: Any):
        super().__init__(spec, box, theme)
        self.layer: MarkerLayer | None = None

    def create_layer(self, ctx: Any, programs: Any, panel: Panel) -> Layer | None:
        if self.spec.pattern == "markers":
            self.layer = MarkerLayer(ctx, programs)
        return self.layer

    def build(self, draw: Draw, data: dict[str, Any], t: float) -> None:
        panel = next(p for p in draw.wall.panels if p.rect == draw.panel)
        r = panel.rect
        middle = Rect(r.x + r.w / 3, r.y + r.h / 3, r.w / 3, r.h / 3)
        if self.layer is not None:
            self.layer.show(draw.wall, panel)
            draw.text(panel.id, Rect(middle.x, middle.y, middle.w, middle.h * 0.6), LABEL,
                      "center")
            w, h = panel.resolution
            draw.text(f"{w} x {h}  rot {panel.rotation}",
                      Rect(middle.x, middle.y + middle.h * 0.65, middle.w, middle.h * 0.25),
                      LABEL, "center")
            return
        draw.box(r, GREY, backdrop=True)
        draw.text(panel.id, Rect(r.x, r.y + r.h * 0.08, r.w, r.h * 0.16), LABEL, "center")
        side = min(r.w * 0.8 / len(FIELDS), r.h * 0.3)
        left = r.x + (r.w - side * len(FIELDS)) / 2
        for i, color in enumerate(FIELDS):
            draw.box(Rect(left + i * side, r.y + r.h * 0.55, side, side), color, backdrop=True)


VIEWS = {"calibration": CalibrationView}
