"""Field types shared by wall and scenario files: colours, fractions, placements."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict

from wallrenderer.core.geometry import ROTATIONS

RGBA = tuple[float, float, float, float]
WHITE: RGBA = (1.0, 1.0, 1.0, 1.0)
BLACK: RGBA = (0.0, 0.0, 0.0, 1.0)
# A typo such as `rows: 200` must not make validation crawl through 40 000 panels.
_MAX_GRID_SIDE = 64


def parse_color(value: Any) -> RGBA:
    """Accept ``"#rgb"``, ``"#rrggbb"``, ``"#rrggbbaa"`` or 3/4 numbers in 0..1.

    Args:
        value: the colour as written in a layout.

    Returns:
        Red, green, blue, alpha as floats in 0..1 (alpha 1 when not given).

    Raises:
        ValueError: when the value is not one of those forms.
    """
    if value is None:
        raise ValueError(
            "no colour given; an unquoted '#...' starts a YAML comment, "
            'so write it in quotes: "#ff0000"'
        )
    if isinstance(value, str):
        match = _HEX_COLOR.match(value.strip())
        if match is None:
            raise ValueError(f"{value!r} is not a colour; {_COLOR_FORMS}")
        digits = match.group(1)
        if len(digits) == 3:
            digits = "".join(d * 2 for d in digits)
        channels = [int(digits[i : i + 2], 16) / 255 for i in range(0, len(digits), 2)]
    elif (
        isinstance(value, list | tuple)
        and len(value) in (3, 4)
        and all(isinstance(c, int | float) and not isinstance(c, bool) for c in value)
        and all(0.0 <= c <= 1.0 for c in value)
    ):
        channels = [float(c) for c in value]
    else:
        raise ValueError(f"{value!r} is not a colour; {_COLOR_FORMS}")
    if len(channels) == 3:
        channels.append(1.0)
    return tuple(channels)


_HEX_COLOR = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
_COLOR_FORMS = 'use "#rgb", "#rrggbb", "#rrggbbaa" or [r, g, b] / [r, g, b, a] in 0..1'


def _check_rotation(value: int) -> int:
    if value not in ROTATIONS:
        raise ValueError(
            f"rotation must be one of {', '.join(map(str, ROTATIONS))} "
            f"(degrees clockwise), got {value}"
        )
    return value


def check_fraction_rect(rect: RGBA) -> RGBA:
    """(x, y, w, h) in fractions that stays inside the canvas."""
    x, y, w, h = rect
    if w <= 0 or h <= 0:
        raise ValueError(f"width and height must be above 0, got w={w:g}, h={h:g}")
    if x + w > 1 + 1e-9:
        raise ValueError(f"x + w = {x + w:g} runs past the right edge of the canvas (max 1)")
    if y + h > 1 + 1e-9:
        raise ValueError(f"y + h = {y + h:g} runs past the bottom edge of the canvas (max 1)")
    return rect


_CELLS = re.compile(r"^[^:\s]+(:[^:\s]+)?$")


def check_cells(cells: str) -> str:
    """A display id or a span 'first:last'."""
    if not _CELLS.match(cells):
        raise ValueError(f"cells {cells!r} must be a display id or a span 'first:last'")
    return cells


Number = Annotated[float, Strict()]
PositiveNumber = Annotated[float, Strict(), Field(gt=0)]
NonNegativeNumber = Annotated[float, Strict(), Field(ge=0)]
PositiveInt = Annotated[int, Strict(), Field(gt=0)]
GridSide = Annotated[int, Strict(), Field(gt=0, le=_MAX_GRID_SIDE)]
Name = Annotated[str, Strict(), Field(min_length=1)]
Rotation = Annotated[int, Strict(), AfterValidator(_check_rotation)]
Color = Annotated[RGBA, BeforeValidator(parse_color)]
Fraction = Annotated[float, Strict(), Field(ge=0, le=1)]
FractionRect = Annotated[
    tuple[Fraction, Fraction, Fraction, Fraction], AfterValidator(check_fraction_rect)
]
Cells = Annotated[str, Strict(), AfterValidator(check_cells)]


_CELLS_FORMS = (
    "cells must be a display id, a span 'first:last', or a list of them (each may be "
    "{cells: ..., within: [x, y, w, h], requires: [ids]}) tried in order"
)
_CHOICE_KEYS = ("cells", "within", "requires")


def _cells_choice(value: Any) -> tuple[str, RGBA | None, tuple[str, ...]]:
    if isinstance(value, str):
        return check_cells(value), None, ()
    if isinstance(value, dict) and isinstance(value.get("cells"), str):
        unknown = set(value) - set(_CHOICE_KEYS)
        if unknown:
            raise ValueError(
                f"a cells choice takes {', '.join(_CHOICE_KEYS)}, not {', '.join(sorted(unknown))}"
            )
        requires = value.get("requires", ())
        requires = (requires,) if isinstance(requires, str) else requires
        if not isinstance(requires, list | tuple) or not all(isinstance(r, str) for r in requires):
            raise ValueError(f"requires must be a display id or a list of them, got {requires!r}")
        within = value.get("within")
        if within is not None:
            numbers = isinstance(within, list) and len(within) == 4 and all(
                isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 1
                for v in within
            )
            if not numbers:
                raise ValueError(f"within must be 4 fractions [x, y, w, h], got {within!r}")
            within = check_fraction_rect(tuple(float(v) for v in within))
        return check_cells(value["cells"]), within, tuple(requires)
    raise ValueError(f"{_CELLS_FORMS}, got {value!r}")


def _cells_choices(value: Any) -> tuple[tuple[str, RGBA | None, tuple[str, ...]], ...]:
    if isinstance(value, list | tuple) and value:
        return tuple(_cells_choice(v) for v in value)
    return (_cells_choice(value),)


# One placement, or alternatives tried in order: the first whose displays (and
# the displays it `requires`) all exist on the wall is used, with its own
# `within` if it has one, so one scenario fits walls of different sizes.
CellsChoice = Annotated[
    tuple[tuple[str, Any, tuple[str, ...]], ...], BeforeValidator(_cells_choices)
]


class Model(BaseModel):
    """Strict, immutable: unknown keys, NaN and '12'-for-12 are all errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

