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
import binascii
import io
import logging
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from PIL import Image, ImageOps
from pydantic import AfterValidator, Field, Strict

from wallrenderer.config import Fraction, Name, Widget
from wallrenderer.geometry import Panel, Rect
from wallrenderer.resources import builtin_path
from wallrenderer.widgets.base import UNIT_QUAD, Draw, Layer, WidgetView
from wallrenderer.widgets.theme import Theme, with_alpha

log = logging.getLogger(__name__)

# Images travel base64-encoded inside the scenario message (at most 1 MiB, see
# controller/library.py): logo-sized pictures only.
MAX_IMAGE_BYTES = 512 * 1024
# Decoded size guard: a small file can still unpack to gigabytes of pixels.
MAX_IMAGE_PIXELS = 40_000_000
FORMATS = ("PNG", "JPEG")
# Largest texture side uploaded; bigger pictures are scaled down first.
MAX_TEXTURE_SIDE = 4096
# Texture units 0 and 1 hold the text atlas and the animation groups.
_IMAGE_UNIT = 2


def check_size(size: int) -> None:
    """Refuse a file too big to travel inside a scenario, saying what to do about it."""
    if size > MAX_IMAGE_BYTES:
        raise ValueError(
            f"image is {size / 2**10:.0f} KiB; the limit is {MAX_IMAGE_BYTES // 2**10} KiB "
            "(a logo needs far less: save it smaller, or as JPEG)"
        )


def check_image(raw: bytes) -> Image.Image:
    """The picture in `raw`, opened but not decoded, if it is one a wall may show.

    Raises:
        ValueError: too large, not PNG or JPEG, or too many pixels; the
            message says which, for the operator.
    """
    check_size(len(raw))
    try:
        image = Image.open(io.BytesIO(raw))
    except Exception as exc:  # noqa: BLE001 - whatever Pillow raises, the operator reads why
        raise ValueError(f"not a readable PNG or JPEG image ({exc})") from None
    if image.format not in FORMATS:
        raise ValueError(f"image is {image.format}; use PNG or JPEG")
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        raise ValueError(
            f"image is {width} x {height} pixels; the limit is {MAX_IMAGE_PIXELS // 10**6} "
            "million pixels"
        )
    return image


def _check_data(value: str | None) -> str | None:
    if value is None:
        return value
    # Four base64 characters carry three bytes: refuse before decoding anything huge.
    check_size(len(value) // 4 * 3 - (len(value) - len(value.rstrip("="))))
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ValueError("data is not base64 (the controller fills it in from 'src')") from None
    check_image(raw)
    return value


class ImageWidget(Widget):
    """A picture from `src`, fitted inside its box (`contain`) or filling it (`cover`).

    `src` is relative to the scenario file; `data` is the file as base64,
    which the controller fills in when it loads the scenario: do not write it.
    """

    bears_text: ClassVar[bool] = False

    kind: Literal["image"]
    src: Name
    fit: Literal["contain", "cover"] = "contain"
    opacity: Fraction = 1.0
    data: Annotated[str | None, Strict(), AfterValidator(_check_data), Field(repr=False)] = None


def embed_images(document: Any, folder: Path) -> list[str]:
    """Put each image widget's file into its `data`, so renderers elsewhere can show it.

    The controller calls this on a scenario document (``{"scenario": {...}}``)
    it read from a file in `folder`. A file that is missing or cannot be shown
    is left out with a problem message; the renderer then shows a placeholder.

    Returns:
        One message per image that could not be embedded.
    """
    scenario = document.get("scenario") if isinstance(document, dict) else None
    widgets = scenario.get("widgets") if isinstance(scenario, dict) else None
    problems = []
    for widget in widgets if isinstance(widgets, list) else []:
        if not isinstance(widget, dict) or widget.get("kind") != "image":
            continue
        src = widget.get("src")
        if not isinstance(src, str) or not src or "data" in widget:
            continue
        path = folder / src
        try:
            check_size(path.stat().st_size)
            raw = path.read_bytes()
            check_image(raw)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            problems.append(f"{path}: {reason}; the image shows as a placeholder")
            continue
        widget["data"] = base64.b64encode(raw).decode("ascii")
    return problems


def _local_file(src: str) -> bytes:
    """`src` read here: as given, else beside the shipped scenarios (previews, tests)."""
    path = Path(src).expanduser()
    candidates = [path] if path.is_absolute() else [path, builtin_path("layouts", "scenarios", src)]
    for candidate in candidates:
        if candidate.is_file():
            check_size(candidate.stat().st_size)
            return candidate.read_bytes()
    raise FileNotFoundError(f"not found (looked for {', '.join(map(str, candidates))})")


def load_picture(spec: ImageWidget) -> Image.Image | None:
    """The widget's picture decoded to RGBA, upright; None (logged) if it cannot be had."""
    try:
        raw = base64.b64decode(spec.data) if spec.data else _local_file(spec.src)
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


KINDS = {"image": (ImageWidget, ImageView)}
