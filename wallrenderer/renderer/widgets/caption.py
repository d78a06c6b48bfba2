"""The caption bar of a tour step: a dark band along the wall's foot with one line of text.

It arrives as part of the step's scenario, so it appears and changes on the
same tick as the switch that brings the step.
"""

from __future__ import annotations

from typing import Any

from wallrenderer.core.geometry import Rect
from wallrenderer.core.layout.kinds import CaptionWidget
from wallrenderer.renderer.widgets.base import Draw, WidgetView

BAND = (0.0, 0.0, 0.0, 0.72)
TEXT_SHARE = 0.55  # of the band's height


class CaptionView(WidgetView):
    """The band across the whole canvas; the text centred on the widest panel under it."""

    spec: CaptionWidget

    def build(self, draw: Draw, data: dict[str, Any], t: float) -> None:
        box = self.box
        height = self.spec.height * box.h
        band = Rect(box.x, box.bottom - height, box.w, height)
        draw.box(band, BAND)
        piece = draw.seam_free(band)
        pad = 0.4 * height
        area = Rect(piece.x + pad, piece.y, max(0.0, piece.w - 2 * pad), piece.h)
        size = TEXT_SHARE * height
        draw.text(draw.truncate(self.spec.text, area.w, size), area, align="center", size=size)


VIEWS = {"caption": CaptionView}
