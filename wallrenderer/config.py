"""Layout files -> typed, frozen objects, with file, line and field on every problem.

This is the edge where YAML written by installers and presenters (walls and
scenarios, see DESIGN.md "File formats") enters the system. Everything past
it works on `geometry.Wall` and `Scenario`, never on raw dicts. A bad layout
must never blank the wall, so nothing here raises for bad input except the
`load_*` / `*_from_*` helpers, and those raise one error type, `LayoutError`,
listing every problem at once rather than the first one found.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    ValidationError,
    model_validator,
)

from wallrenderer.errors import WallError
from wallrenderer.geometry import (
    ROTATIONS,
    ColorCalibration,
    GeometryError,
    PanelSpec,
    Rect,
    Wall,
    explicit_wall,
    grid_wall,
    mounted_size,
)

RGBA = tuple[float, float, float, float]
WHITE: RGBA = (1.0, 1.0, 1.0, 1.0)
BLACK: RGBA = (0.0, 0.0, 0.0, 1.0)
Loc = tuple[str | int, ...]

# An active area whose aspect differs more than this from its (rotated) resolution
# is almost certainly a forgotten `rotation`.
ASPECT_TOLERANCE = 0.10
# Interior overlaps below this many millimetres are measurement noise, not overlaps.
_OVERLAP_EPS_MM = 1e-6
# A typo such as `rows: 200` must not make validation crawl through 40 000 panels.
_MAX_GRID_SIDE = 64


# ----------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or suspicious) in a layout, located for an operator."""

    file: str
    line: int
    field: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        message = f"warning: {self.message}" if self.severity == "warning" else self.message
        where = f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {message}" if self.field else f"{where}: {message}"


class LayoutError(WallError):
    """A layout that cannot be used; carries every error found, not only the first."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def _errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


# ----------------------------------------------------------------------------- YAML with lines


@dataclass(frozen=True)
class _Doc:
    """Parsed data plus the 1-based YAML line of every mapping key and list item."""

    source: str
    data: Any
    lines: Mapping[Loc, int]

    def line(self, loc: Loc) -> int:
        """Line of the deepest part of `loc` present in the file (0 for network data)."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return 0


def _field_name(loc: Loc) -> str:
    """Dotted path as an operator reads it: ``wall.panels[1].active_mm``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class _Report:
    """Collects problems for one document, locating each by its path in the data."""

    def __init__(self, doc: _Doc) -> None:
        self.doc = doc
        self.problems: list[Problem] = []

    def add(self, loc: Loc, message: str, severity: str = "error") -> None:
        self.problems.append(
            Problem(self.doc.source, self.doc.line(loc), _field_name(loc), message, severity)
        )

    @property
    def ok(self) -> bool:
        return not _errors(self.problems)

    def validate(self, model: type[BaseModel], data: Any, prefix: Loc = ()) -> Any:
        """Validate `data` (found at `prefix`) as `model`; None and problems on failure."""
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                loc = tuple(error["loc"])
                self.add(prefix + loc, _describe(error, model, loc))
            return None


def _parse(text: str, source: str) -> tuple[_Doc | None, list[Problem]]:
    """YAML text -> data with line numbers; syntax errors become problems."""
    loader = yaml.SafeLoader(text)
    problems: list[Problem] = []
    try:
        node = loader.get_single_node()
        if node is None:
            return _Doc(source, None, {(): 1}), problems
        lines = {(): node.start_mark.line + 1}
        data = _node_to_data(loader, node, (), lines, problems, source, frozenset())
        return _Doc(source, data, lines), problems
    except RecursionError:
        problems.append(Problem(source, 0, "", "nested too deeply to be a layout"))
        return None, problems
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        detail = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        message = f"YAML syntax error: {context + ', ' if context else ''}{detail}"
        if mark is not None:
            message += f" (column {mark.column + 1})"
        problems.append(Problem(source, mark.line + 1 if mark else 0, "", message))
        return None, problems
    finally:
        loader.dispose()


def _node_to_data(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    loc: Loc,
    lines: dict[Loc, int],
    problems: list[Problem],
    source: str,
    ancestors: frozenset[int],
) -> Any:
    """Build plain data from a composed node, recording where each key and item sits."""
    if isinstance(node, yaml.ScalarNode):
        try:
            return loader.construct_object(node)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
            message = f"cannot read this value ({node.tag.rsplit(':', 1)[-1]}): {exc}"
            problems.append(Problem(source, node.start_mark.line + 1, _field_name(loc), message))
            return None
    if id(node) in ancestors:
        problems.append(
            Problem(source, node.start_mark.line + 1, _field_name(loc), "recursive YAML alias")
        )
        return None
    ancestors = ancestors | {id(node)}
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            lines[loc + (index,)] = item.start_mark.line + 1
            items.append(
                _node_to_data(loader, item, loc + (index,), lines, problems, source, ancestors)
            )
        return items
    # Mapping. Duplicates are checked among the keys written here, before `<<`
    # merges, whose keys may legitimately be overridden.
    first_seen: dict[str, int] = {}
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
            key_line = key_node.start_mark.line + 1
            if key_node.value in first_seen:
                problems.append(
                    Problem(
                        source,
                        key_line,
                        _field_name(loc + (key_node.value,)),
                        f"duplicate key (first at line {first_seen[key_node.value]})",
                    )
                )
            first_seen.setdefault(key_node.value, key_line)
    loader.flatten_mapping(node)
    mapping: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            problems.append(
                Problem(
                    source, key_node.start_mark.line + 1, _field_name(loc), "keys must be names"
                )
            )
            continue
        # Keys as written: `yes:` stays "yes", `1:` stays "1" (all our keys are names).
        key = key_node.value
        if key in mapping:  # overridden: forget where the old value's parts were
            for stale in [k for k in lines if k[: len(loc) + 1] == loc + (key,)]:
                del lines[stale]
        lines[loc + (key,)] = key_node.start_mark.line + 1
        mapping[key] = _node_to_data(
            loader, value_node, loc + (key,), lines, problems, source, ancestors
        )
    return mapping


def _read(path: str | Path) -> tuple[_Doc | None, list[Problem]]:
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return None, [Problem(source, 0, "", f"cannot read file: {reason}")]
    return _parse(text, source)


def _data_doc(data: Any, source: str) -> _Doc:
    """Data that arrived already parsed (over the network) has no lines."""
    return _Doc(source, data, {})


# ----------------------------------------------------------------------------- pydantic errors


def _describe(error: Mapping[str, Any], model: type[BaseModel], loc: Loc) -> str:
    """A pydantic error as one short sentence about the value the operator wrote."""
    kind = error["type"]
    if kind == "missing":
        if loc and isinstance(loc[-1], int):
            return "missing value (too few items)"
        return "missing required field"
    if kind == "extra_forbidden":
        return _unknown_key_message(str(loc[-1]), _model_at(model, loc[:-1]))
    if kind == "value_error":
        return str(error["ctx"]["error"])
    message = _PLAIN_MESSAGES.get(kind) or error["msg"]
    if message.startswith("Input should"):
        message = message.replace("Input should", "should", 1)
    value = error.get("input")
    if value is None or isinstance(value, str | int | float | bool):
        message += f", got {value!r}"
    return message


# Pydantic's wording where it talks about Python rather than about YAML.
_PLAIN_MESSAGES = {
    "model_type": "should be a mapping of keys to values",
    "model_attributes_type": "should be a mapping of keys to values",
    "dict_type": "should be a mapping of keys to values",
    "tuple_type": "should be a list",
    "string_type": "should be text (quote it)",
    "int_type": "should be a whole number",
    "float_type": "should be a number",
}


def _unknown_key_message(key: str, model: type[BaseModel] | None) -> str:
    message = f"unknown key {key!r}"
    if model is None:
        return message
    known = sorted(model.model_fields)
    close = difflib.get_close_matches(key, known, n=1)
    if close:
        return f"{message}; did you mean {close[0]!r}?"
    return f"{message} (expected one of: {', '.join(known)})"


def _model_at(model: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The model that validated the mapping at `loc`, to list the keys it knows."""
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int):
            continue  # list items: the field's annotation already led to the item model
        if current is None or part not in current.model_fields:
            return None
        current = _model_in(current.model_fields[part].annotation)
    return current


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """First model class inside an annotation such as ``tuple[Panel, ...] | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, Annotated, tuple, list):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


# ----------------------------------------------------------------------------- field types


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


def _check_fraction_rect(rect: RGBA) -> RGBA:
    x, y, w, h = rect
    if w <= 0 or h <= 0:
        raise ValueError(f"width and height must be above 0, got w={w:g}, h={h:g}")
    if x + w > 1 + 1e-9:
        raise ValueError(f"x + w = {x + w:g} runs past the right edge of the canvas (max 1)")
    if y + h > 1 + 1e-9:
        raise ValueError(f"y + h = {y + h:g} runs past the bottom edge of the canvas (max 1)")
    return rect


_CELLS = re.compile(r"^[^:\s]+(:[^:\s]+)?$")


def _check_cells(cells: str) -> str:
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
    tuple[Fraction, Fraction, Fraction, Fraction], AfterValidator(_check_fraction_rect)
]
Cells = Annotated[str, Strict(), AfterValidator(_check_cells)]


_CELLS_FORMS = (
    "cells must be a display id, a span 'first:last', or a list of them (each may be "
    "{cells: ..., within: [x, y, w, h], requires: [ids]}) tried in order"
)
_CHOICE_KEYS = ("cells", "within", "requires")


def _cells_choice(value: Any) -> tuple[str, RGBA | None, tuple[str, ...]]:
    if isinstance(value, str):
        return _check_cells(value), None, ()
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
            within = _check_fraction_rect(tuple(float(v) for v in within))
        return _check_cells(value["cells"]), within, tuple(requires)
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


class _Model(BaseModel):
    """Strict, immutable: unknown keys, NaN and '12'-for-12 are all errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# ----------------------------------------------------------------------------- wall models


class _ColorModel(_Model):
    gain: tuple[NonNegativeNumber, NonNegativeNumber, NonNegativeNumber] = (1.0, 1.0, 1.0)
    gamma: PositiveNumber = 1.0
    brightness: NonNegativeNumber = 1.0

    def to_geometry(self) -> ColorCalibration:
        return ColorCalibration(self.gain, self.gamma, self.brightness)


class _BezelModel(_Model):
    left: NonNegativeNumber
    right: NonNegativeNumber
    top: NonNegativeNumber
    bottom: NonNegativeNumber


class _GridPanelModel(_Model):
    resolution: tuple[PositiveInt, PositiveInt]
    active_mm: tuple[PositiveNumber, PositiveNumber]
    bezel_mm: _BezelModel
    rotation: Rotation = 0
    color: _ColorModel | None = None


class _GridModel(_Model):
    rows: GridSide
    cols: GridSide
    panel: _GridPanelModel


class _PanelModel(_Model):
    id: Name
    position_mm: tuple[Number, Number]
    active_mm: tuple[PositiveNumber, PositiveNumber]
    resolution: tuple[PositiveInt, PositiveInt]
    rotation: Rotation = 0
    color: _ColorModel | None = None
    latency_ms: NonNegativeNumber = 0.0


class _WallModel(_Model):
    name: Name
    pitch_mm: PositiveNumber | None = None
    grid: _GridModel | None = None
    panels: Annotated[tuple[_PanelModel, ...], Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> _WallModel:
        if (self.grid is None) == (self.panels is None):
            raise ValueError("give exactly one of 'grid' (uniform) or 'panels' (explicit)")
        return self


class _WallFile(_Model):
    wall: _WallModel


# ----------------------------------------------------------------------------- scenario models


class Widget(_Model):
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


class RectWidget(Widget):
    """Solid fill, used by calibration and tests."""

    bears_text: ClassVar[bool] = False

    kind: Literal["rect"]
    color: Color = WHITE
    radius: NonNegativeNumber = 0.0


class TextWidget(Widget):
    """A line of text; with no `size` it is fitted as large as the rect allows."""

    kind: Literal["text"]
    text: Annotated[str, Strict()]
    color: Color = WHITE
    size: PositiveNumber | None = None
    align: Literal["left", "center", "right"] = "center"
    padding: Annotated[float, Strict(), Field(ge=0, lt=0.5)] = 0.08
    font: Name | None = None


class TestcardWidget(Widget):
    """Calibration pattern over the whole canvas, so bezel settings can be checked by eye."""

    __test__ = False  # not a pytest test class, despite the name
    covers_canvas: ClassVar[bool] = True
    bears_text: ClassVar[bool] = False

    kind: Literal["testcard"]
    grid_px: PositiveInt = 120


FOUNDATION_KINDS: dict[str, type[Widget]] = {
    "rect": RectWidget,
    "text": TextWidget,
    "testcard": TestcardWidget,
}


def widget_kinds() -> dict[str, type[Widget]]:
    """Every widget kind a scenario may use, by name.

    The data widgets' models live beside their drawing code in
    `wallrenderer.widgets`, which imports this module, hence the late import.
    """
    from wallrenderer.widgets import MODELS

    return {**FOUNDATION_KINDS, **MODELS}


class ThemeColors(_Model):
    """Named colours of a theme; each one overrides the default theme's."""

    background: Color | None = None
    surface: Color | None = None
    border: Color | None = None
    text: Color | None = None
    text_dim: Color | None = None
    accent: Color | None = None
    positive: Color | None = None
    negative: Color | None = None
    neutral: Color | None = None
    warning: Color | None = None


class ThemeModel(_Model):
    """Per-scenario look: colours, series palette, font and type scale."""

    colors: ThemeColors = ThemeColors()
    series: Annotated[tuple[Color, ...], Field(min_length=1)] | None = None
    font: Name | None = None
    font_scale: Annotated[float, Strict(), Field(gt=0.25, le=4)] = 1.0


class _ScenarioModel(_Model):
    name: Name
    background: Color = BLACK
    theme: ThemeModel = ThemeModel()
    widgets: tuple[Any, ...] = ()  # each is validated by its kind's model


class _ScenarioFile(_Model):
    scenario: _ScenarioModel


@dataclass(frozen=True)
class Scenario:
    """What the wall shows: a background and widgets placed on the canvas."""

    name: str
    background: RGBA
    widgets: tuple[Widget, ...]
    source: str
    theme: ThemeModel = ThemeModel()

    def fields(self) -> frozenset[str]:
        """Data-frame keys its widgets draw from, so the controller sends only those."""
        from wallrenderer.widgets import VIEWS

        return frozenset(
            name for w in self.widgets if w.kind in VIEWS for name in VIEWS[w.kind].data_fields(w)
        )


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
        cells, within, _ = _cells_on(widget, wall)
        box = wall.cells_rect(cells)
    else:
        box, within = wall.fraction_rect(widget.rect), None
    within = within or widget.within
    if within is None:
        return box
    x, y, w, h = within
    return Rect(box.x + x * box.w, box.y + y * box.h, w * box.w, h * box.h)


def _cells_on(widget: Widget, wall: Wall) -> tuple[str, RGBA | None, tuple[str, ...]]:
    """The first of a widget's `cells` choices whose displays all exist on `wall`."""
    for choice in widget.cells:
        needed = [part.strip() for part in choice[0].split(":")] + list(choice[2])
        if all(display in wall.ids for display in needed):
            return choice
    raise GeometryError(
        f"none of cells {', '.join(widget.cells_choices)} is on wall {wall.name!r} "
        f"(it has {', '.join(wall.ids)})"
    )


# ----------------------------------------------------------------------------- building


def _check_top_key(report: _Report, key: str) -> bool:
    data = report.doc.data
    if isinstance(data, dict) and key in data:
        return True
    report.add((), f"expected a top-level {key!r} key{_empty_note(data)}")
    return False


def _empty_note(data: Any) -> str:
    return " (the file is empty)" if data is None else ""


def _build_wall(doc: _Doc) -> tuple[Wall | None, list[Problem]]:
    """Validate a wall document and turn it into geometry; problems include warnings."""
    report = _Report(doc)
    if not _check_top_key(report, "wall"):
        return None, report.problems
    model = report.validate(_WallFile, doc.data)
    if model is None:
        return None, report.problems
    spec: _WallModel = model.wall
    if spec.grid is not None:
        panel = spec.grid.panel
        _check_aspect(report, ("wall", "grid", "panel"), panel)
    else:
        for index, panel in enumerate(spec.panels):
            _check_aspect(report, ("wall", "panels", index), panel)
        _check_panel_ids(report, spec.panels)
        _check_overlaps(report, spec.panels)
    if not report.ok:
        return None, report.problems
    try:
        wall = _geometry(spec)
    except GeometryError as exc:
        report.add(("wall",), str(exc))
        return None, report.problems
    for index, panel in enumerate(wall.panels):
        if panel.rect.w < 1 or panel.rect.h < 1:
            report.add(
                ("wall", "panels", index, "active_mm"),
                f"panel {panel.id!r} is under one canvas pixel at pitch_mm {wall.pitch_mm:g}",
            )
    return (wall if report.ok else None), report.problems


def _geometry(spec: _WallModel) -> Wall:
    if spec.grid is not None:
        panel = spec.grid.panel
        return grid_wall(
            spec.name,
            spec.grid.rows,
            spec.grid.cols,
            panel.resolution,
            panel.active_mm,
            panel.bezel_mm.model_dump(),
            rotation=panel.rotation,
            pitch_mm=spec.pitch_mm,
            color=panel.color.to_geometry() if panel.color else None,
        )
    specs = [
        PanelSpec(
            id=panel.id,
            position_mm=panel.position_mm,
            active_mm=panel.active_mm,
            resolution=panel.resolution,
            rotation=panel.rotation,
            color=panel.color.to_geometry() if panel.color else ColorCalibration(),
            latency_ms=panel.latency_ms,
        )
        for panel in spec.panels
    ]
    return explicit_wall(spec.name, specs, spec.pitch_mm)


def _check_aspect(report: _Report, loc: Loc, panel: _GridPanelModel | _PanelModel) -> None:
    """Warn when the active area's shape does not match the pixels as mounted."""
    active_mm, rotation = panel.active_mm, panel.rotation
    width, height = panel.resolution
    mounted_w, mounted_h = mounted_size((width, height), rotation)
    expected = mounted_w / mounted_h
    actual = active_mm[0] / active_mm[1]
    if abs(actual / expected - 1) <= ASPECT_TOLERANCE:
        return
    message = (
        f"active_mm {active_mm[0]:g} x {active_mm[1]:g} has aspect {actual:.2f}, but "
        f"resolution {width}x{height} at rotation {rotation} has {expected:.2f}"
    )
    if abs(actual * expected - 1) <= ASPECT_TOLERANCE:
        turned = 90 if rotation in (0, 180) else 0
        message += f"; forgotten 'rotation: {turned}'?"
    report.add(loc + ("active_mm",), message, severity="warning")


def _check_panel_ids(report: _Report, panels: Sequence[_PanelModel]) -> None:
    first: dict[str, int] = {}
    for index, panel in enumerate(panels):
        loc = ("wall", "panels", index, "id")
        if panel.id in first:
            previous = report.doc.line(("wall", "panels", first[panel.id], "id"))
            where = f" (first at line {previous})" if previous else ""
            report.add(loc, f"duplicate panel id {panel.id!r}{where}")
        else:
            first[panel.id] = index


def _check_overlaps(report: _Report, panels: Sequence[_PanelModel]) -> None:
    """Overlaps are judged in millimetres, as measured, before any rounding to pixels."""
    for j, b in enumerate(panels):
        for i, a in enumerate(panels[:j]):
            overlap_w = min(a.position_mm[0] + a.active_mm[0], b.position_mm[0] + b.active_mm[0])
            overlap_w -= max(a.position_mm[0], b.position_mm[0])
            overlap_h = min(a.position_mm[1] + a.active_mm[1], b.position_mm[1] + b.active_mm[1])
            overlap_h -= max(a.position_mm[1], b.position_mm[1])
            if overlap_w > _OVERLAP_EPS_MM and overlap_h > _OVERLAP_EPS_MM:
                line_a = report.doc.line(("wall", "panels", i))
                where = f" (line {line_a})" if line_a else ""
                report.add(
                    ("wall", "panels", j, "position_mm"),
                    f"panel {b.id!r} overlaps panel {a.id!r}{where} "
                    f"by {overlap_w:g} x {overlap_h:g} mm",
                )


def _build_scenario(doc: _Doc, walls: Sequence[Wall]) -> tuple[Scenario | None, list[Problem]]:
    """Validate a scenario document; `cells` are checked against each of `walls`."""
    report = _Report(doc)
    if not _check_top_key(report, "scenario"):
        return None, report.problems
    model = report.validate(_ScenarioFile, doc.data)
    # Widgets are checked even when the rest is wrong, so one pass finds everything.
    raw_widgets = model.scenario.widgets if model else _raw_widgets(doc.data["scenario"])
    widgets = []
    for index, raw in enumerate(raw_widgets):
        loc = ("scenario", "widgets", index)
        widget = _build_widget(report, raw, loc)
        if widget is None:
            continue
        for wall in walls:
            _check_cells_on(report, widget, wall, loc + ("cells",))
            _check_seams(report, widget, wall, loc)
        widgets.append(widget)
    if model is None or not report.ok:
        return None, report.problems
    scenario = Scenario(
        name=model.scenario.name,
        background=model.scenario.background,
        widgets=tuple(widgets),
        source=doc.source,
        theme=model.scenario.theme,
    )
    return scenario, report.problems


def _raw_widgets(scenario: Any) -> list[Any]:
    widgets = scenario.get("widgets") if isinstance(scenario, dict) else None
    return widgets if isinstance(widgets, list) else []


def _build_widget(report: _Report, raw: Any, loc: Loc) -> Widget | None:
    if not isinstance(raw, dict):
        report.add(loc, f"a widget should be a mapping with a 'kind', got {raw!r}")
        return None
    kind = raw.get("kind")
    if kind is None:
        report.add(loc + ("kind",), "missing required field")
        return None
    kinds = widget_kinds()
    if not isinstance(kind, str) or kind not in kinds:
        known = ", ".join(sorted(kinds))
        report.add(loc + ("kind",), f"unknown widget kind {kind!r} (known: {known})")
        return None
    widget = report.validate(kinds[kind], raw, loc)
    if widget is not None:
        widget._line = report.doc.line(loc)
    return widget


def _check_cells_on(report: _Report, widget: Widget, wall: Wall, loc: Loc) -> None:
    choices = widget.cells_choices
    if not choices:
        return
    if len(choices) > 1:
        try:
            _cells_on(widget, wall)
        except GeometryError as exc:
            report.add(loc, str(exc))
        return
    for display_id in choices[0].split(":"):
        if display_id not in wall.ids:
            report.add(
                loc,
                f"unknown display id {display_id!r} on wall {wall.name!r} "
                f"(it has {', '.join(wall.ids)})",
            )


def _check_seams(report: _Report, widget: Widget, wall: Wall, loc: Loc) -> None:
    """Warn when a bezel would cut through text: place it with `cells:` instead."""
    if not widget.bears_text or widget.avoids_seams:
        return
    try:
        box = widget_rect(widget, wall)
    except WallError:
        return  # an unknown display id, reported on its own
    if wall.straddles_seam(box):
        report.add(
            loc + ("rect" if widget.rect is not None else "cells",),
            f"{widget.kind} straddles a bezel on wall {wall.name!r}; place it on one "
            "panel with cells: so no seam cuts through it",
            severity="warning",
        )


def _raise_errors(problems: list[Problem]) -> None:
    errors = _errors(problems)
    if errors:
        raise LayoutError(sorted(errors, key=lambda p: p.line))


def _wall_or_raise(doc: _Doc | None, problems: list[Problem]) -> Wall:
    if doc is None:
        raise LayoutError(problems)
    wall, found = _build_wall(doc)
    _raise_errors(problems + found)
    return wall


def _scenario_or_raise(doc: _Doc | None, problems: list[Problem], wall: Wall | None) -> Scenario:
    if doc is None:
        raise LayoutError(problems)
    scenario, found = _build_scenario(doc, [wall] if wall is not None else [])
    _raise_errors(problems + found)
    return scenario


# ----------------------------------------------------------------------------- public API


def load_wall(path: str | Path) -> Wall:
    """Read a wall YAML file.

    Args:
        path: the file.

    Returns:
        The wall's geometry.

    Raises:
        LayoutError: with every error found (warnings are left to `validate_files`).
    """
    return _wall_or_raise(*_read(path))


def load_scenario(path: str | Path, wall: Wall | None = None) -> Scenario:
    """Read a scenario YAML file, checking its display ids against `wall` when given.

    Raises:
        LayoutError: with every error found.
    """
    from wallrenderer.widgets.image import embed_images  # widgets import this module

    doc, problems = _read(path)
    if doc is not None:
        embed_images(doc.data, Path(path).parent)
    return _scenario_or_raise(doc, problems, wall)


def wall_from_text(text: str, source: str = "<text>") -> Wall:
    """A wall from YAML text; `source` names it in problems."""
    return _wall_or_raise(*_parse(text, source))


def scenario_from_text(text: str, source: str = "<text>", wall: Wall | None = None) -> Scenario:
    """A scenario from YAML text; `source` names it in problems."""
    return _scenario_or_raise(*_parse(text, source), wall)


def wall_from_data(data: dict, source: str = "<data>") -> Wall:
    """A wall from an already-parsed document ``{"wall": {...}}`` (problems have line 0)."""
    return _wall_or_raise(_data_doc(data, source), [])


def scenario_from_data(data: dict, source: str = "<data>", wall: Wall | None = None) -> Scenario:
    """A scenario from an already-parsed document ``{"scenario": {...}}``."""
    return _scenario_or_raise(_data_doc(data, source), [], wall)


def validate_files(
    paths: Sequence[str | Path], wall_paths: Sequence[str | Path] = ()
) -> list[Problem]:
    """Check layout files as `wall validate` does, never raising for bad input.

    Each file is a wall (top key ``wall``) or a scenario (top key ``scenario``).
    Scenarios are checked against every valid wall among `paths` and
    `wall_paths`; with no wall, only the syntax of their ``cells`` is checked.

    Args:
        paths: files to check.
        wall_paths: further walls to check scenarios against (their own
            problems are reported too).

    Returns:
        Errors and warnings, grouped by file in the order given, by line within a file.
    """
    found: dict[str, list[Problem]] = {}
    walls: list[Wall] = []
    scenarios: list[_Doc] = []
    for path in [*paths, *wall_paths]:
        source = str(path)
        if source in found:
            continue
        doc, problems = _read(path)
        found[source] = problems
        if doc is None:
            continue
        kind = _document_kind(doc)
        if kind == "wall":
            wall, wall_problems = _build_wall(doc)
            problems += wall_problems
            if wall is not None:
                walls.append(wall)
        elif kind == "scenario":
            scenarios.append(doc)
        else:
            problems.append(Problem(source, doc.line(()), "", kind))
    for doc in scenarios:
        found[doc.source] += _build_scenario(doc, walls)[1]
    return [p for problems in found.values() for p in sorted(problems, key=lambda p: p.line)]


def _document_kind(doc: _Doc) -> str:
    """'wall', 'scenario', or a message saying why it is neither."""
    data = doc.data
    keys = set(data) if isinstance(data, dict) else set()
    if keys >= {"wall", "scenario"}:
        return "a file holds either a 'wall' or a 'scenario', not both"
    if "wall" in keys:
        return "wall"
    if "scenario" in keys:
        return "scenario"
    return f"expected a top-level 'wall' or 'scenario' key{_empty_note(data)}"
