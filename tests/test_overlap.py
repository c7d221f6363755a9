"""Tests of agroforest_geo.overlap on layouts whose answers are known by hand.

Layouts are in UTM 18S (EPSG:32718) near easting 500 000 (the central meridian)
and northing 9 200 000 (about 7.2° S). A map area A there is A / k² on the
ellipsoid, k being the UTM point scale factor (0.9996 at the central meridian).
Over a few hundred metres k varies by less than 1e-9, and the ellipsoidal area
method agrees with pyproj.Geod to 1e-7, so areas are asserted to 1e-6 relative.
"""

from __future__ import annotations

import itertools
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import agroforest_geo as agf
from agroforest_geo.area import geodesic_area_m2

X0, Y0 = 500_000.0, 9_200_000.0
UTM = "EPSG:32718"
REL = 1e-6
_TO_LONLAT = pyproj.Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)


def areal_scale(x: float, y: float) -> float:
    lon, lat = _TO_LONLAT.transform(x, y)
    return float(pyproj.Proj(32718).get_factors(lon, lat).areal_scale)


def linear_scale(x: float, y: float) -> float:
    lon, lat = _TO_LONLAT.transform(x, y)
    return float(pyproj.Proj(32718).get_factors(lon, lat).meridional_scale)


def box(x: float, y: float, w: float = 100.0, h: float | None = None) -> shapely.Polygon:
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + (w if h is None else h))


def layer(geoms: list, ids: list[str] | None = None, id_name: str = "parcel_id", **cols):
    ids = ids or [f"p{i}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({id_name: ids, **cols}, geometry=list(geoms), crs=UTM)


def ellipsoidal_m2(geom) -> float:
    # parts, so that a GeometryCollection (polygon + touching line) counts its polygons
    return float(geodesic_area_m2(shapely.get_parts(geom), UTM).sum())


# ------------------------------------------------------------------ overlaps
def test_offset_squares_overlap_half_hectare():
    pairs = agf.overlaps(layer([box(0, 0), box(50, 0)], ["a", "b"]))
    assert len(pairs) == 1
    row = pairs.iloc[0]
    assert (row.parcel_id_left, row.parcel_id_right, row.relation) == ("a", "b", "partial")
    expected_ha = 5_000 / areal_scale(X0 + 75, Y0 + 50) / 10_000
    assert row.overlap_ha == pytest.approx(expected_ha, rel=REL)
    assert row.overlap_ha == pytest.approx(0.5004, abs=1e-4)
    assert row.share_of_left == pytest.approx(0.5, rel=REL)
    assert row.share_of_right == pytest.approx(0.5, rel=REL)
    assert row.geometry.equals(box(50, 0, 50, 100))
    assert pairs.crs == UTM


def test_result_columns_and_other_layer_ids():
    parcels = layer([box(0, 0), box(500, 0)], ["a", "b"])
    areas = layer([box(50, 50), box(520, 0, 10)], ["x", "y"], id_name="area_id")
    pairs = agf.overlaps(parcels, areas)
    assert list(pairs.columns) == [
        "parcel_id_left",
        "area_id_right",
        "overlap_ha",
        "share_of_left",
        "share_of_right",
        "relation",
        "geometry",
    ]
    assert pairs[["parcel_id_left", "area_id_right", "relation"]].values.tolist() == [
        ["a", "x", "partial"],
        ["b", "y", "contains"],
    ]
    assert pairs.overlap_ha.iloc[0] == pytest.approx(ellipsoidal_m2(box(50, 50, 50)) / 1e4, rel=REL)
    assert pairs.share_of_right.iloc[1] == pytest.approx(1.0, rel=REL)
    assert pairs.share_of_left.iloc[1] == pytest.approx(0.01, rel=REL)  # 10 m x 10 m in 1 ha


@pytest.mark.parametrize(("order", "relation"), [((0, 1), "contains"), ((1, 0), "within")])
def test_square_inside_another(order, relation):
    geoms = [box(0, 0), box(10, 10, 20)]
    pairs = agf.overlaps(layer([geoms[i] for i in order], ["first", "second"]))
    assert pairs.relation.tolist() == [relation]
    small = pairs.share_of_right if relation == "contains" else pairs.share_of_left
    assert small.iloc[0] == pytest.approx(1.0, rel=REL)
    assert pairs.overlap_ha.iloc[0] == pytest.approx(
        400 / areal_scale(X0 + 20, Y0 + 20) / 1e4, rel=REL
    )


def test_square_inside_touching_boundary_is_contains():
    pairs = agf.overlaps(layer([box(0, 0), box(0, 0, 30)]))
    assert pairs.relation.tolist() == ["contains"]


def test_exact_copy_is_duplicate_once():
    pairs = agf.overlaps(layer([box(0, 0), box(300, 0), box(0, 0)], ["a", "b", "c"]))
    assert pairs[["parcel_id_left", "parcel_id_right", "relation"]].values.tolist() == [
        ["a", "c", "duplicate"]
    ]
    assert pairs.share_of_left.iloc[0] == pytest.approx(1.0, rel=1e-12)


def test_duplicate_with_reordered_vertices():
    ring = [(X0, Y0), (X0 + 100, Y0), (X0 + 100, Y0 + 100), (X0, Y0 + 100)]
    a = shapely.Polygon(ring)
    b = shapely.Polygon(ring[2:] + ring[:2])  # same square, other start vertex
    assert agf.overlaps(layer([a, b])).relation.tolist() == ["duplicate"]


@pytest.mark.parametrize(
    "second",
    [box(100, 0), box(100, 100), box(100, 30, 100, 20), box(0, 100, 50)],
    ids=["edge", "corner", "partial-edge", "edge-above"],
)
def test_touching_is_not_an_overlap(second):
    assert len(agf.overlaps(layer([box(0, 0), second]))) == 0


def test_parcel_filling_a_hole_is_not_an_overlap():
    outer = shapely.Polygon(
        box(0, 0, 300).exterior.coords, [box(100, 100).exterior.coords]
    )  # 300 m square with a 100 m hole
    in_hole = box(100, 100)
    smaller = box(120, 120, 20)
    straddling = box(50, 100, 100)  # half in the hole, half on the ring
    pairs = agf.overlaps(layer([outer, in_hole, smaller, straddling], ["o", "h", "s", "x"]))
    got = {(r.parcel_id_left, r.parcel_id_right): r for r in pairs.itertuples()}
    # o meets h and s only along the hole's ring, or not at all: no pair
    assert set(got) == {("o", "x"), ("h", "s"), ("h", "x"), ("s", "x")}
    assert got[("o", "x")].overlap_ha == pytest.approx(
        ellipsoidal_m2(box(50, 100, 50, 100)) / 1e4, rel=REL
    )
    assert got[("o", "x")].share_of_left == pytest.approx(5_000 / 80_000, rel=REL)
    assert got[("o", "x")].relation == "partial"


def test_multipolygon_pairs():
    multi = shapely.MultiPolygon([box(0, 0), box(1_000, 0)])
    pairs = agf.overlaps(layer([multi, box(50, 0), box(1_000, 50)], ["m", "a", "b"]))
    assert pairs[["parcel_id_left", "parcel_id_right"]].values.tolist() == [["m", "a"], ["m", "b"]]
    assert pairs.share_of_left.tolist() == pytest.approx([0.25, 0.25], rel=REL)
    # a multipolygon overlapping both of its parts' neighbours at once
    wide = shapely.MultiPolygon([box(50, 0), box(1_050, 0)])
    pairs = agf.overlaps(layer([multi, wide], ["m", "w"]))
    assert pairs.overlap_ha.iloc[0] == pytest.approx(
        2 * 5_000 / areal_scale(X0 + 500, Y0 + 50) / 1e4, rel=REL
    )
    assert pairs.geometry.iloc[0].geom_type == "MultiPolygon"


def test_min_overlap_drops_slivers_only_when_asked():
    gdf = layer([box(0, 0), box(99.9, 0), box(300, 0), box(350, 0)])  # 10 m² and 5000 m²
    assert len(agf.overlaps(gdf)) == 2
    pairs = agf.overlaps(gdf, min_overlap_m2=100)
    assert pairs.parcel_id_left.tolist() == ["p2"]
    assert pairs.attrs["n_below_min_overlap"] == 1
    with pytest.raises(ValueError, match="min_overlap_m2"):
        agf.overlaps(gdf, min_overlap_m2=-1)


def test_degrees_give_the_same_hectares():
    gdf = layer([box(0, 0), box(50, 20), box(10, 10, 20)])
    utm = agf.overlaps(gdf)
    deg = agf.overlaps(gdf.to_crs(4326))
    assert deg.crs.to_epsg() == 4326
    assert deg.relation.tolist() == utm.relation.tolist()
    # the overlap's own vertices are computed in degrees: straight lines there and
    # in UTM differ by < 1 mm over 100 m, so 1e-6 holds
    assert deg.overlap_ha.to_numpy() == pytest.approx(utm.overlap_ha.to_numpy(), rel=REL)


def test_lines_never_overlap_and_a_point_plot_is_its_4_ha_circle():
    gdf = layer([box(0, 0), shapely.Point(X0 + 50, Y0 + 50), box(0, 0, 100, 50).boundary])
    pairs = agf.overlaps(gdf)
    # the 1 ha square lies inside the 4 ha circle (radius ~113 m) around its centre
    assert pairs[["parcel_id_left", "parcel_id_right", "relation"]].values.tolist() == [
        ["p0", "p1", "within"]
    ]
    assert pairs["point_buffer_ha_right"].tolist() == [4.0]
    assert len(agf.overlaps(gdf.iloc[[0]], gdf.iloc[[2]])) == 0


def _random_layer(rng, n, spread, prefix, id_name="parcel_id"):
    xy = rng.uniform(0, spread, (n, 2))
    wh = rng.uniform(30, 250, (n, 2))
    geoms = shapely.box(
        X0 + xy[:, 0], Y0 + xy[:, 1], X0 + xy[:, 0] + wh[:, 0], Y0 + xy[:, 1] + wh[:, 1]
    )
    # rotate some so that edges are not axis-parallel
    geoms = np.array(
        [shapely.affinity.rotate(g, a) for g, a in zip(geoms, rng.uniform(0, 90, n), strict=True)]
    )
    return layer(list(geoms), [f"{prefix}{i}" for i in range(n)], id_name=id_name)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_geopandas_overlay(seed):
    rng = np.random.default_rng(seed)
    a = _random_layer(rng, 120, 2_000, "a")
    b = _random_layer(rng, 90, 2_000, "b", id_name="area_id")
    pairs = agf.overlaps(a, b)
    ref = gpd.overlay(a, b, how="intersection", keep_geom_type=True)
    ref["m2"] = geodesic_area_m2(ref.geometry.values, UTM)
    ref = ref[ref.m2 > 0]
    assert len(pairs) == len(ref)
    merged = pairs.merge(
        ref, left_on=["parcel_id_left", "area_id_right"], right_on=["parcel_id", "area_id"]
    )
    assert len(merged) == len(pairs)
    np.testing.assert_allclose(merged.overlap_ha * 1e4, merged.m2, rtol=1e-9)
    assert pairs.overlap_ha.sum() * 1e4 == pytest.approx(ref.m2.sum(), rel=1e-9)


def test_within_layer_matches_self_overlay():
    rng = np.random.default_rng(7)
    a = _random_layer(rng, 150, 1_500, "a")
    pairs = agf.overlaps(a)
    ref = gpd.overlay(
        a, a.rename(columns={"parcel_id": "pid"}), how="intersection", keep_geom_type=True
    )
    ref = ref[ref.parcel_id < ref.pid]  # ids sort like their rows ("a10" < "a9" does not matter)
    ref["m2"] = geodesic_area_m2(ref.geometry.values, UTM)
    ref = ref[ref.m2 > 0]
    key = np.sort(pairs[["parcel_id_left", "parcel_id_right"]].to_numpy(), axis=1)
    assert len(pairs) == len(ref)
    assert set(map(tuple, key)) == set(zip(ref.parcel_id, ref.pid, strict=True))
    assert pairs.overlap_ha.sum() * 1e4 == pytest.approx(ref.m2.sum(), rel=1e-9)


@st.composite
def parcel_and_disjoint_cells(draw):
    n = draw(st.integers(2, 6))
    cell = draw(st.floats(20, 120))
    keep = draw(st.lists(st.booleans(), min_size=n * n, max_size=n * n))
    cells = [box(i * cell, j * cell, cell) for i in range(n) for j in range(n)]
    cells = [c for c, k in zip(cells, keep, strict=True) if k] or cells[:1]
    x, y = draw(st.floats(-50, n * cell)), draw(st.floats(-50, n * cell))
    w, h = draw(st.floats(1, 300)), draw(st.floats(1, 300))
    angle = draw(st.floats(0, 90))
    parcel = shapely.affinity.rotate(box(x, y, w, h), angle)
    return parcel, cells


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parcel_and_disjoint_cells())
def test_overlaps_with_disjoint_features_never_exceed_the_parcel(case):
    parcel, cells = case
    left = layer([parcel], ["p"])
    pairs = agf.overlaps(left, layer(cells, [f"c{i}" for i in range(len(cells))], "area_id"))
    area = float(agf.area_ha(left).iloc[0])
    # the pieces' new vertices lie on the UTM-straight edge, not on the geodesic the area uses:
    # a difference of ~1e-9 relative at these sizes, so the bound allows 1e-8
    assert pairs.overlap_ha.sum() <= area * (1 + 1e-8)
    assert ((pairs.share_of_left >= 0) & (pairs.share_of_left <= 1)).all()
    # and it equals the parcel's area inside the union of the cells; the pieces and the
    # union-intersection get their cell-edge vertices from two GEOS overlays, which can round
    # differently: on thin slivers that is ~1e-5 m², within the 1e-3 m² absolute tolerance
    # the area tests use
    inside = ellipsoidal_m2(shapely.intersection(parcel, shapely.union_all(cells))) / 1e4
    assert pairs.overlap_ha.sum() == pytest.approx(inside, rel=1e-7, abs=1e-7)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 300), st.floats(0, 300), st.floats(5, 200)), min_size=2, max_size=8
    )
)
def test_within_layer_is_the_upper_triangle_of_the_cross_join(boxes):
    gdf = layer([box(x, y, w) for x, y, w in boxes])
    within = agf.overlaps(gdf)
    cross = agf.overlaps(gdf, gdf)
    cross = cross[cross.parcel_id_left != cross.parcel_id_right]
    assert len(cross) == 2 * len(within)
    idx = {pid: i for i, pid in enumerate(gdf.parcel_id)}
    assert all(
        idx[a] < idx[b] for a, b in zip(within.parcel_id_left, within.parcel_id_right, strict=True)
    )
    flipped = {"contains": "within", "within": "contains"}
    look = {(r.parcel_id_left, r.parcel_id_right): r for r in cross.itertuples()}
    for r in within.itertuples():
        back = look[(r.parcel_id_right, r.parcel_id_left)]
        assert back.overlap_ha == pytest.approx(r.overlap_ha, rel=1e-9)
        assert back.share_of_left == pytest.approx(r.share_of_right, rel=1e-9)
        assert back.relation == flipped.get(r.relation, r.relation)


# ------------------------------------------------------------------ bad input
def test_mixed_crs_raises_with_the_fix():
    a = layer([box(0, 0)])
    with pytest.raises(agf.CRSMismatchError, match=r"to_crs"):
        agf.overlaps(a, a.to_crs(4326))
    with pytest.raises(agf.CRSMismatchError, match=r"to_crs"):
        agf.protected_overlap(a, a.to_crs(4326))
    with pytest.raises(agf.CRSMismatchError):
        agf.containment(a.to_crs(4326), a)


def test_missing_crs_raises():
    with pytest.raises(agf.MissingCRSError, match="set_crs"):
        agf.overlaps(layer([box(0, 0)]).set_crs(None, allow_override=True))


def test_duplicate_ids_are_named():
    gdf = layer([box(0, 0), box(50, 0), box(500, 0), box(600, 0)], ["a", "b", "a", "c"])
    with pytest.raises(agf.DuplicateIdError, match=r"duplicated: a\b"):
        agf.overlaps(gdf)
    with pytest.raises(agf.DuplicateIdError, match="a"):
        agf.protected_overlap(gdf, layer([box(0, 0)], ["z"], "area_id", category=["park"]))


BOWTIE = shapely.Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])


def test_invalid_geometry_raises_listing_ids():
    gdf = layer([box(0, 0), BOWTIE], ["ok", "bowtie"])
    with pytest.raises(agf.InvalidGeometryError, match=r"bowtie.*invalid='repair'"):
        agf.overlaps(gdf)
    with pytest.raises(agf.InvalidGeometryError, match="bowtie"):
        agf.containment(gdf, layer([box(0, 0)]))
    with pytest.raises(ValueError, match=r"\['raise', 'repair', 'nan'\]"):
        agf.overlaps(gdf, invalid="ignore")  # type: ignore[arg-type]


def test_invalid_geometry_repaired_on_request():
    # the bow-tie repairs to two triangles of 2500 m² each; the square overlaps both
    gdf = layer([box(0, 0), BOWTIE], ["sq", "bowtie"])
    pairs = agf.overlaps(gdf, invalid="repair")
    assert pairs.relation.tolist() == ["contains"]
    assert pairs.overlap_ha.iloc[0] == pytest.approx(
        5_000 / areal_scale(X0 + 50, Y0 + 50) / 1e4, rel=REL
    )
    res = agf.protected_overlap(
        gdf, layer([box(0, 0, 50)], ["z"], "area_id", category=["park"]), invalid="repair"
    )
    # the bow-tie's left triangle (0,0)-(50,50)-(0,100) holds 1250 m² of the 50 m square
    assert res.protected_ha.iloc[1] * 1e4 == pytest.approx(
        1_250 / areal_scale(X0 + 25, Y0 + 25), rel=REL
    )


def test_empty_geometries_warn_and_give_no_pair():
    gdf = layer([box(0, 0), shapely.Polygon(), None, box(50, 0)], ["a", "empty", "none", "b"])
    with pytest.warns(agf.GeometryWarning, match=r"empty, none"):
        pairs = agf.overlaps(gdf)
    assert pairs[["parcel_id_left", "parcel_id_right"]].values.tolist() == [["a", "b"]]


# ------------------------------------------------------------------ protected_overlap
def protected_layer():
    park = box(0, 50, 300, 450)  # y from 50
    buffer_zone = box(0, 30, 300, 100)  # overlaps the park between y 50 and 130
    return layer(
        [park, buffer_zone],
        ["park", "bz"],
        "area_id",
        category=["national_park", "buffer_zone"],
        name=["Park", "Buffer zone"],
    )


def test_protected_union_is_not_double_counted():
    parcels = layer(
        [box(0, 0), box(500, 0), box(100, 200), box(0, -200), box(400, 0)],
        ["straddle", "far", "inside", "below", "touch"],
    )
    res = agf.protected_overlap(parcels, protected_layer(), buffer_m=150)
    assert res.index.equals(parcels.index)
    k2 = areal_scale(X0 + 50, Y0 + 50)
    # straddle: 0 <= y <= 100, protected from y = 30 -> 100 x 70 m, once
    assert res.protected_ha.iloc[0] * 1e4 == pytest.approx(7_000 / k2, rel=REL)
    assert res.protected_share.iloc[0] == pytest.approx(0.7, rel=REL)
    assert res.n_protected_areas.iloc[0] == 2
    assert res.protected_area_ids.iloc[0] == "park; bz"
    assert res.protected_categories.iloc[0] == "national_park; buffer_zone"
    assert res.distance_to_protected_m.iloc[0] == 0
    # inside the park only
    assert res.protected_share.iloc[2] == pytest.approx(1.0, rel=REL)
    assert res.protected_area_ids.iloc[2] == "park"
    # far: 200 m east of x = 300; below: from y = -100 up to the buffer zone at y = 30
    k = linear_scale(X0 + 400, Y0 + 50)
    assert res.distance_to_protected_m.iloc[1] == pytest.approx(200 / k, rel=REL)
    assert res.distance_to_protected_m.iloc[3] == pytest.approx(130 / k, rel=REL)
    assert res.in_buffer_band.tolist() == [False, False, False, True, True]
    # "touch" is 100 m east of x = 300, inside the 150 m band
    assert res.distance_to_protected_m.iloc[4] == pytest.approx(100 / k, rel=REL)
    for col in ("protected_ha", "protected_share", "n_protected_areas"):
        assert res[col].iloc[[1, 3, 4]].eq(0).all()
    assert res.protected_area_ids.iloc[1] == ""
    assert res.area_ha.iloc[1] * 1e4 == pytest.approx(10_000 / k2, rel=REL)


def test_edge_contact_gives_zero_distance_but_no_area():
    res = agf.protected_overlap(layer([box(300, 100)]), protected_layer(), buffer_m=10)
    assert res.distance_to_protected_m.iloc[0] == 0
    assert res.protected_ha.iloc[0] == 0
    assert res.n_protected_areas.iloc[0] == 0
    assert bool(res.in_buffer_band.iloc[0])


def test_buffer_zero_never_flags():
    res = agf.protected_overlap(layer([box(300, 100), box(600, 0)]), protected_layer())
    assert not res.in_buffer_band.any()


def _wiggly_circle(cx, cy, r, n, rng):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    rr = r * (1 + 0.08 * np.sin(7 * t) + 0.02 * rng.standard_normal(n))
    return shapely.Polygon(np.column_stack([X0 + cx + rr * np.cos(t), Y0 + cy + rr * np.sin(t)]))


@pytest.mark.parametrize("crs", [UTM, "EPSG:4326"])
def test_tiled_large_polygons_match_direct_intersection(crs):
    rng = np.random.default_rng(11)
    big = [
        _wiggly_circle(2_000, 2_000, 1_500, 4_000, rng),
        _wiggly_circle(3_200, 2_500, 900, 3_000, rng),
    ]
    prot = layer(big, ["A", "B"], "area_id", category=["park", "redd_plus"]).to_crs(crs)
    parcels = _random_layer(rng, 300, 4_500, "p").to_crs(crs)
    res_tiled = agf.protected_overlap(parcels, prot, max_tile_vertices=32)
    res_whole = agf.protected_overlap(parcels, prot, max_tile_vertices=100_000)
    union = shapely.union_all(prot.geometry.values)
    direct = geodesic_area_m2(shapely.intersection(parcels.geometry.values, union), crs) / 1e4
    assert (direct > 0).sum() > 20 and (direct == 0).sum() > 20  # the layout is informative
    # tiles add vertices on parcel edges; in degrees a straight edge is not a geodesic
    # (< 0.2 mm off over 300 m at 7° S), which moves areas by < 1e-5 relative
    rtol = 1e-7 if crs == UTM else 1e-5
    np.testing.assert_allclose(res_tiled.protected_ha, direct, rtol=rtol, atol=1e-9)
    np.testing.assert_allclose(res_whole.protected_ha, direct, rtol=rtol, atol=1e-9)
    touched = shapely.relate_pattern(
        parcels.geometry.to_numpy()[:, None], prot.geometry.to_numpy()[None, :], "T********"
    )
    expected_ids = ["; ".join(prot.area_id[t]) for t in touched]
    assert res_tiled.protected_area_ids.tolist() == expected_ids
    # distances: brute force in UTM agrees to the UTM scale factor (< 0.1 %)
    far = res_tiled.distance_to_protected_m > 0
    utm_p = parcels.to_crs(UTM).geometry.values[far.to_numpy()]
    brute = shapely.distance(utm_p, shapely.union_all(prot.to_crs(UTM).geometry.values))
    np.testing.assert_allclose(res_tiled.distance_to_protected_m[far], brute, rtol=1e-3)


def test_protected_overlap_matches_overlay_on_dissolved_areas():
    rng = np.random.default_rng(5)
    prot = layer(
        [_wiggly_circle(1_000, 1_000, 700, 500, rng), box(1_200, 600, 800)],
        ["A", "B"],
        "area_id",
        category=["park", "buffer_zone"],
    )
    parcels = _random_layer(rng, 200, 2_500, "p")
    res = agf.protected_overlap(parcels, prot)
    ref = gpd.overlay(parcels, prot.dissolve(), how="intersection", keep_geom_type=True)
    ref_m2 = pd.Series(geodesic_area_m2(ref.geometry.values, UTM), index=ref.parcel_id)
    ref_m2 = ref_m2.groupby(level=0).sum().reindex(parcels.parcel_id, fill_value=0.0)
    # tiles add vertices on parcel edges (geodesic between them): 1e-7 as in the other tests
    np.testing.assert_allclose(res.protected_ha * 1e4, ref_m2.to_numpy(), rtol=1e-7, atol=1e-6)


def test_protected_empty_parcel_keeps_its_row():
    parcels = layer([box(0, 0), shapely.Polygon()], ["a", "e"])
    with pytest.warns(agf.GeometryWarning):
        res = agf.protected_overlap(parcels, protected_layer())
    assert len(res) == 2
    assert res.area_ha.iloc[1] == 0 and res.protected_ha.iloc[1] == 0
    assert np.isnan(res.protected_share.iloc[1]) and np.isnan(res.distance_to_protected_m.iloc[1])


def test_protected_options_are_checked():
    parcels = layer([box(0, 0)])
    with pytest.raises(ValueError, match="buffer_m"):
        agf.protected_overlap(parcels, protected_layer(), buffer_m=-5)
    with pytest.raises(agf.MissingColumnError, match="category_column=None"):
        agf.protected_overlap(parcels, protected_layer().drop(columns="category"))
    res = agf.protected_overlap(
        parcels, protected_layer().drop(columns="category"), category_column=None
    )
    assert res.protected_categories.iloc[0] == ""


def test_protected_real_park_in_degrees(shared_data):
    path = shared_data / "perugeopkg" / "anp" / "pn_río_abiseo.gpkg"
    park = gpd.read_file(path).reset_index(names="area_id")
    park["category"] = "national_park"
    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = park.total_bounds
    lon = rng.uniform(x0 - 0.05, x1 + 0.05, 400)
    lat = rng.uniform(y0 - 0.05, y1 + 0.05, 400)
    d = rng.uniform(0.001, 0.004, 400)  # ~100-450 m squares
    parcels = gpd.GeoDataFrame(
        {"parcel_id": [f"p{i}" for i in range(400)]},
        geometry=shapely.box(lon, lat, lon + d, lat + d),
        crs=park.crs,
    )
    res = agf.protected_overlap(parcels, park)
    inter = shapely.intersection(parcels.geometry.values, park.geometry.iloc[0])
    direct = geodesic_area_m2(inter, park.crs) / 1e4
    # tile cuts in degrees: < 1e-5 relative (see test_tiled_large_polygons_...)
    np.testing.assert_allclose(res.protected_ha, direct, rtol=1e-5, atol=1e-9)
    geod = pyproj.Geod(ellps="WGS84")
    some = parcels.geometry.iloc[int(np.argmax(res.protected_ha))]
    assert res.protected_ha.max() * 1e4 == pytest.approx(
        abs(geod.geometry_area_perimeter(shapely.intersection(some, park.geometry.iloc[0]))[0]),
        rel=1e-5,
    )


# ------------------------------------------------------------------ containment
def parcels_ab():
    return layer([box(0, 0), box(100, 0)], ["a", "b"])


def test_plot_sticking_out_and_wrong_parent():
    plots = layer(
        [box(60, 0, 60, 50), box(130, 10, 20), box(10, 10, 20), box(60, 0, 60, 50)],
        ["sticks_out", "wrong_parent", "fine", "no_parent"],
        id_name="plot_id",
        parcel_id=["a", "a", "a", None],
    )
    res = agf.containment(plots, parcels_ab())
    assert res.index.equals(plots.index)
    k2 = areal_scale(X0 + 100, Y0 + 25)
    # sticks_out: x 60..120, 40 m in a and 20 m in b
    assert res.parent_parcel_id.tolist() == ["a", "a", "a", "a"]
    assert res.parent_declared.tolist() == [True, True, True, False]
    assert res.majority_parcel_id.tolist() == ["a", "b", "a", "a"]
    assert res.inside_share.tolist() == pytest.approx([2 / 3, 0.0, 1.0, 2 / 3], rel=REL)
    assert res.outside_ha.tolist() == pytest.approx(
        [1_000 / k2 / 1e4, 400 / k2 / 1e4, 0.0, 1_000 / k2 / 1e4], rel=REL, abs=1e-12
    )
    assert res.plot_ha.iloc[0] * 1e4 == pytest.approx(3_000 / k2, rel=REL)
    assert res.parent_mismatch.tolist() == [False, True, False, False]
    assert res.parent_found.all()


def test_containment_without_declared_parents():
    plots = layer([box(60, 0, 60, 50), box(500, 500, 10)], ["x", "outside"], id_name="plot_id")
    res = agf.containment(plots, parcels_ab(), parent_column=None)
    assert res.parent_parcel_id.iloc[0] == "a" and pd.isna(res.parent_parcel_id.iloc[1])
    assert res.inside_share.tolist() == pytest.approx([2 / 3, 0.0], rel=REL)
    assert res.outside_ha.iloc[1] == pytest.approx(res.plot_ha.iloc[1], rel=1e-12)
    assert not res.parent_mismatch.any() and not res.parent_declared.any()
    with pytest.raises(agf.MissingColumnError, match="parent_column=None"):
        agf.containment(plots, parcels_ab(), parent_column="parcel")


def test_point_plots_by_location():
    pts = [
        shapely.Point(X0 + 50, Y0 + 50),
        shapely.Point(X0 + 150, Y0 + 50),
        shapely.Point(X0 + 100, Y0 + 50),  # on the shared edge: covered by both
        shapely.Point(X0 + 500, Y0 + 50),
    ]
    plots = layer(
        pts,
        ["in_a", "in_b_says_a", "edge", "nowhere"],
        id_name="plot_id",
        parcel_id=["a", "a", "b", "a"],
    )
    res = agf.containment(plots, parcels_ab())
    assert res.inside_share.tolist() == [1.0, 0.0, 1.0, 0.0]
    assert res.outside_ha.eq(0).all() and res.plot_ha.eq(0).all()
    assert res.majority_parcel_id.iloc[:3].tolist() == ["a", "b", "a"]
    assert pd.isna(res.majority_parcel_id.iloc[3])
    # a point on the shared edge lies in both: its declared parent b is not a mismatch
    assert res.parent_mismatch.tolist() == [False, True, False, False]
    # in overlaps a point plot is the 4 ha circle around it
    pairs = agf.overlaps(plots, parcels_ab())
    assert set(pairs["plot_id_left"]) == {"in_a", "in_b_says_a", "edge"}
    assert pairs["point_buffer_ha_left"].eq(4.0).all()


def test_containment_unknown_parent_and_empty_plot():
    plots = layer(
        [box(10, 10, 20), shapely.Polygon()], ["x", "e"], id_name="plot_id", parcel_id=["zz", "a"]
    )
    with pytest.warns(agf.GeometryWarning, match=r"plot_id: e\)"):
        res = agf.containment(plots, parcels_ab())
    assert len(res) == 2
    assert res.parent_found.tolist() == [False, True]
    assert res.parent_parcel_id.tolist() == ["zz", "a"]
    assert res.inside_share.iloc[0] == 0 and res.outside_ha.iloc[0] == pytest.approx(
        res.plot_ha.iloc[0], rel=1e-12
    )
    assert res.parent_mismatch.iloc[0]
    assert np.isnan(res.inside_share.iloc[1]) and res.outside_ha.iloc[1] == 0


def test_containment_duplicate_parcel_ids():
    parcels = layer([box(0, 0), box(100, 0)], ["a", "a"])
    with pytest.raises(agf.DuplicateIdError, match="a"):
        agf.containment(layer([box(10, 10, 20)], ["x"], "plot_id", parcel_id=["a"]), parcels)


# ------------------------------------------------------------------ sample data, CLI
def test_sample_data_layouts():
    import json
    from pathlib import Path

    truth = json.loads((Path(agf.datasets.get_path("parcels")).parent / "truth.json").read_text())
    parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    pairs = agf.overlaps(parcels)
    got = {
        frozenset(p): r
        for p, r in zip(
            pairs[["parcel_id_left", "parcel_id_right"]].to_numpy().tolist(),
            pairs.relation,
            strict=True,
        )
    }
    assert set(got) >= {frozenset(p) for p in truth["overlap_pairs"]}
    assert got[frozenset(truth["duplicate_geometry"])] == "duplicate"
    inner, outer = truth["contained"]["inner"], truth["contained"]["outer"]
    row = pairs[
        pairs.parcel_id_left.isin([inner, outer]) & pairs.parcel_id_right.isin([inner, outer])
    ]
    assert row.relation.iloc[0] == ("within" if row.parcel_id_left.iloc[0] == inner else "contains")
    assert len(pairs) == len(truth["overlap_pairs"]) + 2

    protected = agf.read_protected_areas(agf.datasets.get_path("protected_areas"))
    res = agf.protected_overlap(parcels, protected).set_axis(parcels.parcel_id)
    redd = set(res.index[res.protected_categories.str.contains("redd_plus")])
    park = set(res.index[res.protected_categories.str.contains("national_park")])
    assert redd == set(truth["encroach_redd_plus"])
    assert park == set(truth["encroach_national_park"])

    plots = agf.read_plots(agf.datasets.get_path("plots"))
    res = agf.containment(plots, parcels).set_axis(plots.plot_id)
    assert len(res) == len(plots)
    assert set(res.index[res.parent_mismatch]) == {w["plot_id"] for w in truth["plot_wrong_parcel"]}
    wrong = truth["plot_wrong_parcel"][0]
    assert res.majority_parcel_id[wrong["plot_id"]] == wrong["actual"]
    sticking = set(res.index[res.outside_ha > 0]) - {wrong["plot_id"]}
    assert sticking == set(truth["plot_sticking_out"])
    assert res.inside_share[truth["plot_sticking_out"][0]] < 1


def test_cli_commands(tmp_path, capsys):
    from agroforest_geo.cli import main

    parcels = layer([box(0, 0), box(50, 0), box(500, 0)], ["a", "b", "c"])
    parcels.to_file(tmp_path / "parcels.gpkg")
    protected_layer().to_file(tmp_path / "protected.gpkg")
    plots = layer([box(60, 0, 60, 50)], ["x"], "plot_id", parcel_id=["a"], system=["cocoa"])
    plots.to_file(tmp_path / "plots.gpkg")

    assert main(["overlaps", str(tmp_path / "parcels.gpkg"), "-o", str(tmp_path / "o.csv")]) == 0
    out = pd.read_csv(tmp_path / "o.csv")
    assert out[["parcel_id_left", "parcel_id_right", "relation"]].values.tolist() == [
        ["a", "b", "partial"]
    ]
    assert main(["overlaps", str(tmp_path / "parcels.gpkg"), "--min-overlap-m2", "6000"]) == 0
    assert "partial" not in capsys.readouterr().out
    assert (
        main(
            [
                "protected",
                str(tmp_path / "parcels.gpkg"),
                str(tmp_path / "protected.gpkg"),
                "--buffer-m",
                "250",
                "-o",
                str(tmp_path / "p.csv"),
            ]
        )
        == 0
    )
    prot = pd.read_csv(tmp_path / "p.csv")
    assert prot.parcel_id.tolist() == ["a", "b", "c"]
    assert prot.in_buffer_band.tolist() == [False, False, True]
    assert prot.distance_to_protected_m.iloc[2] == pytest.approx(200, rel=1e-3)
    args = ["protected", str(tmp_path / "parcels.gpkg"), str(tmp_path / "protected.gpkg")]
    assert main([*args, "--max-distance-m", "100", "-o", str(tmp_path / "p100.csv")]) == 0
    capped = pd.read_csv(tmp_path / "p100.csv")
    assert capped.distance_to_protected_m.iloc[2] == np.inf
    assert main([*args, "--buffer-m", "250", "--max-distance-m", "100"]) == 2
    assert "max_distance_m >= buffer_m" in capsys.readouterr().err
    assert main(["containment", str(tmp_path / "plots.gpkg"), str(tmp_path / "parcels.gpkg")]) == 0
    assert "x" in capsys.readouterr().out
    assert (
        main(
            [
                "overlaps",
                str(tmp_path / "parcels.gpkg"),
                "--other",
                str(tmp_path / "protected.gpkg"),
            ]
        )
        == 0
    )
    assert "area_id_right" in capsys.readouterr().out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parcels.to_crs(4326).to_file(tmp_path / "deg.gpkg")
    assert (
        main(["overlaps", str(tmp_path / "parcels.gpkg"), "--other", str(tmp_path / "deg.gpkg")])
        == 2
    )
    err = capsys.readouterr().err  # the command line's fix, not Python's to_crs
    assert "ogr2ogr -t_srs EPSG:32718" in err and "to_crs" not in err


# ------------------------------------------------------------------ protected_overlap shortcuts
def test_protected_shortcuts_inside_hole_and_multipart():
    # a park with a hole and a buffer zone overlapping its east edge
    park = shapely.Polygon(box(0, 0, 1_000).exterior.coords, [box(400, 400, 200).exterior.coords])
    prot = layer(
        [park, box(900, 0, 300, 1_000)],
        ["park", "bz"],
        "area_id",
        category=["national_park", "buffer_zone"],
    )
    parcels = layer(
        [
            box(100, 100),  # inside the park, meets no boundary
            box(450, 450),  # in the hole: outside, 50 m from its ring
            box(850, 100),  # inside the park, across the buffer zone's west edge
            shapely.MultiPolygon([box(100, 700), box(1_300, 700)]),  # one part in, one out
            box(950, 500, 100),  # across the park's east edge, inside the buffer zone
        ],
        ["in", "hole", "in_cross", "multi", "edge"],
    )
    res = agf.protected_overlap(parcels, prot, max_tile_vertices=8)
    direct = geodesic_area_m2(
        shapely.intersection(parcels.geometry.values, shapely.union_all(prot.geometry.values)), UTM
    )
    np.testing.assert_allclose(res.protected_ha * 1e4, direct, rtol=1e-9)
    assert res.protected_area_ids.tolist() == ["park", "", "park; bz", "park", "park; bz"]
    assert res.protected_share.iloc[0] == pytest.approx(1.0, rel=1e-12)
    assert res.protected_share.iloc[3] == pytest.approx(0.5, rel=REL)
    k = linear_scale(X0 + 500, Y0 + 500)
    assert res.distance_to_protected_m.iloc[1] == pytest.approx(50 / k, rel=REL)
    assert res.distance_to_protected_m.drop(index=1).eq(0).all()


def _two_parks_and_parcels(seed, n_vertices):
    """Two wiggly parks (n_vertices, n_vertices // 2) and 400 parcels around them, in UTM."""
    rng = np.random.default_rng(seed)
    prot = layer(
        [
            _wiggly_circle(0, 0, 800, n_vertices, rng),
            _wiggly_circle(3_000, 500, 400, n_vertices // 2, rng),
        ],
        ["A", "B"],
        "area_id",
        category=["park", "park"],
    )
    parcels = _random_layer(rng, 400, 6_000, "p")
    parcels["geometry"] = parcels.translate(-2_000, -2_000)
    return prot, parcels


@pytest.mark.parametrize("crs", [UTM, "EPSG:4326"])
def test_protected_distances_match_nearest_search(crs):
    prot, parcels = _two_parks_and_parcels(21, 2_000)
    res = agf.protected_overlap(parcels.to_crs(crs), prot.to_crs(crs))
    far = res.distance_to_protected_m.to_numpy() > 0
    assert far.sum() > 300
    # brute force in UTM: map distance / scale factor (varies < 1e-4 over the layout)
    brute = shapely.distance(
        parcels.geometry.values[far], shapely.union_all(prot.geometry.values)
    ) / linear_scale(X0, Y0)
    np.testing.assert_allclose(res.distance_to_protected_m[far], brute, rtol=2e-4)


def test_protected_overlap_does_not_depend_on_the_other_parcels_of_the_call():
    # tiles of the protected areas depend on the areas alone: a parcel's hectares are the
    # same in any subset or order (what running in partitions relies on)
    parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    protected = agf.read_protected_areas(agf.datasets.get_path("protected_areas"))
    full = agf.protected_overlap(parcels, protected, buffer_m=200)
    assert (full["protected_ha"] > 0).sum() >= 10
    for subset in (parcels.iloc[::3], parcels.iloc[::-1], parcels.sample(frac=0.4, random_state=2)):
        part = agf.protected_overlap(subset, protected, buffer_m=200)
        expected = full.loc[subset.index]
        for c in ("area_ha", "protected_ha", "protected_share", "distance_to_protected_m"):
            np.testing.assert_array_equal(part[c], expected[c], err_msg=c)  # the same bits
        assert part["protected_area_ids"].tolist() == expected["protected_area_ids"].tolist()
        assert part["in_buffer_band"].tolist() == expected["in_buffer_band"].tolist()


# ---------------------------------------------------------- protected_overlap max_distance_m
@pytest.mark.parametrize(
    "crs",
    [UTM, "EPSG:4326", "EPSG:3857", "+proj=utm +zone=18 +south +units=us-ft +datum=WGS84"],
)
def test_max_distance_bounds_the_search_and_changes_nothing_within_it(crs):
    # projected CRSs whose unit is not the metre (US feet) or whose scale is far from 1
    # (Web Mercator) must still find every parcel within max_distance_m
    prot, parcels = _two_parks_and_parcels(8, 1_500)
    prot, parcels = prot.to_crs(crs), parcels.to_crs(crs)
    full = agf.protected_overlap(parcels, prot, buffer_m=300)
    capped = agf.protected_overlap(parcels, prot, buffer_m=300, max_distance_m=700)
    d, c = full.distance_to_protected_m, capped.distance_to_protected_m
    within = d <= 700
    assert within.sum() > 50 and (~within).sum() > 50  # the layout is informative
    np.testing.assert_array_equal(c[within], d[within])
    assert np.isposinf(c[~within]).all()
    others = full.columns.drop("distance_to_protected_m")
    pd.testing.assert_frame_equal(capped[others], full[others])


def test_max_distance_zero_keeps_contact_and_marks_the_rest_infinite():
    parcels = layer([box(0, 0), box(300, 100), box(500, 0)], ["straddle", "touch", "far"])
    res = agf.protected_overlap(parcels, protected_layer(), max_distance_m=0)
    assert res.distance_to_protected_m.tolist() == [0.0, 0.0, np.inf]
    assert res.protected_ha.iloc[0] > 0


def test_max_distance_must_cover_the_buffer_band():
    with pytest.raises(ValueError, match="max_distance_m >= buffer_m"):
        agf.protected_overlap(
            layer([box(0, 0)]), protected_layer(), buffer_m=500, max_distance_m=100
        )
    with pytest.raises(ValueError, match="max_distance_m"):
        agf.protected_overlap(layer([box(0, 0)]), protected_layer(), max_distance_m=-1)


def test_threads_give_the_same_bits(monkeypatch):
    import agroforest_geo.protected as protected_module

    parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    protected = agf.read_protected_areas(agf.datasets.get_path("protected_areas"))
    one = agf.protected_overlap(parcels, protected, buffer_m=200)
    monkeypatch.setattr(protected_module, "_MIN_ROWS_PER_JOB", 7)  # split the sample data
    for n_jobs in (2, 3, -1):
        many = agf.protected_overlap(parcels, protected, buffer_m=200, n_jobs=n_jobs)
        pd.testing.assert_frame_equal(many, one, check_exact=True)
    with pytest.raises(ValueError, match="n_jobs"):
        agf.protected_overlap(parcels, protected, n_jobs=0)
    with pytest.raises(TypeError, match="n_jobs"):
        agf.protected_overlap(parcels, protected, n_jobs="2")


def test_each_protected_area_is_tiled_once_per_call_and_alone():
    from agroforest_geo.protected import _subdivide, _Tiling

    t = np.linspace(0, 2 * np.pi, 900, endpoint=False)
    ring = np.column_stack([np.cos(t), np.sin(t)]) * (1 + 0.2 * np.sin(7 * t))[:, None]
    a = shapely.Polygon(ring * 2_000 + (X0, Y0))
    b = shapely.Polygon(ring * 1_500 + (X0 + 20_000, Y0))
    tiling = _Tiling(np.array([a, b], dtype=object), np.array([4, 9]), 64)
    ta, oa, ra = tiling.near(np.array(a.bounds))  # only a is near
    assert set(oa.tolist()) == {4} and ra.tolist() == list(range(ta.size))
    alone = _subdivide(np.array([a], dtype=object), np.array([4]), 64)[0]
    assert ta.size == alone.size > 4 and shapely.equals_identical(ta, alone).all()
    tb, ob, rb = tiling.near(np.array(shapely.union(a, b).bounds))
    assert ob.tolist() == [4] * ta.size + [9] * (tb.size - ta.size)
    assert rb.tolist() == list(range(ta.size)) + list(range(tb.size - ta.size))
    assert all(x is y for x, y in zip(tb[: ta.size], ta, strict=True))  # a was not cut again
    alone_b = _subdivide(np.array([b], dtype=object), np.array([9]), 64)[0]
    assert shapely.equals_identical(tb[ta.size :], alone_b).all()
    assert tiling.near(np.array([X0 + 1e6, Y0, X0 + 1e6 + 1, Y0 + 1]))[0].size == 0


def test_the_callers_geometries_are_never_prepared(monkeypatch):
    # GEOS builds and frees a prepared geometry's indexes with no lock: preparing the
    # caller's own geometries crashed the interpreter when two threads (a dask worker's
    # threads, a user's pool) called protected_overlap with the same protected layer
    parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    protected = agf.read_protected_areas(agf.datasets.get_path("protected_areas"))
    callers = {id(g) for g in (*parcels.geometry.values, *protected.geometry.values)}
    prepared: list[int] = []
    real = shapely.prepare

    def spy(geometry, **kw):
        prepared.extend(id(g) for g in np.atleast_1d(np.asarray(geometry, dtype=object)))
        return real(geometry, **kw)

    monkeypatch.setattr(shapely, "prepare", spy)
    res = agf.protected_overlap(parcels, protected, buffer_m=200)
    assert (res.protected_ha > 0).sum() >= 10  # the prepared point-in-area test ran
    assert prepared and not callers.intersection(prepared)
    assert not shapely.is_prepared(protected.geometry.values).any()


def test_concurrent_calls_on_one_protected_layer_give_the_serial_results():
    import threading

    parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    protected = agf.read_protected_areas(agf.datasets.get_path("protected_areas"))
    parts = [parcels.iloc[::2], parcels.iloc[1::2], parcels]
    want = [agf.protected_overlap(p, protected, buffer_m=200, n_jobs=1) for p in parts]
    got: dict[int, pd.DataFrame] = {}

    def call(k: int) -> None:
        got[k] = agf.protected_overlap(parts[k], protected, buffer_m=200, n_jobs=1)

    for _ in range(3):
        threads = [threading.Thread(target=call, args=(k,)) for k in range(len(parts))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for k, res in got.items():
            pd.testing.assert_frame_equal(res, want[k], check_exact=True)


def test_map_units_per_metre_is_measured():
    from agroforest_geo.protected import _map_units_per_m

    geo = pyproj.CRS("EPSG:4326")
    box_m = np.array([400_000, 9_100_000, 600_000, 9_300_000])  # around the central meridian
    k = _map_units_per_m(pyproj.CRS(UTM), geo, box_m)
    assert 0.9996 <= k <= 1.0 + 1e-3  # UTM scale factor within 100 km of the meridian
    feet = pyproj.CRS("+proj=utm +zone=18 +south +units=us-ft +datum=WGS84")
    k_ft = _map_units_per_m(feet, geo, box_m / 0.3048006096)
    assert k_ft == pytest.approx(k / 0.3048006096, rel=1e-6)
    # coordinates no projection can take: no bound at all (every parcel is searched)
    assert _map_units_per_m(pyproj.CRS(UTM), geo, np.array([1e30, 1e30, 2e30, 2e30])) == np.inf


def _sample_layers():
    parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    protected = agf.read_protected_areas(agf.datasets.get_path("protected_areas"))
    return parcels, protected


def test_blocks_and_threads_give_the_same_bits(monkeypatch):
    # the memory-bounding blocks (areas, distances) and the threads change no bit
    import agroforest_geo.area as area_module
    import agroforest_geo.protected as protected_module

    parcels, protected = _sample_layers()
    for kw in ({"buffer_m": 200}, {"buffer_m": 200, "max_distance_m": 1_000}):
        one = agf.protected_overlap(parcels, protected, **kw)
        assert np.isfinite(one.distance_to_protected_m).sum() > 15  # some within the bound
        with monkeypatch.context() as m:
            m.setattr(protected_module, "_DISTANCE_BLOCK", 7)
            m.setattr(protected_module, "_MIN_ROWS_PER_JOB", 11)
            m.setattr(area_module, "_BLOCK_VERTICES", 64)
            many = agf.protected_overlap(parcels, protected, n_jobs=3, **kw)
        pd.testing.assert_frame_equal(many, one, check_exact=True)
    no_bound = agf.protected_overlap(parcels, protected, max_distance_m=np.inf)
    pd.testing.assert_frame_equal(no_bound, agf.protected_overlap(parcels, protected))


@pytest.mark.parametrize("kw", [{}, {"max_distance_m": 2_000}])
def test_impossible_coordinates_give_nan_not_a_crash(kw, monkeypatch):
    # metres labelled as degrees: the parcel cannot be placed; nothing else changes
    import agroforest_geo.protected as protected_module

    parcels, protected = _sample_layers()
    parcels, protected = parcels.to_crs(4326), protected.to_crs(4326)
    good = agf.protected_overlap(parcels, protected, **kw)
    bad = parcels.copy()
    bad.loc[bad.index[[5, 200]], "geometry"] = [
        shapely.box(500_000, 9_000_000, 500_100, 9_000_100),
        shapely.box(-2_000, 89, -1_999, 95),
    ]
    monkeypatch.setattr(protected_module, "_MIN_ROWS_PER_JOB", 50)
    with pytest.warns(agf.GeometryWarning, match=r"^2 feature\(s\) have coordinates"):
        res = agf.protected_overlap(bad, protected, n_jobs=2, **kw)
    assert res.distance_to_protected_m.iloc[[5, 200]].isna().all()
    assert res.area_ha.iloc[[5, 200]].isna().all()
    keep = np.setdiff1d(np.arange(len(parcels)), [5, 200])
    pd.testing.assert_frame_equal(res.iloc[keep], good.iloc[keep], check_exact=True)


def test_areas_across_the_globe_do_not_break_the_distances():
    # a supply base on two continents: the Indonesian areas lie on the other side of the
    # globe from the Peruvian parcels' UTM zone and must neither crash nor distort them
    parcels, protected = _sample_layers()
    parcels, protected = parcels.to_crs(4326), protected.to_crs(4326)
    far = protected.copy()
    far["area_id"] = far["area_id"] + "_id"
    far["geometry"] = far.translate(xoff=190.0, yoff=6.0)  # around 113° E, 1° S (Borneo)
    both = pd.concat([protected, far], ignore_index=True)
    alone = agf.protected_overlap(parcels, protected, buffer_m=500)
    res = agf.protected_overlap(parcels, both, buffer_m=500)
    pd.testing.assert_frame_equal(res, alone, check_exact=True)
    # and parcels in Borneo measure to the Borneo areas
    moved = parcels.copy()
    moved["geometry"] = moved.translate(xoff=190.0, yoff=6.0)
    there = agf.protected_overlap(moved, both, buffer_m=500)
    np.testing.assert_allclose(
        there.distance_to_protected_m, alone.distance_to_protected_m, rtol=0.02, atol=1.0
    )
    assert there.n_protected_areas.eq(alone.n_protected_areas).all()


def _geodesic_ring(ring, step_m=500.0):
    """Vertices of ``ring`` with points every ``step_m`` on each geodesic edge (pyproj.Geod)."""
    geod = pyproj.Geod(ellps="WGS84")
    xy = np.asarray(ring.coords)
    out = []
    for (x1, y1), (x2, y2) in itertools.pairwise(xy):
        n = int(geod.inv(x1, y1, x2, y2)[2] // step_m)
        out += [(x1, y1), *(geod.npts(x1, y1, x2, y2, n) if n else [])]
    return shapely.LinearRing([*out, out[0]])


def _aeqd_distance_m(parcel, areas):
    """Independent reference: edges as geodesics (pyproj.Geod points every 500 m), measured
    in an azimuthal equidistant projection centred on the parcel (exact from its centre)."""
    c = parcel.centroid
    aeqd = pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={c.y} +lon_0={c.x} +datum=WGS84")
    tr = pyproj.Transformer.from_crs(4326, aeqd, always_xy=True)

    def project(polygon):
        ring = _geodesic_ring(polygon.exterior)
        return shapely.transform(ring, lambda xy: np.column_stack(tr.transform(*xy.T)))

    return min(float(shapely.distance(project(parcel), project(a))) for a in areas)


@pytest.mark.parametrize(
    ("parcel", "areas"),
    [
        # a ring 150° wide whose centre is far away but whose west edge is 44 km off
        (
            shapely.box(-0.5, 10, -0.4, 10.1),
            [shapely.box(0, 5, 150, 20), shapely.box(-20, 10, -19, 11)],
        ),
        # the same ring alone (no other area to fall back on)
        (shapely.box(-0.5, 10, -0.4, 10.1), [shapely.box(0, 5, 130, 20)]),
        # near the north pole, the area on the other side of it
        (shapely.box(0, 88.9, 0.1, 88.91), [shapely.box(179, 88.9, 181, 89.0)]),
        # across the antimeridian
        (shapely.box(179.95, -17.25, 179.96, -17.24), [shapely.box(-179.9, -17.3, -179.8, -17.2)]),
        # a continent-sized area, 600 km away
        (
            shapely.box(-30, -8, -29.9, -7.9),
            [shapely.Polygon([(-80, -55), (-35, -5), (-50, 10), (-80, 10)])],
        ),
    ],
)
def test_distances_in_degrees_match_an_independent_reference(parcel, areas):
    parcels = gpd.GeoDataFrame({"parcel_id": ["p"]}, geometry=[parcel], crs=4326)
    prot = gpd.GeoDataFrame(
        {"area_id": [f"a{i}" for i in range(len(areas))], "category": "park"},
        geometry=areas,
        crs=4326,
    )
    res = agf.protected_overlap(parcels, prot)
    expected = _aeqd_distance_m(parcel, areas)
    assert res.distance_to_protected_m.iloc[0] == pytest.approx(expected, rel=2e-6)


def test_multipart_parcel_split_at_the_antimeridian():
    parcel = shapely.MultiPolygon(
        [shapely.box(179.99, -17.25, 180, -17.24), shapely.box(-180, -17.25, -179.99, -17.24)]
    )
    area = shapely.box(-179.9, -17.3, -179.8, -17.2)
    parcels = gpd.GeoDataFrame({"parcel_id": ["p"]}, geometry=[parcel], crs=4326)
    prot = gpd.GeoDataFrame({"area_id": ["a"], "category": "park"}, geometry=[area], crs=4326)
    got = agf.protected_overlap(parcels, prot).distance_to_protected_m.iloc[0]
    # the east part's edge at -179.99 to the area's west edge at -179.9, along a meridian pair
    _, _, expected = pyproj.Geod(ellps="WGS84").inv(-179.99, -17.24, -179.9, -17.24)
    assert got == pytest.approx(expected, rel=1e-4)


def test_wide_estate_split_at_the_antimeridian():
    # a 10 km estate stored in two parts at ±180: its far tip, not its first vertex, is
    # 107 m from an area (the parcel's reach around its first vertex must cover the tip)
    parcel = shapely.MultiPolygon(
        [shapely.box(179.953, -16.80, 180, -16.79), shapely.box(-180, -16.80, -179.953, -16.79)]
    )
    areas = [
        shapely.box(179.95, -16.78, 179.96, -16.77),
        shapely.box(-179.952, -16.80, -179.95, -16.79),
    ]
    parcels = gpd.GeoDataFrame({"parcel_id": ["p"]}, geometry=[parcel], crs=4326)
    prot = gpd.GeoDataFrame({"area_id": ["n", "e"], "category": "park"}, geometry=areas, crs=4326)
    res = agf.protected_overlap(parcels, prot, buffer_m=500)
    _, _, expected = pyproj.Geod(ellps="WGS84").inv(-179.953, -16.79, -179.952, -16.79)
    assert res.distance_to_protected_m.iloc[0] == pytest.approx(expected, rel=1e-3)
    assert bool(res.in_buffer_band.iloc[0])


def test_no_area_within_5000_km_is_measured_to_the_nearest_boundary_vertex():
    parcel = shapely.box(2.0, 2.0, 2.01, 2.01)
    area = shapely.box(-178.5, -2.5, -177.5, -1.5)  # near the antipode
    parcels = gpd.GeoDataFrame({"parcel_id": ["p"]}, geometry=[parcel], crs=4326)
    prot = gpd.GeoDataFrame({"area_id": ["a"], "category": "park"}, geometry=[area], crs=4326)
    got = agf.protected_overlap(parcels, prot).distance_to_protected_m.iloc[0]
    ring = _geodesic_ring(area.exterior, step_m=100.0)
    px, py = np.asarray(parcel.exterior.coords).T
    ax, ay = np.asarray(ring.coords).T
    _, _, d = pyproj.Geod(ellps="WGS84").inv(
        np.repeat(px, ax.size), np.repeat(py, ax.size), np.tile(ax, px.size), np.tile(ay, px.size)
    )
    assert got == pytest.approx(float(np.min(d)), rel=1e-4)
