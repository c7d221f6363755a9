"""Ellipsoidal areas: hand-checked values, pyproj.Geod cross-checks and properties."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry.polygon import orient

import agroforest_geo as agf
from agroforest_geo.area import geodesic_area_m2

GEOD = pyproj.Geod(ellps="WGS84")
TO_LL = pyproj.Transformer.from_crs(32718, 4326, always_xy=True)


def _geod_area(geom) -> float:
    """Reference: pyproj.Geod (Karney) on a correctly oriented polygon."""
    if geom.geom_type == "MultiPolygon":
        return sum(_geod_area(g) for g in geom.geoms)
    return abs(GEOD.geometry_area_perimeter(orient(geom, 1))[0])


def _to_ll(geom):
    return shapely.transform(geom, lambda xy: np.column_stack(TO_LL.transform(xy[:, 0], xy[:, 1])))


def test_utm_square_is_one_hectare_over_k_squared():
    # 100 m x 100 m on the UTM 18S map near the central meridian (-75) at 7.2 S
    sq = shapely.box(500_000, 9_200_000, 500_100, 9_200_100)
    gs = gpd.GeoSeries([sq], crs=32718)
    area = agf.area_ha(gs).iloc[0]
    lon, lat = TO_LL.transform(500_050, 9_200_050)
    k2 = pyproj.Proj(32718).get_factors(lon, lat).areal_scale  # = k0^2 on the meridian
    assert k2 == pytest.approx(0.9996**2, rel=1e-6)
    # map area 1 ha, ellipsoidal area 1/k^2 ha: the scale factor varies by ~1e-12 over 100 m
    assert area == pytest.approx(1.0 / k2, rel=1e-9)
    assert area * 10_000 == pytest.approx(_geod_area(_to_ll(sq)), rel=1e-9)


def test_same_answer_in_any_crs():
    sq = shapely.box(500_000, 9_200_000, 500_300, 9_200_200)
    utm = gpd.GeoSeries([sq], crs=32718)
    ll = utm.to_crs(4326)
    merc = utm.to_crs(3857)
    a = agf.area_ha(utm).iloc[0]
    # reprojection moves the vertices only; geodesic edges make every CRS agree
    assert agf.area_ha(ll).iloc[0] == pytest.approx(a, rel=1e-10)
    assert agf.area_ha(merc).iloc[0] == pytest.approx(a, rel=1e-10)
    # the planar Web Mercator area is too large by its areal scale a^2 / (M N cos^2 phi)
    _, lat = TO_LL.transform(500_150, 9_200_100)
    e2 = GEOD.es
    s2 = np.sin(np.radians(lat)) ** 2
    m = GEOD.a * (1 - e2) / (1 - e2 * s2) ** 1.5
    n = GEOD.a / (1 - e2 * s2) ** 0.5
    k2 = GEOD.a**2 / (m * n * np.cos(np.radians(lat)) ** 2)
    assert merc.area.iloc[0] / 10_000 / a == pytest.approx(k2, rel=1e-4)
    assert k2 > 1.02


def _random_parcels(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cx = rng.uniform(-77.2, -76.2, n)
    cy = rng.uniform(-7.6, -6.8, n)
    polys = []
    for i in range(n):
        k = int(rng.integers(4, 14))
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        r = rng.uniform(60, 180, k) / 111_000  # 0.5-10 ha sized shapes, in degrees
        polys.append(shapely.Polygon(np.c_[cx[i] + r * np.cos(ang), cy[i] + r * np.sin(ang)]))
    return np.array(polys, dtype=object)


def test_ten_thousand_random_parcels_match_pyproj_geod():
    polys = _random_parcels(10_000, seed=1)
    ours = geodesic_area_m2(polys, 4326)
    ref = np.array([_geod_area(p) for p in polys])
    # 1e-6 relative is the promise; an absolute 1e-3 m2 covers the reference's own rounding
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-3)
    assert np.median(np.abs(ours - ref) / ref) < 1e-8


@pytest.mark.parametrize("width_deg", [0.001, 0.1, 1.0, 5.0, 9.0])
@pytest.mark.parametrize("lat0", [-12.0, 35.0, 65.0])
def test_large_polygons_with_holes_match_pyproj_geod(width_deg, lat0):
    w = width_deg  # 9 degrees is ~1,000 km
    shell = shapely.box(-80, lat0, -80 + w, lat0 + w)
    hole1 = shapely.box(-80 + 0.2 * w, lat0 + 0.2 * w, -80 + 0.4 * w, lat0 + 0.5 * w)
    hole2 = shapely.Polygon(
        [
            (-80 + 0.6 * w, lat0 + 0.6 * w),
            (-80 + 0.9 * w, lat0 + 0.6 * w),
            (-80 + 0.7 * w, lat0 + 0.9 * w),
        ]
    )
    poly = shapely.Polygon(shell.exterior.coords, [hole1.exterior.coords, hole2.exterior.coords])
    island = shapely.box(-79 + w, lat0, -79 + 1.5 * w, lat0 + 0.3 * w)
    multi = shapely.MultiPolygon([poly, island])
    ours = geodesic_area_m2([poly, multi], 4326)
    assert ours[0] == pytest.approx(_geod_area(poly), rel=1e-7)
    assert ours[1] == pytest.approx(_geod_area(poly) + _geod_area(island), rel=1e-7)


def test_pyproj_reference_values():
    # pyproj's own test (test_geod.py): shell (1,1)-(10,10) with a triangular hole, oriented
    shell = [(1, 1), (1, 10), (10, 10), (10, 1)]
    hole = [(1, 2), (3, 4), (5, 2)]
    poly = shapely.Polygon(shell, [hole])
    assert geodesic_area_m2([poly], 4326)[0] == pytest.approx(944373881400.3394, rel=1e-9)
    # GeographicLib Planimeter0: a ring round the North Pole at 89 N, and a diamond at the equator
    polar = shapely.Polygon([(0, 89), (90, 89), (180, 89), (270, 89)])
    assert geodesic_area_m2([polar], 4326)[0] == pytest.approx(24952305678.0, rel=1e-7)
    diamond = shapely.Polygon([(-1, 0), (0, -1), (1, 0), (0, 1)])
    assert geodesic_area_m2([diamond], 4326)[0] == pytest.approx(24619419146.0, rel=1e-8)


def test_wrongly_oriented_hole_is_still_subtracted():
    shell = [(0, 0), (0.01, 0), (0.01, 0.01), (0, 0.01)]
    hole_ccw = [(0.002, 0.002), (0.004, 0.002), (0.004, 0.004), (0.002, 0.004)]
    good = orient(shapely.Polygon(shell, [hole_ccw]), 1)
    bad = shapely.Polygon(shell[::-1], [hole_ccw])  # shell clockwise, hole counter-clockwise
    a_good, a_bad = geodesic_area_m2([good, bad], 4326)
    assert a_bad == pytest.approx(a_good, rel=1e-12)
    assert a_good == pytest.approx(_geod_area(good), rel=1e-8)


def test_antimeridian_polygon():
    across = shapely.Polygon([(179.9, -17), (-179.9, -17), (-179.9, -16.9), (179.9, -16.9)])
    shifted = shapely.box(-0.1, -17, 0.1, -16.9)
    a, b = geodesic_area_m2([across, shifted], 4326)
    assert a == pytest.approx(b, rel=1e-9)


def test_non_polygons_empty_and_missing():
    gs = gpd.GeoSeries(
        [shapely.Point(0, 0), shapely.LineString([(0, 0), (1, 1)]), shapely.Polygon(), None],
        crs=4326,
    )
    area = agf.area_ha(gs)
    assert area.iloc[0] == pytest.approx(4.0, rel=1e-9)  # a point plot: the EU's 4 ha default
    assert area.iloc[1:3].tolist() == [0.0, 0.0]
    assert np.isnan(area.iloc[3])
    assert np.isnan(area.attrs["point_buffer_ha"].iloc[1:]).all()


def test_result_on_input_index_and_named():
    gs = gpd.GeoSeries([shapely.box(0, 0, 0.01, 0.01)] * 3, index=["b", "a", "c"], crs=4326)
    out = agf.area_ha(gpd.GeoDataFrame(geometry=gs))
    assert out.name == "area_ha"
    assert list(out.index) == ["b", "a", "c"]


def test_missing_crs_names_the_fix():
    with pytest.raises(agf.MissingCRSError, match="set_crs"):
        agf.area_ha(gpd.GeoSeries([shapely.box(0, 0, 1, 1)]))


def test_other_ellipsoid_is_used():
    # PSAD56 (International 1924 ellipsoid) / UTM 18S: area on that ellipsoid, not WGS 84
    sq = shapely.box(500_000, 9_200_000, 500_100, 9_200_100)
    a = agf.area_m2(gpd.GeoSeries([sq], crs=24878)).iloc[0]
    geod = pyproj.Geod(ellps="intl")
    tr = pyproj.Transformer.from_crs(24878, pyproj.CRS(24878).geodetic_crs, always_xy=True)
    ll = shapely.transform(sq, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    assert a == pytest.approx(abs(geod.geometry_area_perimeter(orient(ll))[0]), rel=1e-9)


def test_perimeter_matches_geod():
    poly = shapely.Polygon(
        [(-76.7, -7.2), (-76.69, -7.2), (-76.69, -7.19), (-76.7, -7.19)],
        [[(-76.698, -7.198), (-76.696, -7.198), (-76.696, -7.196)]],
    )
    line = shapely.LineString([(-76.7, -7.2), (-76.6, -7.1)])
    out = agf.perimeter_m(gpd.GeoSeries([poly, line, shapely.Point(0, 0)], crs=4326))
    # holes count in the perimeter (as in shapely's length); pyproj reports the exterior only
    rings = [poly.exterior, *poly.interiors]
    expected = sum(GEOD.geometry_length(shapely.LineString(r.coords)) for r in rings)
    assert out.iloc[0] == pytest.approx(expected, rel=1e-12)
    assert out.iloc[1] == pytest.approx(GEOD.geometry_length(line), rel=1e-12)
    assert out.iloc[2] == 0.0


@settings(max_examples=60, deadline=None)
@given(
    x0=st.floats(-179.0, 178.0),
    y0=st.floats(-80.0, 79.0),
    w=st.floats(1e-4, 0.5),
    h=st.floats(1e-4, 0.5),
)
def test_area_is_additive(x0, y0, w, h):
    # a quadrilateral cut along its (geodesic) diagonal into two triangles
    c = [(x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h)]
    whole = shapely.Polygon(c)
    t1 = shapely.Polygon([c[0], c[1], c[2]])
    t2 = shapely.Polygon([c[0], c[2], c[3]])
    a, b, d = geodesic_area_m2([whole, t1, t2], 4326)
    assert a == pytest.approx(b + d, rel=1e-9)
    assert a == pytest.approx(_geod_area(whole), rel=1e-7)


def test_impossible_coordinates_give_nan_and_a_warning():
    # UTM metres labelled as degrees
    gs = gpd.GeoSeries(
        [shapely.box(500_000, 9_200_000, 500_100, 9_200_100), shapely.box(0, 0, 0.001, 0.001)],
        crs=4326,
    )
    with pytest.warns(agf.GeometryWarning, match="impossible"):
        area = agf.area_ha(gs)
    assert np.isnan(area.iloc[0])
    assert area.iloc[1] == pytest.approx(_geod_area(gs.iloc[1]) / 1e4, rel=1e-9)


def test_polygons_inside_geometry_collections_count():
    sq = shapely.box(0, 0, 0.001, 0.001)
    gc = shapely.GeometryCollection([sq, shapely.LineString([(0, 0), (1, 1)]), shapely.Point(5, 5)])
    nested = shapely.GeometryCollection(
        [shapely.MultiPolygon([sq, shapely.box(1, 1, 1.001, 1.001)])]
    )
    a_sq, a_gc, a_nested = geodesic_area_m2([sq, gc, nested], 4326)
    assert a_gc == pytest.approx(a_sq, rel=1e-12)
    assert a_nested == pytest.approx(a_sq + _geod_area(shapely.box(1, 1, 1.001, 1.001)), rel=1e-9)


def test_a_feature_area_does_not_depend_on_its_neighbours():
    # same bits whether or not another feature in the call crosses the antimeridian
    parcels = _random_parcels(200, seed=3)
    across = shapely.Polygon([(179.9, -17), (-179.9, -17), (-179.9, -16.9), (179.9, -16.9)])
    alone = geodesic_area_m2(parcels, 4326)
    mixed = geodesic_area_m2(np.append(parcels, across), 4326)[:-1]
    shuffled = geodesic_area_m2(parcels[::-1], 4326)[::-1]
    assert np.array_equal(alone, mixed)
    assert np.array_equal(alone, shuffled)
