"""`image`: a logo or picture, PNG or JPEG.

Renderers may run on other machines than the controller and get scenarios
as data, so the picture travels inside the scenario: `data` holds the file
as base64, filled in by the controller from `src` (relative to the scenario
file) with `embed_images` when it loads the scenario. Without `data` (a
local preview) the view reads `src` itself. A picture that cannot be had
shows as a quiet placeholder card with its file name; it never raises.
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from wallrenderer.core.geometry import Panel, Rect
from wallrenderer.core.layout.images import check_image, local_file
from wallrenderer.core.layout.kinds import ImageWidget
from wallrenderer.renderer.widgets.base import UNIT_QUAD, Draw, Layer, WidgetView
from wallrenderer.renderer.widgets.theme import Theme, with_alpha

log = logging.getLogger(__name__)

# Largest texture side uploaded; bigger pictures are scaled down first.
MAX_TEXTURE_SIDE = 4096
# Texture units 0 and 1 hold the text atlas and the animation groups.
_IMAGE_UNIT = 2


def load_picture(spec: ImageWidget) -> Image.Image | None:
    """The widget's picture decoded to RGBA, upright; None (logged) if it cannot be had."""
    try:
        raw = base64.b64decode(spec.data) if spec.data else local_file(spec.src)
        image = ImageOps.exif_transpose(check_image(raw))
        return image.convert("RGBA")
    # Pillow's decoders raise OSError, ValueError, SyntaxError, EOFError... on broken files.
    except Exception as exc:  # noqa: BLE001 - a broken picture must not stop the scenario
        log.warning("image %s cannot be shown: %s", spec.src, exc)
        return None


def placement(box: Rect, size: tuple[int, int], fit: str) -> tuple[Rect, tuple[int, ...]]:
    """Where the picture goes in `box` and which part of it (a crop box in its pixels) shows.

    `contain` shows all of it, as large as fits, centred; `cover` fills the
    box and crops the overflow evenly from both sides.
    """
    width, height = size
    scale = (max if fit == "cover" else min)(box.w / width, box.h / height)
    shown_w, shown_h = width * scale, height * scale
    if fit == "cover":
        crop_w, crop_h = box.w / scale, box.h / scale
        left, top = (width - crop_w) / 2, (height - crop_h) / 2
        crop = (round(left), round(top), round(left + crop_w), round(top + crop_h))
        return box, crop
    quad = Rect(box.x + (box.w - shown_w) / 2, box.y + (box.h - shown_h) / 2, shown_w, shown_h)
    return quad, (0, 0, width, height)


class ImageLayer(Layer):
    """The picture on one panel: a premultiplied texture at the panel's own pixel size."""

    def __init__(self, ctx: Any, programs: Any, quad: Rect, pixels: Image.Image,
                 opacity: float):
        self.ctx = ctx
        self.program = programs.get("image.vert.glsl", "image.frag.glsl")
        self.quad, self.opacity = quad, opacity
        self.texture = ctx.texture(pixels.size, 4, pixels.tobytes())
        self.texture.filter = (ctx.LINEAR, ctx.LINEAR)
        self.texture.repeat_x = self.texture.repeat_y = False
        self.corner = ctx.buffer(UNIT_QUAD.tobytes())
        self.vao = ctx.vertex_array(self.program, [(self.corner, "2f", "in_corner")])

    def draw(self, canvas_to_ndc: bytes, alpha: float) -> int:
        program = self.program
        program["u_canvas_to_ndc"].write(canvas_to_ndc)
        program["u_rect"] = self.quad.as_tuple()
        program["u_alpha"] = self.opacity * alpha
        program["u_image"] = _IMAGE_UNIT
        self.texture.use(_IMAGE_UNIT)
        self.vao.render(self.ctx.TRIANGLE_STRIP, vertices=4)
        return 1

    def release(self) -> None:
        for obj in (self.vao, self.corner, self.texture):
            obj.release()


class ImageView(WidgetView):
    """The picture as a textured quad, or a placeholder card naming the missing file."""

    spec: ImageWidget

    def __init__(self, spec: ImageWidget, box: Rect, theme: Theme):
        super().__init__(spec, box, theme)
        self.picture = load_picture(spec)

    def create_layer(self, ctx: Any, programs: Any, panel: Panel) -> Layer | None:
        if self.picture is None:
            return None
        quad, crop = placement(self.box, self.picture.size, self.spec.fit)
        if not quad.intersects(panel.rect):
            return None
        columns, rows = panel.mounted_resolution
        size = (quad.w * columns / panel.rect.w, quad.h * rows / panel.rect.h)
        shrink = min(1.0, MAX_TEXTURE_SIDE / max(size))
        size = (max(1, round(size[0] * shrink)), max(1, round(size[1] * shrink)))
        # Resampled once here, to this panel's pixels, with premultiplied alpha (RGBa).
        pixels = self.picture.crop(crop).convert("RGBa").resize(size, Image.Resampling.LANCZOS)
        return ImageLayer(ctx, programs, quad, pixels, self.spec.opacity)

    def build(self, draw: Draw, data: dict[str, Any], t: float) -> None:
        if self.picture is None:
            self._placeholder(draw)

    def _placeholder(self, draw: Draw) -> None:
        """A card with a picture icon and the file name: says what is missing, quietly."""
        theme = self.theme
        inner = draw.seam_free(self.card(draw))
        size = theme.size("body")
        line = draw.line_height(size)
        icon_h = min(2.4 * theme.unit, max(0.0, inner.h - 1.6 * line))
        name = draw.truncate(Path(self.spec.src).name, inner.w, size)
        top = inner.y + (inner.h - icon_h - 0.4 * theme.unit - line) / 2
        if icon_h >= 0.8 * theme.unit:
            self._icon(draw, Rect(inner.x + (inner.w - 1.3 * icon_h) / 2, top, 1.3 * icon_h,
                                  icon_h))
            top += icon_h + 0.4 * theme.unit
        draw.text(name, Rect(inner.x, top, inner.w, line), theme.text_dim, "center", size)

    def _icon(self, draw: Draw, frame: Rect) -> None:
        """A framed landscape: the usual sign for 'a picture goes here'."""
        color = with_alpha(self.theme.text_dim, 0.6)
        stroke = max(1.5, 0.08 * frame.h)
        draw.box(frame, (0.0, 0.0, 0.0, 0.0), radius=0.12 * frame.h, border=stroke,
                 border_color=color)
        draw.ring(frame.x + 0.7 * frame.w, frame.y + 0.33 * frame.h, 0.1 * frame.h, 0.0, color)
        hill = Rect(frame.x + 0.15 * frame.w, frame.y + 0.4 * frame.h, 0.5 * frame.w,
                    0.45 * frame.h)
        draw.triangle(hill, True, color)


VIEWS = {"image": ImageView}
