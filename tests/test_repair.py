from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import assume, given, settings
from shapely import Polygon
from test_validate import (
    BOWTIE,
    CCW_HOLE,
    CW_HOLE,
    CW_SQUARE,
    DUP_VERTEX,
    FEW,
    HOLE_OUTSIDE,
    SQ,
    X0,
    Y0,
    box,
    layer,
    star_polygons,
)

import agroforest_geo as agf
from agroforest_geo.repair import repair

CHANGE_CODES = {
    "repaired_invalid",
    "extracted_polygons",
    "removed_duplicate_vertices",
    "reoriented",
    "swapped_axes",
}


def _changes(report) -> list[tuple]:
    f = report.findings
    f = f[f["code"].isin(CHANGE_CODES)]
    return list(zip(f["row"], f["code"], strict=True))


def test_bowtie_becomes_valid_multipolygon_with_right_area():
    gdf = layer([BOWTIE], ids=["a"])
    fixed, report = repair(gdf, kind="parcels")
    g = fixed.geometry.iloc[0]
    assert g.geom_type == "MultiPolygon" and g.is_valid
    assert len(g.geoms) == 2
    assert g.area == 5000.0  # two right triangles of 50 m x 100 m / 2 ... = 2 x 2500 m²
    left = Polygon([(X0, Y0), (X0 + 50, Y0 + 50), (X0, Y0 + 100)])
    right = Polygon([(X0 + 100, Y0), (X0 + 100, Y0 + 100), (X0 + 50, Y0 + 50)])
    expected = agf.area_ha(layer([left])).iloc[0] + agf.area_ha(layer([right])).iloc[0]
    # the same surface measured from other vertex lists: equal to area.py's precision
    assert agf.area_ha(fixed).iloc[0] == pytest.approx(expected, rel=1e-9)
    assert all(shapely.is_ccw(p.exterior) for p in g.geoms)
    assert _changes(report) == [(0, "repaired_invalid"), (0, "reoriented")]
    msg = report.findings.loc[report.findings["code"] == "repaired_invalid", "message"].item()
    assert "Self-intersection" in msg and "MultiPolygon of 2 parts" in msg
    assert report.ok


def test_hole_outside_shell_is_made_valid():
    fixed, report = repair(layer([HOLE_OUTSIDE]))
    g = fixed.geometry.iloc[0]
    assert g.is_valid
    assert "Hole lies outside shell" in report.findings["message"].iloc[0]


@pytest.mark.parametrize("geom", [CCW_HOLE, CW_SQUARE])
def test_wrong_orientation_is_fixed_without_changing_area(geom):
    gdf = layer([geom])
    fixed, report = repair(gdf)
    g = fixed.geometry.iloc[0]
    assert shapely.is_ccw(g.exterior)
    assert not any(shapely.is_ccw(r) for r in g.interiors)
    assert shapely.equals(g, geom)  # same point set
    before, after = agf.area_ha(gdf).iloc[0], agf.area_ha(fixed).iloc[0]
    assert after == pytest.approx(before, rel=1e-10)  # same terms, other order: float noise
    assert _changes(report) == [(0, "reoriented")]
    assert report.findings["code"].tolist() == ["reoriented"]  # nothing left


def test_cw_hole_already_right_is_untouched():
    fixed, report = repair(layer([CW_HOLE]))
    assert shapely.equals_exact(fixed.geometry.iloc[0], CW_HOLE, tolerance=0)
    assert report.findings.empty


def test_swapped_coordinates_restored_exactly():
    near = [
        shapely.box(-76.7012345 + i / 100, -7.2054321, -76.6951 + i / 100, -7.1953)
        for i in range(4)
    ]
    swapped = shapely.transform(near[2], lambda c: c[:, ::-1])
    gdf = layer([near[0], near[1], swapped, near[3]], crs=4326, ids=list("abcd"))
    fixed, report = repair(gdf, kind="parcels")
    assert shapely.equals_exact(fixed.geometry.iloc[2], near[2], tolerance=0)
    assert _changes(report) == [(2, "swapped_axes")]
    assert report.ok
    kept, report_never = repair(gdf, kind="parcels", swap_axes="never")
    assert shapely.equals_exact(kept.geometry.iloc[2], swapped, tolerance=0)
    assert "swapped_lonlat" in report_never.codes_for(2)
    with pytest.raises(ValueError, match=r"\['auto', 'never'\]"):
        repair(gdf, swap_axes="yes")  # type: ignore[arg-type]


def test_duplicate_vertices_removed():
    gdf = layer([DUP_VERTEX])
    fixed, report = repair(gdf)
    g = fixed.geometry.iloc[0]
    assert shapely.get_num_coordinates(g) == shapely.get_num_coordinates(DUP_VERTEX) - 1 == 5
    # same surface; area.py centres its projection on the vertex mean, which the repeated
    # vertex shifts, so the two measurements agree to its precision rather than bit for bit
    assert agf.area_ha(fixed).iloc[0] == pytest.approx(agf.area_ha(gdf).iloc[0], rel=1e-9)
    assert "removed 1 repeated vertices" in report.findings["message"].iloc[0]
    assert report.codes_for(0)[0] == "removed_duplicate_vertices"


def test_unfixable_geometries_stay_and_are_reported():
    point = shapely.MultiPoint([(X0, Y0), (X0 + 1, Y0)])  # a Point would be a point plot
    line = shapely.LineString([(X0, Y0), (X0 + 10, Y0)])
    gc = shapely.GeometryCollection([line, box(w=50, h=50)])
    gdf = layer([point, None, FEW, Polygon(), gc], ids=list("abcde"))
    fixed, report = repair(gdf, kind="parcels")
    assert fixed.geometry.iloc[0].equals_exact(point, tolerance=0)
    assert fixed.geometry.iloc[1] is None
    assert shapely.equals_exact(fixed.geometry.iloc[2], FEW, tolerance=0)  # cannot fix: untouched
    assert fixed.geometry.iloc[3].is_empty
    assert fixed.geometry.iloc[4].equals_exact(box(w=50, h=50), tolerance=0)
    assert report.codes_for(0) == ["geometry_type"]
    assert report.codes_for(1) == ["null_geometry"]
    assert "too_few_vertices" in report.codes_for(2)
    assert report.codes_for(3) == ["empty_geometry"]
    assert report.codes_for(4) == ["extracted_polygons"]
    assert not report.ok


def test_no_row_dropped_index_columns_crs_kept_and_input_untouched():
    messy = agf.read_parcels(agf.datasets.get_path("parcels_messy"))
    messy.index = pd.Index([f"k{i}" for i in range(len(messy))])
    before = messy.copy()
    fixed, report = repair(messy, kind="parcels")
    assert fixed.index.equals(messy.index)
    assert list(fixed.columns) == list(messy.columns)
    assert fixed.crs == messy.crs
    pd.testing.assert_frame_equal(messy, before)  # input not modified
    pd.testing.assert_frame_equal(
        pd.DataFrame(fixed.drop(columns="geometry")), pd.DataFrame(messy.drop(columns="geometry"))
    )
    changed = {(r, c) for r, c in _changes(report)}
    defect = dict(zip(messy.index, messy["defect"], strict=True))
    assert {defect[r] for r, c in changed if c == "repaired_invalid"} == {
        "bowtie",
        "ring_self_touch",
        "hole_outside_shell",
    }
    assert {defect[r] for r, c in changed if c == "swapped_axes"} == {"swapped_lonlat"}
    assert {defect[r] for r, c in changed if c == "removed_duplicate_vertices"} == {
        "duplicate_vertices"
    }
    left = set(report.findings.loc[report.findings["severity"] == "error", "code"])
    assert left == {
        "null_geometry",
        "empty_geometry",
        "point_over_4_ha",
        "projected_as_degrees",
        "duplicate_id",
    }
    # valid polygons keep their area
    ok = agf.validate(messy, kind="parcels").flags()["valid"] & ~shapely.is_missing(
        messy.geometry.values
    )
    ok &= messy["defect"].ne("utm_coordinates") & messy.geometry.geom_type.eq("Polygon")
    ok &= ~messy.geometry.is_empty
    ok &= messy["defect"].ne("duplicate_vertices")  # see test_duplicate_vertices_removed
    assert ok.sum() == 29  # 40 features - 10 with errors - 1 with repeated vertices
    np.testing.assert_allclose(agf.area_ha(fixed)[ok], agf.area_ha(messy)[ok], rtol=1e-10, atol=0)


def test_repair_is_idempotent():
    messy = agf.read_parcels(agf.datasets.get_path("parcels_messy"))
    once, report1 = repair(messy, kind="parcels")
    twice, report2 = repair(once, kind="parcels")
    assert _changes(report1)  # the first pass did something
    assert _changes(report2) == []
    same = [
        (a is None and b is None) or shapely.equals_exact(a, b, tolerance=0)
        for a, b in zip(once.geometry, twice.geometry, strict=True)
    ]
    assert all(same)
    assert report2.findings["code"].tolist() == [
        c for c in report1.findings["code"] if c not in CHANGE_CODES
    ]


def test_valid_sample_parcels_unchanged():
    parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    fixed, report = repair(parcels, kind="parcels")
    assert report.findings.empty
    assert (agf.area_ha(fixed) == agf.area_ha(parcels)).all()
    assert fixed.geometry.geom_equals_exact(parcels.geometry, tolerance=0).all()


def test_repair_rejects_series():
    with pytest.raises(TypeError, match="GeoDataFrame"):
        repair(gpd.GeoSeries([SQ], crs=32718))  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(star_polygons())
def test_random_valid_polygons_unchanged_by_repair(poly):
    assume(poly.is_valid)
    # a star whose angles wrap round can come out clockwise: start from the RFC 7946 order
    poly = shapely.geometry.polygon.orient(poly, 1)
    for geom, expect_change in ((poly, []), (poly.reverse(), [(0, "reoriented")])):
        gdf = layer([geom], ids=["a"])
        fixed, report = repair(gdf, kind="parcels")
        assert _changes(report) == expect_change
        assert report.ok
        if not expect_change:
            assert shapely.equals_exact(fixed.geometry.iloc[0], geom, tolerance=0)
        a0, a1 = agf.area_ha(gdf).iloc[0], agf.area_ha(fixed).iloc[0]
        # reversing the ring sums the same terms in another order: float noise only
        assert abs(a1 - a0) <= 1e-10 * a0
