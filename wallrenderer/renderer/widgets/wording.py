"""Dates, relative times and numbers in a scenario's `locale`, through Babel (CLDR).

Without a locale the wall keeps its own compact English ("12 s", "12.3k",
"Tuesday 19 November 2026"); with one, every such string comes from CLDR:
`fr` draws "jeudi 19 novembre 2026", "12 s", "12,3 k", "71 %", "il y a 12 min".
"""

from __future__ import annotations

import functools
from datetime import datetime

from babel import Locale
from babel.dates import format_date, format_skeleton, format_timedelta, get_relative_name
from babel.numbers import format_compact_decimal, format_decimal, format_percent

DASH = "\u2013"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


@functools.cache
def parse(name: str) -> Locale:
    """Babel's locale for a scenario's tag ("fr", "de-CH", "ar_EG"), cached."""
    return Locale.parse(name, sep="-" if "-" in name else "_")


def count(value: float | None, locale: str | None = None) -> str:
    """Compact counts for a wall: 950, 12.3k, 4.1M (a dash when unknown)."""
    if value is None:
        return DASH
    value = float(value)
    if locale:
        digits = 1 if abs(value) >= 1000 else 0
        return format_compact_decimal(value, locale=parse(locale), fraction_digits=digits)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            scaled = value / limit
            return f"{scaled:.1f}{suffix}" if abs(scaled) < 100 else f"{scaled:.0f}{suffix}"
    return f"{value:.0f}"


def number(value: float, locale: str | None = None) -> str:
    """A figure with the locale's separators: 12,345 (en), 12 345 (fr), 12.345 (de)."""
    pattern = "#,##0" if abs(value) >= 100 else "#,##0.0"
    if locale:
        return format_decimal(value, format=pattern, locale=parse(locale))
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"


def percent(fraction: float, locale: str | None = None) -> str:
    """A share as a whole percentage: 71% (en), 71 % (fr, de)."""
    if locale:
        return format_percent(round(fraction, 2), locale=parse(locale))
    return f"{100 * fraction:.0f}%"


def duration(seconds: float | None, locale: str | None = None) -> str:
    """45 s, 12 min, 3.5 h (a dash when unknown)."""
    if seconds is None:
        return DASH
    if locale:
        return format_timedelta(seconds, format="short", locale=parse(locale))
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def age(seconds: float | None, locale: str | None = None) -> str:
    """How long ago, as a feed reads it: now, 12 s, 4 min, 2 h, 3 d (empty when unknown)."""
    if seconds is None:
        return ""
    if locale:
        if seconds < 1:
            return get_relative_name("second", 0, locale=parse(locale)) or "0"
        return format_timedelta(seconds, format="short", threshold=1.0, locale=parse(locale))
    if seconds < 1:
        return "now"
    for limit, step, unit in ((60, 1, "s"), (3600, 60, "min"), (86400, 3600, "h")):
        if seconds < limit:
            return f"{int(seconds // step)} {unit}"
    return f"{int(seconds // 86400)} d"


def ago(seconds: float, locale: str | None = None) -> str:
    """How long ago, as said on an alert: just now, 12 min ago, 3 h ago."""
    if locale:
        if seconds < 60:
            return get_relative_name("second", 0, locale=parse(locale)) or "0"
        return format_timedelta(-seconds, format="short", add_direction=True,
                                locale=parse(locale))
    if seconds < 60:
        return "just now"
    if seconds < 90 * 60:
        return f"{seconds // 60:.0f} min ago"
    return f"{seconds / 3600:.0f} h ago"


def date_forms(moment: datetime, locale: str | None = None) -> tuple[str, ...]:
    """The date from longest to shortest, so the clock can take the longest that fits.

    English without a locale: Tuesday 19 November 2026, Tuesday 19 November,
    Tue 19 Nov. With one, CLDR's full date ("mercredi 18 novembre 2026"), its
    long date without the weekday, then its short weekday, day and month.
    """
    if locale:
        where = parse(locale)
        return (format_date(moment, "full", locale=where),
                format_date(moment, "long", locale=where),
                format_skeleton("MMMEd", moment, locale=where))
    weekday, month = WEEKDAYS[moment.weekday()], MONTHS[moment.month - 1]
    return (
        f"{weekday} {moment.day} {month} {moment.year}",
        f"{weekday} {moment.day} {month}",
        f"{weekday[:3]} {moment.day} {month[:3]}",
    )
