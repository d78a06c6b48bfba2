"""Scenario parameters: the same scenario run for another brand, and a visitor caption.

A tour step or schedule entry may say `params: {brand: globex}`. The keys a
scenario accepts (README, "Tours"):

- `brand`: a brand name. Every `{own}` in the scenario's paths becomes that
  brand, and gauges and feeds that follow our brand by default follow it
  instead. Only scenarios with at least one such brand-bound widget accept it.

Both nodes see only plain scenario data: the controller sends the changed
scenario in an ordinary switch, so a variant needs nothing new on the wire.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

OWN = "{own}"
PARAMS = {"brand": "a brand name, e.g. globex, that the scenario's brand-bound widgets follow"}
# Kinds whose brand defaults to ours when their file gives none.
_BRAND_DEFAULTS = {"gauge": ("brand", "path"), "feed": ("brand",)}


def check_params(params: Any, scenario: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Problems of `params` for a scenario (its data; None when not known), as (key, message)."""
    if not isinstance(params, Mapping):
        return [("", f"should be a mapping such as {{brand: globex}}, got {params!r}")]
    problems = []
    for key, value in params.items():
        if key not in PARAMS:
            known = "; ".join(f"{k}: {v}" for k, v in PARAMS.items())
            problems.append((str(key), f"unknown parameter (a scenario accepts {known})"))
        elif not isinstance(value, str) or not value.strip() or OWN in value:
            problems.append((str(key), f"should be a brand name, got {value!r}"))
        elif scenario is not None and not brand_bound(scenario):
            name = scenario.get("scenario", {}).get("name")
            problems.append((str(key), f"scenario {name!r} has no widget that follows a brand "
                                       "(no {own} path, gauge or feed)"))
    return problems


def brand_bound(scenario: Mapping[str, Any]) -> bool:
    """Whether any widget of the scenario follows our brand (so `brand` changes something)."""
    widgets = scenario.get("scenario", {}).get("widgets") or []
    return OWN in repr(widgets) or any(
        isinstance(w, dict) and _follows_own(w) for w in widgets
    )


def _follows_own(widget: Mapping[str, Any]) -> bool:
    keys = _BRAND_DEFAULTS.get(widget.get("kind"))
    return keys is not None and not any(k in widget for k in keys)


def apply_params(
    scenario: Mapping[str, Any], params: Mapping[str, Any] | None, caption: str | None = None
) -> dict[str, Any]:
    """A copy of scenario data run with `params`, with a caption bar when `caption` is set.

    The params are assumed checked (`check_params`).
    """
    data = copy.deepcopy(dict(scenario))
    brand = (params or {}).get("brand")
    if brand:
        body = data["scenario"]
        body["widgets"] = [_with_brand(w, brand) for w in body.get("widgets") or []]
    if caption:
        body = data["scenario"]
        body["widgets"] = [*(body.get("widgets") or []), {"kind": "caption", "text": caption}]
    return data


def _with_brand(value: Any, brand: str) -> Any:
    if isinstance(value, str):
        return value.replace(OWN, brand)
    if isinstance(value, list):
        return [_with_brand(v, brand) for v in value]
    if isinstance(value, dict):
        out = {k: _with_brand(v, brand) for k, v in value.items()}
        if _follows_own(value):
            out["brand"] = brand
        return out
    return value
