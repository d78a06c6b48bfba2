"""Pictures in scenarios: checked on load, embedded so renderers elsewhere get them.

Renderers may run on other machines than the controller and get scenarios
as data, so a picture travels inside the scenario: `data` holds the file as
base64, filled in by the controller from `src` (relative to the scenario
file) with `embed_images` when it loads the scenario.
"""

from __future__ import annotations

import base64
import binascii
import io
from pathlib import Path
from typing import Any

from PIL import Image

from wallrenderer.core.resources import builtin_path

# Images travel base64-encoded inside the scenario message (at most 1 MiB, see
# controller/library.py): logo-sized pictures only.
MAX_IMAGE_BYTES = 512 * 1024
# Decoded size guard: a small file can still unpack to gigabytes of pixels.
MAX_IMAGE_PIXELS = 40_000_000
FORMATS = ("PNG", "JPEG")


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


def check_data(value: str | None) -> str | None:
    """An image widget's `data` (base64), refused before decoding when too big."""
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


def local_file(src: str) -> bytes:
    """`src` read here: as given, else beside the shipped scenarios (previews, tests)."""
    path = Path(src).expanduser()
    candidates = [path] if path.is_absolute() else [path, builtin_path("layouts", "scenarios", src)]
    for candidate in candidates:
        if candidate.is_file():
            check_size(candidate.stat().st_size)
            return candidate.read_bytes()
    raise FileNotFoundError(f"not found (looked for {', '.join(map(str, candidates))})")
