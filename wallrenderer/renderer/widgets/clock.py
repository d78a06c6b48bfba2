"""`clock`: local time and the times of other sites.

Times come from the shared wall clock `t` (never the machine's own clock), so
every panel turns the minute at the same frame; the widget rebuilds once a
minute (once a second with `seconds: true`). Zone names are IANA names
checked when the scenario is loaded, so a typo is reported with its line.
Day and month names follow the scenario's `locale` (English without one).
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from wallrenderer.core.geometry import Rect
from wallrenderer.core.layout.kinds import ClockWidget
from wallrenderer.renderer.widgets.base import Draw, WidgetView
from wallrenderer.renderer.widgets.theme import Theme
from wallrenderer.renderer.widgets.wording import date_forms

# Local hours drawn as day (a sun); the others get a moon.
DAY_HOURS = range(7, 19)


def local_time(t: float, tz: str | None) -> datetime:
    """Shared time `t` as an aware datetime in zone `tz` (None: the machine's zone)."""
    zone: tzinfo | None = ZoneInfo(tz) if tz else None
    moment = datetime.fromtimestamp(t, zone)
    return moment if zone else moment.astimezone()


class ClockView(WidgetView):
    """Big local time and date; other sites listed below (or beside, in a wide box)."""

    spec: ClockWidget

    def key(self, data: dict[str, Any], t: float) -> tuple:
        return (int(t // (1 if self.spec.seconds else 60)),)

    def build(self, draw: Draw, data: dict[str, Any], t: float) -> None:
        spec, theme, u = self.spec, self.theme, self.theme.unit
        inner = self.card(draw)
        if spec.label:
            inner = self.title(draw, inner, spec.label)
        here = local_time(t, spec.tz)
        if not spec.zones:
            self._local(draw, inner, here)
            return
        wide = inner.w > 1.6 * inner.h
        gap = 0.8 * u
        if wide:
            local_box = Rect(inner.x, inner.y, inner.w * 0.5 - gap / 2, inner.h)
            zones_box = Rect(local_box.right + gap, inner.y, inner.right - local_box.right - gap,
                             inner.h)
            draw.segment(local_box.right + gap / 2, inner.y, local_box.right + gap / 2,
                         inner.bottom, max(1.0, 0.05 * u), theme.border)
        else:
            rows_h = self._rows_height(draw, len(spec.zones), theme.size("label"))
            local_h = max(inner.h * 0.45, inner.h - rows_h - gap)
            local_box = Rect(inner.x, inner.y, inner.w, local_h)
            zones_box = Rect(inner.x, local_box.bottom + gap, inner.w,
                             inner.bottom - local_box.bottom - gap)
            draw.segment(inner.x, local_box.bottom + gap / 2, inner.right,
                         local_box.bottom + gap / 2, max(1.0, 0.05 * u), theme.border)
        self._local(draw, local_box, here)
        self._zones(draw, zones_box, here, t)

    def _local(self, draw: Draw, box: Rect, here: datetime) -> None:
        """The time as large as fits, the date under it."""
        theme = self.theme
        date_size = theme.size("label")
        date_h = draw.line_height(date_size)
        fmt = "%H:%M:%S" if self.spec.seconds else "%H:%M"
        time_h = min(box.h - date_h, draw.line_height(theme.size("hero")))
        if time_h <= 0:
            return
        top = box.y + (box.h - time_h - date_h) / 2
        draw.text(here.strftime(fmt), Rect(box.x, top, box.w, time_h), theme.text, "center",
                  max_size=theme.size("hero"))
        forms = date_forms(here, theme.locale)
        date = next((d for d in forms if draw.measure(d, date_size)[0] <= box.w), forms[-1])
        date = draw.truncate(date, box.w, date_size)
        draw.text(date, Rect(box.x, top + time_h, box.w, date_h), theme.text_dim, "center",
                  date_size)

    def _rows_height(self, draw: Draw, count: int, size: float) -> float:
        return count * draw.line_height(size) * 1.45

    def _zones(self, draw: Draw, box: Rect, here: datetime, t: float) -> None:
        """One row per site: day/night mark, name, time and the day difference."""
        theme, u = self.theme, self.theme.unit
        size = theme.size("label")
        if self._rows_height(draw, len(self.spec.zones), size) > box.h:
            size = theme.size("body")
        row_h = draw.line_height(size) * 1.45
        count = min(len(self.spec.zones), int(box.h // row_h))
        top = box.y + (box.h - count * row_h) / 2
        time_w = draw.measure("00:00:00" if self.spec.seconds else "00:00", size)[0] + 2
        small = theme.size("caption")
        offset_w = draw.measure("+1", small)[0] + 0.3 * u
        for index, zone in enumerate(self.spec.zones[:count]):
            there = local_time(t, zone.tz)
            row = Rect(box.x, top + index * row_h, box.w, row_h)
            mark = 0.32 * draw.line_height(size)
            self._day_mark(draw, row.x + mark, row.y + row.h / 2, mark, there.hour in DAY_HOURS)
            days = (there.date() - here.date()).days
            time_x = row.right - offset_w - time_w
            label_x = row.x + 2 * mark + 0.5 * u
            label = draw.truncate(zone.label, time_x - label_x - 0.4 * u, size)
            draw.text(label, Rect(label_x, row.y, time_x - label_x, row.h), theme.text_dim,
                      "left", size)
            fmt = "%H:%M:%S" if self.spec.seconds else "%H:%M"
            draw.text(there.strftime(fmt), Rect(time_x, row.y, time_w, row.h), theme.text,
                      "right", size)
            if days:
                draw.text(f"{days:+d}".replace("-", "\u2212"),
                          Rect(row.right - offset_w, row.y, offset_w, row.h * 0.6),
                          theme.text_dim, "right", small, valign="bottom")

    def _day_mark(self, draw: Draw, cx: float, cy: float, r: float, day: bool) -> None:
        """A sun (filled disc) by day, a crescent moon by night."""
        theme: Theme = self.theme
        if day:
            draw.ring(cx, cy, r, 0.0, theme.warning)
            return
        draw.ring(cx, cy, r, 0.0, theme.text_dim)
        draw.ring(cx + 0.45 * r, cy - 0.3 * r, r * 0.85, 0.0, theme.surface)


VIEWS = {"clock": ClockView}
