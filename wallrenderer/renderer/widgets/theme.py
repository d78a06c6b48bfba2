"""The look of a scenario: colours, series palette and type scale.

The default is dark and high-contrast for reading at 3 to 10 metres; series
colours are the Okabe-Ito palette, which stays distinguishable with the
common forms of colour blindness. A scenario's `theme:` overrides any part.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from wallrenderer.core.layout.fields import RGBA, parse_color
from wallrenderer.core.layout.scenarios import ThemeModel

# Okabe & Ito (2008), "Color Universal Design": orange, sky blue, bluish green,
# yellow, blue, vermillion, reddish purple, then a light grey for "others".
OKABE_ITO: tuple[RGBA, ...] = tuple(
    parse_color(c)
    for c in (
        "#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#bbbbbb"
    )
)

# Type sizes in "units": one unit is a thirtieth of the typical panel height,
# about 36 px on a 1080p panel, which reads comfortably at 5 m on a 55" screen.
TYPE_SCALE = {
    "caption": 0.75,
    "body": 1.0,
    "label": 1.2,
    "title": 1.5,
    "heading": 2.2,
    "number": 4.0,
    "hero": 7.0,
}
UNITS_PER_PANEL_HEIGHT = 30.0


@dataclass(frozen=True)
class Theme:
    """Colours and sizes every widget draws with; `unit` is one type unit in canvas pixels."""

    background: RGBA = parse_color("#05070d")
    surface: RGBA = parse_color("#0f1623")
    border: RGBA = parse_color("#22304a")
    text: RGBA = parse_color("#f2f5fa")
    text_dim: RGBA = parse_color("#9aa7bd")
    accent: RGBA = parse_color("#56b4e9")
    positive: RGBA = parse_color("#2ecc71")
    negative: RGBA = parse_color("#ff5c5c")
    neutral: RGBA = parse_color("#9aa7bd")
    warning: RGBA = parse_color("#f0b429")
    series: tuple[RGBA, ...] = OKABE_ITO
    font: str | None = None
    unit: float = 36.0
    locale: str | None = None

    @classmethod
    def for_scenario(cls, model: ThemeModel, background: RGBA, panel_height: float,
                     locale: str | None = None) -> Theme:
        """The default theme with a scenario's overrides, sized for the wall's panels.

        `locale` is the scenario's: the widgets' dates, relative times and numbers follow it.
        """
        colors = {k: v for k, v in model.colors.model_dump().items() if v is not None}
        theme = cls(background=background, font=model.font, locale=locale,
                    unit=panel_height / UNITS_PER_PANEL_HEIGHT * model.font_scale)
        if model.series:
            theme = replace(theme, series=tuple(model.series))
        return replace(theme, **colors)

    def size(self, level: str) -> float:
        """Text size (canvas pixels) of a named level of the type scale."""
        return TYPE_SCALE[level] * self.unit

    def series_color(self, index: int) -> RGBA:
        return self.series[index % len(self.series)]

    def sentiment_color(self, net: float | None) -> RGBA:
        """Colour for a net sentiment in -100..100 (None: neutral)."""
        if net is None:
            return self.neutral
        if net >= 10:
            return self.positive
        if net <= -10:
            return self.negative
        return self.neutral


def with_alpha(color: RGBA, alpha: float) -> RGBA:
    """`color` with its opacity multiplied by `alpha`."""
    return (color[0], color[1], color[2], color[3] * alpha)


def mix(a: RGBA, b: RGBA, t: float) -> RGBA:
    """Linear blend from `a` (t=0) to `b` (t=1)."""
    return tuple(x + (y - x) * t for x, y in zip(a, b, strict=True))


def luminance(color: RGBA) -> float:
    """Relative luminance (WCAG) of a colour given in sRGB components."""

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in color[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b
