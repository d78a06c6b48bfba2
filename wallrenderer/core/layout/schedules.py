"""Schedule files -> `Schedule`: what the wall shows by time of day, day of week and calendar.

`layouts/schedule.yaml` (README, "Schedules") lists rules in the wall's time
zone, tried in order, and optionally an iCalendar feed whose events win over
the rules while they run. Problems are `file:line: field: message`, and each
rule is checked against the scenario library and the tours.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, Field, Strict, model_validator

from wallrenderer.core.layout.fields import Model, Name
from wallrenderer.core.layout.params import check_params
from wallrenderer.core.layout.problems import Doc, Problem, Report, check_top_key

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_SETS = {"daily": DAYS, "weekdays": DAYS[:5], "weekends": DAYS[5:]}
PRESENTER = ("until_next_rule", "until_released")


def _time(value: Any) -> dt.time | None:
    """'HH:MM' (or YAML 1.1's sexagesimal number for an unquoted 20:00); '24:00' is midnight."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 1440:
        hours, minutes = divmod(value, 60)
    elif isinstance(value, str) and len(value.split(":")) == 2 and all(
        p.isdigit() for p in value.split(":")
    ):
        hours, minutes = (int(p) for p in value.split(":"))
    else:
        raise ValueError(f"should be a time of day \"HH:MM\", got {value!r}")
    if (hours, minutes) == (24, 0):
        return None  # the end of the day
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ValueError(f"{value!r} is not a time of day (00:00 to 24:00)")
    return dt.time(hours, minutes)


def _days(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) and value in DAY_SETS:
        return DAY_SETS[value]
    items = [value] if isinstance(value, str) else value
    if isinstance(items, list) and items and all(d in DAYS for d in items):
        return tuple(items)
    raise ValueError(f"should be daily, weekdays, weekends or a list of {', '.join(DAYS)}; "
                     f"got {value!r}")


def _zone(value: Any) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (an IANA name such as "
                         "Europe/Paris)") from None
    return str(value)


TimeOfDay = Annotated[dt.time | None, BeforeValidator(_time)]


class _Rule(Model):
    days: Annotated[tuple[str, ...], BeforeValidator(_days)] = DAYS
    from_: TimeOfDay = Field(default=dt.time(0, 0), alias="from")
    to: TimeOfDay = None
    show: Name | None = None
    tour: Name | None = None
    params: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_thing(self) -> _Rule:
        if (self.show is None) == (self.tour is None):
            raise ValueError("give either 'show' (a scenario) or 'tour' (a tour name)")
        if self.params is not None and self.tour is not None:
            raise ValueError("'params' go with 'show'; a tour's steps carry their own")
        if self.from_ is None or self.from_ == self.to:
            raise ValueError("'from' and 'to' must differ ('to' may be 24:00)")
        return self


class _Calendar(Model):
    file: Name | None = None
    url: Name | None = None
    refresh_minutes: Annotated[float, Strict(), Field(ge=1, le=1440)] = 15.0

    @model_validator(mode="after")
    def _one_source(self) -> _Calendar:
        if (self.file is None) == (self.url is None):
            raise ValueError("give either 'file' (an .ics path) or 'url'")
        return self


class _ScheduleModel(Model):
    time_zone: Annotated[str, Strict(), BeforeValidator(_zone)]
    presenter: Literal["until_next_rule", "until_released"] = "until_next_rule"
    rules: tuple[_Rule, ...] = ()
    calendar: _Calendar | None = None


class _ScheduleFile(Model):
    schedule: _ScheduleModel


@dataclass(frozen=True)
class Rule:
    """Show a scenario (or run a tour) on `days` from `start` to `end` (None: midnight)."""

    index: int
    days: tuple[str, ...]
    start: dt.time
    end: dt.time | None
    show: str | None
    tour: str | None
    params: Mapping[str, Any] | None

    def matches(self, local: dt.datetime) -> bool:
        """Whether the rule holds at a local time; a span past midnight ends the next day."""
        day, prev = DAYS[local.weekday()], DAYS[(local.weekday() - 1) % 7]
        now = local.time()
        if self.end is None or self.start < self.end:
            return day in self.days and self.start <= now and (self.end is None or now < self.end)
        return (day in self.days and now >= self.start) or (prev in self.days and now < self.end)

    def describe(self) -> str:
        end = self.end.strftime("%H:%M") if self.end else "24:00"
        days = next((k for k, v in DAY_SETS.items() if v == self.days), ",".join(self.days))
        return f"rule {self.index + 1}: {days} {self.start:%H:%M}-{end}"


@dataclass(frozen=True)
class Schedule:
    """Rules tried in order, an optional calendar, and what a presenter's takeover lasts."""

    time_zone: str
    rules: tuple[Rule, ...]
    presenter: str = "until_next_rule"
    calendar_file: str | None = None
    calendar_url: str | None = None
    refresh_s: float = 900.0
    source: str = "<data>"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


def build_schedule(
    doc: Doc, scenarios: Mapping[str, Any] | None = None, tours: Mapping[str, Any] | None = None
) -> tuple[Schedule | None, list[Problem]]:
    """Validate a schedule document against the scenario library and tours, when known."""
    report = Report(doc)
    if not check_top_key(report, "schedule"):
        return None, report.problems
    model = report.validate(_ScheduleFile, doc.data)
    if model is None:
        return None, report.problems
    body = model.schedule
    for index, rule in enumerate(body.rules):
        loc = ("schedule", "rules", index)
        if rule.show is not None and scenarios is not None and rule.show not in scenarios:
            report.add(loc + ("show",), f"no scenario {rule.show!r} "
                                        f"(have: {', '.join(sorted(scenarios)) or 'none'})")
        elif rule.tour is not None and tours is not None and rule.tour not in tours:
            report.add(loc + ("tour",), f"no tour {rule.tour!r} "
                                        f"(have: {', '.join(sorted(tours)) or 'none'})")
        elif rule.params is not None:
            data = scenarios.get(rule.show) if scenarios is not None else None
            for key, message in check_params(rule.params, data):
                report.add(loc + ("params",) + ((key,) if key else ()), message)
    if not report.ok:
        return None, report.problems
    rules = tuple(Rule(i, r.days, r.from_, r.to, r.show, r.tour, r.params)
                  for i, r in enumerate(body.rules))
    calendar = body.calendar
    schedule = Schedule(
        body.time_zone, rules, body.presenter,
        calendar.file if calendar else None, calendar.url if calendar else None,
        60 * calendar.refresh_minutes if calendar else 900.0, doc.source,
    )
    return schedule, report.problems
