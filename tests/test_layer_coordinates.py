"""Coordinate mistakes of a layer: swapped axes (whole layer or one row), degrees labelled
projected, antimeridian."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

import agroforest_geo as agf
from agroforest_geo import _swaps
from agroforest_geo._antimeridian import crosses_antimeridian, cut_antimeridian


def _swap(g: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(g, lambda c: c[:, ::-1])


def peru_layer(swapped: bool, **cols) -> gpd.GeoDataFrame:
    sq = [shapely.box(-76.70 + i / 100, -7.20, -76.69 + i / 100, -7.19) for i in range(5)]
    geoms = [_swap(g) for g in sq] if swapped else sq
    ids = [f"p{i}" for i in range(5)]
    return gpd.GeoDataFrame({"parcel_id": ids, **cols}, geometry=geoms, crs=4326)


def test_a_whole_swapped_layer_is_flagged_and_repaired():
    good, bad = peru_layer(False), peru_layer(True)
    # every coordinate is a valid lon/lat, so no feature is suspicious on its own, and the
    # features agree with each other: the layer lies at latitude -76.7 (Antarctica)
    assert agf.validate(good, kind="parcels").findings.empty
    f = agf.validate(bad, kind="parcels").findings
    assert f["code"].tolist() == ["swapped_lonlat"] * 5
    # its areas are 4.3 times too small: the ratio of the ellipsoid's area element
    # cos(lat) / (1 - e² sin²(lat))² at the two latitudes (the cells are 0.01° x 0.01°)
    e2 = 0.00669437999014

    def density(lat):
        s = np.sin(np.radians(lat))
        return np.cos(np.radians(lat)) / (1 - e2 * s * s) ** 2

    lat_bad = -76.695 + np.arange(5) / 100
    ratio = agf.area_ha(good).to_numpy() / agf.area_ha(bad).to_numpy()
    np.testing.assert_allclose(ratio, density(-7.195) / density(lat_bad), rtol=1e-4)
    assert ratio.min() > 4.2
    fixed, _ = agf.repair(bad, kind="parcels")
    np.testing.assert_allclose(agf.area_ha(fixed), agf.area_ha(good), rtol=1e-12)


def test_the_country_claimed_decides_where_plausibility_cannot():
    # Ghana read as [lat, lon]: (6.7, -1.6) and (-1.6, 6.7) are both farmed latitudes
    sq = shapely.box(-1.62, 6.68, -1.61, 6.69)
    gdf = gpd.GeoDataFrame(
        {"parcel_id": ["a"]}, geometry=[shapely.Polygon(_swap(sq).exterior.coords[::-1])], crs=4326
    )
    assert agf.validate(gdf, kind="parcels").findings.empty
    assert agf.validate(gdf, kind="parcels", country="GH").findings["code"].tolist() == [
        "swapped_lonlat"
    ]
    by_column = gdf.assign(country="gh")
    assert agf.validate(by_column, kind="parcels").codes_for(0) == ["swapped_lonlat"]
    right = gpd.GeoDataFrame({"parcel_id": ["a"]}, geometry=[sq], crs=4326)
    assert agf.validate(right, kind="parcels", country="GH").findings.empty


def test_degrees_labelled_as_a_projected_crs_whole_layer():
    # a protected area 2 degrees wide: too wide for the per-feature rule, caught by the layer's
    area = shapely.box(-77.5, -8.5, -75.5, -6.5)
    gdf = gpd.GeoDataFrame({"area_id": ["a"]}, geometry=[area], crs=32718)
    assert agf.validate(gdf).findings["code"].tolist() == ["degrees_as_projected"]
    metres = gdf.assign(geometry=[shapely.box(300_000, 9_000_000, 500_000, 9_200_000)])
    assert agf.validate(metres).findings.empty


ACROSS = shapely.Polygon([(179.99, -16.0), (-179.99, -16.0), (-179.99, -16.01), (179.99, -16.01)])
FAR = shapely.box(0.0, -16.01, 0.01, -16.0)  # on the Greenwich meridian, 19,000 km away


def test_antimeridian_polygon_is_cut_where_it_is_read(tmp_path):
    raw = gpd.GeoDataFrame({"parcel_id": ["fiji", "far"]}, geometry=[ACROSS, FAR], crs=4326)
    path = tmp_path / "fiji.geojson"
    raw.to_file(path, driver="GeoJSON")
    # as stored, GEOS sees a band around the Earth: an "overlap" 19,000 km away
    assert len(agf.overlaps(raw)) == 1
    assert agf.validate(raw, kind="parcels").codes_for(0) == ["crosses_antimeridian"]
    parcels = agf.read_parcels(path)
    cut = parcels.geometry.iloc[0]
    assert cut.geom_type == "MultiPolygon" and len(cut.geoms) == 2
    assert len(agf.overlaps(parcels)) == 0
    assert agf.validate(parcels, kind="parcels").findings.empty
    # the area was right before the cut and stays so: 0.02 deg x 0.01 deg at 16 S, as
    # Karney's algorithm gives it for the same ring with continuous longitudes
    geod = pyproj.Geod(ellps="WGS84")
    karney, _ = geod.polygon_area_perimeter(
        [179.99, 180.01, 180.01, 179.99], [-16.0, -16.0, -16.01, -16.01]
    )
    np.testing.assert_allclose(agf.area_ha(parcels).iloc[0], abs(karney) / 1e4, rtol=1e-8)
    np.testing.assert_allclose(agf.area_ha(parcels), agf.area_ha(raw), rtol=1e-8)
    fixed, report = agf.repair(raw, kind="parcels")
    assert "cut_at_antimeridian" in report.codes_for(0)
    assert fixed.geometry.iloc[0].equals(cut)


def test_antimeridian_polygon_is_cut_in_the_eu_export(tmp_path):
    raw = gpd.GeoDataFrame(
        {"parcel_id": ["fiji"], "producer_name": ["A"], "district": ["Ba"]},
        geometry=[ACROSS],
        crs=4326,
    )
    paths = agf.eudr.to_geojson(raw, tmp_path / "eu.geojson", country="FJ")
    geom = json.loads(paths[0].read_text())["features"][0]["geometry"]
    assert geom["type"] == "MultiPolygon"
    lons = [p[0] for poly in geom["coordinates"] for ring in poly for p in ring]
    assert max(lons) == 180.0 and min(lons) == -180.0
    assert all(abs(lo) >= 179.99 for lo in lons)  # no edge across the map


def test_cut_keeps_other_geometries_and_ignores_projected_layers():
    assert not crosses_antimeridian([ACROSS], 32760).any()
    same = cut_antimeridian([FAR, None], 4326)
    assert same[0] is FAR and same[1] is None


@pytest.mark.parametrize("lon", [179.995, -179.995])
def test_a_point_plot_next_to_the_antimeridian(lon):
    gdf = gpd.GeoDataFrame({"parcel_id": ["a"]}, geometry=[shapely.Point(lon, -16.0)], crs=4326)
    assert agf.area_ha(gdf).iloc[0] == pytest.approx(4.0, rel=1e-8)


def test_real_world_layers_have_no_false_alarms(shared_data):
    # Natural Earth countries (Fiji and Russia already cut at ±180) and exactextract's
    # Antarctica (closed along the pole): nothing crosses, nothing is swapped
    world = agf.read_raw(
        shared_data / "geopandas" / "naturalearth_lowres" / "naturalearth_lowres.shp"
    )
    text = (shared_data / "exactextract" / "antarctica.wkt").read_text()
    antarctica = shapely.from_wkt(text.replace('"', "").replace("\n", ""))
    assert not crosses_antimeridian([*world.geometry.values, antarctica], 4326).any()
    codes = set(agf.validate(world).findings["code"])
    assert not codes & {"crosses_antimeridian", "swapped_lonlat", "degrees_as_projected"}
    # the Peruvian districts claiming PE: none swapped; all of them once swapped
    districts = agf.read_raw(shared_data / "peru-geojson" / "peru_distrital_simple.geojson")
    assert "swapped_lonlat" not in set(agf.validate(districts, country="PE").findings["code"])
    swapped = districts.assign(
        geometry=[_swap(g) if g is not None else None for g in districts.geometry]
    )
    f = agf.validate(swapped, country="PE").findings
    present = int(districts.geometry.notna().sum())
    assert int((f["code"] == "swapped_lonlat").sum()) == present


# --------------------------------------------------------------------------- one swapped row

# real plot centres (Whisp's public examples, rounded to 0.01°) on which the earlier rule
# (within 3 median distances of the median) called a true plot swapped
WHISP_CONGO_BRAZIL_PERU = [(12.99, -4.87), (-55.51, -30.06), (-76.52, -8.32)]
WHISP_PE_BR_RW_CO_RW = [(-76.10, -6.04), (-54.39, -11.91), (29.96, -2.00), (-73.42, 3.94),
                        (29.66, -1.72)]  # fmt: skip
# a cocoa cluster near Kumasi (Ghana): longitude and latitude both small, so that a swapped
# row is a valid position far from nothing farmed, and no claimed country
KUMASI = [(-1.62 + 0.013 * (k % 4), 6.69 + 0.011 * (k // 4)) for k in range(8)]


def _points(xy, **cols) -> gpd.GeoDataFrame:
    ids = [f"f{k}" for k in range(len(xy))]
    return gpd.GeoDataFrame(
        {"parcel_id": ids, **cols}, geometry=shapely.points(np.asarray(xy)), crs=4326
    )


def _swapped_rows(gdf, **kw) -> list:
    f = agf.validate(gdf, **kw).findings
    return f.loc[f["code"] == "swapped_lonlat", "row"].tolist()


@pytest.mark.parametrize("kind", [None, "parcels"])
def test_one_swapped_row_in_a_cluster_is_found(kind):
    xy = [*KUMASI]
    xy[5] = xy[5][::-1]  # (6.701, -1.607): the Gulf of Guinea, a valid position
    gdf = _points(xy)
    assert _swapped_rows(gdf, kind=kind) == [5]
    msg = agf.validate(gdf, kind=kind).findings["message"].item()
    assert "swapped, it is at x -1.607, y 6.701" in msg
    with pytest.warns(agf.GeometryWarning, match=r"1 of 8 rows .* parcel_id f5 \(x 6.701"):
        agf.read_parcels(gdf)


def test_one_swapped_polygon_row_is_found():
    boxes = [shapely.box(x, y, x + 0.004, y + 0.003) for x, y in KUMASI]
    boxes[2] = _swap(boxes[2])
    gdf = gpd.GeoDataFrame({"parcel_id": list("abcdefgh")}, geometry=boxes, crs=4326)
    assert _swapped_rows(gdf) == [2]


def test_two_swapped_rows_of_one_cluster_are_both_found():
    xy = [*KUMASI, *KUMASI]
    xy[3], xy[11] = xy[3][::-1], xy[11][::-1]
    assert _swapped_rows(_points(xy)) == [3, 11]


@pytest.mark.parametrize("layer", [WHISP_CONGO_BRAZIL_PERU, WHISP_PE_BR_RW_CO_RW])
def test_plots_in_several_countries_are_not_called_swapped(layer, recwarn):
    assert _swapped_rows(_points(layer)) == []
    agf.read_parcels(_points(layer, declared_area_ha=1.0))
    assert not recwarn.list


def test_one_or_two_rows_give_no_consensus():
    xy = [KUMASI[0], KUMASI[1][::-1]]
    assert _swapped_rows(_points(xy)) == []
    assert _swapped_rows(_points(xy[1:])) == []


def test_a_true_plot_whose_mirror_is_among_no_row_is_not_swapped():
    # 8 plots near Kumasi and one true plot in southern Cameroon (11.5, 3.5): its mirror
    # (3.5, 11.5), a valid position in Nigeria, is nowhere near the layer's rows
    assert _swapped_rows(_points([*KUMASI, (11.5, 3.5)])) == []


def test_a_true_plot_whose_mirror_is_in_a_country_of_no_row_is_not_swapped(monkeypatch):
    # 30 plots of northern Ghana (lon -2.4..-1.2, lat 9.4..10.9) and a true plot in Gabon
    # (11.5, -1.2): its mirror (-1.2, 11.5) falls in the layer's box, widened, but in Burkina
    # Faso, where no row lies
    north_ghana = [(-2.4 + 0.3 * i, 9.4 + 0.3 * j) for i in range(5) for j in range(6)]
    layer = _points([*north_ghana, (11.5, -1.2)])
    assert _swapped_rows(layer) == []
    # the countries are what tells: without them the Gabon plot would be called swapped
    monkeypatch.setattr(_swaps, "_in_core_countries", lambda x, *_: np.ones(len(x), bool))
    assert _swapped_rows(layer) == [30]


@pytest.mark.shared
def test_real_spread_point_layers_have_no_swapped_rows(shared_data):
    whisp = gpd.read_file(shared_data / "whisp" / "geojson_example.geojson")
    output = gpd.read_file(shared_data / "whisp" / "output" / "whisp_output_table.geojson")
    plots = np.concatenate([whisp.geometry.values, output.geometry.values])
    centres = shapely.get_coordinates(shapely.point_on_surface(plots))
    assert _swapped_rows(_points(centres)) == []
    # every subset of 3 to 30 of them: plots of a trader buying in a few countries
    rng = np.random.default_rng(20261202)
    for n in [3, 4, 5, 6, 8, 12, 20, 30] * 40:
        pick = rng.choice(len(centres), n, replace=False)
        assert _swapped_rows(_points(centres[pick])) == [], centres[pick].round(2).tolist()
    # Peru's 194 provincial capitals (coast, Andes, Amazon): none; one swapped: that one
    capitals = gpd.read_file(shared_data / "peru-geojson" / "peru_capital_provincia.geojson")
    xy = shapely.get_coordinates(capitals.geometry.values)
    assert _swapped_rows(_points(xy)) == []
    xy[17] = xy[17][::-1]
    assert _swapped_rows(_points(xy)) == [17]
