"""Schedules: rules in the wall's time zone (midnight, weekends, DST), calendars, bad files."""

from __future__ import annotations

import datetime as dt
import time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from controller.pipeline import DataPipeline
from controller.schedule import Scheduler, read_calendar
from wallrenderer.core.layout.problems import parse_yaml
from wallrenderer.core.layout.schedules import build_schedule

PARIS = ZoneInfo("Europe/Paris")
LIBRARY = {"monitoring": {}, "night": {}, "product-launch": {}}
SCHEDULE = """\
schedule:
  time_zone: Europe/Paris
  rules:
    - days: weekdays
      from: "08:00"
      to: "20:00"
      show: monitoring
    - days: [sat, sun]
      from: "10:00"
      to: "18:00"
      tour: visitor
    - days: daily
      from: "20:00"
      to: "08:00"
      show: night
    - show: night
"""


def schedule(text: str = SCHEDULE, source: str = "schedule.yaml"):
    doc, problems = parse_yaml(text, source)
    built, more = build_schedule(doc, LIBRARY, {"visitor": object()})
    return built, problems + more


def scheduler(text: str = SCHEDULE) -> Scheduler:
    built, problems = schedule(text)
    assert built is not None, problems
    wall = SimpleNamespace(scenarios=LIBRARY, tours=SimpleNamespace(tours={"visitor": None}),
                           pipeline=None)
    return Scheduler(built, wall)


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


def shown(s: Scheduler, when: dt.datetime) -> str | None:
    slot = s.slot_at(when)
    return None if slot is None else slot.show or f"tour {slot.tour}"


def test_rules_across_midnight_and_a_weekend():
    s = scheduler()
    assert shown(s, at(2025, 1, 10, 19, 59)) == "monitoring"  # a Friday
    assert shown(s, at(2025, 1, 10, 20, 0)) == "night"
    assert shown(s, at(2025, 1, 11, 0, 30)) == "night", "20:00-08:00 runs on past midnight"
    assert shown(s, at(2025, 1, 11, 10, 0)) == "tour visitor", "Saturday: the tour"
    assert shown(s, at(2025, 1, 13, 7, 59)) == "night"  # Monday before work
    assert shown(s, at(2025, 1, 13, 8, 0)) == "monitoring"
    night = s.slot_at(at(2025, 1, 10, 23, 0)).key
    assert s.slot_at(at(2025, 1, 11, 7, 0)).key == night, "one night is one slot"


def test_the_plan_follows_local_time_through_a_dst_change():
    s = scheduler()
    # Sunday 30 March 2025: Paris skips from 02:00 to 03:00; Monday work starts at 08:00 CEST.
    plan = s.plan(at(2025, 3, 30, 12, 0).timestamp(), hours=24)
    changes = [(c["at"], c["show"] or c["tour"]) for c in [plan["now"], *plan["next"]]]
    assert changes[1:] == [
        ("2025-03-30T18:00:00+02:00", "night"),  # the fallback rule
        ("2025-03-30T20:00:00+02:00", "night"),  # the night rule, on past midnight
        ("2025-03-31T08:00:00+02:00", "monitoring"),
    ]
    assert changes[0][1] == "visitor" and plan["now"]["why"].startswith("rule 2: weekends")
    autumn = s.plan(at(2025, 10, 25, 21, 0).timestamp(), hours=12)  # clocks go back at 03:00
    assert [c["at"] for c in autumn["next"]] == ["2025-10-26T08:00:00+01:00"]
    assert autumn["next"][0]["tour"] is None and autumn["next"][0]["show"] == "night"


ICS = """\
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:weekly-launch
SUMMARY:Product-launch review #AcmeLaunch
DTSTART;TZID=Europe/Paris:20250106T140000
DTEND;TZID=Europe/Paris:20250106T150000
RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=10
END:VEVENT
BEGIN:VEVENT
UID:new-york
SUMMARY:Town hall
CATEGORIES:monitoring
DTSTART;TZID=America/New_York:20250108T090000
DTEND;TZID=America/New_York:20250108T100000
END:VEVENT
BEGIN:VEVENT
UID:other
SUMMARY:Lunch
DTSTART:20250108T120000Z
DTEND:20250108T130000Z
END:VEVENT
END:VCALENDAR
"""


def test_a_calendar_with_a_recurring_event_and_one_in_another_zone():
    events = read_calendar(ICS, PARIS, set(LIBRARY), {"visitor"}, at(2025, 1, 1), at(2025, 1, 21))
    launches = [e for e in events if e.uid == "weekly-launch"]
    assert [e.start for e in launches] == [at(2025, 1, 6, 14), at(2025, 1, 13, 14),
                                           at(2025, 1, 20, 14)]
    assert {e.show for e in launches} == {"product-launch"}
    assert launches[0].track == "#AcmeLaunch"
    town_hall = next(e for e in events if e.uid == "new-york")
    assert town_hall.start == at(2025, 1, 8, 15), "09:00 in New York is 15:00 in Paris"
    assert "other" not in {e.uid for e in events}, "an event naming no scenario is ignored"
    s = scheduler()
    s.events = events
    slot = s.slot_at(at(2025, 1, 13, 14, 30))
    assert slot.show == "product-launch" and slot.why.startswith("calendar: Product-launch")
    assert s.slot_at(at(2025, 1, 13, 15, 0)).show == "monitoring", "the rules hold again after"


def test_a_launch_event_puts_its_scenario_up_and_tracks_its_hashtag():
    events = read_calendar(ICS, PARIS, set(LIBRARY), {"visitor"}, at(2025, 1, 1), at(2025, 1, 21))
    switched = []
    pipeline = DataPipeline([], ["acme", "globex"], lambda delta: None)
    wall = SimpleNamespace(
        scenarios=LIBRARY, tours=SimpleNamespace(running=None), pipeline=pipeline,
        showing=lambda: {"name": "monitoring", "data": {}},
        queue_switch=lambda name, data: switched.append(name))
    s = Scheduler(schedule()[0], wall)
    s.events = events
    s.tick(at(2025, 1, 13, 14, 30).timestamp())
    assert switched == ["product-launch"]
    assert pipeline.tracked == ["#AcmeLaunch"]
    assert pipeline.aggregator.frame(time.time())["campaign"]["terms"] == ["#AcmeLaunch"]


def test_a_bad_calendar_keeps_the_last_good_events(tmp_path):
    path = tmp_path / "cal.ics"
    path.write_text(ICS)
    s = scheduler(SCHEDULE + "  calendar: {file: cal.ics}\n")
    s.base_dir = tmp_path
    s.clock = lambda: at(2025, 1, 5).timestamp()
    s.refresh()
    assert len(s.events) == 2 and s.calendar_error is None  # the week ahead
    path.write_text("not a calendar")
    s.refresh()
    assert len(s.events) == 2 and "cal.ics" in s.calendar_error


@pytest.mark.parametrize(("change", "line", "field", "message"), [
    ('to: "20:00"', 6, "schedule.rules[0].to", "not a time of day"),
    ("show: monitoring", 7, "schedule.rules[0].show", "no scenario 'monitorin'"),
    ("days: weekdays", 4, "schedule.rules[0].days", "should be daily, weekdays"),
    ("tour: visitor", 11, "schedule.rules[1].tour", "no tour 'visit'"),
    ("time_zone: Europe/Paris", 2, "schedule.time_zone", "unknown time zone"),
])
def test_bad_schedule_files_say_file_line_and_field(change, line, field, message):
    broken = {'to: "20:00"': 'to: "25:00"', "show: monitoring": "show: monitorin",
              "days: weekdays": "days: workdays", "tour: visitor": "tour: visit",
              "time_zone: Europe/Paris": "time_zone: Mars/Olympus"}[change]
    built, problems = schedule(SCHEDULE.replace(change, broken, 1))
    assert built is None
    text = str(problems[0])
    assert text.startswith(f"schedule.yaml:{line}: {field}: "), text
    assert message in text
