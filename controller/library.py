"""Loading the wall and the scenario library the controller serves.

Every file is validated with the same loader as `wallrenderer validate`; a scenario
that does not validate is reported and left out, never shown half-built.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from wallrenderer.core.errors import WallError
from wallrenderer.core.geometry import Wall
from wallrenderer.core.layout.images import embed_images
from wallrenderer.core.layout.problems import LayoutError
from wallrenderer.core.layout.scenarios import scenario_from_text
from wallrenderer.core.layout.tours import Tour, load_tours
from wallrenderer.core.layout.walls import load_wall
from wallrenderer.core.protocol import MAX_MESSAGE_BYTES
from wallrenderer.core.resources import builtin_path

log = logging.getLogger(__name__)

DEFAULT_WALL = "demo-2x2.yaml"
BUILTIN_SCENARIOS = ("testcard", "calibration", "calibration-colour", "safe-screen")
SAFE_SCREEN = "safe-screen"
# A switch message carries one scenario beside the wall and data: keep room for them.
MAX_SCENARIO_BYTES = MAX_MESSAGE_BYTES // 4


def default_wall_path() -> Path:
    """The shipped 2x2 demo wall, used when no --wall is given."""
    return builtin_path("layouts", "walls", DEFAULT_WALL)


def default_scenarios_dir() -> Path:
    """The shipped scenarios, used when no --scenarios is given."""
    return builtin_path("layouts", "scenarios")


def tours_for(library: Library, tours_dir: str | Path | None, scenarios_dir) -> dict[str, Tour]:
    """The tours of `tours_dir` that fit the library; bad ones are logged and left out.

    Without `tours_dir`, the shipped tours come with the shipped scenarios only.
    """
    if tours_dir is None:
        if scenarios_dir is not None:
            return {}
        tours_dir = builtin_path("layouts", "tours")
    elif not Path(tours_dir).is_dir():
        log.warning("%s: tour folder not found", tours_dir)
    tours, problems = load_tours(tours_dir, library.scenarios)
    for problem in problems:
        log.warning("%s", problem)
    return tours


@dataclass
class Library:
    """The wall (checked geometry and its raw data) and the scenarios that fit it."""

    wall: Wall
    wall_data: dict[str, Any]
    scenarios: dict[str, dict[str, Any]]
    problems: list[str]
    fields: dict[str, frozenset[str]]
    paths: dict[str, Path]


def load_library(wall_path: str | Path, scenarios_dir: str | Path | None = None) -> Library:
    """Load and check a wall and every `*.yaml` scenario in a folder.

    Raises:
        LayoutError: the wall itself is invalid (nothing can be shown without it).
    """
    wall_path = Path(wall_path)
    wall = load_wall(wall_path)
    wall_data = yaml.safe_load(wall_path.read_text())
    folder = Path(scenarios_dir) if scenarios_dir else default_scenarios_dir()
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    problems = [] if folder.is_dir() else [f"{folder}: scenario folder not found"]
    builtin = default_scenarios_dir()
    names = {f.stem for f in files}
    files += [builtin / f"{name}.yaml" for name in BUILTIN_SCENARIOS if name not in names]
    scenarios: dict[str, dict[str, Any]] = {}
    fields: dict[str, frozenset[str]] = {}
    paths: dict[str, Path] = {}
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: cannot read: {exc}")
            continue
        try:
            scenario = scenario_from_text(text, source=str(path), wall=wall)
        except LayoutError as exc:
            problems += [str(p) for p in exc.problems]
            continue
        if scenario.name in scenarios:
            problems.append(f"{path}: scenario name {scenario.name!r} is used twice; ignored")
            continue
        data = yaml.safe_load(text)
        problems += embed_images(data, path.parent)
        size = len(json.dumps(data, ensure_ascii=False).encode())
        if size > MAX_SCENARIO_BYTES:
            problems.append(f"{path}: scenario is {size} bytes; the limit is {MAX_SCENARIO_BYTES}")
            continue
        scenarios[scenario.name] = data
        fields[scenario.name] = scenario.fields()
        paths[scenario.name] = path
    for problem in problems:
        log.warning("%s", problem)
    return Library(wall, wall_data, scenarios, problems, fields, paths)


class UnknownScenario(WallError):
    """A switch to a scenario the controller does not have."""


class LibrarySource:
    """Where the library came from, so scenario files can be read again without a restart.

    A file that no longer validates is refused: the scenario keeps its previous
    version, and the problems (file, line, field) are reported.
    """

    def __init__(self, wall_path: str | Path, scenarios_dir: str | Path | None,
                 paths: dict[str, Path]):
        self.wall_path = Path(wall_path)
        self.scenarios_dir = scenarios_dir
        self.paths = dict(paths)

    def reload(self, current: dict[str, dict[str, Any]], active: str
               ) -> tuple[dict[str, dict[str, Any]], dict[str, frozenset[str]], dict[str, Any]]:
        """Read every file again and merge with `current` (the scenarios served now).

        Returns:
            The scenarios and their data fields to serve from now on, and a report:
            ``scenarios`` (names), ``changed``, ``added``, ``removed``, ``kept``
            (refused files whose scenario stays at its previous version) and
            ``problems`` (one ``file:line: field: message`` each).
        """
        fresh = load_library(self.wall_path, self.scenarios_dir)
        scenarios, paths = dict(fresh.scenarios), dict(fresh.paths)
        kept = []
        for name, data in current.items():
            old_path = self.paths.get(name)
            if name in scenarios:
                continue
            if name == active or (old_path is not None and old_path.exists()):
                scenarios[name], kept = data, kept + [name]
                if old_path is not None:
                    paths[name] = old_path
        fields = dict(fresh.fields)
        for name in kept:
            scenario = scenario_from_data_or_none(scenarios[name], fresh.wall)
            fields[name] = scenario.fields() if scenario is not None else frozenset()
        self.paths = paths
        report = {
            "scenarios": sorted(scenarios),
            "changed": sorted(n for n in fresh.scenarios if n in current
                              and current[n] != fresh.scenarios[n]),
            "added": sorted(n for n in fresh.scenarios if n not in current),
            "removed": sorted(n for n in current if n not in scenarios),
            "kept": sorted(kept),
            "problems": [str(p) for p in fresh.problems],
        }
        return scenarios, fields, report


    def reload_into(self, controller, timeout: float = 10.0) -> tuple[dict[str, dict[str, Any]],
                                                                      dict[str, Any]]:
        """Reload, then have `controller` serve the result (any thread but the controller's).

        Returns:
            The scenarios now served and the report of `reload`.

        Raises:
            LayoutError: the wall file itself no longer loads (nothing changes).
            WallError: the controller did not take them within `timeout` s.
        """
        scenarios, fields, report = self.reload(dict(controller.scenarios),
                                                controller.scenario_name)
        applied = controller.call(lambda: controller.replace_scenarios(scenarios, fields))
        try:
            applied.result(timeout)
        except concurrent.futures.TimeoutError:
            raise WallError(f"the controller did not take the reload within {timeout:g} s") \
                from None
        for problem in report["problems"]:
            log.warning("reload refused: %s", problem)
        return scenarios, report


def scenario_from_data_or_none(data: dict[str, Any], wall: Wall):
    """The checked scenario of already-validated `data`, or None if it no longer fits."""
    from wallrenderer.core.layout.scenarios import scenario_from_data

    try:
        return scenario_from_data(data, wall=wall)
    except LayoutError:
        return None
