"""Foundation widgets drawn through the widget framework: `rect` and `text`."""

from __future__ import annotations

from typing import Any

from wallrenderer.core.layout.kinds import RectWidget, TextWidget
from wallrenderer.renderer.widgets.base import Draw, WidgetView


class RectView(WidgetView):
    """A solid fill, rounded when `radius` (a fraction of the shorter side) is set."""

    spec: RectWidget

    def build(self, draw: Draw, data: dict[str, Any], t: float) -> None:
        radius = self.spec.radius * min(self.box.w, self.box.h)
        draw.box(self.box, self.spec.color, radius=radius, backdrop=True)


class TextView(WidgetView):
    """Fixed text, fitted to its box unless a size is given."""

    spec: TextWidget

    def build(self, draw: Draw, data: dict[str, Any], t: float) -> None:
        spec = self.spec
        pad = spec.padding * min(self.box.w, self.box.h)
        draw.text(spec.text, self.box.inset(pad), spec.color, spec.align, spec.size,
                  font=spec.font)
