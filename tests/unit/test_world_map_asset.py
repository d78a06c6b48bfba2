"""The shipped world map: complete, coded as data frames code countries, and a valid mesh."""

from __future__ import annotations

import json

import numpy as np

from wallrenderer.core.geometry import Rect
from wallrenderer.core.resources import builtin_path
from wallrenderer.renderer.widgets.worldmap import (
    ASSET,
    MAP_ASPECT,
    fit_map,
    map_point,
    project,
    world,
)


def load() -> dict:
    return json.loads(builtin_path(*ASSET).read_text(encoding="utf-8"))


def test_asset_names_its_public_domain_source_and_stays_small():
    path = builtin_path(*ASSET)
    asset = load()
    assert "Natural Earth" in asset["source"]
    assert asset["license"] == "public domain (Natural Earth)"
    assert path.stat().st_size < 400_000


def test_every_country_has_a_unique_alpha2_code_and_shapes():
    countries = load()["countries"]
    codes = [c["a2"] for c in countries]
    assert len(countries) >= 170
    assert len(set(codes)) == len(codes)
    assert all(len(code) == 2 and code.isupper() for code in codes)
    by_code = {c["a2"]: c for c in countries}
    for code in ("FR", "US", "GB", "DE", "JP", "BR", "IN"):
        rings = by_code[code]["polygons"]
        assert rings and all(len(ring) >= 3 for ring in rings), code
    assert by_code["FR"]["name"] == "France"


def test_triangles_cover_each_country_exactly_once():
    """In projected space the triangles' area equals the outline's: no gap, no overlap."""
    for country in load()["countries"]:
        rings = country["polygons"] + country.get("holes", [])
        points = np.array([p for ring in rings for p in ring], "f8")
        u, v = project(points[:, 0], points[:, 1])
        xy = np.stack([u * MAP_ASPECT, v], axis=1)
        triangles = np.array(country["triangles"]).reshape(-1, 3)
        a, b, c = xy[triangles[:, 0]], xy[triangles[:, 1]], xy[triangles[:, 2]]
        area = 0.5 * np.abs((b - a)[:, 0] * (c - a)[:, 1] - (b - a)[:, 1] * (c - a)[:, 0])
        outline, start = 0.0, 0
        for index, ring in enumerate(rings):
            x, y = xy[start:start + len(ring)].T
            ring_area = 0.5 * abs(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))
            outline += ring_area if index < len(country["polygons"]) else -ring_area
            start += len(ring)
        # Natural Earth's Sudan has a tiny bow-tie at the tripoint with South Sudan and CAR.
        tolerance = 0.03 if country["a2"] == "SD" else 1e-4
        assert abs(area.sum() - outline) <= tolerance * outline + 1e-9, country["name"]


def test_loaded_world_numbers_countries_and_knows_small_ones_by_name():
    shapes = world()
    assert shapes.number("FR") is not None and shapes.number("SG") is None
    assert shapes.names["SG"] == "Singapore" and shapes.names["FR"] == "France"
    assert shapes.triangles.max() < len(shapes.vertices)
    assert len(shapes.edges) % 2 == 0 and len(shapes.edges) > 1000


def test_projection_puts_places_where_a_reader_expects_them():
    box = fit_map(Rect(0, 0, 2000, 1000))
    assert abs(box.w / box.h - MAP_ASPECT) < 1e-9 and box.w == 2000
    assert abs(box.y + box.h / 2 - 500) < 1e-9
    paris, new_york, sydney = (map_point(box, *p) for p in ((2.35, 48.86), (-74.0, 40.7),
                                                             (151.2, -33.9)))
    assert new_york[0] < paris[0] < sydney[0]
    assert paris[1] < new_york[1] < sydney[1]
    assert abs(map_point(box, 0.0, 0.0)[0] - (box.x + box.w / 2)) < 1e-9
