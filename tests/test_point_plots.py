"""Point plots: valid, measured as geodesic circles of their declared area, flagged, exported."""

from __future__ import annotations

import json
import math
import warnings

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

import agroforest_geo as agf
from agroforest_geo._points import CIRCLE_VERTICES, DEFAULT_POINT_AREA_HA, points_as_circles

GEOD = pyproj.Geod(ellps="WGS84")
JUANJUI = (-76.72, -7.18)


def points(xy, crs=4326, **cols) -> gpd.GeoDataFrame:
    n = len(xy)
    data = {"parcel_id": [f"p{i}" for i in range(n)], **cols}
    return gpd.GeoDataFrame(data, geometry=[shapely.Point(p) for p in xy], crs=crs)


def test_a_point_parcel_is_valid():
    report = agf.validate(points([JUANJUI]), kind="parcels")
    assert report.ok and report.findings.empty  # was geometry_type (invalid for the EU rules)


def test_a_point_over_4_ha_is_flagged():
    gdf = points([JUANJUI, JUANJUI], declared_area_ha=[4.0, 4.5])
    f = agf.validate(gdf, kind="parcels").findings
    assert f[["row", "code"]].values.tolist() == [[1, "point_over_4_ha"]]


@pytest.mark.parametrize("crs", [4326, 32718])
def test_area_is_the_declared_area_or_4_ha(crs):
    xy = [JUANJUI, (-76.6, -7.3)]
    if crs != 4326:
        tr = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
        xy = [tr.transform(*p) for p in xy]
    gdf = points(xy, crs=crs, declared_area_ha=[2.5, np.nan])
    area = agf.area_ha(gdf)
    # the polygon is built to have exactly the declared area; the ellipsoid changes that by
    # (r / R)^2 ~ 3e-10 for r ~ 113 m, and UTM's straight edges by less
    np.testing.assert_allclose(area, [2.5, DEFAULT_POINT_AREA_HA], rtol=1e-8)
    assert area.attrs["point_buffer_ha"].tolist() == [2.5, 4.0]


def test_the_circle_is_geodesic():
    # every vertex at the same geodesic distance from the point, by Karney's inverse
    g, _ = points_as_circles(np.array([shapely.Point(10.0, 60.0)]), 4326, np.array([4.0]))
    xy = shapely.get_coordinates(g[0])[:-1]
    _, _, dist = GEOD.inv(np.full(len(xy), 10.0), np.full(len(xy), 60.0), xy[:, 0], xy[:, 1])
    k = CIRCLE_VERTICES
    r = math.sqrt(40_000.0 / (k / 2 * math.sin(2 * math.pi / k)))  # n-gon of area 4 ha
    np.testing.assert_allclose(dist, r, rtol=1e-9)
    # and Karney's own area of that polygon is 4 ha
    area, _ = GEOD.geometry_area_perimeter(g[0])
    assert abs(area) == pytest.approx(40_000.0, rel=1e-8)


def test_forest_cover_measures_the_circle(tmp_path):
    from rasterio.transform import from_origin
    from test_raster import write_tif

    # 1 m pixels, all forest (100 %) in UTM 18S: forest_ha of a point is its circle's area
    path = write_tif(
        tmp_path / "cover.tif",
        np.full((400, 400), 100, "uint8"),
        from_origin(500_000, 9_200_200, 1, 1),
        nodata=255,
    )
    gdf = points([(500_200, 9_200_000)], crs=32718)
    fc = agf.forest_cover(gdf, path)
    assert fc["point_buffer_ha"].tolist() == [4.0]
    assert fc["area_ha"].iloc[0] == pytest.approx(4.0, rel=1e-8)
    # the map area inside the circle, over the UTM area scale (k ~ 0.9996), is its true area
    assert fc["forest_ha"].iloc[0] == pytest.approx(4.0, rel=1e-5)


def test_protected_overlap_and_overlaps_use_the_circles():
    park = gpd.GeoDataFrame(
        {"area_id": ["np"], "name": ["park"], "category": ["national_park"]},
        geometry=[shapely.box(-76.8, -7.3, -76.6, -7.1)],
        crs=4326,
    )
    gdf = points([JUANJUI, (-76.5, -7.18)])
    res = agf.protected_overlap(gdf, park)
    np.testing.assert_allclose(res["protected_ha"], [4.0, 0.0], rtol=1e-8, atol=1e-12)
    assert res["point_buffer_ha"].tolist() == [4.0, 4.0]
    # two 4 ha circles whose centres are 100 m apart: the lens of two discs
    lon2, lat2, _ = GEOD.fwd(JUANJUI[0], JUANJUI[1], 90.0, 100.0)
    pair = agf.overlaps(points([JUANJUI, (lon2, lat2)]))
    r = math.sqrt(40_000.0 / math.pi)
    d = 100.0
    lens = 2 * r * r * math.acos(d / (2 * r)) - d / 2 * math.sqrt(4 * r * r - d * d)
    # a 64-gon of the same area as the disc: its lens differs from the disc's by < 0.1 %
    assert pair["overlap_ha"].iloc[0] * 1e4 == pytest.approx(lens, rel=1e-3)
    assert pair[["point_buffer_ha_left", "point_buffer_ha_right"]].values.tolist() == [[4.0, 4.0]]


def test_assess_gives_real_statuses_and_the_eu_file_has_points(tmp_path):
    par = agf.read_parcels(agf.datasets.get_path("parcels")).head(30)
    pts = par.assign(geometry=par.geometry.representative_point(), declared_area_ha=2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = agf.eudr.assess(
            pts,
            cover=agf.datasets.get_path("treecover"),
            loss=agf.datasets.get_path("lossyear"),
            protected=agf.datasets.get_path("protected_areas"),
        )
    assert not (res["status"] == "invalid_geometry").any()  # was every point
    assert res["area_ha"].to_numpy() == pytest.approx(2.0, rel=1e-8)
    assert res["point_buffer_ha"].eq(2.0).all()
    assert res["valid_share"].gt(0.99).all()  # the circles lie on the sample rasters
    paths = agf.eudr.to_geojson(pts, tmp_path / "eu.geojson")
    feats = json.loads(paths[0].read_text())["features"]
    assert {f["geometry"]["type"] for f in feats} == {"Point"}
    assert {f["properties"]["Area"] for f in feats} == {2.0}
    assert agf.eudr.check_geojson(paths[0]).empty


def test_the_eu_export_refuses_nothing_and_large_points(tmp_path):
    with pytest.raises(ValueError, match="no parcel to export"):
        agf.eudr.to_geojson(
            points([]).assign(producer_name=[], district=[]), tmp_path / "e.geojson"
        )
    big = points([JUANJUI], declared_area_ha=[6.0], producer_name=["A"], district=["x"])
    with pytest.raises(agf.InvalidGeometryError, match="more than 4 ha"):
        agf.eudr.to_geojson(big, tmp_path / "e.geojson")
