"""A scenario's `locale`: checked against Babel's CLDR data when the scenario loads.

Day and month names, relative times and number separators on the wall come
from this locale (`wallrenderer.renderer.widgets.wording`), so a typo must fail
at load with its line rather than draw English on a French wall.
"""

from __future__ import annotations

import difflib
import functools

from babel import Locale, UnknownLocaleError, localedata


@functools.cache
def _known() -> tuple[str, ...]:
    return tuple(name.replace("_", "-") for name in localedata.locale_identifiers())


def check_locale(name: str) -> str:
    """`name` as given when Babel knows it ("fr", "de-CH", "ar-EG"), else a clear error."""
    try:
        Locale.parse(name, sep="-" if "-" in name else "_")
    except (UnknownLocaleError, ValueError):
        close = difflib.get_close_matches(name.replace("_", "-"), _known(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown locale {name!r}: use a language tag such as 'fr', 'de-CH' or 'ar'{hint}"
        ) from None
    return name
