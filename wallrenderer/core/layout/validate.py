"""`wallrenderer validate`: every problem of a set of layout files, never raising."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from wallrenderer.core.geometry import Wall
from wallrenderer.core.layout.problems import Doc, Problem, empty_note, read_yaml
from wallrenderer.core.layout.scenarios import build_scenario
from wallrenderer.core.layout.walls import build_wall


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
    scenarios: list[Doc] = []
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
        else:
            problems.append(Problem(source, doc.line(()), "", kind))
    for doc in scenarios:
        found[doc.source] += build_scenario(doc, walls)[1]
    return [p for problems in found.values() for p in sorted(problems, key=lambda p: p.line)]


def _document_kind(doc: Doc) -> str:
    """'wall', 'scenario', or a message saying why it is neither."""
    data = doc.data
    keys = set(data) if isinstance(data, dict) else set()
    if keys >= {"wall", "scenario"}:
        return "a file holds either a 'wall' or a 'scenario', not both"
    if "wall" in keys:
        return "wall"
    if "scenario" in keys:
        return "scenario"
    return f"expected a top-level 'wall' or 'scenario' key{empty_note(data)}"
