"""Polygon edges follow their geodesics in the raster path (``_geodesic_edges``).

The independent answer: a polygon lying wholly on a raster of constant value
covers exactly its own ellipsoidal area, ``area_ha`` (Karney-exact to ~1e-9,
see test_area.py). With straight edges in the raster's CRS it does not: the
gap (6.5e-6 for 3 km edges at 7° S, 1e-3 and more for 30 km edges) is shown
for each case, so the assertions can fail.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import rasterio
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rasterio.transform import from_origin

import agroforest_geo as agf
import agroforest_geo._geodesic_edges as ge
from agroforest_geo.area import geodesic_area_m2
from agroforest_geo.crs import transform_geoms
from agroforest_geo.raster import integrate

GEOD = pyproj.Geod(ellps="WGS84")
RES_DEG = 0.00025  # the Hansen GFC grid
#: the covered m² of a fully covered polygon equals its area to this (relative)
TOL = 1e-7


def constant_tif(path: Path, x0: float, y0: float, n: int, res: float, crs: str) -> str:
    """An ``n`` × ``n`` raster of 100 (percent cover) from the top-left corner (x0, y0)."""
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=n,
        height=n,
        count=1,
        dtype="uint8",
        crs=crs,
        transform=from_origin(x0, y0, res, res),
        nodata=255,
    ) as dst:
        dst.write(np.full((n, n), 100, np.uint8), 1)
    return str(path)


def geodesic_polygon(lon0: float, lat0: float, shape: str, edge_m: float) -> shapely.Polygon:
    """Triangle or quadrilateral with edges of ``edge_m`` along geodesics ("thin": two)."""
    if shape == "thin":  # two edges of edge_m, 4.5° apart, heading east: 35.31 ha at 3 km
        p1 = GEOD.fwd(lon0, lat0, 90.0, edge_m)[:2]
        p2 = GEOD.fwd(lon0, lat0, 94.5, edge_m)[:2]
        return shapely.Polygon([(lon0, lat0), p1, p2])
    if shape == "triangle":
        azimuths = [80.0, 200.0]  # two edges from the first vertex; the third closes it
    else:
        azimuths = [80.0, 150.0, 215.0]
    pts = [(lon0, lat0)]
    for az in azimuths:
        lon, lat, _ = GEOD.fwd(*pts[-1], az, edge_m)
        pts.append((lon, lat))
    return shapely.Polygon(pts)


def covering_raster(tmp_path: Path, geom: shapely.Geometry, crs: str, res: float) -> str:
    x0, y0, x1, y1 = geom.bounds
    margin = 5 * res
    n = int(np.ceil(max(x1 - x0, y1 - y0) / res)) + 10
    return constant_tif(tmp_path / "constant.tif", x0 - margin, y1 + margin, n, res, crs)


def covered_over_area(polygons: gpd.GeoDataFrame, raster: str) -> np.ndarray:
    fc = agf.forest_cover(polygons, raster)
    assert (fc["valid_share"] > 0.99).all()  # the raster covers the polygon
    return (fc["forest_ha"] / fc["area_ha"]).to_numpy()


def straight_edges(monkeypatch: pytest.MonkeyPatch) -> None:
    """Turn the densification off: every edge is 'short'."""
    monkeypatch.setattr(ge, "MIN_EDGE_M", np.inf)


@pytest.mark.parametrize("shape", ["triangle", "quad", "thin"])
@pytest.mark.parametrize(
    ("edge_m", "lat", "straight_gap"),
    [(3_000.0, -7.0, 3e-6), (30_000.0, -7.0, 3e-5), (3_000.0, 48.0, 3e-5), (30_000.0, 60.0, 3e-4)],
)
def test_fully_covered_polygon_covers_its_area_geographic(
    tmp_path, monkeypatch, shape, edge_m, lat, straight_gap
):
    geom = geodesic_polygon(-76.0, lat, shape, edge_m)
    polygons = gpd.GeoDataFrame(geometry=[geom], crs="EPSG:4326")
    raster = covering_raster(tmp_path, geom, "EPSG:4326", RES_DEG)
    ratio = covered_over_area(polygons, raster)[0]
    assert abs(ratio - 1) < TOL
    straight_edges(monkeypatch)
    # a thin triangle's two long edges bulge the same way, one in, one out: their gaps
    # nearly cancel
    gap = abs(covered_over_area(polygons, raster)[0] - 1)
    assert gap > (straight_gap / 15 if shape == "thin" else straight_gap)


@pytest.mark.parametrize("stored_in", ["EPSG:4326", "EPSG:32718"])
@pytest.mark.parametrize(("edge_m", "x_m"), [(3_000.0, 790_000.0), (30_000.0, 230_000.0)])
def test_fully_covered_polygon_covers_its_area_utm(tmp_path, monkeypatch, stored_in, edge_m, x_m):
    """A UTM raster: the straight UTM segment is not the geodesic either (far from the meridian)."""
    lon, lat = pyproj.Transformer.from_crs(32718, 4326, always_xy=True).transform(x_m, 9_200_000)
    geom = geodesic_polygon(lon, lat, "quad", edge_m)
    polygons = gpd.GeoDataFrame(geometry=[geom], crs="EPSG:4326").to_crs(stored_in)
    in_utm = polygons.to_crs(32718).geometry.iloc[0]
    raster = covering_raster(tmp_path, in_utm, "EPSG:32718", 30.0)
    assert abs(covered_over_area(polygons, raster)[0] - 1) < TOL
    straight_edges(monkeypatch)
    assert abs(covered_over_area(polygons, raster)[0] - 1) > 1e-6


def test_integrate_of_a_constant_is_value_times_area(tmp_path):
    geoms = [geodesic_polygon(-75.5, -9.0, s, 10_000.0) for s in ("triangle", "quad")]
    polygons = gpd.GeoDataFrame(geometry=geoms, crs="EPSG:4326")
    raster = covering_raster(tmp_path, shapely.union_all(geoms), "EPSG:4326", RES_DEG)
    out = integrate(polygons, raster)
    area = geodesic_area_m2(geoms, "EPSG:4326")
    np.testing.assert_allclose(out["value_x_m2"], 100 * area, rtol=TOL)
    np.testing.assert_allclose(out["nodata_m2"], 0, atol=TOL * area.max())


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lat=st.floats(-55.0, 55.0),
    size_m=st.floats(3_000.0, 15_000.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_property_random_polygons_cover_their_area(tmp_path, lat, size_m, seed):
    """Random star-shaped polygons (3-9 vertices, a hole sometimes) with edges over 1 km.

    Shorter edges are left straight on purpose (see the module notes): their gap
    is below 0.1 m² per edge, but not below 1e-7 of a small polygon.
    """
    rng = np.random.default_rng(seed)
    k = int(rng.integers(3, 10))
    az = np.sort(rng.uniform(0, 360, k))
    dist = rng.uniform(0.3, 1.0, k) * size_m
    lon, lat_v, _ = GEOD.fwd(np.full(k, -70.0), np.full(k, lat), az, dist)
    shell = shapely.Polygon(np.column_stack([lon, lat_v]))
    _, _, edges = GEOD.inv(lon, lat_v, np.roll(lon, -1), np.roll(lat_v, -1))
    assume(shell.is_valid and np.min(edges) > 1_000.0)
    holes = []
    if rng.random() < 0.3:  # a small hole around the centre, inside the star
        hlon, hlat, _ = GEOD.fwd(
            np.full(4, -70.0), np.full(4, lat), [0, 90, 180, 270], np.full(4, 0.2 * size_m)
        )
        holes = [np.column_stack([hlon, hlat])]
    geom = shapely.Polygon(shell.exterior.coords, holes)
    assume(geom.is_valid)
    polygons = gpd.GeoDataFrame(geometry=[geom], crs="EPSG:4326")
    raster = covering_raster(tmp_path, geom, "EPSG:4326", RES_DEG)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ratio = covered_over_area(polygons, raster)[0]
    assert abs(ratio - 1) < TOL


# ---------------------------------------------------------------------------
# the transformation itself
# ---------------------------------------------------------------------------


def test_short_edges_come_out_as_a_plain_transformation():
    parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    geoms = np.asarray(parcels.geometry.values, dtype=object)
    src, dst = pyproj.CRS(parcels.crs), pyproj.CRS(32718)
    out = ge.to_crs_geodesic(geoms, src, dst)
    plain = transform_geoms(geoms, pyproj.Transformer.from_crs(src, dst, always_xy=True))
    short = np.setdiff1d(np.arange(geoms.size), ge._with_long_edges(geoms, src))
    assert short.size > 0.8 * geoms.size  # nearly every farm parcel
    assert shapely.equals_exact(out[short], plain[short], tolerance=0).all()
    same = ge.to_crs_geodesic(geoms, src, src)
    assert shapely.equals_exact(same[short], geoms[short], tolerance=0).all()


def test_new_vertices_lie_on_the_geodesic_and_structure_is_kept():
    tri = geodesic_polygon(-76.0, -7.0, "triangle", 5_000.0)
    hole = shapely.Polygon(np.asarray(tri.exterior.coords)[::-1]).buffer(-0.005)
    with_hole = shapely.Polygon(tri.exterior.coords, [hole.exterior.coords])
    multi = shapely.MultiPolygon([tri, geodesic_polygon(-75.0, -7.0, "quad", 3_000.0)])
    small = shapely.box(-76.0, -7.0, -75.999, -6.999)  # ~110 m edges: untouched
    geoms = np.array([with_hole, None, multi, small], dtype=object)
    crs = pyproj.CRS(4326)
    out = ge.to_crs_geodesic(geoms, crs, crs)
    assert out[1] is None
    assert shapely.get_type_id(out).tolist() == [3, -1, 6, 3]
    assert shapely.get_num_interior_rings(out[0]) == 1
    assert out[3].equals_exact(small, tolerance=0)
    # the original vertices are kept, and every new one is on a geodesic edge: the pieces'
    # geodesic lengths add up to the edge's
    xy = np.asarray(out[0].exterior.coords)
    assert len(xy) > 20
    orig = np.asarray(tri.exterior.coords)
    kept = (xy[:, None, :] == orig[None, :, :]).all(axis=2).any(axis=1)
    assert kept.sum() == len(orig)
    _, _, pieces = GEOD.inv(xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1])
    _, _, edges = GEOD.inv(orig[:-1, 0], orig[:-1, 1], orig[1:, 0], orig[1:, 1])
    assert abs(np.sum(pieces) - np.sum(edges)) < 1e-6
    assert np.max(pieces) <= ge._MAX_PIECE_M + 1e-6
    # areas are unchanged (the area path densifies the same geodesics)
    np.testing.assert_allclose(
        geodesic_area_m2(out[[0, 2]], crs), geodesic_area_m2(geoms[[0, 2]], crs), rtol=1e-8
    )


# ---------------------------------------------------------------------------
# the longest edges found by the area pass
# ---------------------------------------------------------------------------


def _longest_by_hand(g: shapely.Geometry | None) -> float:
    """The longest edge of a polygon's rings, one ring at a time (0 for none)."""
    if g is None or g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon"):
        return 0.0
    polys = list(g.geoms) if g.geom_type == "MultiPolygon" else [g]
    best = 0.0
    for p in polys:
        for ring in [p.exterior, *p.interiors]:
            xy = np.asarray(ring.coords)[:, :2]
            if len(xy) > 1:
                best = max(best, float(np.hypot(*np.diff(xy, axis=0).T).max()))
    return best


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.sampled_from(["polygon", "holes", "multi", "long", "empty", "none", "point"]),
        min_size=1,
        max_size=30,
    ),
    st.integers(0, 2**32 - 1),
)
def test_the_area_pass_finds_each_rows_longest_edge(kinds, seed):
    # the edge between the last vertex of one ring and the first of the next is no edge
    from agroforest_geo.area import _measure_m2

    rng = np.random.default_rng(seed)

    def one(kind: str) -> shapely.Geometry | None:
        x, y = rng.uniform(300_000, 700_000), rng.uniform(9.0e6, 9.3e6)
        box = shapely.box(x, y, x + rng.uniform(10, 300), y + rng.uniform(10, 300))
        if kind == "polygon":
            return shapely.Polygon(
                np.c_[x + rng.uniform(0, 400, 7), y + rng.uniform(0, 400, 7)]
            ).convex_hull
        if kind == "holes":
            return box.difference(box.centroid.buffer(3))
        if kind == "multi":  # far apart parts: the jump between them is long
            return shapely.MultiPolygon([box, shapely.box(x + 5e4, y, x + 5e4 + 20, y + 20)])
        if kind == "long":
            return shapely.Polygon([(x, y), (x + 3_000, y), (x, y + 50)])
        if kind == "empty":
            return shapely.Polygon()
        if kind == "point":
            return shapely.Point(x, y)
        return None

    geoms = np.array([one(k) for k in kinds], dtype=object)
    found = _measure_m2(geoms, 32718, max_segment_m=500.0, n_jobs=1, prove=False, max_step=True)
    want = np.array([_longest_by_hand(g) for g in geoms])
    np.testing.assert_allclose(found.max_step, want, rtol=1e-15, atol=0)


def test_long_edges_from_the_area_pass_give_the_same_polygons():
    # the raster verbs pass the longest edges the area pass found; the polygons that come
    # out are those of reading the vertices again, bit for bit
    from agroforest_geo.area import _measure_m2

    parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    geoms = np.asarray(parcels.geometry.values, dtype=object)
    for crs in (pyproj.CRS(parcels.crs), pyproj.CRS(32718)):
        layer = (
            geoms
            if crs == pyproj.CRS(parcels.crs)
            else transform_geoms(
                geoms, pyproj.Transformer.from_crs(parcels.crs, crs, always_xy=True)
            )
        )
        steps = _measure_m2(
            layer, crs, max_segment_m=500.0, n_jobs=1, prove=False, max_step=True
        ).max_step
        for dst in (pyproj.CRS(4326), pyproj.CRS(32718)):
            want = ge.to_crs_geodesic(layer, crs, dst)
            got = ge.to_crs_geodesic(layer, crs, dst, max_step=steps)
            assert shapely.equals_exact(got, want, tolerance=0).all()
