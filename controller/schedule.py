"""The wall's schedule at work: which rule or calendar event holds now, and applying it.

`Scheduler` runs on the controller's loop thread; `plan()` answers
`GET /api/schedule`. Precedence (README, "Schedules"): a calendar event that
runs now, else the first matching rule. A presenter's manual switch or tour
wins until the next rule boundary, or until released (`presenter:
until_released`). The calendar (an .ics file or URL, parsed by `icalendar`
and expanded by `recurring-ical-events`) is read in a background thread; a
feed that fails keeps its last good events and says so in `plan()`.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wallrenderer.core.errors import WallError
from wallrenderer.core.layout.params import apply_params
from wallrenderer.core.layout.schedules import Schedule

log = logging.getLogger(__name__)

CHECK_EVERY_S = 1.0
HORIZON = dt.timedelta(days=8)
HASHTAG = re.compile(r"#\w+")


@dataclass(frozen=True)
class Event:
    """One occurrence of a calendar event that names a scenario or a tour."""

    uid: str
    summary: str
    start: dt.datetime
    end: dt.datetime
    show: str | None
    tour: str | None
    track: str | None


@dataclass(frozen=True)
class Slot:
    """What the schedule shows at an instant, and why."""

    key: tuple
    show: str | None
    tour: str | None
    params: dict | None
    why: str
    track: str | None = None

    def wire(self) -> dict[str, Any]:
        return {"show": self.show, "tour": self.tour, "params": self.params, "why": self.why,
                "track": self.track}


def read_calendar(text: str | bytes, zone, names: set[str], tours: set[str],
                  start: dt.datetime, end: dt.datetime) -> list[Event]:
    """Occurrences between `start` and `end` of events naming a scenario or tour.

    An event names one by a category equal to its name, or by the name as a
    word of its summary; the first #hashtag of its summary or description is
    the campaign to track. All-day events run from midnight to midnight in `zone`.

    Raises:
        ValueError: the text is not an iCalendar file.
    """
    import icalendar
    import recurring_ical_events

    calendar = icalendar.Calendar.from_ical(text)
    events = []
    for item in recurring_ical_events.of(calendar).between(start, end):
        summary = str(item.get("SUMMARY", ""))
        words = {w.lower() for w in re.findall(r"[\w-]+", summary)}
        categories = {str(c).lower() for c in _categories(item)}
        found = [n for n in sorted(names | tours) if n.lower() in categories | words]
        if not found:
            continue
        name = found[0]
        tags = HASHTAG.findall(f"{summary} {item.get('DESCRIPTION', '')}")
        events.append(Event(
            str(item.get("UID", summary)), summary, _aware(item.decoded("DTSTART"), zone),
            _aware(item.decoded("DTEND") if "DTEND" in item else item.decoded("DTSTART")
                   + dt.timedelta(days=1), zone),
            name if name in names else None, name if name not in names else None,
            tags[0] if tags else None,
        ))
    return sorted(events, key=lambda e: e.start)


def _categories(item) -> list[str]:
    found = item.get("CATEGORIES")
    found = found if isinstance(found, list) else [found] if found is not None else []
    return [c for group in found for c in getattr(group, "cats", [group])]


def _aware(value, zone) -> dt.datetime:
    if not isinstance(value, dt.datetime):  # an all-day date
        return dt.datetime.combine(value, dt.time(), zone)
    return value if value.tzinfo else value.replace(tzinfo=zone)


class Scheduler:
    """Applies a `Schedule` to a controller at each boundary; thread-safe reads of the plan."""

    def __init__(self, schedule: Schedule, controller, base_dir: Path | None = None,
                 clock=None):
        self.schedule = schedule
        self.controller = controller
        self.base_dir = base_dir or Path(".")
        self.clock = clock
        self.events: list[Event] = []
        self.calendar_error: str | None = None
        self.calendar_read_at: float | None = None
        self.applied: tuple | None = None  # the slot whose scenario or tour was last applied
        self.presenter = False  # a presenter took over since
        self._next_check = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- what holds ------------------------------------------------------------------

    def slot_at(self, when: dt.datetime) -> Slot | None:
        """The calendar event or rule that holds at an aware instant, or None."""
        for event in self.events:
            if event.start <= when < event.end:
                return Slot(("event", event.uid, event.start), event.show, event.tour, None,
                            f"calendar: {event.summary} "
                            f"({event.start:%a %H:%M}-{event.end:%a %H:%M})", event.track)
        local = when.astimezone(self.schedule.zone)
        for rule in self.schedule.rules:
            if rule.matches(local):
                return Slot(("rule", rule.index, _slot_start(rule, local)), rule.show, rule.tour,
                            dict(rule.params) if rule.params else None, rule.describe())
        return None

    def plan(self, now: float, hours: float = 24) -> dict[str, Any]:
        """What shows now and at each change over the next `hours`, and why (GET /api/schedule)."""
        zone = self.schedule.zone
        start = dt.datetime.fromtimestamp(now, zone)
        end = start + dt.timedelta(hours=hours)
        changes = []
        last = None
        for at in [start, *self._boundaries(start, end)]:
            slot = self.slot_at(at)
            shown = slot.wire() if slot else {"show": None, "tour": None, "params": None,
                                              "why": "no rule holds", "track": None}
            if shown != last:  # a rule that holds on past midnight is one entry
                changes.append({"at": at.isoformat(), **shown})
            last = shown
        return {
            "time_zone": self.schedule.time_zone,
            "now": changes[0] if changes else None,
            "next": changes[1:],
            "presenter": {"in_control": self.presenter, "until": self.schedule.presenter},
            "calendar": self._calendar_status(),
        }

    def _boundaries(self, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
        """Every instant in (start, end] where a rule or event may begin or end."""
        zone = self.schedule.zone
        found = set()
        day = start.date() - dt.timedelta(days=1)
        while day <= end.date():
            for rule in self.schedule.rules:
                for time in (rule.start, rule.end or dt.time()):
                    at = dt.datetime.combine(day, time, zone)
                    if rule.end is None and time == dt.time():
                        at = dt.datetime.combine(day + dt.timedelta(days=1), time, zone)
                    found.add(at.astimezone(dt.timezone.utc))
            day += dt.timedelta(days=1)
        for event in self.events:
            found |= {event.start.astimezone(dt.timezone.utc),
                      event.end.astimezone(dt.timezone.utc)}
        return [t.astimezone(zone) for t in sorted(found) if start < t <= end]

    # --- applying it (controller thread) ---------------------------------------------

    def presenter_took_over(self) -> None:
        """A manual switch or a tour started by hand: the schedule waits (see `presenter`)."""
        self.presenter = True

    def release(self, now: float) -> dict[str, Any]:
        """Give the wall back to the schedule now."""
        self.presenter = False
        self.applied = None
        self.tick(now, force=True)
        return self.plan(now)

    def tick(self, now: float, force: bool = False) -> None:
        """Apply the slot that holds, once, when a boundary has been crossed."""
        if not force and now < self._next_check:
            return
        self._next_check = now + CHECK_EVERY_S
        slot = self.slot_at(dt.datetime.fromtimestamp(now, self.schedule.zone))
        key = slot.key if slot else None
        if key == self.applied:
            return
        if self.presenter and self.schedule.presenter == "until_released":
            return
        self.applied = key
        self.presenter = False
        if slot is None:
            return
        log.info("schedule: %s", slot.why)
        if slot.track and self.controller.pipeline is not None:
            try:
                self.controller.pipeline.track(slot.track)
            except WallError as exc:
                log.warning("schedule: cannot track %s: %s", slot.track, exc)
        try:
            if slot.tour is not None:
                self.controller.tours.start(slot.tour, now)
                return
            if self.controller.tours.running is not None:
                self.controller.tours.stop(now)
            data = apply_params(self.controller.scenarios[slot.show], slot.params)
            if self.controller.showing() != {"name": slot.show, "data": data}:
                self.controller.queue_switch(slot.show, data)
        except (WallError, KeyError) as exc:
            log.warning("schedule: cannot apply %s: %s", slot.why, exc)

    # --- the calendar feed ------------------------------------------------------------

    def start(self) -> None:
        """Read the calendar now, then again every `refresh_minutes` in a daemon thread."""
        if not (self.schedule.calendar_file or self.schedule.calendar_url):
            return
        self.refresh()
        self._thread = threading.Thread(target=self._refresh_loop, name="calendar", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _refresh_loop(self) -> None:
        while not self._stop.wait(self.schedule.refresh_s):
            self.refresh()

    def refresh(self) -> None:
        """Read the feed; on failure keep the last good events and record why."""
        import time

        zone = self.schedule.zone
        now = dt.datetime.fromtimestamp(self.clock() if self.clock else time.time(), zone)
        try:
            text = self._fetch()
            names = set(self.controller.scenarios)
            tours = set(self.controller.tours.tours)
            self.events = read_calendar(text, zone, names, tours,
                                        now - dt.timedelta(days=1), now + HORIZON)
            self.calendar_error, self.calendar_read_at = None, now.timestamp()
        except Exception as exc:  # any bad feed: the wall keeps its last good calendar
            self.calendar_error = f"{self._where()}: {exc}"
            log.warning("calendar not read: %s", self.calendar_error)

    def _fetch(self) -> bytes:
        if self.schedule.calendar_url:
            import requests

            response = requests.get(self.schedule.calendar_url, timeout=20)
            response.raise_for_status()
            return response.content
        return (self.base_dir / self.schedule.calendar_file).read_bytes()

    def _where(self) -> str:
        return self.schedule.calendar_url or str(self.base_dir / self.schedule.calendar_file)

    def _calendar_status(self) -> dict[str, Any] | None:
        if not (self.schedule.calendar_file or self.schedule.calendar_url):
            return None
        return {"source": self._where(), "ok": self.calendar_error is None,
                "error": self.calendar_error, "read_at": self.calendar_read_at,
                "events": len(self.events)}


def _slot_start(rule, local: dt.datetime) -> str:
    """The date the matching span of a rule began, so each day's span is its own slot."""
    if rule.end is not None and rule.start > rule.end and local.time() < rule.end:
        return (local.date() - dt.timedelta(days=1)).isoformat()
    return local.date().isoformat()
