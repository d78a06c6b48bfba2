"""`map`: mention intensity by country on a world map.

Country shapes come from `layouts/maps/world-110m.json` (Natural Earth, public
domain; layouts/maps/README.md says how it is derived). The countries are
one mesh, triangulated ahead of time and uploaded once per scenario; a data
change rewrites only a one-row texture of country colours. Two draw calls
(fills, then borders) and no per-frame work but the draw: the GPU shades
only land, never the ocean.

The map spans panels on purpose, so the title and the legend of the busiest
countries are placed off the seams.
"""

from __future__ import annotations

import functools
import json
import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from wallrenderer.core.geometry import Panel, Rect
from wallrenderer.core.layout.fields import RGBA
from wallrenderer.core.layout.kinds import MapWidget
from wallrenderer.core.resources import builtin_path
from wallrenderer.renderer.widgets.base import (
    WAITING,
    Draw,
    Layer,
    WidgetView,
    finite_number,
    format_count,
    lookup,
)
from wallrenderer.renderer.widgets.theme import TYPE_SCALE, Theme, mix

log = logging.getLogger(__name__)

ASSET = ("layouts", "maps", "world-110m.json")
# The map is cropped to the latitudes that hold land other than Antarctica.
LAT_NORTH, LAT_SOUTH = 84.0, -56.0
LEGEND_UNITS = 18.0
# Texture units 0 and 1 hold the text atlas and the animation groups.
_COLORS_UNIT = 2
WINDOW_NAMES = {"1h": "Last hour", "24h": "Last 24 hours"}


# ----------------------------------------------------------------------------- projection


def _natural_earth(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Natural Earth projection (Savric et al. 2011), radians out.

    A compromise that keeps shapes and areas honest enough for a world
    overview, without plate carree's stretched polar regions.
    """
    lam, phi = np.radians(lon), np.radians(lat)
    p2 = phi * phi
    p4 = p2 * p2
    x = lam * (0.8707 - 0.131979 * p2 + p4 * (-0.013791 + p4 * (0.003971 * p2 - 0.001529 * p4)))
    y = phi * (1.007226 + p2 * (0.015085 + p4 * (-0.044475 + 0.028874 * p2 - 0.005916 * p4)))
    return x, y


_X_HALF = float(_natural_earth(np.array(180.0), np.array(0.0))[0])
_Y_TOP = float(_natural_earth(np.array(0.0), np.array(LAT_NORTH))[1])
_Y_BOTTOM = float(_natural_earth(np.array(0.0), np.array(LAT_SOUTH))[1])
MAP_ASPECT = 2 * _X_HALF / (_Y_TOP - _Y_BOTTOM)


def project(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """Longitude, latitude (degrees) -> (u, v) fractions of the map's box, v pointing down."""
    x, y = _natural_earth(np.asarray(lon, "f8"), np.asarray(lat, "f8"))
    return (x / _X_HALF + 1.0) / 2.0, (_Y_TOP - y) / (_Y_TOP - _Y_BOTTOM)


def fit_map(area: Rect) -> Rect:
    """The largest box of the map's aspect inside `area`, centred."""
    w = min(area.w, area.h * MAP_ASPECT)
    h = w / MAP_ASPECT
    return Rect(area.x + (area.w - w) / 2, area.y + (area.h - h) / 2, w, h)


def map_point(box: Rect, lon: float, lat: float) -> tuple[float, float]:
    """Canvas position of a place on a map drawn in `box` (as `fit_map` returns)."""
    u, v = project(lon, lat)
    return box.x + float(u) * box.w, box.y + float(v) * box.h


# ----------------------------------------------------------------------------- the asset


@dataclass(frozen=True)
class World:
    """The countries as one mesh in map fractions: what every panel's layer uploads.

    `vertices` are (u, v, country number) rows; country number i is
    `codes[i]`. `triangles` fill the countries (cut by
    scripts/make-world-map.py); `edges` are the borders between countries,
    as pairs of vertex indices. `names` also covers countries too small to draw.
    """

    codes: tuple[str, ...] = ()
    names: dict[str, str] = field(default_factory=dict)
    vertices: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), "f4"))
    triangles: np.ndarray = field(default_factory=lambda: np.zeros(0, "u4"))
    edges: np.ndarray = field(default_factory=lambda: np.zeros(0, "u4"))

    def number(self, code: str) -> int | None:
        """A country's number, None when it has no shape (too small for this scale)."""
        try:
            return self.codes.index(code)
        except ValueError:
            return None


@functools.cache
def world() -> World:
    """The shipped map, loaded once per process; an empty map (logged) if it is unreadable."""
    path = builtin_path(*ASSET)
    try:
        asset = json.loads(path.read_text(encoding="utf-8"))
        return _mesh(asset["countries"], asset.get("names", {}))
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        log.error("cannot load the world map %s: %s; maps show no countries", path, exc)
        return World()


def _mesh(countries: list[dict], small: dict[str, str]) -> World:
    vertices, triangles, edges = [], [], []
    first = 0
    for number, country in enumerate(countries):
        rings = [*country["polygons"], *country.get("holes", ())]
        points = np.asarray([p for ring in rings for p in ring], "f8").reshape(-1, 2)
        u, v = project(points[:, 0], points[:, 1])
        vertices.append(np.stack([u, v, np.full(len(u), number), *points.T], axis=1))
        triangles.append(first + np.asarray(country["triangles"], "i8"))
        start = first
        for ring in rings:
            ring_points = start + np.arange(len(ring))
            edges.append(np.stack([ring_points, np.roll(ring_points, -1)], axis=1))
            start += len(ring)
        first += len(points)
    mesh = np.concatenate(vertices)
    corners = np.concatenate(triangles)
    if corners.size % 3 or corners.min(initial=0) < 0 or corners.max(initial=0) >= len(mesh):
        raise ValueError("triangles index points that do not exist")
    return World(
        codes=tuple(c["a2"] for c in countries),
        names={**small, **{c["a2"]: c["name"] for c in countries}},
        vertices=mesh[:, :3].astype("f4"),
        triangles=corners.astype("u4"),
        edges=_shared(np.concatenate(edges), mesh[:, 3:]).astype("u4").ravel(),
    )


def _shared(edges: np.ndarray, lonlat: np.ndarray) -> np.ndarray:
    """The edges two countries have in common, once each: their borders.

    Coasts need no line (the sea is the card behind), and drawing each
    border once keeps the line count, which llvmpipe pays per line, low.
    """
    ends = np.round(lonlat[edges] * 100).astype("i8")  # (n, 2 ends, lon/lat) at 0.01 degree
    forward = (ends[:, 0, 0] < ends[:, 1, 0]) | (
        (ends[:, 0, 0] == ends[:, 1, 0]) & (ends[:, 0, 1] <= ends[:, 1, 1])
    )
    keys = np.where(forward[:, None, None], ends, ends[:, ::-1]).reshape(len(edges), 4)
    _, first, counts = np.unique(keys, axis=0, return_index=True, return_counts=True)
    return edges[first[counts > 1]]


# ----------------------------------------------------------------------------- GPU layer


class MapLayer(Layer):
    """The map on one panel: the world mesh, uploaded once, and a row of country colours."""

    def __init__(self, ctx: Any, programs: Any, shapes: World, box: Rect,
                 border: RGBA):
        self.ctx = ctx
        self.program = programs.get("map.vert.glsl", "map.frag.glsl")
        self.box, self.border = box, border
        self.vertices = ctx.buffer(shapes.vertices.tobytes())
        self.triangles = ctx.buffer(shapes.triangles.tobytes())
        self.edges = ctx.buffer(shapes.edges.tobytes())
        layout = [(self.vertices, "2f 1f", "in_uv", "in_country")]
        self.fill = ctx.vertex_array(self.program, layout, self.triangles, index_element_size=4)
        self.outline = ctx.vertex_array(self.program, layout, self.edges, index_element_size=4)
        self.colors = ctx.texture((max(1, len(shapes.codes)), 1), 4, dtype="f4")
        self.colors.filter = (ctx.NEAREST, ctx.NEAREST)
        self.opaque = False
        self._written: bytes | None = None

    # The map changes only with the data: it is drawn into the cached background.
    static = True

    def set_colors(self, colors: np.ndarray) -> None:
        """RGBA of every country, by number: written when the data changes, not per frame.

        Colours are rounded to 1/255, what the screen shows, so a count that
        moves no colour does not redraw the panel's background.
        """
        data = (np.round(np.asarray(colors, dtype="f4") * 255) / 255).astype("f4").tobytes()
        if data == self._written:
            return
        self._written = data
        self.colors.write(data)
        self.opaque = bool(np.all(colors[:, 3] >= 1.0)) and self.border[3] >= 1.0
        self.revision += 1

    def draw(self, canvas_to_ndc: bytes, alpha: float) -> int:
        program = self.program
        program["u_canvas_to_ndc"].write(canvas_to_ndc)
        program["u_map"] = self.box.as_tuple()
        program["u_border"] = self.border
        program["u_alpha"] = alpha
        program["u_colors"] = _COLORS_UNIT
        self.colors.use(_COLORS_UNIT)
        if alpha >= 1.0 and self.opaque:
            self.ctx.disable(self.ctx.BLEND)  # a little faster on llvmpipe; the scene restores it
        program["u_outline"] = False
        self.fill.render(self.ctx.TRIANGLES)
        program["u_outline"] = True
        self.outline.render(self.ctx.LINES)
        return 2

    def release(self) -> None:
        for obj in (self.fill, self.outline, self.colors, self.edges, self.triangles,
                    self.vertices):
            obj.release()


# ----------------------------------------------------------------------------- view


@dataclass(frozen=True)
class Palette:
    """Map colours from the theme: land without mentions, a ramp for mentions, borders.

    The ramp runs from a dim accent to the accent and on towards the text
    colour, so the busiest country glows while quiet ones stay in the dark.
    """

    land: RGBA
    low: RGBA
    mid: RGBA
    high: RGBA
    border: RGBA

    @classmethod
    def for_theme(cls, theme: Theme) -> Palette:
        land = mix(theme.surface, theme.text_dim, 0.16)
        return cls(land, mix(land, theme.accent, 0.28), theme.accent,
                   mix(theme.accent, theme.text, 0.6), theme.surface)

    def ramp(self, value: float) -> RGBA:
        """Colour of a country with `value` (0..1] of the busiest country's mentions."""
        if value < 0.5:
            return mix(self.low, self.mid, 2.0 * value)
        return mix(self.mid, self.high, 2.0 * value - 1.0)


def counts_of(value: Any) -> dict[str, float]:
    """Valid, positive counts by upper-case country code from a frame's window."""
    counts: dict[str, float] = {}
    if not isinstance(value, dict):
        return counts
    for code, n in value.items():
        n = finite_number(n)
        if isinstance(code, str) and n is not None and n > 0:
            key = code.strip().upper()
            counts[key] = counts.get(key, 0.0) + n
    return {code: n for code, n in counts.items() if math.isfinite(n)}


@dataclass(frozen=True)
class _Layout:
    """The map's box, and the legend's area (None: no legend), `overlaid` on the map or not."""

    map: Rect
    legend: Rect | None
    overlaid: bool


class MapView(WidgetView):
    """A card with the title, the map and, beside it or over the ocean, the busiest countries."""

    spec: MapWidget

    def __init__(self, spec: MapWidget, box: Rect, theme: Theme):
        super().__init__(spec, box, theme)
        self.world = world()
        self.palette = Palette.for_theme(theme)
        self.layout = self._layout()
        self.layer: MapLayer | None = None

    def _layout(self) -> _Layout:
        """Where the map and legend go: fixed per scenario, as the layer is.

        The legend stands beside the map in wide boxes and under it in tall
        ones, whichever costs the map less than a fifth of its width;
        otherwise it lies over the South Pacific, the map's emptiest corner.
        """
        theme, labels = self.theme, self.spec.labels
        content = self._inside_card()
        if self.spec.title:
            band = 1.2 * theme.size("title") + 0.4 * theme.unit
            content = Rect(content.x, content.y + band, content.w, max(0.0, content.h - band))
        whole = fit_map(content)
        if not labels:
            return _Layout(whole, None, False)
        gap = 1.2 * theme.unit
        legend_w = min(LEGEND_UNITS * theme.unit, content.w)
        beside = fit_map(Rect(content.x, content.y, max(0.0, content.w - legend_w - gap),
                              content.h))
        if beside.w >= 0.8 * whole.w:
            left = content.x + (content.w - beside.w - gap - legend_w) / 2
            shown = Rect(left, beside.y, beside.w, beside.h)
            return _Layout(shown, Rect(shown.right + gap, content.y, legend_w, content.h), False)
        # As many rows under the map as fit, if that is at least three: header, rows and
        # scale, with room to spare.
        for rows in range(labels, min(labels, 3) - 1, -1):
            legend_h = (3.2 * TYPE_SCALE["body"] + rows * 1.75 * TYPE_SCALE["label"]) * theme.unit
            under = fit_map(Rect(content.x, content.y, content.w,
                                 max(0.0, content.h - legend_h - gap)))
            if under.w >= 0.8 * whole.w:
                top = content.y + (content.h - under.h - gap - legend_h) / 2
                shown = Rect(under.x, top, under.w, under.h)
                legend = Rect(content.x + (content.w - legend_w) / 2, shown.bottom + gap,
                              legend_w, legend_h)
                return _Layout(shown, legend, False)
        # No land there but a sliver of Fiji at the very edge.
        width = min(legend_w, 0.25 * whole.w)
        legend = Rect(whole.x + 0.01 * whole.w, whole.y + 0.5 * whole.h, width, 0.5 * whole.h)
        return _Layout(whole, legend, True)

    def _inside_card(self) -> Rect:
        """The content box `card()` leaves, known before anything is drawn."""
        return self.box.inset(0.12 * self.theme.unit).inset(self.padding())

    def create_layer(self, ctx: Any, programs: Any, panel: Panel) -> Layer | None:
        if not self.world.codes or not self.layout.map.intersects(panel.rect):
            return None
        self.layer = MapLayer(ctx, programs, self.world, self.layout.map, self.palette.border)
        return self.layer

    def build(self, draw: Draw, data: dict[str, Any], t: float) -> None:
        spec = self.spec
        self.card(draw)
        if spec.title:
            self._title(draw)
        counts = counts_of(lookup(data, f"countries.{spec.window}"))
        busiest = max(counts.values(), default=0.0)
        if self.layer is not None:
            colors = np.tile(np.asarray(self.palette.land, "f4"), (len(self.world.codes), 1))
            for code, n in counts.items():
                number = self.world.number(code)
                if number is not None:
                    colors[number] = self.palette.ramp(math.sqrt(n / busiest))
            self.layer.set_colors(colors)
        if self.layout.legend is not None:
            ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: spec.labels]
            self._legend(draw, ranked, busiest)

    def _title(self, draw: Draw) -> None:
        size = self.theme.size("title")
        content = self._inside_card()
        text = draw.truncate(self.spec.title, content.w, size)
        width = draw.measure(text, size)[0]
        label = Rect(content.x, content.y, min(content.w, width + 1.0), draw.line_height(size))
        placed = draw.off_seams(label, within=content)
        if placed is not None:
            draw.text(text, placed, self.theme.text_dim, "left", size)

    def _legend(self, draw: Draw, ranked: list[tuple[str, float]], busiest: float) -> None:
        """Header, one row per busy country with its colour and count, and the colour scale."""
        theme, layout = self.theme, self.layout
        head_size = theme.size("body")
        # Over the ocean the legend has less room than in a column of its own.
        row_size = theme.size("body" if layout.overlaid else "label")
        head_h = draw.line_height(head_size)
        row_h = (1.3 if layout.overlaid else 1.45) * draw.line_height(row_size)
        gap = 0.3 * theme.unit
        pad = 0.6 * theme.unit if layout.overlaid else 0.0
        area = layout.legend
        room = int((area.h - 2 * pad - 2 * (head_h + gap)) // row_h)
        rows = max(1, min(len(ranked), room))
        height = 2 * pad + 2 * (head_h + gap) + rows * row_h
        top = area.bottom - height if layout.overlaid else area.y + (area.h - height) / 2
        block = draw.off_seams(Rect(area.x, top, area.w, height), within=self.box)
        if block is None:
            return
        if layout.overlaid:
            draw.box(block, mix(theme.surface, theme.background, 0.4), radius=0.3 * theme.unit)
        inner = block.inset(pad)
        draw.text(WINDOW_NAMES[self.spec.window], Rect(inner.x, inner.y, inner.w, head_h),
                  theme.text_dim, "left", head_size)
        y = inner.y + head_h + gap
        if not ranked:
            draw.text(WAITING, Rect(inner.x, y, inner.w, row_h), theme.text_dim,
                      "left", row_size)
            return
        with_codes = inner.w >= 13 * row_size
        for code, n in ranked[:rows]:
            row = Rect(inner.x, y, inner.w, row_h)
            self._legend_row(draw, row, row_size, code, math.sqrt(n / busiest), n, with_codes)
            y += row_h
        self._scale(draw, Rect(inner.x, inner.bottom - head_h, inner.w, head_h), busiest)

    def _legend_row(self, draw: Draw, row: Rect, size: float, code: str, value: float,
                    n: float, with_code: bool) -> None:
        """A dot in the country's colour, its code and name, and its count on the right."""
        theme = self.theme
        dot = 0.5 * size
        known = self.world.number(code) is not None
        color = self.palette.ramp(value) if known else theme.text_dim
        draw.ring(row.x + dot / 2, row.y + row.h / 2, dot / 2, 0.0, color)
        count = format_count(n, self.theme.locale)
        count_w = draw.measure(count, size)[0]
        draw.text(count, Rect(row.right - count_w - 1, row.y, count_w + 1, row.h), theme.text,
                  "right", size)
        x = row.x + dot + 0.45 * size
        if with_code:
            code_w = draw.measure("WW", size)[0]
            draw.text(code, Rect(x, row.y, code_w, row.h), theme.text_dim, "left", size)
            x += code_w + 0.4 * size
        name_w = row.right - count_w - 0.5 * size - x
        name = draw.truncate(self.world.names.get(code, code), name_w, size)
        draw.text(name, Rect(x, row.y, max(0.0, name_w), row.h), theme.text, "left", size)

    def _scale(self, draw: Draw, row: Rect, busiest: float) -> None:
        """The colour ramp, between one mention and the busiest country's count."""
        theme = self.theme
        size = theme.size("body")
        top = format_count(busiest, self.theme.locale)
        low_w, top_w = draw.measure("1", size)[0], draw.measure(top, size)[0]
        gap = 0.4 * theme.unit
        draw.text("1", Rect(row.x, row.y, low_w + 1, row.h), theme.text_dim, "left", size)
        draw.text(top, Rect(row.right - top_w - 1, row.y, top_w + 1, row.h), theme.text_dim,
                  "right", size)
        bar = Rect(row.x + low_w + gap, row.y + (row.h - 0.3 * theme.unit) / 2,
                   row.w - low_w - top_w - 2 * gap, 0.3 * theme.unit)
        steps = 24
        for i in range(steps):
            draw.box(Rect(bar.x + bar.w * i / steps, bar.y, bar.w / steps + 0.5, bar.h),
                     self.palette.ramp((i + 0.5) / steps))


VIEWS = {"map": MapView}
