"""Wall geometry: grids and explicit walls tile the canvas as documented; rotations map right."""

# Test names say what each test checks; docstrings would repeat them.

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wallrenderer.core.geometry import (
    ROTATIONS,
    GeometryError,
    PanelSpec,
    Rect,
    Wall,
    explicit_wall,
    grid_wall,
)

pytestmark = pytest.mark.unit

PROPERTY = settings(max_examples=100, deadline=None)

# Which corner of the panel's rectangle on the wall each native corner lands in,
# written out from the README's wall format ("rotation: degrees clockwise the panel is turned
# when mounted"; with 90, native (u, v) lies at (H-1-v, u), so the native
# top-left is at the wall's top right).
NATIVE_CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")
WALL_CORNER_OF = {
    0: {
        "top-left": "top-left",
        "top-right": "top-right",
        "bottom-left": "bottom-left",
        "bottom-right": "bottom-right",
    },
    90: {
        "top-left": "top-right",
        "top-right": "bottom-right",
        "bottom-right": "bottom-left",
        "bottom-left": "top-left",
    },
    180: {
        "top-left": "bottom-right",
        "top-right": "bottom-left",
        "bottom-right": "top-left",
        "bottom-left": "top-right",
    },
    270: {
        "top-left": "bottom-left",
        "top-right": "top-left",
        "bottom-right": "top-right",
        "bottom-left": "bottom-right",
    },
}
NDC_OF_NATIVE_CORNER = {
    "top-left": (-1.0, 1.0),
    "top-right": (1.0, 1.0),
    "bottom-left": (-1.0, -1.0),
    "bottom-right": (1.0, -1.0),
}


def native_corner_pixel(corner: str, resolution: tuple[int, int]) -> tuple[int, int]:
    w, h = resolution
    return {
        "top-left": (0, 0),
        "top-right": (w - 1, 0),
        "bottom-left": (0, h - 1),
        "bottom-right": (w - 1, h - 1),
    }[corner]


def rect_corner_pixel(corner: str, rect: Rect) -> tuple[int, int]:
    """Index (relative to the rect origin) of the canvas pixel in that corner of the rect."""
    w, h = int(rect.w), int(rect.h)
    return native_corner_pixel(corner, (w, h))


def rect_corner_point(corner: str, rect: Rect) -> tuple[float, float]:
    return {
        "top-left": (rect.x, rect.y),
        "top-right": (rect.right, rect.y),
        "bottom-left": (rect.x, rect.bottom),
        "bottom-right": (rect.right, rect.bottom),
    }[corner]


def design_pixel(u: int, v: int, resolution: tuple[int, int], rotation: int) -> tuple[int, int]:
    """Where the wall format puts native pixel (u, v) inside the panel's rectangle on the wall."""
    w, h = resolution
    return {
        0: (u, v),
        90: (h - 1 - v, u),
        180: (w - 1 - u, h - 1 - v),
        270: (v, w - 1 - u),
    }[rotation]


def mounted(resolution: tuple[int, int], rotation: int) -> tuple[int, int]:
    w, h = resolution
    return (h, w) if rotation in (90, 270) else (w, h)


bezel = st.floats(min_value=0.0, max_value=30.0, allow_nan=False)


@st.composite
def grids(draw, max_side: int = 6, resolutions=None):
    rows = draw(st.integers(1, max_side))
    cols = draw(st.integers(1, max_side))
    if resolutions is None:
        resolutions = st.tuples(st.integers(320, 3840), st.integers(240, 2160))
    resolution = draw(resolutions)
    rotation = draw(st.sampled_from(ROTATIONS))
    pitch = draw(st.floats(min_value=0.2, max_value=1.5))
    bezels = {side: draw(bezel) for side in ("left", "right", "top", "bottom")}
    mw, mh = mounted(resolution, rotation)
    wall = grid_wall(
        "prop",
        rows,
        cols,
        resolution=resolution,
        active_mm=(mw * pitch, mh * pitch),
        bezel_mm=bezels,
        rotation=rotation,
    )
    return wall, rows, cols, resolution, rotation, pitch, bezels


def small_panels():
    """A small-resolution panel of a 2x2 grid with bezels, so its rect is off the origin."""
    return grids(max_side=2, resolutions=st.tuples(st.integers(1, 48), st.integers(1, 48))).map(
        lambda g: (g[0].panels[-1], g[3], g[4])
    )


# --- uniform grids -------------------------------------------------------------------------


@PROPERTY
@given(grids())
def test_grid_panels_tile_canvas_with_bezel_gaps_as_design_states(grid):
    wall, rows, cols, resolution, rotation, pitch, bezels = grid
    assert wall.pitch_mm == pytest.approx(pitch, rel=1e-12)
    gx = round((bezels["left"] + bezels["right"]) / wall.pitch_mm)
    gy = round((bezels["top"] + bezels["bottom"]) / wall.pitch_mm)
    w, h = mounted(resolution, rotation)

    assert wall.grid == (rows, cols)
    assert wall.canvas == (cols * w + (cols - 1) * gx, rows * h + (rows - 1) * gy)
    assert len(wall.panels) == rows * cols
    assert [p.id for p in wall.panels] == [f"r{r}c{c}" for r in range(rows) for c in range(cols)]

    for r, c in itertools.product(range(rows), range(cols)):
        p = wall.panel(f"r{r}c{c}")
        assert (p.rect.x, p.rect.y) == (c * (w + gx), r * (h + gy))
        assert (p.rect.w, p.rect.h) == (w, h)
        assert p.mounted_resolution == (w, h)
        assert p.resolution == resolution
        assert p.rotation == rotation
        assert p.native_pitch_scale() == 1.0
        if c + 1 < cols:
            assert wall.panel(f"r{r}c{c + 1}").rect.x - p.rect.right == gx
        if r + 1 < rows:
            assert wall.panel(f"r{r + 1}c{c}").rect.y - p.rect.bottom == gy

    for a, b in itertools.combinations(wall.panels, 2):
        assert not a.rect.intersects(b.rect), (a.id, b.id)
    assert min(p.rect.x for p in wall.panels) == 0
    assert min(p.rect.y for p in wall.panels) == 0
    assert max(p.rect.right for p in wall.panels) == wall.canvas[0]
    assert max(p.rect.bottom for p in wall.panels) == wall.canvas[1]


@PROPERTY
@given(grids())
def test_grid_and_explicit_description_of_it_give_same_rects_and_canvas(grid):
    wall = grid[0]
    specs = wall.to_panel_specs()
    for pitch in (wall.pitch_mm, None):
        again = explicit_wall(wall.name, specs, pitch_mm=pitch)
        assert again.canvas == wall.canvas
        assert [p.id for p in again.panels] == [p.id for p in wall.panels]
        assert [p.rect for p in again.panels] == [p.rect for p in wall.panels]
        assert [p.rotation for p in again.panels] == [p.rotation for p in wall.panels]
        assert [p.resolution for p in again.panels] == [p.resolution for p in wall.panels]


def test_grid_of_demo_wall_matches_hand_computed_numbers():
    wall = grid_wall(
        "demo-2x2",
        2,
        2,
        resolution=(1920, 1080),
        active_mm=(1209.6, 680.4),
        bezel_mm={"left": 1.8, "right": 1.8, "top": 1.8, "bottom": 1.8},
    )
    # pitch 0.63 mm; gap round(3.6 / 0.63) = round(5.71) = 6 px
    assert wall.pitch_mm == pytest.approx(0.63)
    assert wall.canvas == (2 * 1920 + 6, 2 * 1080 + 6)
    assert wall.panel("r1c1").rect == Rect(1926, 1086, 1920, 1080)


def test_grid_rejects_bad_rotation_and_empty_grid():
    args = dict(resolution=(100, 100), active_mm=(100.0, 100.0), bezel_mm={})
    with pytest.raises(GeometryError, match="rotation"):
        grid_wall("bad", 1, 1, rotation=45, **args)
    with pytest.raises(GeometryError):
        grid_wall("bad", 0, 1, **args)
    with pytest.raises(GeometryError):
        grid_wall("bad", 1, 0, **args)


# --- rotation ------------------------------------------------------------------------------


@pytest.mark.parametrize("rotation", ROTATIONS)
def test_native_corner_pixels_land_in_expected_wall_corner_of_1080p_panel(rotation):
    resolution = (1920, 1080)
    wall = grid_wall(
        "rot",
        2,
        2,
        resolution=resolution,
        active_mm=tuple(0.63 * n for n in mounted(resolution, rotation)),
        bezel_mm={"left": 2.0, "right": 2.0, "top": 3.0, "bottom": 3.0},
        rotation=rotation,
    )
    panel = wall.panel("r1c1")
    for corner in NATIVE_CORNERS:
        u, v = native_corner_pixel(corner, resolution)
        x, y = panel.native_to_canvas(u + 0.5, v + 0.5)
        got = (math.floor(x) - int(panel.rect.x), math.floor(y) - int(panel.rect.y))
        assert got == rect_corner_pixel(WALL_CORNER_OF[rotation][corner], panel.rect), corner


def test_rotation_90_puts_native_top_left_at_wall_top_right():
    wall = grid_wall(
        "rot90", 1, 1, resolution=(1920, 1080), active_mm=(680.4, 1209.6), bezel_mm={}, rotation=90
    )
    panel = wall.panels[0]
    assert (panel.rect.w, panel.rect.h) == (1080, 1920)
    x, y = panel.native_to_canvas(0.5, 0.5)
    assert (float(x), float(y)) == pytest.approx((1079.5, 0.5))


@PROPERTY
@given(small_panels(), st.data())
def test_native_pixel_lands_where_design_formula_puts_it(panel_info, data):
    panel, resolution, rotation = panel_info
    w, h = resolution
    u = data.draw(st.integers(0, w - 1))
    v = data.draw(st.integers(0, h - 1))
    x, y = panel.native_to_canvas(u + 0.5, v + 0.5)
    expected = design_pixel(u, v, resolution, rotation)
    assert float(x) == pytest.approx(panel.rect.x + expected[0] + 0.5, abs=1e-9)
    assert float(y) == pytest.approx(panel.rect.y + expected[1] + 0.5, abs=1e-9)


@PROPERTY
@given(small_panels())
def test_native_corner_pixels_land_in_expected_wall_corner(panel_info):
    panel, resolution, rotation = panel_info
    for corner in NATIVE_CORNERS:
        u, v = native_corner_pixel(corner, resolution)
        x, y = panel.native_to_canvas(u + 0.5, v + 0.5)
        got = (math.floor(x) - int(panel.rect.x), math.floor(y) - int(panel.rect.y))
        assert got == rect_corner_pixel(WALL_CORNER_OF[rotation][corner], panel.rect), corner


@PROPERTY
@given(grids(max_side=3), st.data())
def test_canvas_to_native_inverts_native_to_canvas(grid, data):
    wall, _, _, resolution, _, _, _ = grid
    panel = data.draw(st.sampled_from(wall.panels))
    w, h = resolution
    coords = st.floats(min_value=-0.5, max_value=1.5, allow_nan=False)
    fracs = data.draw(st.lists(st.tuples(coords, coords), min_size=1, max_size=20))
    u = np.array([f[0] * w for f in fracs])
    v = np.array([f[1] * h for f in fracs])
    x, y = panel.native_to_canvas(u, v)
    u2, v2 = panel.canvas_to_native(x, y)
    np.testing.assert_allclose(u2, u, atol=1e-6)
    np.testing.assert_allclose(v2, v, atol=1e-6)
    # and the other way round, from canvas points
    x2, y2 = panel.native_to_canvas(*panel.canvas_to_native(x, y))
    np.testing.assert_allclose(x2, x, atol=1e-6)
    np.testing.assert_allclose(y2, y, atol=1e-6)


@PROPERTY
@given(grids(max_side=3), st.data())
def test_canvas_to_ndc_maps_rect_corners_to_ndc_corners_in_native_orientation(grid, data):
    wall, _, _, _, rotation, _, _ = grid
    panel = data.draw(st.sampled_from(wall.panels))
    m = panel.canvas_to_ndc()
    assert m.shape == (3, 3)
    for corner in NATIVE_CORNERS:
        cx, cy = rect_corner_point(WALL_CORNER_OF[rotation][corner], panel.rect)
        ndc = m @ np.array([cx, cy, 1.0])
        assert tuple(ndc) == pytest.approx((*NDC_OF_NATIVE_CORNER[corner], 1.0), abs=1e-9), corner


@pytest.mark.parametrize("rotation", ROTATIONS)
def test_canvas_to_ndc_sends_rect_centre_to_ndc_origin(rotation):
    wall = grid_wall(
        "c",
        2,
        3,
        resolution=(640, 480),
        active_mm=(640.0, 480.0),
        bezel_mm={"left": 5.0, "right": 5.0},
        rotation=rotation,
    )
    panel = wall.panel("r1c2")
    cx, cy = panel.rect.x + panel.rect.w / 2, panel.rect.y + panel.rect.h / 2
    ndc = panel.canvas_to_ndc() @ np.array([cx, cy, 1.0])
    assert tuple(ndc) == pytest.approx((0.0, 0.0, 1.0), abs=1e-12)


# --- pixel centres -------------------------------------------------------------------------


@PROPERTY
@given(small_panels())
def test_pixel_centres_are_framebuffer_shaped_and_cover_each_rect_pixel_once(panel_info):
    panel, resolution, _ = panel_info
    w, h = resolution
    x, y = panel.pixel_centres()
    assert x.shape == (h, w) and y.shape == (h, w)
    r = panel.rect
    assert np.all((x > r.x) & (x < r.right) & (y > r.y) & (y < r.bottom))
    # one native pixel per canvas pixel on a grid: every rect pixel exactly once
    px = np.floor(x).astype(int) - int(r.x)
    py = np.floor(y).astype(int) - int(r.y)
    seen = np.zeros((int(r.h), int(r.w)), dtype=int)
    np.add.at(seen, (py, px), 1)
    assert np.all(seen == 1)


@pytest.mark.parametrize("rotation", ROTATIONS)
def test_pixel_centres_of_coarse_rotated_panel_lie_inside_its_rect(rotation):
    fine = PanelSpec("fine", (0.0, 0.0), (40.0, 30.0), (80, 60))
    active = (60.0, 40.0) if rotation in (0, 180) else (40.0, 60.0)
    coarse = PanelSpec("coarse", (45.0, 0.0), active, (60, 40), rotation=rotation)
    panel = explicit_wall("mixed", [fine, coarse]).panel("coarse")
    x, y = panel.pixel_centres()
    assert x.shape == (40, 60) and y.shape == (40, 60)
    r = panel.rect
    assert np.all((x > r.x) & (x < r.right) & (y > r.y) & (y < r.bottom))
    assert panel.native_pitch_scale() == pytest.approx(0.5)


# --- explicit walls ------------------------------------------------------------------------


def test_explicit_mixed_resolutions_use_finest_pitch_and_scale_coarse_panel():
    uhd = PanelSpec("uhd", (100.0, 50.0), (1209.6, 680.4), (3840, 2160))
    fhd = PanelSpec("fhd", (100.0 + 1209.6 + 3.6, 50.0), (1209.6, 680.4), (1920, 1080))
    wall = explicit_wall("mixed", [uhd, fhd])
    assert wall.pitch_mm == pytest.approx(0.315)
    assert wall.panel("uhd").rect == Rect(0, 0, 3840, 2160)
    coarse = wall.panel("fhd").rect
    assert (coarse.w, coarse.h) == (2 * 1920, 2 * 1080)
    assert coarse.x == round((1209.6 + 3.6) / wall.pitch_mm) == 3851
    assert coarse.y == 0
    assert wall.canvas == (int(coarse.right), 2160)
    assert wall.panel("fhd").native_pitch_scale() == pytest.approx(0.5)
    assert wall.grid is None


def test_explicit_default_pitch_is_finest_in_either_order():
    coarse = PanelSpec("c", (0.0, 0.0), (1209.6, 680.4), (1920, 1080))
    fine = PanelSpec("f", (1213.2, 0.0), (1209.6, 680.4), (3840, 2160))
    assert explicit_wall("a", [coarse, fine]).pitch_mm == pytest.approx(0.315)
    assert explicit_wall("b", [fine, coarse]).pitch_mm == pytest.approx(0.315)


def test_explicit_positions_map_to_rounded_pixels_from_top_left_most_panel():
    specs = [
        PanelSpec("b", (1050.0, 20.0 + 0.7), (500.0, 300.0), (500, 300)),
        PanelSpec("a", (20.0, 20.0), (500.0, 300.0), (500, 300)),
        PanelSpec("c", (20.0 + 3.4, 20.0 + 333.6), (500.0, 300.0), (500, 300)),
    ]
    wall = explicit_wall("mm", specs, pitch_mm=1.0)
    assert wall.panel("a").rect == Rect(0, 0, 500, 300)
    assert wall.panel("b").rect == Rect(1030, 1, 500, 300)
    assert wall.panel("c").rect == Rect(3, 334, 500, 300)
    assert wall.canvas == (1530, 634)


def test_explicit_rotated_panel_is_portrait_on_canvas():
    specs = [
        PanelSpec("left", (0.0, 0.0), (680.4, 1209.6), (1920, 1080), rotation=90),
        PanelSpec("right", (686.0, 0.0), (1209.6, 680.4), (1920, 1080)),
    ]
    wall = explicit_wall("lobby", specs)
    left = wall.panel("left")
    assert (left.rect.w, left.rect.h) == (1080, 1920)
    assert left.mounted_resolution == (1080, 1920)
    assert wall.panel("right").rect.x == round(686.0 / 0.63)


def test_explicit_overlapping_panels_raise():
    specs = [
        PanelSpec("a", (0.0, 0.0), (100.0, 100.0), (100, 100)),
        PanelSpec("b", (90.0, 50.0), (100.0, 100.0), (100, 100)),
    ]
    with pytest.raises(GeometryError, match="overlap"):
        explicit_wall("bad", specs)


def test_explicit_panels_a_fraction_of_a_pixel_apart_do_not_overlap():
    # Rounding origin and size separately would give a.right = 1 + 11 = 12 > b.x = 11.
    specs = [
        PanelSpec("anchor", (0.0, 100.0), (5.0, 5.0), (5, 5)),
        PanelSpec("a", (0.6, 0.0), (10.6, 10.0), (10, 10)),
        PanelSpec("b", (11.3, 0.0), (10.0, 10.0), (10, 10)),
    ]
    wall = explicit_wall("tight", specs, pitch_mm=1.0)
    assert wall.panel("a").rect.right <= wall.panel("b").rect.x


@PROPERTY
@given(
    st.floats(min_value=0.2, max_value=1.5),
    st.lists(
        st.tuples(
            st.floats(min_value=5.0, max_value=2000.0),
            st.one_of(st.just(0.0), st.floats(min_value=0.0, max_value=3.0)),
        ),
        min_size=2,
        max_size=6,
    ),
)
def test_explicit_panels_apart_in_mm_never_overlap_on_canvas(pitch, row):
    specs, x = [], 0.0
    for i, (width, gap) in enumerate(row):
        specs.append(PanelSpec(f"p{i}", (x, 0.0), (width, 100.0), (100, 100)))
        x = x + width + gap
    wall = explicit_wall("row", specs, pitch_mm=pitch)
    rects = [p.rect for p in wall.panels]
    for a, b in zip(rects, rects[1:], strict=False):
        assert a.right <= b.x


def test_explicit_duplicate_ids_raise():
    specs = [
        PanelSpec("same", (0.0, 0.0), (100.0, 100.0), (100, 100)),
        PanelSpec("same", (200.0, 0.0), (100.0, 100.0), (100, 100)),
    ]
    with pytest.raises(GeometryError, match="duplicate.*same"):
        explicit_wall("dupes", specs)


def test_explicit_rejects_empty_wall_and_bad_rotation():
    with pytest.raises(GeometryError):
        explicit_wall("empty", [])
    with pytest.raises(GeometryError, match="rotation"):
        explicit_wall("bad", [PanelSpec("a", (0.0, 0.0), (10.0, 10.0), (10, 10), rotation=45)])


# --- cells, fractions, seams ---------------------------------------------------------------


@pytest.fixture
def wall_3x3() -> Wall:
    return grid_wall(
        "w",
        3,
        3,
        resolution=(1920, 1080),
        active_mm=(1209.6, 680.4),
        bezel_mm={"left": 1.8, "right": 1.8, "top": 1.8, "bottom": 1.8},
    )


def test_cells_rect_of_one_id_is_that_panels_rect(wall_3x3):
    assert wall_3x3.cells_rect("r0c0") == wall_3x3.panel("r0c0").rect
    assert wall_3x3.cells_rect("r2c1") == wall_3x3.panel("r2c1").rect


def test_cells_rect_of_span_is_union_of_spanned_panels(wall_3x3):
    union = wall_3x3.panel("r0c0").rect
    for pid in ("r0c1", "r1c0", "r1c1"):
        union = union.union(wall_3x3.panel(pid).rect)
    assert wall_3x3.cells_rect("r0c0:r1c1") == union
    assert wall_3x3.cells_rect("r0c0:r1c1") == Rect(0, 0, 2 * 1920 + 6, 2 * 1080 + 6)
    assert wall_3x3.cells_rect("r1c1:r0c0") == union


@pytest.mark.parametrize("cells", ["r9c9", "r0c0:r9c9", "nope:r0c0"])
def test_cells_rect_unknown_id_raises_naming_it(wall_3x3, cells):
    unknown = next(c for c in cells.split(":") if c not in wall_3x3.ids)
    with pytest.raises(GeometryError, match=unknown):
        wall_3x3.cells_rect(cells)


@pytest.mark.parametrize("cells", ["", "r0c0:", ":r0c0", "r0c0:r0c1:r1c1"])
def test_cells_rect_malformed_span_raises(wall_3x3, cells):
    with pytest.raises(GeometryError):
        wall_3x3.cells_rect(cells)


def test_straddles_seam_true_for_rect_across_a_gap(wall_3x3):
    assert wall_3x3.straddles_seam(Rect(1900, 100, 40, 20))
    assert wall_3x3.straddles_seam(Rect(100, 1070, 20, 30))
    assert wall_3x3.straddles_seam(wall_3x3.cells_rect("r0c0:r0c1"))


def test_straddles_seam_false_inside_one_panel(wall_3x3):
    assert not wall_3x3.straddles_seam(Rect(100, 100, 200, 50))
    assert not wall_3x3.straddles_seam(wall_3x3.panel("r1c1").rect)
    assert not wall_3x3.straddles_seam(wall_3x3.panel("r2c2").rect.inset(10))


def test_fraction_rect_scales_by_canvas(wall_3x3):
    cw, ch = wall_3x3.canvas
    assert wall_3x3.fraction_rect((0, 0, 1, 1)) == Rect(0, 0, cw, ch)
    got = wall_3x3.fraction_rect((0.1, 0.2, 0.5, 0.25))
    assert got.as_tuple() == pytest.approx((0.1 * cw, 0.2 * ch, 0.5 * cw, 0.25 * ch))


def test_unknown_display_id_raises_listing_known_ids(wall_3x3):
    with pytest.raises(GeometryError, match=r"'r5c0'.*r0c0"):
        wall_3x3.panel("r5c0")
