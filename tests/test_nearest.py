"""The coarse-to-fine nearest-boundary search (``_nearest``) and protected_overlap's distances.

The references are brute force: every geometry measured by GEOS against every
boundary piece (in the plane), and, for ``protected_overlap``, the distance's
definition applied area by area (the planar closest points against each
area's boundary, the nearest of them, measured on the ellipsoid).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import agroforest_geo as agf
import agroforest_geo._nearest as nearest
import agroforest_geo.protected as protected_module

pytest.importorskip("numba")

X0, Y0 = 500_000.0, 9_200_000.0
UTM = "EPSG:32718"


def _blob(rng, cx, cy, r, n):
    """A simple polygon of ``n`` vertices around (cx, cy), radius about ``r``."""
    t = np.sort(rng.uniform(0, 2 * np.pi, n))
    rr = r * rng.uniform(0.6, 1.0, n)
    return shapely.Polygon(np.column_stack([cx + rr * np.cos(t), cy + rr * np.sin(t)]))


def _with_hole(poly, frac=0.4):
    c = poly.centroid
    hole = shapely.affinity.scale(poly, frac, frac, origin=c)
    return shapely.Polygon(poly.exterior.coords, [hole.exterior.coords])


def _layout(seed, n_geoms=60, n_areas=4, holes=True, multi=True):
    """Random areas (some with holes) and random parcels (some multi-part, some with holes)."""
    rng = np.random.default_rng(seed)
    areas = []
    for _ in range(n_areas):
        a = _blob(
            rng, *rng.uniform(0, 20_000, 2), rng.uniform(500, 3_000), int(rng.integers(8, 300))
        )
        areas.append(_with_hole(a) if holes and rng.random() < 0.4 else a)
    geoms = []
    for _ in range(n_geoms):
        g = _blob(
            rng, *rng.uniform(-3_000, 23_000, 2), rng.uniform(20, 400), int(rng.integers(3, 14))
        )
        if multi and rng.random() < 0.15:
            g = shapely.MultiPolygon([g, shapely.affinity.translate(g, 900, -300)])
        elif holes and rng.random() < 0.15:
            g = _with_hole(g)
        geoms.append(g)
    areas = shapely.make_valid(np.array(areas, dtype=object))
    geoms = shapely.make_valid(np.array(geoms, dtype=object))
    return (
        np.array([shapely.union_all(shapely.get_parts(a)) for a in areas], dtype=object),
        np.array([shapely.union_all(shapely.get_parts(g)) for g in geoms], dtype=object),
    )


def _pieces(areas, n_vertices):
    return protected_module._boundary_chunks(areas, np.arange(areas.size), n_vertices)[0]


def _brute_distance(pieces, geoms):
    """GEOS distance from each geometry to each piece, the least per geometry."""
    i = np.repeat(np.arange(geoms.size), pieces.size)
    j = np.tile(np.arange(pieces.size), geoms.size)
    return shapely.distance(pieces[j], geoms[i]).reshape(geoms.size, pieces.size).min(axis=1)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n_vertices=st.sampled_from([2, 3, 8, 16, 64]),
    blocks=st.sampled_from([0.5, 6.0, 50.0]),
)
def test_nearest_segment_matches_brute_force(seed, n_vertices, blocks):
    areas, geoms = _layout(seed)
    pieces = _pieces(areas, n_vertices)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(nearest, "_BLOCK_DIAGONALS", blocks)
        xy, k, _ = nearest.nearest_segments(pieces, nearest.Outlines.of(geoms))
    seg = shapely.linestrings(np.stack([xy[k], xy[k + 1]], axis=1))
    got = shapely.distance(seg, geoms)
    np.testing.assert_allclose(got, _brute_distance(pieces, geoms), rtol=1e-12, atol=1e-9)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_closest_points_are_those_of_the_whole_prepared_boundary(seed):
    # random layouts have one nearest pair of points: the same bits as the prepared search
    areas, geoms = _layout(seed, holes=seed % 2 == 0)
    pieces = _pieces(areas, 16)
    far = _brute_distance(pieces, geoms) > 0
    geoms = geoms[far]
    edges = shapely.multilinestrings(pieces)
    shapely.prepare(edges)
    reference = nearest.closest_points_prepared(edges, geoms)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(nearest, "MIN_COMPILED", 1)
        got = nearest.closest_points(pieces, nearest.Outlines.of(geoms), lambda: geoms)
        np.testing.assert_array_equal(got, reference)


def test_adversarial_cases_give_the_brute_force_distance():
    square = shapely.box(0, 0, 100, 100)
    boundary = np.array(
        [
            shapely.LineString([(0, 0), (100, 0), (100, 100), (0, 100), (0, 0)]),
            shapely.LineString([(300, 0), (300, 0), (300, 50), (300, 50)]),  # repeated vertices
            shapely.LineString([(500, 500), (500, 500)]),  # a zero-length piece
        ],
        dtype=object,
    )
    geoms = np.array(
        [
            shapely.box(200, 0, 250, 100),  # parallel edges 50 m apart: a tie along 50 m
            shapely.box(100, 100, 150, 150),  # touches a corner: 0
            shapely.box(50, 50, 150, 60),  # crosses an edge: 0
            shapely.box(20, 20, 80, 80),  # inside the square's ring, 20 m from it
            shapely.Polygon([(301, 60), (320, 60), (310, 70)]),  # nearest: a repeated vertex
            shapely.box(495, 495, 499, 499),  # nearest: the zero-length piece
            shapely.MultiPolygon([shapely.box(-90, 40, -80, 50), shapely.box(900, 0, 910, 10)]),
            shapely.Polygon(
                shapely.box(-400, -400, 700, 700).exterior.coords,
                [shapely.box(-300, -300, 650, 650).exterior.coords],
            ),  # its hole holds everything: 50 m from its inner ring
            square,  # the square itself: on the boundary
        ],
        dtype=object,
    )
    expected = [50, 0, 0, 20, np.hypot(1, 10), np.hypot(1, 1), 80, 150, 0]
    np.testing.assert_allclose(_brute_distance(boundary, geoms), expected, rtol=1e-12)
    outlines = nearest.Outlines.of(geoms)
    xy, k, m = nearest.nearest_segments(boundary, outlines)
    seg = shapely.linestrings(np.stack([xy[k], xy[k + 1]], axis=1))
    np.testing.assert_allclose(shapely.distance(seg, geoms), expected, rtol=1e-12, atol=1e-12)
    own = shapely.linestrings(np.stack([outlines.xy[m], outlines.xy[m + 1]], axis=1))
    np.testing.assert_allclose(shapely.distance(seg, own), expected, rtol=1e-12, atol=1e-12)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(nearest, "MIN_COMPILED", 1)
        pts = nearest.closest_points(boundary, outlines, lambda: geoms)
    np.testing.assert_allclose(
        np.hypot(*(pts[0::2] - pts[1::2]).T), expected, rtol=1e-12, atol=1e-12
    )
    # a tie: the first nearest segment in vertex order, the zero-length one at (300, 0)
    # (vertices 0-4 are the square's ring, 5-8 the second piece)
    assert k[0] == 5


def test_tiny_geometries_spread_far_apart():
    # boxes of 1 µm over 4,000 km (blocks of 6 median diagonals would be 4e11 a side; they
    # are capped at 2**20 a side): the distances are right
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 4e6, (200, 2))
    geoms = shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + 1e-6, xy[:, 1] + 1e-6)
    areas = np.array([_blob(rng, 2e6, 2e6, 5e5, 40), _blob(rng, 1e5, 3e6, 2e4, 12)])
    pieces = _pieces(areas, 8)
    far = _brute_distance(pieces, geoms) > 0
    geoms = geoms[far]
    xy, k, _ = nearest.nearest_segments(pieces, nearest.Outlines.of(geoms))
    seg = shapely.linestrings(np.stack([xy[k], xy[k + 1]], axis=1))
    got = shapely.distance(seg, geoms)
    np.testing.assert_allclose(got, _brute_distance(pieces, geoms), rtol=1e-12)


def _frames(parcels, prot, **kw):
    return agf.protected_overlap(parcels, prot, buffer_m=300, **kw)


def _generated_layers(seed, crs):
    areas, geoms = _layout(seed, n_geoms=400, n_areas=5)
    shift = shapely.affinity.translate
    areas = np.array([shift(a, X0, Y0) for a in areas], dtype=object)
    geoms = np.array([shift(g, X0, Y0) for g in geoms], dtype=object)
    prot = gpd.GeoDataFrame(
        {"area_id": [f"a{i}" for i in range(areas.size)], "category": "park"},
        geometry=list(areas),
        crs=UTM,
    )
    parcels = gpd.GeoDataFrame(
        {"parcel_id": [f"p{i}" for i in range(geoms.size)]}, geometry=list(geoms), crs=UTM
    )
    return parcels.to_crs(crs), prot.to_crs(crs)


@pytest.mark.parametrize("crs", [UTM, "EPSG:4326"])
@pytest.mark.parametrize("seed", [3, 17])
def test_protected_overlap_search_and_threads_change_no_bit(crs, seed, monkeypatch):
    parcels, prot = _generated_layers(seed, crs)
    monkeypatch.setattr(nearest, "MIN_COMPILED", 10**9)  # the prepared search everywhere
    reference = _frames(parcels, prot, n_jobs=1)
    assert (reference.distance_to_protected_m > 0).sum() > 200  # most parcels are measured
    monkeypatch.setattr(nearest, "MIN_COMPILED", 1)
    monkeypatch.setattr(protected_module, "_MIN_ROWS_PER_JOB", 50)
    for n_jobs in (1, 2, 3, -1):
        res = _frames(parcels, prot, n_jobs=n_jobs)
        pd.testing.assert_frame_equal(res, reference, check_exact=True)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_protected_distance_is_the_definition_applied_area_by_area(seed):
    # the definition, by brute force: per area, GEOS's planar closest points to its boundary;
    # the nearest area's points, measured on the ellipsoid (layer in UTM)
    parcels, prot = _generated_layers(seed, UTM)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(nearest, "MIN_COMPILED", 1)
        got = _frames(parcels, prot).distance_to_protected_m.to_numpy()
    g = parcels.geometry.values
    rings = [shapely.multilinestrings(shapely.get_rings(a)) for a in prot.geometry.values]
    planar = np.column_stack([shapely.distance(r, g) for r in rings])
    best = planar.argmin(axis=1)
    lines = shapely.shortest_line(np.array(rings, dtype=object)[best], g)
    pts = shapely.get_coordinates(lines)
    geo = agf.crs.geodetic_crs(pyproj.CRS(UTM))
    back = pyproj.Transformer.from_crs(UTM, geo, always_xy=True)
    lon, lat = back.transform(pts[:, 0], pts[:, 1])
    _, _, geodesic = geo.get_geod().inv(lon[0::2], lat[0::2], lon[1::2], lat[1::2])
    far = ~shapely.intersects(shapely.union_all(prot.geometry.values), g)
    assert far.sum() > 200
    assert np.array_equal(got[~far], np.zeros((~far).sum()))
    np.testing.assert_array_equal(got[far], np.asarray(geodesic)[far])
