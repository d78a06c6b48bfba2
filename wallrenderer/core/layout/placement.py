"""Where a widget sits on the canvas: the fields every widget has, and its rectangle."""

from __future__ import annotations

from typing import ClassVar

from pydantic import PrivateAttr, model_validator

from wallrenderer.core.geometry import GeometryError, Rect, Wall
from wallrenderer.core.layout.fields import RGBA, CellsChoice, FractionRect, Model


class Widget(Model):
    """Common to every widget: where it sits on the canvas.

    `rect` is (x, y, w, h) in fractions of the canvas, origin top-left; `cells`
    is a display id or span 'first:last' the widget fills exactly, or a list
    of them tried in order; `within` then takes a part of that rectangle, in
    fractions of it. Kinds that cover the whole canvas (`covers_canvas`) take
    none of these.

    Class flags: `bears_text` kinds are checked for text a bezel would cut;
    `avoids_seams` kinds span panels on purpose and place their own labels
    off the seams, so they are exempt from that check.
    """

    covers_canvas: ClassVar[bool] = False
    fields: ClassVar[tuple[str, ...]] = ()
    bears_text: ClassVar[bool] = True
    avoids_seams: ClassVar[bool] = False

    kind: str
    rect: FractionRect | None = None
    cells: CellsChoice | None = None
    within: FractionRect | None = None
    _line: int = PrivateAttr(default=0)

    @property
    def line(self) -> int:
        """YAML line of the widget (0 when it came as data), for later warnings."""
        return self._line

    def data_fields(self) -> tuple[str, ...]:
        """Data-frame keys it draws from; kinds whose keys follow their settings override this."""
        return self.fields

    @property
    def cells_choices(self) -> tuple[str, ...]:
        return tuple(choice[0] for choice in self.cells or ())

    @model_validator(mode="after")
    def _one_placement(self) -> Widget:
        if self.covers_canvas:
            if self.rect is not None or self.cells is not None or self.within is not None:
                raise ValueError(
                    f"a {self.kind} covers the whole canvas; it takes neither 'rect', 'cells' "
                    "nor 'within'"
                )
        elif self.rect is None and self.cells is None:
            raise ValueError("needs 'rect' (fractions of the canvas) or 'cells' (display ids)")
        elif self.rect is not None and self.cells is not None:
            raise ValueError("has both 'rect' and 'cells'; give only one")
        return self


def widget_rect(widget: Widget, wall: Wall) -> Rect:
    """Canvas rectangle (pixels) a widget occupies on `wall`.

    Args:
        widget: a validated widget.
        wall: the wall whose canvas the fractions and display ids refer to.

    Returns:
        The rectangle; the whole canvas for kinds that cover it.
    """
    if widget.covers_canvas:
        return Rect(0, 0, *wall.canvas)
    if widget.cells is not None:
        cells, within, _ = cells_on(widget, wall)
        box = wall.cells_rect(cells)
    else:
        box, within = wall.fraction_rect(widget.rect), None
    within = within or widget.within
    if within is None:
        return box
    x, y, w, h = within
    return Rect(box.x + x * box.w, box.y + y * box.h, w * box.w, h * box.h)


def cells_on(widget: Widget, wall: Wall) -> tuple[str, RGBA | None, tuple[str, ...]]:
    """The first of a widget's `cells` choices whose displays all exist on `wall`."""
    for choice in widget.cells:
        needed = [part.strip() for part in choice[0].split(":")] + list(choice[2])
        if all(display in wall.ids for display in needed):
            return choice
    raise GeometryError(
        f"none of cells {', '.join(widget.cells_choices)} is on wall {wall.name!r} "
        f"(it has {', '.join(wall.ids)})"
    )
