"""The live picture of the whole wall, composed from what the renderers actually present.

Each renderer draws its frame for one shared instant and sends it back small
over the existing link (a capture with ``inline``); the controller puts the
frames where the panels hang, bezels drawn. A panel that does not answer is
drawn as missing (red hatching), never with an older frame.

While a page watches (an event stream is open) the preview is refreshed every
PREVIEW_INTERVAL_S; `snapshot()` makes one at full size on demand.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time

import numpy as np

from wallrenderer.core.layout.walls import wall_from_data
from wallrenderer.core.wallimage import compose_wall, decode_preview

log = logging.getLogger(__name__)

PREVIEW_INTERVAL_S = 1.0
PREVIEW_SIDE = 960  # the live preview's longest side, whole wall
PANEL_WAIT_S = 2.0  # a renderer that sends nothing in this long is drawn as missing
SNAPSHOT_WAIT_S = 10.0  # full-size frames take longer to draw, read back and send
MISSING_RGB = (120, 20, 24)


def missing_frame(width: int, height: int) -> np.ndarray:
    """A native-sized stand-in for a panel that did not answer: dark red diagonal hatching."""
    yy, xx = np.mgrid[0:height, 0:width]
    stripes = ((xx + yy) // max(2, min(width, height) // 12)) % 2 == 0
    frame = np.zeros((height, width, 3), dtype=np.uint8)
    frame[stripes] = MISSING_RGB
    frame[~stripes] = (40, 8, 10)
    return frame


class WallPreview:
    """Composes the wall from the renderers' frames; used from the API's event loop."""

    def __init__(self, controller):
        self.controller = controller
        self.wall = wall_from_data(controller.wall)
        self.version = 0
        self.png: bytes | None = None
        self.missing: list[str] = []
        self.watchers = 0
        self.refreshed_at = 0.0
        self._task: asyncio.Task | None = None

    def panel_side(self, max_side: int) -> int:
        """The longest side each renderer sends for a wall picture of `max_side` (0: native)."""
        if not max_side:
            return 0
        scale = min(1.0, max_side / max(self.wall.canvas))
        return max(16, round(scale * max(max(p.resolution) for p in self.wall.panels)))

    async def compose(self, api, max_side: int) -> tuple[bytes, list[str]]:
        """One picture of the wall as PNG, and the panels drawn as missing.

        `max_side` is the picture's longest side (0: the canvas's, full size).

        Raises:
            concurrent.futures.TimeoutError: the controller did not answer in time.
            Closing: the API is shutting down.
        """
        wait = PANEL_WAIT_S if max_side else SNAPSHOT_WAIT_S
        answer = await api.ask(
            lambda: self.controller.capture_images(self.panel_side(max_side), wait), wait + 2.0)
        return await asyncio.to_thread(self._png, answer, max_side or max(self.wall.canvas))

    def _png(self, answer: dict, max_side: int) -> tuple[bytes, list[str]]:
        from PIL import Image

        frames, missing = {}, []
        for panel in self.wall.panels:
            try:
                frames[panel.id] = decode_preview(answer["images"][panel.id])
            except (KeyError, ValueError):
                missing.append(panel.id)
                frames[panel.id] = missing_frame(*panel.resolution)
        out = io.BytesIO()
        Image.fromarray(compose_wall(self.wall, frames, max_side)).save(out, format="PNG")
        return out.getvalue(), missing

    def watch(self, api) -> None:
        """A page started watching: keep the preview fresh while anyone does."""
        self.watchers += 1
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._refresh(api))

    def unwatch(self) -> None:
        self.watchers = max(0, self.watchers - 1)

    async def _refresh(self, api) -> None:
        while self.watchers > 0 and not api.closing:
            started = time.monotonic()
            try:
                self.png, self.missing = await self.compose(api, PREVIEW_SIDE)
                self.version += 1
                self.refreshed_at = time.time()
            except Exception as exc:  # the preview must never take the API down
                log.debug("live preview not refreshed: %r", exc)
            await asyncio.sleep(max(0.1, PREVIEW_INTERVAL_S - (time.monotonic() - started)))
