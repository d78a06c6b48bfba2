"""`http:URL` source: polls any JSON endpoint and maps its items to posts with a YAML mapping.

Each poll is one conditional GET (ETag / Last-Modified, so an unchanged
answer is a cheap 304); the items found at the mapping's `items` path become
posts through per-field dotted paths or constants. Items already handed over
(by id) are not handed over again, so an endpoint that answers "the last 50
posts" can be polled as often as it allows. docs/sources.md documents the
mapping format.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from controller.postbatch import FIELDS
from controller.posts import Fill, parse_time
from controller.sources.base import SeenIds, Source, SourceError, html_to_text
from controller.sources.fetch import Fetcher
from wallrenderer.core.errors import WallError

TIME_FORMATS = ("auto", "unix", "unix_ms", "iso8601", "rfc2822")
_MISSING = object()
_PATH_PART = re.compile(r"[^.\[\]]+(\[\])?|\[\]")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _plain_text(value: Any) -> Any:
    return html_to_text(value)[0] if isinstance(value, str) else value


def _split(value: Any) -> Any:
    return [v for v in re.split(r"[\s,]+", value) if v] if isinstance(value, str) else value


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else _MISSING
    return value


#: the transforms a mapping may name, applied in the order written (docs/sources.md)
TRANSFORMS: dict[str, Callable[[Any], Any]] = {
    "strip": _strip, "lower": _lower, "upper": _upper, "text": _plain_text,
    "split": _split, "first": _first,
}


@dataclass(frozen=True)
class Const:
    """A field that has the same value for every item."""

    value: Any

    def get(self, item: Any) -> Any:
        """The constant."""
        return self.value


@dataclass(frozen=True)
class FieldPath:
    """A dotted path into an item: `user.name`, `media.0.url`, `tags[].name` (each of a list)."""

    text: str
    parts: tuple[str, ...] = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "parts", tuple(p for p in self.text.split(".") if p))

    @property
    def each(self) -> bool:
        """Whether the path goes into every element of a list (it gives a list)."""
        return any(part.endswith("[]") for part in self.parts)

    def get(self, data: Any) -> Any:
        """The value at the path, or `_MISSING`; lists within lists from `[]` are flattened."""
        return _walk(data, self.parts)


def _walk(data: Any, parts: tuple[str, ...]) -> Any:
    for i, part in enumerate(parts):
        each = part.endswith("[]")
        key = part[:-2] if each else part
        if key:
            if isinstance(data, dict):
                data = data.get(key, _MISSING)
            elif isinstance(data, list) and key.lstrip("-").isdigit() \
                    and -len(data) <= int(key) < len(data):
                data = data[int(key)]
            else:
                return _MISSING
            if data is _MISSING or data is None:
                return _MISSING
        if each:
            if not isinstance(data, list):
                return _MISSING
            found = []
            for value in (_walk(item, parts[i + 1:]) for item in data):
                if isinstance(value, list) and any(p.endswith("[]") for p in parts[i + 1:]):
                    found += value
                elif value is not _MISSING and value is not None:
                    found.append(value)
            return found
    return data


def _formats(template: str) -> bool:
    """Whether `template.format(value)` works (no stray braces)."""
    try:
        template.format("")
    except (ValueError, IndexError, KeyError):
        return False
    return True


def _empty(value: Any) -> bool:
    return value is _MISSING or value is None or value == "" or value == []


@dataclass(frozen=True)
class Extract:
    """A field read from an item: the first of `paths` that gives a value, then its transforms.

    `values` maps what the API writes onto what the post wants (`positive: 0.6`);
    `template` puts the value into a string (`https://www.reddit.com{}`).
    """

    paths: tuple[FieldPath, ...]
    transforms: tuple[str, ...] = ()
    template: str | None = None
    values: dict[Any, Any] | None = None

    def get(self, item: Any) -> Any:
        """The mapped value, or `_MISSING`."""
        value = _MISSING
        for path in self.paths:
            value = path.get(item)
            if not _empty(value):
                break
        if _empty(value):
            return _MISSING
        for name in self.transforms:
            value = _each(TRANSFORMS[name], value) if name not in ("first", "split") \
                else TRANSFORMS[name](value)
        if self.values is not None:
            value = _each(lambda v: self.values.get(v, _MISSING)
                          if isinstance(v, str | int | float | bool) else _MISSING, value)
        if self.template is not None:
            value = _each(lambda v: self.template.format(v), value)
        return value


def _each(transform: Callable[[Any], Any], value: Any) -> Any:
    """A transform of a value, or of each item of a list (missing results left out)."""
    if isinstance(value, list):
        return [t for t in map(transform, value) if t is not _MISSING]
    return transform(value)


#: post fields that hold lists: a single value becomes a one-item list, nested lists one list
LIST_FIELDS = ("hashtags", "urls")


def _as_list(value: Any) -> list:
    """A field's list, flat, without empty items and repeats (a post's URL once)."""
    if not isinstance(value, list):
        value = [value]
    flat: list = []
    pending = list(reversed(value))
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending += reversed(item)
        elif item is not None and item != "":
            flat.append(item)
    return list(dict.fromkeys(flat)) if all(isinstance(v, str) for v in flat) else flat


@dataclass(frozen=True)
class Mapping:
    """Where the items are in an answer and how each becomes a post (see docs/sources.md)."""

    items: FieldPath
    #: None: the items are posts of the schema already, validated as they are
    fields: dict[str, Extract | Const] | None
    time_format: str = "auto"

    def find_items(self, answer: Any) -> list:
        """The list of items in a decoded answer; automatic when `items` is empty."""
        if not self.items.parts:
            if isinstance(answer, list):
                return answer
            for key in ("items", "posts", "data", "results", "statuses"):
                if isinstance(answer, dict) and isinstance(answer.get(key), list):
                    return answer[key]
            raise SourceError("the answer is not a list, and has no items/posts/data list; "
                              "set `items:` in the mapping")
        found = self.items.get(answer)
        if not isinstance(found, list):
            raise SourceError(f"no list at {self.items.text!r} in the answer")
        return found

    def apply(self, item: Any) -> dict[str, Any]:
        """The mapped (not yet validated) fields of one item.

        A list where one value belongs (`record.langs`) gives its first item;
        list fields take a single value as a one-item list and flatten lists
        of lists.
        """
        if not isinstance(item, dict):
            raise ValueError(f"an item is a JSON object, got {type(item).__name__}")
        if self.fields is None:
            return item
        raw: dict[str, Any] = {}
        for name, source in self.fields.items():
            value = source.get(item)
            if value is _MISSING:
                continue
            if name in LIST_FIELDS:
                value = _as_list(value)
            elif isinstance(value, list):
                if not value:
                    continue
                value = value[0]
            raw[name] = value
        if "time" in raw:
            raw["time"] = convert_time(raw["time"], self.time_format)
        return raw


def convert_time(value: Any, time_format: str) -> Any:
    """A mapped time in the mapping's format as the schema reads it (a strptime pattern works too).

    `auto` leaves the value to the schema (docs/posts.md says what it reads).
    """
    if time_format == "auto":
        return value
    if time_format in ("unix", "unix_ms"):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(f"time: need a number, got {value!r}")
        seconds = float(value)
        return seconds / 1000.0 if time_format == "unix_ms" else seconds
    if not isinstance(value, str):
        raise ValueError(f"time: need a string, got {value!r}")
    if time_format in ("iso8601", "rfc2822"):
        return parse_time(value)
    parsed = datetime.datetime.strptime(value, time_format)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.timestamp()


DEFAULT_MAPPING = Mapping(FieldPath(""), None)


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping YAML file.

    Raises:
        WallError: `file:line: field: message` for the first problem found.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise WallError(f"{path}: cannot read the mapping: {exc.strerror}") from None
    return mapping_from_text(text, str(path))


def mapping_from_text(text: str, source: str = "<mapping>") -> Mapping:
    """A checked `Mapping` from YAML text; errors carry `source`, line and field.

    A mapping that cannot work is refused here, at start, not item by item:
    a malformed path, a path giving a list for a one-value field, an unknown
    transform, a constant id.
    """
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        line = exc.problem_mark.line + 1 if getattr(exc, "problem_mark", None) else 1
        raise WallError(f"{source}:{line}: not valid YAML: {getattr(exc, 'problem', exc)}") \
            from None

    def fail(node: yaml.Node | None, where: str, message: str) -> WallError:
        line = node.start_mark.line + 1 if node is not None else 1
        return WallError(f"{source}:{line}: {where}: {message}")

    def keys_of(node: yaml.Node, where: str, allowed: tuple[str, ...]) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise fail(node, where, "should be a mapping")
        found = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if key not in allowed:
                near = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"; did you mean {near[0]!r}?" if near else ""
                raise fail(key_node, f"{where}.{key}" if where else key, f"unknown key{hint}")
            found[key] = value_node
        return found

    if root is None:
        raise WallError(f"{source}:1: the mapping is empty")
    top = keys_of(root, "", ("items", "time_format", "fields"))
    loader = yaml.SafeLoader("")

    def scalar(node: yaml.Node, where: str) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise fail(node, where, "should be a single value")
        return loader.construct_object(node)

    def path_of(node: yaml.Node, where: str) -> FieldPath:
        value = scalar(node, where)
        if not isinstance(value, str) or not value.strip("."):
            raise fail(node, where, "should be a dotted path like user.name, or {const: VALUE}")
        if any(not _PATH_PART.fullmatch(part) for part in value.split(".")):
            raise fail(node, where, f"{value!r} is not a path: names joined by dots, "
                                    f"'[]' only at the end of a name (tags[].name)")
        return FieldPath(value)

    def paths_of(node: yaml.Node, where: str) -> tuple[FieldPath, ...]:
        if isinstance(node, yaml.SequenceNode):
            if not node.value:
                raise fail(node, where, "an empty list of paths")
            return tuple(path_of(n, where) for n in node.value)
        return (path_of(node, where),)

    def extract_of(node: yaml.Node, where: str) -> Extract | Const:
        if not isinstance(node, yaml.MappingNode):
            return Extract(paths_of(node, where))
        keys = keys_of(node, where, ("const", "path", "transform", "format", "map"))
        if "const" in keys:
            if len(keys) > 1:
                raise fail(node, where, "a {const: VALUE} takes no other key")
            return Const(loader.construct_object(keys["const"], deep=True))
        if "path" not in keys:
            raise fail(node, where, "write {path: PATH, ...} or {const: VALUE}")
        transforms: tuple[str, ...] = ()
        if "transform" in keys:
            tnode = keys["transform"]
            names = [scalar(n, f"{where}.transform") for n in tnode.value] \
                if isinstance(tnode, yaml.SequenceNode) else [scalar(tnode, f"{where}.transform")]
            for name in names:
                if name not in TRANSFORMS:
                    near = difflib.get_close_matches(str(name), list(TRANSFORMS), n=1)
                    hint = f"; did you mean {near[0]!r}?" if near else ""
                    raise fail(tnode, f"{where}.transform",
                               f"unknown transform {name!r}{hint} "
                               f"(transforms: {', '.join(TRANSFORMS)})")
            transforms = tuple(names)
        template = None
        if "format" in keys:
            template = scalar(keys["format"], f"{where}.format")
            if not isinstance(template, str) or template.count("{}") != 1 \
                    or not _formats(template):
                raise fail(keys["format"], f"{where}.format",
                           "a string with one {} where the value goes, like https://x.example{}")
        values = None
        if "map" in keys:
            values = loader.construct_object(keys["map"], deep=True)
            if not isinstance(values, dict) or not values:
                raise fail(keys["map"], f"{where}.map", "should map values, like {positive: 0.6}")
        return Extract(paths_of(keys["path"], f"{where}.path"), transforms, template, values)

    items = path_of(top["items"], "items").text if "items" in top else ""
    time_format = scalar(top["time_format"], "time_format") if "time_format" in top else "auto"
    if not isinstance(time_format, str) or (time_format not in TIME_FORMATS
                                            and "%" not in time_format):
        raise fail(top.get("time_format"), "time_format",
                   f"one of {', '.join(TIME_FORMATS)} or a strptime pattern like %Y-%m-%d %H:%M")
    if "fields" not in top:
        raise fail(root, "fields", "missing: say where at least id and time are")
    fields: dict[str, Extract | Const] = {}
    for name, node in keys_of(top["fields"], "fields", FIELDS).items():
        where = f"fields.{name}"
        fields[name] = extract = extract_of(node, where)
        if isinstance(extract, Const) and name == "id":
            raise fail(node, where, "a constant id would make every item the same post")
        if isinstance(extract, Extract) and name not in LIST_FIELDS \
                and "first" not in extract.transforms \
                and any(path.each for path in extract.paths):
            raise fail(node, where, "a '[]' path gives a list, and this field holds one value; "
                                    "add transform: first, or drop the []")
    for required in ("id", "time"):
        if required not in fields:
            raise fail(top["fields"], f"fields.{required}", "missing (every post needs it)")
    return Mapping(FieldPath(items), fields, time_format)


class HttpSource(Source):
    """Polls a JSON endpoint every `interval` seconds and hands over the new items as posts.

    Args:
        url: the endpoint (its own query string is kept).
        mapping: a `Mapping` (see `load_mapping`); by default the answer already
            holds posts in the normalised schema.
        interval: seconds between polls while all is well.
        timeout: seconds to wait for the connection and for each read.
        brands: brand keywords, to match posts whose mapping gives no brand.
        own_accounts: handles of our brand accounts.
        session: a `requests.Session` (proxies, certificates).
        headers: extra request headers (e.g. an API key).
    """

    SPEC_OPTIONS = {"mapping": str, "interval": float, "timeout": float}

    def __init__(self, url: str, *, mapping: Mapping | None = None, interval: float = 30.0,
                 timeout: float = 10.0, brands: dict[str, list[str]] | None = None,
                 own_accounts: tuple[str, ...] | list[str] = (), session=None,
                 headers: dict[str, str] | None = None, name: str | None = None,
                 backoff: float = 1.0, backoff_max: float = 60.0):
        super().__init__(name or f"http:{url}", backoff=backoff, backoff_max=backoff_max)
        self.url = url
        self.mapping = mapping or DEFAULT_MAPPING
        self.interval = interval
        self.fill = Fill("http", brands, tuple(own_accounts))
        self.fetcher = Fetcher(timeout, headers, session)
        self.stop_timeout = 2 * timeout + 1
        self.seen = SeenIds()

    def poll(self) -> float:
        """One GET; new items become posts."""
        response = self.fetcher.get(self.url)
        if response is None:
            return self.interval
        try:
            answer = response.json()
        except ValueError as exc:
            raise SourceError(f"{self.url}: malformed JSON ({exc})") from None
        items = self.mapping.find_items(answer)
        self.fetcher.remember(self.url, response)
        self.emit_new(items, self.mapping.apply, self.seen, "items that do not map to a post")
        return self.interval

    def close(self) -> None:
        self.fetcher.close()
