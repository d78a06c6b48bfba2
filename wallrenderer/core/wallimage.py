"""The whole wall as one picture: each panel's native frame put back where it hangs.

Used by `wallrenderer demo --headless` for `wall.png`; numpy and Pillow only (no GL),
so the controller side can use it too.
"""

from __future__ import annotations

import numpy as np

from wallrenderer.core.geometry import Wall

BEZEL_RGB = (18, 18, 20)
_TURNS = {0: 0, 90: -1, 180: 2, 270: 1}


def as_mounted(image: np.ndarray, rotation: int) -> np.ndarray:
    """A panel's native frame turned the way the panel hangs on the wall.

    With rotation 90 native pixel (u, v) shows at (H-1-v, u), a clockwise turn.
    """
    return np.rot90(image, k=_TURNS[rotation])


def compose_wall(wall: Wall, frames: dict[str, np.ndarray], max_side: int = 4096) -> np.ndarray:
    """The wall to scale, bezels as dark gaps; panels without a frame stay dark.

    Args:
        wall: geometry of the wall.
        frames: native (H, W, 3) uint8 frame per display id.
        max_side: the longest side of the result, in pixels (the canvas is scaled down to it).
    """
    from PIL import Image

    scale = min(1.0, max_side / max(wall.canvas))
    out_w, out_h = (max(1, round(v * scale)) for v in wall.canvas)
    out = np.empty((out_h, out_w, 3), dtype=np.uint8)
    out[:] = BEZEL_RGB
    for panel in wall.panels:
        frame = frames.get(panel.id)
        if frame is None:
            continue
        r = panel.rect
        x0, y0 = round(r.x * scale), round(r.y * scale)
        x1, y1 = round(r.right * scale), round(r.bottom * scale)
        mounted = np.ascontiguousarray(as_mounted(frame, panel.rotation))
        resized = Image.fromarray(mounted).resize((x1 - x0, y1 - y0), Image.Resampling.BOX)
        out[y0:y1, x0:x1] = np.asarray(resized)
    return out


PREVIEW_QUALITY = 80


def encode_preview(frame: np.ndarray, max_side: int) -> str:
    """A panel's frame as a small base64 JPEG for the live preview (0: native size).

    JPEG keeps a 1080p panel under a megabyte even at native size, so a whole
    frame fits one link message.
    """
    import base64
    import io

    from PIL import Image

    image = Image.fromarray(frame)
    if max_side and max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=PREVIEW_QUALITY)
    return base64.b64encode(out.getvalue()).decode("ascii")


def decode_preview(text: str) -> np.ndarray:
    """The (H, W, 3) frame of `encode_preview`.

    Raises:
        ValueError: not a base64 image.
    """
    import base64
    import binascii
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(base64.b64decode(text, validate=True))) as image:
            return np.asarray(image.convert("RGB"))
    except (binascii.Error, UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"not a preview image: {exc}") from None
