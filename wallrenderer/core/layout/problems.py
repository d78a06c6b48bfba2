"""Layout problems located by file, line and field, and YAML read with its line numbers.

This is the edge where YAML written by installers and presenters enters the
system (docs/architecture.md, "Layouts"). Nothing here raises for bad input
except `raise_errors`, which raises one error type, `LayoutError`, listing
every problem at once rather than the first one found.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ValidationError

from wallrenderer.core.errors import WallError

Loc = tuple[str | int, ...]
# The largest layouts (a scenario with an embedded map and dozens of widgets)
# hold a few thousand values; aliases must not multiply a file past this.
MAX_YAML_VALUES = 200_000


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


def errors_only(problems: Iterable[Problem]) -> list[Problem]:
    """Only the errors, not the warnings."""
    return [p for p in problems if p.severity == "error"]


@dataclass(frozen=True)
class Doc:
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


def field_name(loc: Loc) -> str:
    """Dotted path as an operator reads it: ``wall.panels[1].active_mm``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class Report:
    """Collects problems for one document, locating each by its path in the data."""

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.problems: list[Problem] = []

    def add(self, loc: Loc, message: str, severity: str = "error") -> None:
        self.problems.append(
            Problem(self.doc.source, self.doc.line(loc), field_name(loc), message, severity)
        )

    @property
    def ok(self) -> bool:
        return not errors_only(self.problems)

    def validate(self, model: type[BaseModel], data: Any, prefix: Loc = ()) -> Any:
        """Validate `data` (found at `prefix`) as `model`; None and problems on failure."""
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                loc = tuple(error["loc"])
                self.add(prefix + loc, _describe(error, model, loc))
            return None


class _TooLarge(Exception):
    """Aliases expand the document past MAX_YAML_VALUES."""


def parse_yaml(text: str, source: str) -> tuple[Doc | None, list[Problem]]:
    """YAML text -> data with line numbers; syntax errors become problems."""
    loader = yaml.SafeLoader(text)
    problems: list[Problem] = []
    try:
        node = loader.get_single_node()
        if node is None:
            return Doc(source, None, {(): 1}), problems
        lines = {(): node.start_mark.line + 1}
        budget = [MAX_YAML_VALUES]
        data = _node_to_data(loader, node, (), lines, problems, source, frozenset(), budget)
        return Doc(source, data, lines), problems
    except RecursionError:
        problems.append(Problem(source, 0, "", "nested too deeply to be a layout"))
        return None, problems
    except _TooLarge:
        problems.append(Problem(source, 0, "", f"expands to more than {MAX_YAML_VALUES} values "
                                "(YAML aliases repeating aliases?); too large to be a layout"))
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
    budget: list[int],
) -> Any:
    """Build plain data from a composed node, recording where each key and item sits.

    Every value built, alias expansions included, spends one of `budget`, so a
    "billion laughs" document stops at MAX_YAML_VALUES instead of filling memory.
    """
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge
    if isinstance(node, yaml.ScalarNode):
        try:
            return loader.construct_object(node)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
            message = f"cannot read this value ({node.tag.rsplit(':', 1)[-1]}): {exc}"
            problems.append(Problem(source, node.start_mark.line + 1, field_name(loc), message))
            return None
    if id(node) in ancestors:
        problems.append(
            Problem(source, node.start_mark.line + 1, field_name(loc), "recursive YAML alias")
        )
        return None
    ancestors = ancestors | {id(node)}
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            lines[loc + (index,)] = item.start_mark.line + 1
            items.append(
                _node_to_data(loader, item, loc + (index,), lines, problems, source, ancestors,
                              budget)
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
                        field_name(loc + (key_node.value,)),
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
                    source, key_node.start_mark.line + 1, field_name(loc), "keys must be names"
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
            loader, value_node, loc + (key,), lines, problems, source, ancestors, budget
        )
    return mapping


def read_yaml(path: str | Path) -> tuple[Doc | None, list[Problem]]:
    """A YAML file with its lines; an unreadable file is a problem, not an exception."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return None, [Problem(source, 0, "", f"cannot read file: {reason}")]
    return parse_yaml(text, source)


def data_doc(data: Any, source: str) -> Doc:
    """Data that arrived already parsed (over the network) has no lines."""
    return Doc(source, data, {})


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


def check_top_key(report: Report, key: str) -> bool:
    """Whether the document has top-level `key`; reported when not."""
    data = report.doc.data
    if isinstance(data, dict) and key in data:
        return True
    report.add((), f"expected a top-level {key!r} key{empty_note(data)}")
    return False


def empty_note(data: Any) -> str:
    """Why a top key is missing, when the file is empty."""
    return " (the file is empty)" if data is None else ""


def raise_errors(problems: list[Problem]) -> None:
    """Raise one `LayoutError` with every error, sorted by line; warnings pass."""
    errors = errors_only(problems)
    if errors:
        raise LayoutError(sorted(errors, key=lambda p: p.line))
