"""Scenario files -> `Scenario`: what the wall shows, checked against the walls it will show on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, Field, Strict

from wallrenderer.core.errors import WallError
from wallrenderer.core.geometry import GeometryError, Wall
from wallrenderer.core.layout.fields import BLACK, RGBA, Color, Model, Name
from wallrenderer.core.layout.images import embed_images
from wallrenderer.core.layout.kinds import WIDGET_KINDS
from wallrenderer.core.layout.locales import check_locale
from wallrenderer.core.layout.placement import Widget, cells_on, widget_rect
from wallrenderer.core.layout.problems import (
    Doc,
    LayoutError,
    Loc,
    Problem,
    Report,
    check_top_key,
    data_doc,
    parse_yaml,
    raise_errors,
    read_yaml,
)


class ThemeColors(Model):
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


class ThemeModel(Model):
    """Per-scenario look: colours, series palette, font and type scale."""

    colors: ThemeColors = ThemeColors()
    series: Annotated[tuple[Color, ...], Field(min_length=1)] | None = None
    font: Name | None = None
    font_scale: Annotated[float, Strict(), Field(gt=0.25, le=4)] = 1.0


class _ScenarioModel(Model):
    name: Name
    locale: Annotated[str, Strict(), AfterValidator(check_locale)] | None = None
    background: Color = BLACK
    theme: ThemeModel = ThemeModel()
    widgets: tuple[Any, ...] = ()  # each is validated by its kind's model


class _ScenarioFile(Model):
    scenario: _ScenarioModel


@dataclass(frozen=True)
class Scenario:
    """What the wall shows: a background and widgets placed on the canvas."""

    name: str
    background: RGBA
    widgets: tuple[Widget, ...]
    source: str
    theme: ThemeModel = ThemeModel()
    locale: str | None = None

    def fields(self) -> frozenset[str]:
        """Data-frame keys its widgets draw from, so the controller sends only those."""
        return frozenset(name for w in self.widgets for name in w.data_fields())


def build_scenario(doc: Doc, walls: Sequence[Wall]) -> tuple[Scenario | None, list[Problem]]:
    """Validate a scenario document; `cells` are checked against each of `walls`."""
    report = Report(doc)
    if not check_top_key(report, "scenario"):
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
        locale=model.scenario.locale,
    )
    return scenario, report.problems


def _raw_widgets(scenario: Any) -> list[Any]:
    widgets = scenario.get("widgets") if isinstance(scenario, dict) else None
    return widgets if isinstance(widgets, list) else []


def _build_widget(report: Report, raw: Any, loc: Loc) -> Widget | None:
    if not isinstance(raw, dict):
        report.add(loc, f"a widget should be a mapping with a 'kind', got {raw!r}")
        return None
    kind = raw.get("kind")
    if kind is None:
        report.add(loc + ("kind",), "missing required field")
        return None
    kinds = WIDGET_KINDS
    if not isinstance(kind, str) or kind not in kinds:
        known = ", ".join(sorted(kinds))
        report.add(loc + ("kind",), f"unknown widget kind {kind!r} (known: {known})")
        return None
    widget = report.validate(kinds[kind], raw, loc)
    if widget is not None:
        widget._line = report.doc.line(loc)
    return widget


def _check_cells_on(report: Report, widget: Widget, wall: Wall, loc: Loc) -> None:
    choices = widget.cells_choices
    if not choices:
        return
    if len(choices) > 1:
        try:
            cells_on(widget, wall)
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


def _check_seams(report: Report, widget: Widget, wall: Wall, loc: Loc) -> None:
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


def _scenario_or_raise(doc: Doc | None, problems: list[Problem], wall: Wall | None) -> Scenario:
    if doc is None:
        raise LayoutError(problems)
    scenario, found = build_scenario(doc, [wall] if wall is not None else [])
    raise_errors(problems + found)
    return scenario


def load_scenario(path: str | Path, wall: Wall | None = None) -> Scenario:
    """Read a scenario YAML file, checking its display ids against `wall` when given.

    Raises:
        LayoutError: with every error found.
    """
    doc, problems = read_yaml(path)
    if doc is not None:
        embed_images(doc.data, Path(path).parent)
    return _scenario_or_raise(doc, problems, wall)


def scenario_from_text(text: str, source: str = "<text>", wall: Wall | None = None) -> Scenario:
    """A scenario from YAML text; `source` names it in problems."""
    return _scenario_or_raise(*parse_yaml(text, source), wall)


def scenario_from_data(data: dict, source: str = "<data>", wall: Wall | None = None) -> Scenario:
    """A scenario from an already-parsed document ``{"scenario": {...}}``."""
    return _scenario_or_raise(data_doc(data, source), [], wall)
