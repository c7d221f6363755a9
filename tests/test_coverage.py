"""The compiled coverage pass against exactextract, cell by cell (``_coverage``).

Every case compares the pieces the compiled pass gives with exactextract's on the
same grid (the same cells in the same order, fractions within one float32 ulp and
exactextract's own error) and with GEOS's intersection of the polygon with each
cell, in the cell's own coordinates (to float32 rounding), and checks that
polygons the pass cannot be sure of are handed back. Fractions known by hand
are asserted too.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from rasterio.transform import from_origin

from agroforest_geo._coverage import compiled_coverage, use_compiled
from agroforest_geo.inputs import _Grid
from agroforest_geo.pixelpieces import _coverage_exact, _coverage_exactextract

pytestmark = pytest.mark.skipif(not use_compiled(), reason="the compiled pass needs numba")

X0, Y0, RES = 300_000.0, 9_300_000.0, 30.0  # UTM 18S
GRID = _Grid(pyproj.CRS(32718), from_origin(X0, Y0, RES, RES), 200, 150)
GRID_BOUNDS = (X0, Y0 - RES * 150, X0 + RES * 200, Y0)
DEG = _Grid(pyproj.CRS(4326), from_origin(-76.0, -7.0, 0.00025, 0.00025), 400, 400)


def compiled(geoms, grid=GRID, known_valid=None):
    t = grid.transform
    return compiled_coverage(
        np.asarray(geoms, dtype=object), t.c, t.f, grid.dx, grid.dy, grid.width, grid.height,
        known_valid=known_valid,
    )  # fmt: skip


def reference(geoms, grid=GRID):
    pos, rows, cols, cov = _coverage_exactextract(np.asarray(geoms, dtype=object), grid)
    keep = cov > 0
    return pos[keep], rows[keep], cols[keep], cov[keep]


#: exactextract's fractions are off by up to ~3e-8 of a cell (e.g. 0.0042017102 for a cell
#: whose exact fraction is 0.0042016807, by GEOS): the pass is compared to it with that margin
#: and to GEOS, cell by cell, to float32 rounding
EE_MARGIN = 5e-8


def exact_fractions(geoms, pos, rows, cols, grid=GRID):
    """Fraction of each cell covered, by GEOS, in coordinates local to the cell (independent)."""
    t = grid.transform
    out = np.empty(pos.size)
    for k, (g, r, c) in enumerate(
        zip(np.asarray(geoms, dtype=object)[pos], rows, cols, strict=True)
    ):
        x0, y0 = t.c + grid.dx * c, t.f + grid.dy * r
        local = shapely.transform(g, lambda xy, x0=x0, y0=y0: xy - [x0, y0])
        out[k] = shapely.intersection(local, shapely.box(0, grid.dy, grid.dx, 0)).area
    return out / abs(grid.dx * grid.dy)


def assert_same_pieces(geoms, grid=GRID):
    """The pass agrees with exactextract on every geometry it is sure of; returns the unsure."""
    pos, rows, cols, cov, unsure = compiled(geoms, grid)
    rp, rr, rc, rf = reference(geoms, grid)
    sure = ~np.isin(rp, unsure) & (rf > 1e-11)  # slivers below 1e-12 of a cell are left out
    rp, rr, rc, rf = rp[sure], rr[sure], rc[sure], rf[sure]
    big = cov > 1e-11
    np.testing.assert_array_equal(pos[big], rp)
    np.testing.assert_array_equal(rows[big], rr)
    np.testing.assert_array_equal(cols[big], rc)
    ulp = np.spacing(rf.astype(np.float32)).astype(float)
    assert (np.abs(cov[big] - rf) <= ulp + EE_MARGIN).all()
    assert (cov.astype(np.float32) == cov).all()  # float32 values, as exactextract's
    exact = exact_fractions(geoms, pos, rows, cols, grid)
    half_ulp = np.spacing(cov.astype(np.float32)).astype(float) / 2
    # both put the vertices on the cell's grid once: eps x |coordinate| / cell, a few times
    t = grid.transform
    placing = 10 * np.finfo(float).eps * max(abs(t.c), abs(t.f), 1.0) / abs(grid.dx)
    assert (np.abs(cov - exact) <= half_ulp + placing).all()
    return unsure


def cells(c0, r0, c1, r1):
    """Polygon on cell lines: columns c0..c1, rows r0..r1 of GRID."""
    return shapely.box(X0 + RES * c0, Y0 - RES * r1, X0 + RES * c1, Y0 - RES * r0)


def test_hand_computed_fractions():
    # the middle of a 2 x 2 block of cells shifted by half a cell: 1/4, 1/2, 1 as by hand
    sq = shapely.box(X0 + 15, Y0 - 75, X0 + 75, Y0 - 15)
    _, rows, cols, cov, unsure = compiled([sq])
    got = {(int(r), int(c)): float(f) for r, c, f in zip(rows, cols, cov, strict=True)}
    assert unsure.size == 0
    assert got == {
        (0, 0): 0.25, (0, 1): 0.5, (0, 2): 0.25,
        (1, 0): 0.5, (1, 1): 1.0, (1, 2): 0.5,
        (2, 0): 0.25, (2, 1): 0.5, (2, 2): 0.25,
    }  # fmt: skip
    # a triangle on the diagonal of one cell: half of it, nothing in the neighbours
    tri = shapely.Polygon([(X0, Y0), (X0 + RES, Y0), (X0 + RES, Y0 - RES)])
    _, rows, cols, cov, _ = compiled([tri])
    assert (rows.tolist(), cols.tolist(), cov.tolist()) == ([0], [0], [0.5])


@pytest.mark.parametrize(
    "geom",
    [
        cells(3, 4, 9, 7),  # on the cell lines: whole cells only
        cells(3, 4, 9, 7).reverse(),  # clockwise exterior
        shapely.Polygon(  # a hole, both rings stored the "wrong" way round
            shapely.box(X0 + 100, Y0 - 400, X0 + 400, Y0 - 100).exterior.coords[::-1],
            [shapely.box(X0 + 200, Y0 - 300, X0 + 300, Y0 - 200).exterior.coords],
        ),
        shapely.Polygon(  # a hole touching the shell at a vertex (valid)
            [(X0 + 30, Y0 - 30), (X0 + 330, Y0 - 30), (X0 + 330, Y0 - 330), (X0 + 30, Y0 - 330)],
            [[(X0 + 30, Y0 - 30), (X0 + 200, Y0 - 100), (X0 + 100, Y0 - 200)]],
        ),
        shapely.MultiPolygon(  # parts touching at a corner
            [cells(1, 1, 3, 3), shapely.box(X0 + 90, Y0 - 150.5, X0 + 141.3, Y0 - 90)]
        ),
        shapely.Polygon([(X0 + 45, Y0 - 45), (X0 + 45.000001, Y0 - 2000), (X0 + 46, Y0 - 45)]),
        shapely.box(X0 + 600, Y0 - 600.0000001, X0 + 600.0000001, Y0 - 600),  # a speck
        shapely.Point(X0 + 1234.5, Y0 - 2345.6).buffer(700, quad_segs=64),  # many short edges
        shapely.Polygon([(X0 + 60, Y0 - 60), (X0 + 5000, Y0 - 61), (X0 + 61, Y0 - 4000)]),
    ],
    ids=[
        "on-lines",
        "clockwise",
        "hole-reversed",
        "hole-touching",
        "multi-touching",
        "needle",
        "speck",
        "circle",
        "long-edges",
    ],
)
def test_awkward_valid_polygons_agree(geom):
    assert shapely.is_valid(geom)
    assert assert_same_pieces([geom]).size == 0


def test_whole_cells_are_exactly_one():
    _, rows, cols, cov, _ = compiled([cells(3, 4, 9, 7)])
    assert cov.size == 18 and (cov == 1.0).all()
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (4, 6, 3, 8)


def test_unsure_polygons_go_to_exactextract():
    bowtie = shapely.Polygon([(X0 + 30, Y0 - 30), (X0 + 300, Y0 - 300), (X0 + 300, Y0 - 30),
                              (X0 + 30, Y0 - 300)])  # fmt: skip
    overlapping = shapely.MultiPolygon([cells(1, 1, 5, 5), cells(3, 3, 8, 8)])
    outside = shapely.box(X0 - 100, Y0 - 100, X0 + 100, Y0 + 100)  # crosses the grid's corner
    ok = cells(10, 10, 12, 12)
    geoms = [bowtie, ok, overlapping, outside]
    pos, _, _, _, unsure = compiled(geoms)
    assert unsure.tolist() == [0, 2, 3]
    assert set(pos.tolist()) == {1}
    # the engine's coverage gives exactextract's pieces for them, the pass's for the rest
    a = _coverage_exact(np.array(geoms, dtype=object), GRID)
    b = _coverage_exactextract(np.array(geoms, dtype=object), GRID)
    for k in (0, 2, 3):
        np.testing.assert_array_equal(a[3][a[0] == k], b[3][b[0] == k])


def test_known_valid_skips_the_check_only_where_told():
    bowtie = shapely.Polygon([(X0 + 30, Y0 - 30), (X0 + 300, Y0 - 300), (X0 + 300, Y0 - 30),
                              (X0 + 30, Y0 - 300)])  # fmt: skip
    _, _, _, _, unsure = compiled([bowtie, cells(1, 1, 2, 2)], known_valid=np.array([False, True]))
    assert unsure.tolist() == [0]


def test_geographic_grid():
    rng = np.random.default_rng(5)
    x = rng.uniform(-75.99, -75.91, 40)
    y = rng.uniform(-7.09, -7.01, 40)
    geoms = shapely.buffer(shapely.points(x, y), rng.uniform(0.0002, 0.004, 40), quad_segs=5)
    assert assert_same_pieces(geoms, DEG).size == 0


@st.composite
def polygons(draw):
    """Random valid polygons on GRID: stars, their union with a second one, holes cut out."""
    cx = draw(st.floats(X0 + 600, X0 + 5400))
    cy = draw(st.floats(Y0 - 3900, Y0 - 600))
    n = draw(st.integers(3, 14))
    radii = draw(st.lists(st.floats(1.0, 500.0), min_size=n, max_size=n))
    turn = draw(st.floats(0, 2 * np.pi))
    ang = turn + np.linspace(0, 2 * np.pi, n, endpoint=False)
    g = shapely.Polygon(np.column_stack([cx + np.cos(ang) * radii, cy + np.sin(ang) * radii]))
    kind = draw(st.sampled_from(["star", "hole", "multi", "snapped"]))
    if kind == "hole":
        g = g.difference(shapely.Point(cx, cy).buffer(draw(st.floats(0.5, 60.0)), quad_segs=3))
    elif kind == "multi":
        g = shapely.union(g, shapely.box(cx + 520, cy - 80, cx + 560 + radii[0] / 7, cy + 30.3))
    elif kind == "snapped":  # every vertex on a cell line, or a cell corner
        g = shapely.set_precision(g, RES / 2)
    return g


@settings(max_examples=150, deadline=None)
@given(st.lists(polygons(), min_size=1, max_size=4))
def test_property_agrees_with_exactextract(geoms):
    geoms = [g for g in geoms if shapely.is_valid(g) and not g.is_empty and g.area > 0]
    if geoms:
        unsure = assert_same_pieces(geoms)
        inside = shapely.within(geoms, shapely.box(*GRID_BOUNDS))
        assert not inside[unsure].any()  # only polygons crossing the grid's edge are handed back


@pytest.mark.filterwarnings("ignore::agroforest_geo.errors.NoDataWarning")
def test_forest_cover_matches_the_exactextract_path(tmp_path, monkeypatch):
    import rasterio

    import agroforest_geo as agf

    rng = np.random.default_rng(2)
    arr = rng.integers(0, 101, (150, 200)).astype("uint8")
    arr[20:30, 40:60] = 255
    path = tmp_path / "cover.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=200,
        height=150,
        count=1,
        dtype="uint8",
        crs=32718,
        transform=GRID.transform,
        nodata=255,
    ) as dst:
        dst.write(arr, 1)  # fmt: skip
    x = rng.uniform(X0 + 300, X0 + 5700, 120)
    y = rng.uniform(Y0 - 4200, Y0 - 300, 120)
    geoms = list(shapely.buffer(shapely.points(x, y), rng.uniform(20, 300, 120), quad_segs=4))
    geoms[0] = shapely.Polygon(
        [(X0 + 300, Y0 - 300), (X0 + 900, Y0 - 900), (X0 + 900, Y0 - 300), (X0 + 300, Y0 - 900)]
    )  # a bow-tie, measured as stored
    polys = gpd.GeoDataFrame(geometry=geoms, crs=32718)
    with pytest.warns(agf.errors.GeometryWarning):
        fast = agf.forest_cover(polys, str(path))
    monkeypatch.setenv("AGROFOREST_GEO_COVERAGE", "exactextract")
    with pytest.warns(agf.errors.GeometryWarning):
        ref = agf.forest_cover(polys, str(path))
    # one float32 rounding of a partial piece's fraction at most: ~6e-8 of that piece
    pd.testing.assert_frame_equal(fast, ref, check_exact=False, rtol=1e-7, atol=1e-9)
    assert fast.iloc[0].equals(ref.iloc[0])  # the bow-tie went to exactextract


def test_switch_is_checked(monkeypatch):
    monkeypatch.setenv("AGROFOREST_GEO_COVERAGE", "fast")
    with pytest.raises(ValueError, match="AGROFOREST_GEO_COVERAGE"):
        use_compiled()
