"""Derive layouts/maps/world-110m.json, the `map` widget's country shapes, from Natural Earth.

Natural Earth's 1:110m admin-0 countries are public domain. geopandas 0.14.4
ships them in its wheel (geopandas/datasets/naturalearth_lowres), which is
the copy this script reads, straight from the wheel file:

    pip download --no-deps geopandas==0.14.4 -d /tmp/gpd
    pip install pyshp pycountry mapbox-earcut   # for this script only, not for wallrenderer
    python scripts/make-world-map.py /tmp/gpd/geopandas-0.14.4-py3-none-any.whl

What changes on the way (see layouts/maps/README.md):
- alpha-2 codes from the alpha-3 ones (pycountry), since data frames count by alpha-2;
- Kosovo (no ISO code in the data) gets the user-assigned XK / XKX in common use;
- N. Cyprus and Somaliland, which ISO 3166 does not list, join Cyprus and Somalia;
- Antarctica is left out (every map projection we draw crops below 58 S);
- coordinates are rounded to 0.01 degree and repeated points dropped;
- `names` gives a legend name to every other ISO 3166 country, too small for
  this scale (Singapore, Malta, Hong Kong...), so it can still be listed;
- each country gets `triangles` (mapbox-earcut, cut in the widget's Natural
  Earth projection), so the renderer fills countries as one mesh without
  triangulating anything itself.
"""

from __future__ import annotations

import argparse
import io
import json
import zipfile
from pathlib import Path

import mapbox_earcut
import numpy as np
import pycountry
import shapefile

from wallrenderer.renderer.widgets.worldmap import project

MEMBER = "geopandas/datasets/naturalearth_lowres/naturalearth_lowres"
OUTPUT = Path(__file__).resolve().parent.parent / "layouts" / "maps" / "world-110m.json"
# Natural Earth names whose ISO code is missing or which ISO counts as part of another country.
CODE_FIXES = {"Kosovo": ("XK", "XKX"), "N. Cyprus": ("CY", "CYP"), "Somaliland": ("SO", "SOM")}
LEFT_OUT = {"ATA"}
# Natural Earth's label names are short already; these read better on a legend.
NAME_FIXES = {"United States of America": "United States", "Dem. Rep. Congo": "DR Congo"}


def read_shapes(wheel: Path) -> shapefile.Reader:
    """The shapefile inside the wheel, read without unpacking it to disk."""
    with zipfile.ZipFile(wheel) as archive:
        parts = {ext: io.BytesIO(archive.read(f"{MEMBER}.{ext}")) for ext in ("shp", "shx", "dbf")}
    return shapefile.Reader(**parts, encoding="ISO-8859-1")


def codes(name: str, alpha3: str) -> tuple[str, str]:
    """(alpha-2, alpha-3) of a Natural Earth country."""
    if name in CODE_FIXES:
        return CODE_FIXES[name]
    country = pycountry.countries.get(alpha_3=alpha3)
    if country is None:
        raise SystemExit(f"no ISO 3166 code for {name!r} ({alpha3}); add it to CODE_FIXES")
    return country.alpha_2, country.alpha_3


def signed_area(ring: list[list[float]]) -> float:
    """Shoelace area; shapefiles wind outer rings clockwise (negative) and holes the other way."""
    return 0.5 * sum(
        x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True)
    )


def rounded(points: list[tuple[float, float]]) -> list[list[float]]:
    """Points at 0.01 degree, without repeats or the closing copy of the first point."""
    ring: list[list[float]] = []
    for lon, lat in points:
        point = [round(lon, 2), round(lat, 2)]
        if not ring or point != ring[-1]:
            ring.append(point)
    if len(ring) > 1 and ring[0] == ring[-1]:
        ring.pop()
    return ring


def inside(point: list[float], ring: list[list[float]]) -> bool:
    """Even-odd test: does `point` lie inside `ring`?"""
    x, y = point
    crossings = 0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            crossings += 1
    return crossings % 2 == 1


def triangulate(country: dict) -> list[int]:
    """Triangles (flat vertex indices) over the country's rings, `polygons` then `holes`.

    They are cut in the widget's projection: a thin triangle cut in degrees
    can fold over once projected, leaving a crack along a long border.
    """
    outers, holes = country["polygons"], country.get("holes", [])
    starts = np.cumsum([0] + [len(r) for r in outers + holes])
    triangles: list[int] = []
    for i, outer in enumerate(outers):
        inner = [j for j, hole in enumerate(holes) if inside(hole[0], outer)]
        rings = [outer] + [holes[j] for j in inner]
        offsets = [starts[i]] + [starts[len(outers) + j] for j in inner]
        points = np.array([p for r in rings for p in r], "f8")
        u, v = project(points[:, 0], points[:, 1])
        local = mapbox_earcut.triangulate_float64(
            np.stack([u, v], axis=1), np.cumsum([len(r) for r in rings]).astype(np.uint32)
        )
        to_global = np.concatenate(
            [o + np.arange(len(r)) for o, r in zip(offsets, rings, strict=True)]
        )
        triangles += to_global[local].tolist()
    return triangles


def countries(reader: shapefile.Reader) -> list[dict]:
    """One entry per alpha-2 code, outer rings in `polygons`, enclaves' outlines in `holes`."""
    merged: dict[str, dict] = {}
    for item in reader.iterShapeRecords():
        name, alpha3 = item.record["name"], item.record["iso_a3"]
        if alpha3 in LEFT_OUT:
            continue
        a2, a3 = codes(name, alpha3)
        shape = item.shape
        bounds = [*shape.parts, len(shape.points)]
        entry = merged.setdefault(
            a2, {"a2": a2, "a3": a3, "name": NAME_FIXES.get(name, name), "polygons": []}
        )
        if a3 == alpha3:
            entry["name"] = NAME_FIXES.get(name, name)
        for start, end in zip(bounds, bounds[1:], strict=False):
            ring = rounded(shape.points[start:end])
            if len(ring) < 3:
                continue
            key = "polygons" if signed_area(ring) < 0 else "holes"
            entry.setdefault(key, []).append(ring)
    for entry in merged.values():
        entry["triangles"] = triangulate(entry)
    return sorted(merged.values(), key=lambda c: c["a2"])


def small_country_names(drawn: list[dict]) -> dict[str, str]:
    """ISO names of the countries with no shape at this scale, by alpha-2 code."""
    have = {c["a2"] for c in drawn}
    return {
        c.alpha_2: getattr(c, "common_name", None) or c.name
        for c in sorted(pycountry.countries, key=lambda c: c.alpha_2)
        if c.alpha_2 not in have
    }


def main() -> None:
    """Write the asset; rerun only when the source data or the derivation changes."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("wheel", type=Path, help="geopandas-0.14.4-py3-none-any.whl")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args()
    asset = {
        "source": "Natural Earth 1:110m Cultural Vectors, Admin 0 - Countries "
        "(naturalearthdata.com), as packaged in geopandas 0.14.4 "
        "(geopandas/datasets/naturalearth_lowres)",
        "license": "public domain (Natural Earth)",
        "projection": "none: longitude, latitude in degrees (WGS 84), rounded to 0.01; "
        "`triangles` index each country's points, polygons then holes, and tile it in "
        "the Natural Earth projection",
        "countries": countries(read_shapes(args.wheel)),
    }
    asset["names"] = small_country_names(asset["countries"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(asset, separators=(",", ":"), ensure_ascii=False) + "\n")
    print(f"{args.out}: {len(asset['countries'])} countries, {args.out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
