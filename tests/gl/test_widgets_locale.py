"""A scenario's `locale`: the clock's names, relative times and figures follow it (Babel)."""

from __future__ import annotations

import pytest
from walls import WIDGET_WALL
from widgets import Built, widget_scene

from wallrenderer.core.layout.problems import LayoutError
from wallrenderer.core.layout.scenarios import scenario_from_text
from wallrenderer.core.layout.walls import wall_from_data

NOW = 1795000000.0  # Wednesday 2026-11-18 11:06:40 UTC
BOX = {"cells": "r0c0", "within": [0.05, 0.05, 0.9, 0.9]}
CLOCK = {"kind": "clock", "tz": "UTC", **BOX}
KPI = {"kind": "kpi", **BOX, "label": "Mentions", "value": "figure"}
FEED = {"kind": "feed", "cells": "r0c0"}
ALERT = {"kind": "alert", **BOX}


def texts(built: Built, data: dict, t: float = NOW) -> list[str]:
    return [item.text for item in built.build(data, t).texts]


def post(age_s: float, followers: int) -> dict:
    return {"id": f"p{age_s}", "time": NOW - age_s, "author": "Léa Martin", "handle": "lea",
            "followers": followers, "text": "Bonjour", "sentiment": 0.5}


@pytest.mark.parametrize(("locale", "date"), [
    ("fr", "mercredi 18 novembre 2026"),
    ("de", "Mittwoch, 18. November 2026"),
    ("ar", "الأربعاء، 18 نوفمبر 2026"),
])
def test_clock_names_the_day_and_month_in_the_locale(locale, date):
    shown = texts(Built(CLOCK, locale=locale), {})
    assert shown[0] == "11:06" and shown[1] == date


@pytest.mark.parametrize(("locale", "number", "percent"), [
    ("fr", "12\u202f346", "71\u00a0%"),
    ("de", "12.346", "71\u00a0%"),
    (None, "12,346", "71%"),
])
def test_kpi_figures_use_the_locales_separators(locale, number, percent):
    assert number in texts(Built({**KPI, "format": "number"}, locale=locale), {"figure": 12345.6})
    assert percent in texts(Built({**KPI, "format": "percent"}, locale=locale), {"figure": 0.71})


def test_feed_ages_and_counts_follow_the_locale():
    """"maintenant" for a new post, CLDR's "12 s", and a French decimal comma in 12,3 k."""
    data = {"own_brand": "acme", "feed": [post(0.2, 12345), post(12, 50)]}
    french = " ".join(texts(Built(FEED, locale="fr"), data))
    for space in ("\u202f", "\u00a0"):  # CLDR's narrow and no-break spaces
        french = french.replace(space, " ")
    assert "maintenant" in french and "12 s" in french and "12,3 k" in french
    english = " ".join(texts(Built(FEED), data))
    assert "now" in english and "12 s" in english and "12.3k" in english


def test_alert_says_when_in_the_locale():
    alert = {"id": "a1", "kind": "negative", "brand": "acme", "started_at": NOW - 720,
             "reason": "x"}
    arabic = " ".join(texts(Built(ALERT, locale="ar"), {"alerts": [alert]}))
    assert "قبل 12 دقيقة" in arabic


def test_unknown_locale_is_a_layout_error_naming_the_line():
    with pytest.raises(LayoutError) as error:
        widget_scene(wall_from_data(WIDGET_WALL), [CLOCK], locale="fr-XX-nonsense")
    assert "locale" in str(error.value) and "unknown locale 'fr-XX-nonsense'" in str(error.value)
    text = "scenario:\n  name: t\n  locale: francais\n  widgets: []\n"
    with pytest.raises(LayoutError, match=r"scn\.yaml:3: scenario\.locale: unknown locale"):
        scenario_from_text(text, "scn.yaml")
