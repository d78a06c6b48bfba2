"""`--source SPEC` -> a `Source`: the one place that knows every kind of source.

Each kind's module is imported only when a spec names it, so the controller
does not load `requests` or `feedparser` for the simulator alone; the kinds
import `controller.sources.base`, never this module.
"""

from __future__ import annotations

import difflib
import inspect
import math
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from controller.sources.base import Source
from wallrenderer.core.errors import WallError

_BOOL = {"1": True, "true": True, "yes": True, "on": True,
         "0": False, "false": False, "no": False, "off": False}


def _convert(spec: str, key: str, value: str, kind: type) -> Any:
    try:
        if kind is bool:
            return _BOOL[value.lower()]
        if kind is list:
            return [v.strip() for v in value.split(",") if v.strip()]
        converted = kind(value)
    except (KeyError, ValueError):
        what = {bool: "0 or 1", int: "a whole number", float: "a number"}.get(kind, kind.__name__)
        raise WallError(f"--source {spec}: {key} must be {what}, got {value!r}") from None
    if kind in (int, float) and (not math.isfinite(converted) or converted < 0):
        raise WallError(f"--source {spec}: {key} must not be negative, got {value!r}")
    return converted


def _split_options(
    spec: str, query: str, known: dict[str, type], *, keep_unknown: bool
) -> tuple[dict[str, Any], str]:
    """Typed options from a query string; the rest stays in the URL when `keep_unknown`."""
    options: dict[str, Any] = {}
    rest = []
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in known:
            options[key] = _convert(spec, key, value, known[key])
        elif keep_unknown:
            rest.append((key, value))
        else:
            near = difflib.get_close_matches(key, list(known), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            allowed = ", ".join(sorted(known)) or "none"
            raise WallError(f"--source {spec}: unknown option {key!r}{hint} (options: {allowed})")
    return options, urlencode(rest)


def _public_name(spec: str) -> str:
    """A spec without its query and user:password, fit to show on an open status page."""
    kind, colon, rest = spec.partition(":")
    if not rest.startswith(("http://", "https://")):
        kind, colon, rest = "", "", spec
    parts = urlsplit(rest)
    if parts.scheme in ("http", "https") and parts.netloc:
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return kind + colon + urlunsplit((parts.scheme, host, parts.path, "", ""))
    return spec.split("?", 1)[0]


def _bluesky(spec: str, target: str, bare_query: str, options: dict[str, Any]) -> Source:
    """`bluesky[?OPTIONS]` or `bluesky:ws[s]://HOST/subscribe[?OPTIONS]`."""
    from controller.sources.bluesky import BlueskySource

    url, _, query = target.partition("?") if target else ("", "", bare_query.lstrip("?"))
    if target and not url.startswith(("ws://", "wss://")):
        raise WallError(f"--source {spec}: {url!r} is not a ws:// or wss:// Jetstream URL")
    parsed, _ = _split_options(spec, query, BlueskySource.SPEC_OPTIONS, keep_unknown=False)
    try:
        return _build(BlueskySource, spec, {"url": url} if url else {}, parsed, options)
    except ValueError as exc:
        raise WallError(f"--source {spec}: {exc}") from None


def _build(cls: type[Source], spec: str, positional: dict[str, Any], query_options: dict,
           options: dict[str, Any]) -> Source:
    """Instantiate with the spec's options over the caller's; options a source lacks are skipped."""
    accepted = inspect.signature(cls.__init__).parameters
    kwargs = {k: v for k, v in options.items() if k in accepted}
    kwargs.update(query_options)
    kwargs.update(positional)
    return cls(**kwargs)


SOURCE_KINDS = ("simulator", "replay", "http", "mastodon", "rss", "webhook", "bluesky")


def parse_source_spec(spec: str, **options: Any) -> Source:
    """The source a `--source SPEC` names (docs/sources.md lists the forms).

    Args:
        spec: e.g. `simulator?seed=7`, `replay:posts.jsonl?speed=10&loop=1`,
            `http:https://api.example/posts?mapping=map.yaml&interval=30`,
            `mastodon:mastodon.social/tags/acme`, `rss:https://example.com/feed`,
            `webhook`, `bluesky?brands=acme,globex`.
        **options: settings from the controller for every source (e.g. `brands`,
            `own_accounts`, `backoff`, `clock`); each source takes those it knows,
            and options written in the spec win.

    Raises:
        WallError: the spec is malformed; the message names the spec and the problem.
    """
    spec = spec.strip()
    kind, colon, rest = spec.partition(":")
    kind = kind.lower()
    if kind in ("http", "https") and rest.startswith("//"):
        kind, rest = "http", spec          # a bare URL is an http: source
    if kind not in SOURCE_KINDS:
        bare = kind.split("?", 1)[0]
        if bare in ("simulator", "webhook", "bluesky"):
            kind, colon, rest = bare, "", spec[len(bare):]
        else:
            near = difflib.get_close_matches(bare, SOURCE_KINDS, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise WallError(f"--source {spec}: unknown source kind {bare!r}{hint} "
                            f"(kinds: {', '.join(SOURCE_KINDS)})")
    options.setdefault("name", _public_name(spec))
    if kind == "bluesky":
        return _bluesky(spec, rest if colon else "", rest if not colon else "", options)
    if kind in ("simulator", "webhook"):
        if colon:
            raise WallError(f"--source {spec}: {kind} takes no ':' argument, "
                            f"only options after '?'")
        if rest and not rest.startswith("?"):
            raise WallError(f"--source {spec}: unexpected {rest!r} after {kind!r}")
        if kind == "webhook":
            from controller.sources.webhook import WebhookSource
            _split_options(spec, rest[1:], {}, keep_unknown=False)
            return _build(WebhookSource, spec, {}, {}, options)
        from controller.sources.simulator import SimulatorSource
        query, _ = _split_options(spec, rest[1:], SimulatorSource.SPEC_OPTIONS,
                                  keep_unknown=False)
        return _build(SimulatorSource, spec, {}, query, options)
    if not rest:
        raise WallError(f"--source {spec}: {kind}: needs a {'file' if kind == 'replay' else 'URL'}"
                        f" after the colon")
    if kind == "replay":
        from controller.sources.replay import ReplaySource
        path, _, query = rest.partition("?")
        parsed, _ = _split_options(spec, query, ReplaySource.SPEC_OPTIONS, keep_unknown=False)
        if not Path(path).is_file():
            raise WallError(f"--source {spec}: no such file {path!r}")
        return _build(ReplaySource, spec, {"path": path}, parsed, options)
    if kind == "mastodon":
        from controller.sources.mastodon import MastodonSource, parse_timeline
        target, _, query = rest.partition("?")
        parsed, _ = _split_options(spec, query, MastodonSource.SPEC_OPTIONS, keep_unknown=False)
        try:
            positional = parse_timeline(target)
        except ValueError as exc:
            raise WallError(f"--source {spec}: {exc}") from None
        return _build(MastodonSource, spec, positional, parsed, options)
    # http: and rss: keep the URL's own query, minus the source's options
    if kind == "http":
        from controller.sources.http import HttpSource as cls
    else:
        from controller.sources.rss import RssSource as cls
    parts = urlsplit(rest)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise WallError(f"--source {spec}: {rest!r} is not an http:// or https:// URL")
    parsed, remaining = _split_options(spec, parts.query, cls.SPEC_OPTIONS, keep_unknown=True)
    url = urlunsplit(parts._replace(query=remaining))
    if kind == "http" and "mapping" in parsed:
        from controller.sources.http import load_mapping
        try:
            parsed["mapping"] = load_mapping(parsed["mapping"])
        except WallError as exc:
            raise WallError(f"--source {spec}: {exc}") from None
    return _build(cls, spec, {"url": url}, parsed, options)
