"""Tour files -> `Tour`: scenarios shown in turn for visitors, each for its own time.

A tour file (`layouts/tours/NAME.yaml`) names scenarios of the library; each
step may carry a caption for visitors and `params` that run the same scenario
for another brand (`params.py`). Problems are reported as `file:line: field:
message`, like walls and scenarios, and steps are checked against the
scenario library when it is known.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, Strict

from wallrenderer.core.layout.fields import Model, Name
from wallrenderer.core.layout.params import check_params
from wallrenderer.core.layout.problems import (
    Doc,
    LayoutError,
    Problem,
    Report,
    check_top_key,
    parse_yaml,
    raise_errors,
    read_yaml,
)

MIN_STEP_S = 1.0
MAX_STEP_S = 86_400.0
MAX_CAPTION_CHARS = 120

StepSeconds = Annotated[float, Strict(), Field(ge=MIN_STEP_S, le=MAX_STEP_S)]
Caption = Annotated[str, Strict(), Field(min_length=1, max_length=MAX_CAPTION_CHARS)]


class _StepModel(Model):
    scenario: Name
    seconds: StepSeconds
    caption: Caption | None = None
    params: dict[str, Any] | None = None


class _TourModel(Model):
    name: Name
    loop: Annotated[bool, Strict()] = True
    steps: Annotated[tuple[_StepModel, ...], Field(min_length=1)]


class _TourFile(Model):
    tour: _TourModel


@dataclass(frozen=True)
class Step:
    """One step of a tour: a scenario (with its params) shown for `seconds`."""

    scenario: str
    seconds: float
    caption: str | None = None
    params: Mapping[str, Any] | None = None

    def wire(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "seconds": self.seconds, "caption": self.caption,
                "params": dict(self.params) if self.params else None}


@dataclass(frozen=True)
class Tour:
    """A named sequence of steps; with `loop` it starts again after the last one."""

    name: str
    steps: tuple[Step, ...]
    loop: bool = True
    source: str = "<data>"

    def wire(self) -> dict[str, Any]:
        return {"name": self.name, "loop": self.loop, "steps": [s.wire() for s in self.steps]}


def build_tour(
    doc: Doc, scenarios: Mapping[str, Any] | None = None
) -> tuple[Tour | None, list[Problem]]:
    """Validate a tour document; with `scenarios` (name -> scenario data), check its steps.

    Each step's scenario must be in `scenarios`, and its params must be ones
    that scenario accepts.
    """
    report = Report(doc)
    if not check_top_key(report, "tour"):
        return None, report.problems
    model = report.validate(_TourFile, doc.data)
    if model is None:
        return None, report.problems
    for index, step in enumerate(model.tour.steps):
        loc = ("tour", "steps", index)
        if scenarios is not None and step.scenario not in scenarios:
            known = ", ".join(sorted(scenarios)) or "none"
            report.add(loc + ("scenario",), f"no scenario {step.scenario!r} (have: {known})")
            continue
        if step.params is not None:
            data = scenarios.get(step.scenario) if scenarios is not None else None
            for key, message in check_params(step.params, data):
                report.add(loc + ("params",) + ((key,) if key else ()), message)
    if not report.ok:
        return None, report.problems
    steps = tuple(Step(s.scenario, s.seconds, s.caption, s.params) for s in model.tour.steps)
    return Tour(model.tour.name, steps, model.tour.loop, doc.source), report.problems


def tour_from_text(
    text: str, source: str = "<text>", scenarios: Mapping[str, Any] | None = None
) -> Tour:
    """A tour from YAML text; `source` names it in problems.

    Raises:
        LayoutError: with every error found.
    """
    doc, problems = parse_yaml(text, source)
    if doc is None:
        raise LayoutError(problems)
    tour, found = build_tour(doc, scenarios)
    raise_errors(problems + found)
    return tour


def load_tours(
    folder: str | Path, scenarios: Mapping[str, Any] | None = None
) -> tuple[dict[str, Tour], list[Problem]]:
    """Every valid `*.yaml` tour in `folder`, by name, and the problems of the others.

    A missing folder is no tours, not an error: most walls have none.
    """
    tours: dict[str, Tour] = {}
    problems: list[Problem] = []
    folder = Path(folder)
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        doc, found = read_yaml(path)
        tour = None
        if doc is not None:
            tour, more = build_tour(doc, scenarios)
            found += more
        problems += found
        if tour is None:
            continue
        if tour.name in tours:
            problems.append(Problem(str(path), doc.line(("tour", "name")), "tour.name",
                                    f"tour name {tour.name!r} is used twice; ignored"))
            continue
        tours[tour.name] = tour
    return tours, problems
