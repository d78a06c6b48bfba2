"""`alert`: a banner while the data holds an unacknowledged alert.

The newest unacknowledged alert (of `brand`, or of any brand) fills the
widget with a bold banner in the alert's colour whose background pulses
gently on shared time, so every panel pulses together. Once acknowledged it
calms to a dim strip naming who acknowledged it; with no alert at all a
subtle idle line ("All clear") says the widget is alive.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from wallrenderer.core.errors import WallError
from wallrenderer.core.geometry import Rect
from wallrenderer.core.layout.fields import RGBA
from wallrenderer.core.layout.kinds import AlertWidget
from wallrenderer.renderer import fonts
from wallrenderer.renderer.widgets.base import Draw, Motion, WidgetView, finite_number
from wallrenderer.renderer.widgets.theme import Theme, luminance, with_alpha
from wallrenderer.renderer.widgets.wording import ago

PULSE_PERIOD_S = 2.0
PULSE_LOW = 0.75
HEADLINES = {"negative": "Negative sentiment spike", "volume": "Mention volume spike"}
# (headline, reason, chip) type levels, tried largest first until the banner fits.
BANNER_LEVELS = (("title", "label", "body"), ("title", "body", "body"),
                 ("title", "caption", "caption"), ("label", "caption", "caption"))
SEPARATOR = " \u00b7 "


def readable_on(background: RGBA, candidates: Iterable[RGBA]) -> RGBA:
    """The candidate text colour with the highest contrast ratio on `background`."""
    lum = luminance(background)

    def contrast(c: RGBA) -> float:
        a, b = sorted((lum, luminance(c)))
        return (b + 0.05) / (a + 0.05)

    return max(candidates, key=contrast)


class AlertView(WidgetView):
    """Banner, acknowledged strip or idle line, from the frame's `alerts` list."""

    spec: AlertWidget

    def __init__(self, spec: AlertWidget, box: Rect, theme: Theme):
        super().__init__(spec, box, theme)
        self._pulse: int | None = None

    def _alerts(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        alerts = data.get("alerts")
        if not isinstance(alerts, list):
            return []
        brand = self.spec.brand
        return [a for a in alerts
                if isinstance(a, dict) and (brand is None or a.get("brand") == brand)]

    def _pick(self, data: dict[str, Any]) -> tuple[dict[str, Any] | None, int]:
        """The alert to show (newest unacknowledged, else newest) and how many others are open."""
        alerts = self._alerts(data)
        open_alerts = [a for a in alerts if a.get("acknowledged_by") is None]
        if open_alerts:
            return open_alerts[0], len(open_alerts) - 1
        if alerts and self.spec.show_acknowledged:
            return alerts[0], 0
        return None, 0

    def key(self, data: dict[str, Any], t: float) -> tuple:
        alert, _ = self._pick(data)
        shown_ago = None
        if alert is not None:
            since = finite_number(alert.get("acknowledged_at") or alert.get("started_at"))
            shown_ago = None if since is None else ago(t - since, self.theme.locale)
        return (data.get("alerts"), shown_ago)

    def build(self, draw: Draw, data: dict[str, Any], t: float) -> None:
        self._pulse = None
        alert, others = self._pick(data)
        if alert is None:
            if self.spec.idle_text:
                self._strip(draw, self.spec.idle_text, "", self.theme.positive)
        elif alert.get("acknowledged_by") is None:
            self._banner(draw, alert, others, t)
        else:
            self._acknowledged(draw, alert, t)

    def motion(self, t: float) -> Iterable[Motion]:
        if self._pulse is None:
            return ()
        wave = 0.5 + 0.5 * math.cos(2 * math.pi * t / PULSE_PERIOD_S)
        return (Motion(self._pulse, alpha=PULSE_LOW + (1 - PULSE_LOW) * wave),)

    # ------------------------------------------------------------------ states

    def _strip(self, draw: Draw, text: str, detail: str, dot: RGBA) -> None:
        """A calm one-line card: a coloured dot, the text and dimmer detail after it."""
        theme, u = self.theme, self.theme.unit
        size = theme.size("label")
        height = min(self.box.h, draw.line_height(size) + 1.6 * u)
        strip = Rect(self.box.x, self.box.y + (self.box.h - height) / 2, self.box.w, height)
        inner = self.card(draw, strip)
        line_h = draw.line_height(size)
        if inner.h < 0.5 * line_h:
            return
        size = min(size, inner.h / line_h * size)
        radius = 0.25 * size
        cy = inner.y + inner.h / 2
        draw.ring(inner.x + radius, cy, radius, 0.0, dot)
        x = inner.x + 2 * radius + 0.5 * u
        room = inner.right - x
        main = draw.truncate(text, room, size)
        main_w = draw.measure(main, size)[0]
        draw.text(main, Rect(x, inner.y, main_w + 2, inner.h), theme.text_dim, "left", size)
        if detail and main == " ".join(text.split()):
            rest = draw.truncate(SEPARATOR.lstrip() + detail, room - main_w - 0.4 * u, size)
            if rest:
                left = x + main_w + 0.4 * u
                draw.text(rest, Rect(left, inner.y, inner.right - left, inner.h),
                          with_alpha(theme.text_dim, 0.7), "left", size)

    def _acknowledged(self, draw: Draw, alert: dict[str, Any], t: float) -> None:
        who = alert.get("acknowledged_by")
        when = finite_number(alert.get("acknowledged_at"))
        text = f"Acknowledged by {who}"
        shown = ago(t - when, self.theme.locale) if when is not None else ""
        details = [shown, str(alert.get("brand") or ""),
                   HEADLINES.get(str(alert.get("kind")), "Alert").lower()]
        self._strip(draw, text, SEPARATOR.join(d for d in details if d), self.theme.text_dim)

    def _started(self, seconds: float) -> str:
        """"started 12 min ago"; with a locale, the locale's own "il y a 12 min" alone."""
        locale = self.theme.locale
        return ago(seconds, locale) if locale else f"started {ago(seconds)}"

    def _banner(self, draw: Draw, alert: dict[str, Any], others: int, t: float) -> None:
        theme, u = self.theme, self.theme.unit
        kind = str(alert.get("kind") or "")
        color = theme.negative if kind == "negative" else theme.warning
        ink = readable_on(color, (theme.background, theme.text))
        soft_ink = with_alpha(ink, 0.78)
        outer = self.box.inset(0.12 * u)
        self._pulse = draw.group()
        draw.box(outer, color, radius=0.35 * u, border=max(2.0, 0.12 * u),
                 border_color=with_alpha(ink, 0.35), group=self._pulse)
        inner = outer.inset(0.7 * u)
        if inner.w <= 0 or inner.h <= 0:
            return
        icon = min(inner.h, 3.0 * u, 0.2 * inner.w)
        self._icon(draw, Rect(inner.x, inner.y + (inner.h - icon) / 2, icon, icon), ink, color)
        gap = 0.6 * u
        content = Rect(inner.x + icon + gap, inner.y, inner.w - icon - gap, inner.h)
        started = finite_number(alert.get("started_at"))
        when = "" if started is None else self._started(t - started)
        if others:
            when = f"{when}{SEPARATOR}+{others} more" if when else f"+{others} more"
        brand = str(alert.get("brand") or "")
        headline = HEADLINES.get(kind, "Alert").upper()
        headline = f"{headline}{SEPARATOR}{brand}" if brand else headline
        reason = str(alert.get("reason") or "")
        listed = alert.get("top_terms")
        terms = [x for x in listed if isinstance(x, str)] if isinstance(listed, list) else []
        suggest = alert.get("suggest_scenario")
        hint = f"suggests: {suggest} scenario" if isinstance(suggest, str) and suggest else ""
        gap = 0.35 * u
        # The start time sits right of the headline, or on its own line under it when narrow.
        beside = bool(when) and draw.measure(when, theme.size("body"))[0] + 2 <= 0.4 * content.w
        meta = "" if beside else when
        for head_level, text_level, chip_level in BANNER_LEVELS:
            head, text, chip = (theme.size(x) for x in (head_level, text_level, chip_level))
            head_h, text_h = draw.line_height(head), draw.line_height(text)
            meta_h = draw.line_height(chip) if meta else 0.0
            chip_h = draw.line_height(chip) * 1.25 if terms or hint else 0.0
            spare = content.h - head_h - meta_h - gap - (gap + chip_h if chip_h else 0.0)
            lines = max(0, min(3, int(spare // text_h))) if reason else 0
            if spare >= 0 and (lines >= 1 or not reason):
                break
        body_h = (gap + lines * text_h if lines else 0) + (gap + chip_h if chip_h else 0)
        y = content.y + max(0.0, (content.h - head_h - meta_h - body_h) / 2)
        self._headline(draw, Rect(content.x, y, content.w, head_h), headline,
                       when if beside else "", head, ink, soft_ink)
        y += head_h
        if meta and y + meta_h <= content.bottom + 1:
            draw.text(draw.truncate(meta, content.w, chip), Rect(content.x, y, content.w, meta_h),
                      soft_ink, "left", chip)
            y += meta_h
        y += gap
        if lines:
            wrapped = draw.wrap(reason, content.w, text, lines)
            draw.text(wrapped, Rect(content.x, y, content.w, lines * text_h), ink, "left", text,
                      valign="top")
            y += lines * text_h + gap
        if chip_h and y + chip_h <= content.bottom + 1:
            self._chips(draw, Rect(content.x, y, content.w, chip_h), terms, hint, chip, ink,
                        soft_ink)

    # ------------------------------------------------------------------ parts

    def _icon(self, draw: Draw, box: Rect, ink: RGBA, color: RGBA) -> None:
        """A warning triangle with an exclamation mark."""
        draw.triangle(box, True, ink)
        mark = box.h * 0.5
        draw.text("!", Rect(box.x, box.y + box.h * 0.38, box.w, mark), color, "center",
                  font=self._bold(), max_size=mark)

    def _headline(
        self, draw: Draw, row: Rect, headline: str, when: str, size: float, ink: RGBA,
        soft_ink: RGBA,
    ) -> None:
        small = self.theme.size("body")
        when_w = draw.measure(when, small)[0] + 2 if when else 0.0
        room = row.w - when_w - (0.6 * self.theme.unit if when else 0.0)
        # Fitted rather than truncated: the box is measured with the bold face it is drawn in.
        draw.text(headline, Rect(row.x, row.y, room, row.h), ink, "left", max_size=size,
                  font=self._bold())
        if when:
            draw.text(when, Rect(row.right - when_w, row.y, when_w, row.h), soft_ink, "right",
                      small)

    def _chips(
        self, draw: Draw, row: Rect, terms: list[str], hint: str, size: float, ink: RGBA,
        soft_ink: RGBA,
    ) -> None:
        """Top terms as rounded chips from the left, the scenario hint at the right."""
        u = self.theme.unit
        hint_w = draw.measure(hint, size)[0] + 2 if hint else 0.0
        if hint_w > 0.5 * row.w:
            hint, hint_w = "", 0.0
        if hint:
            draw.text(hint, Rect(row.right - hint_w, row.y, hint_w, row.h), soft_ink, "right",
                      size)
        x, limit, pad = row.x, row.right - hint_w - u, 0.45 * u
        for term in terms:
            width = draw.measure(term, size)[0] + 2 * pad
            if x + width > limit:
                break
            chip = Rect(x, row.y, width, row.h)
            draw.box(chip, with_alpha(ink, 0.16), radius=row.h / 2)
            draw.text(term, chip, ink, "center", size)
            x += width + 0.35 * u

    def _bold(self) -> str | None:
        """The bold face of the theme's font, or None (the regular face) where there is none."""
        try:
            return str(fonts.find_font(self.theme.font, bold=True))
        except WallError:
            return None


VIEWS = {"alert": AlertView}
