"""`wallrenderer validate`: every problem of a set of layout files, never raising."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wallrenderer.core.geometry import Wall
from wallrenderer.core.layout.problems import Doc, Problem, empty_note, read_yaml
from wallrenderer.core.layout.scenarios import build_scenario
from wallrenderer.core.layout.schedules import build_schedule
from wallrenderer.core.layout.tours import build_tour
from wallrenderer.core.layout.walls import build_wall
from wallrenderer.core.resources import builtin_path

KINDS = ("wall", "scenario", "tour", "schedule")


def validate_files(
    paths: Sequence[str | Path],
    wall_paths: Sequence[str | Path] = (),
    scenarios_dir: str | Path | None = None,
) -> list[Problem]:
    """Check layout files as `wallrenderer validate` does, never raising for bad input.

    Each file is a wall, a scenario, a tour or a schedule (its top key says
    which). Scenarios are checked against every valid wall among `paths` and
    `wall_paths`; with no wall, only the syntax of their ``cells`` is checked.
    Tours and schedules are checked against the scenarios among `paths` and
    the library in `scenarios_dir` (default: the shipped scenarios).

    Args:
        paths: files to check.
        wall_paths: further walls to check scenarios against (their own
            problems are reported too).
        scenarios_dir: the scenario library tours and schedules use.

    Returns:
        Errors and warnings, grouped by file in the order given, by line within a file.
    """
    found: dict[str, list[Problem]] = {}
    walls: list[Wall] = []
    scenarios: list[Doc] = []
    plans: list[tuple[str, Doc]] = []  # tours and schedules, checked against the library
    for path in [*paths, *wall_paths]:
        source = str(path)
        if source in found:
            continue
        doc, problems = read_yaml(path)
        found[source] = problems
        if doc is None:
            continue
        kind = _document_kind(doc)
        if kind == "wall":
            wall, wall_problems = build_wall(doc)
            problems += wall_problems
            if wall is not None:
                walls.append(wall)
        elif kind == "scenario":
            scenarios.append(doc)
        elif kind in KINDS:
            plans.append((kind, doc))
        else:
            problems.append(Problem(source, doc.line(()), "", kind))
    library = _library(scenarios_dir)
    for doc in scenarios:
        found[doc.source] += build_scenario(doc, walls)[1]
        body = doc.data.get("scenario") if isinstance(doc.data, dict) else None
        if isinstance(body, dict) and isinstance(body.get("name"), str):
            library[body["name"]] = doc.data
    tours = {}
    for kind, doc in sorted(plans, key=lambda p: p[0] != "tour"):  # tours before schedules
        if kind == "tour":
            tour, problems = build_tour(doc, library)
            if tour is not None:
                tours[tour.name] = tour
        else:
            problems = build_schedule(doc, library, tours or None)[1]
        found[doc.source] += problems
    return [p for problems in found.values() for p in sorted(problems, key=lambda p: p.line)]


def _library(folder: str | Path | None) -> dict[str, Any]:
    """Scenario data by name from a folder's files, read leniently (they are not checked here)."""
    library: dict[str, Any] = {}
    folder = Path(folder) if folder else builtin_path("layouts", "scenarios")
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        doc = read_yaml(path)[0]
        body = doc.data.get("scenario") if doc and isinstance(doc.data, dict) else None
        if isinstance(body, dict) and isinstance(body.get("name"), str):
            library[body["name"]] = doc.data
    return library


def _document_kind(doc: Doc) -> str:
    """One of KINDS, or a message saying why it is none of them."""
    data = doc.data
    keys = [k for k in KINDS if isinstance(data, dict) and k in data]
    if len(keys) > 1:
        both = " and ".join(keys)
        return f"a file holds one of {', '.join(map(repr, KINDS))}, not both {both}"
    if keys:
        return keys[0]
    return f"expected a top-level {', '.join(map(repr, KINDS))} key{empty_note(data)}"
