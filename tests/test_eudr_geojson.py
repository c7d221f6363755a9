"""Tests of the EU-information-system GeoJSON export and checker."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import agroforest_geo as agf
from agroforest_geo.eudr import check_geojson, to_geojson

LON, LAT = -76.72, -7.25  # Juanjuí


def square_ll(area_target_ha: float) -> shapely.Polygon:
    """A lon/lat square near Juanjuí whose ellipsoidal area is area_target_ha (to 1e-9 ha)."""
    side = 0.002
    for _ in range(30):
        sq = shapely.box(LON, LAT, LON + side, LAT + side)
        a = agf.area_ha(gpd.GeoSeries([sq], crs=4326)).iloc[0]
        if abs(a - area_target_ha) < 1e-10:
            break
        side *= (area_target_ha / a) ** 0.5
    return sq


def layer(geoms, **extra) -> gpd.GeoDataFrame:
    n = len(geoms)
    data = {
        "parcel_id": [f"P{i}" for i in range(n)],
        "producer_name": [f"Productor {i}" for i in range(n)],
        "district": ["Juanjuí"] * n,
    }
    data.update(extra)
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=4326)


def read(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def max_decimals(path: Path) -> int:
    nums = re.findall(
        r"-?\d+\.(\d+)", json.dumps([f["geometry"]["coordinates"] for f in read(path)["features"]])
    )
    return max(len(n) for n in nums)


def test_sample_export_passes_check_and_round_trips(tmp_path):
    parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    paths = to_geojson(parcels, tmp_path / "eu.geojson")
    assert paths == [tmp_path / "eu.geojson"]
    assert check_geojson(paths[0]).empty
    doc = read(paths[0])
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    props = doc["features"][0]["properties"]
    assert set(props) == {"parcel_id", "ProducerName", "ProducerCountry", "ProductionPlace", "Area"}
    assert props["ProducerCountry"] == "PE"
    assert max_decimals(paths[0]) <= 6
    back = gpd.read_file(paths[0])
    assert back.is_valid.all()
    # holed parcels are written as several features of the same parcel, in order
    assert back["parcel_id"].drop_duplicates().tolist() == parcels["parcel_id"].tolist()
    measured = agf.area_ha(parcels).to_numpy()
    per_parcel = agf.area_ha(back).groupby(back["parcel_id"], sort=False).sum().to_numpy()
    rel = np.abs(per_parcel / measured - 1)
    assert rel.max() < 1e-3  # the requirement: every parcel within 0.1 %
    declared = back["Area"].groupby(back["parcel_id"], sort=False).sum().to_numpy()
    one = back.groupby("parcel_id", sort=False).size().to_numpy() == 1
    np.testing.assert_allclose(declared[one], measured[one], atol=5e-5)  # Area: 4 decimals
    # a holed parcel's pieces are measured after rounding: their Areas add up within 0.01 %
    np.testing.assert_allclose(declared[~one], measured[~one], rtol=1e-4)
    # [longitude, latitude]: Juanjuí is at lon -76.7, lat -7.2
    x, y = doc["features"][0]["geometry"]["coordinates"][0][0]
    assert -77.5 < x < -76 and -8 < y < -6.5


def test_holes_are_split_without_losing_area(tmp_path):
    outer = shapely.box(LON, LAT, LON + 0.004, LAT + 0.004)
    holes = [
        shapely.box(LON + 0.001, LAT + 0.001, LON + 0.0015, LAT + 0.0015),
        shapely.box(LON + 0.0025, LAT + 0.002, LON + 0.003, LAT + 0.0035),
    ]
    holed = shapely.Polygon(outer.exterior, [h.exterior for h in holes])
    parcels = layer([holed, outer])
    before = agf.area_ha(parcels)
    (path,) = to_geojson(parcels, tmp_path / "h.geojson")
    assert check_geojson(path).empty
    doc = read(path)
    # the holed parcel: separate hole-free Polygon features of one production place
    f0 = [f for f in doc["features"] if f["properties"]["parcel_id"] == "P0"]
    assert len(f0) >= 3  # two holes: at least three pieces
    assert {f["geometry"]["type"] for f in f0} == {"Polygon"}
    assert all(len(f["geometry"]["coordinates"]) == 1 for f in f0)  # exterior rings only
    assert {f["properties"]["ProductionPlace"] for f in f0} == {"Juanjuí"}
    back = gpd.read_file(path)
    assert back.is_valid.all()  # every written geometry is OGC-valid
    by_parcel = agf.area_ha(back).groupby(back["parcel_id"]).sum()
    np.testing.assert_allclose(by_parcel.loc[["P0", "P1"]], before, rtol=1e-5)
    # Area of the pieces adds up to the parcel's (4 decimals each)
    assert sum(f["properties"]["Area"] for f in f0) == pytest.approx(before.iloc[0], abs=5e-4)
    # the parts cover exactly the holed parcel: no overlap, nothing added
    parts = [shapely.Polygon(f["geometry"]["coordinates"][0]) for f in f0]
    assert shapely.union_all(parts).symmetric_difference(holed).area < 1e-12
    assert sum(p.area for p in parts) == pytest.approx(holed.area, rel=1e-9)
    # as one MultiPolygon the pieces would be invalid: that is why they are separate
    assert not shapely.MultiPolygon(parts).is_valid


def test_point_limit_is_4_ha_inclusive(tmp_path):
    parcels = layer([square_ll(4.0), square_ll(4.01), square_ll(1.0)])
    (path,) = to_geojson(parcels, tmp_path / "p.geojson", small_as="point")
    feats = read(path)["features"]
    assert [f["geometry"]["type"] for f in feats] == ["Point", "Polygon", "Point"]
    assert [f["properties"]["Area"] for f in feats] == [4.0, 4.01, 1.0]
    assert check_geojson(path).empty
    pt = shapely.Point(feats[0]["geometry"]["coordinates"])
    assert parcels.geometry.iloc[0].contains(pt)
    (path2,) = to_geojson(parcels, tmp_path / "q.geojson")  # default: polygons
    assert {f["geometry"]["type"] for f in read(path2)["features"]} == {"Polygon"}
    with pytest.raises(ValueError, match="small_as"):
        to_geojson(parcels, tmp_path / "r.geojson", small_as="points")  # type: ignore[arg-type]


def test_rounding_fixes_duplicate_vertices(tmp_path):
    # vertices 1e-8 degrees apart collapse to one after rounding to 6 decimals
    ring = [
        (LON, LAT),
        (LON + 0.002, LAT),
        (LON + 0.00200001, LAT + 0.00000001),
        (LON + 0.002, LAT + 0.002),
        (LON, LAT + 0.002),
        (LON, LAT),
    ]
    parcels = layer([shapely.Polygon(ring)])
    (path,) = to_geojson(parcels, tmp_path / "d.geojson")
    assert check_geojson(path).empty
    coords = read(path)["features"][0]["geometry"]["coordinates"][0]
    assert len(coords) == 5


def test_split_into_files_below_max_bytes(tmp_path):
    parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    paths = to_geojson(parcels, tmp_path / "eu.geojson", max_bytes=40_000)
    assert len(paths) >= 3
    assert [p.name for p in paths[:2]] == ["eu_001.geojson", "eu_002.geojson"]
    ids = []
    for p in paths:
        assert p.stat().st_size <= 40_000
        assert check_geojson(p, max_bytes=40_000).empty
        ids += [f["properties"]["parcel_id"] for f in read(p)["features"]]
    assert list(dict.fromkeys(ids)) == parcels["parcel_id"].tolist()  # each parcel in one file
    assert len(set(ids)) == len(parcels)
    assert check_geojson(paths[0], max_bytes=1000)["code"].tolist() == ["file_too_large"]


def test_export_refuses_what_the_eu_system_refuses(tmp_path):
    sq = square_ll(1.0)
    with pytest.raises(ValueError, match="ISO 3166"):
        to_geojson(layer([sq]), tmp_path / "x.geojson", country="PER")
    # ProducerName is optional in the EU system: left out, not refused
    (path,) = to_geojson(layer([sq], producer_name=[None]), tmp_path / "n.geojson")
    assert "ProducerName" not in read(path)["features"][0]["properties"]
    assert check_geojson(path).empty
    bowtie = shapely.Polygon(
        [(LON, LAT), (LON + 0.001, LAT + 0.001), (LON + 0.001, LAT), (LON, LAT + 0.001)]
    )
    with pytest.raises(agf.InvalidGeometryError, match="repair"):
        to_geojson(layer([bowtie]), tmp_path / "x.geojson")
    with pytest.raises(agf.MissingColumnError, match="production_place_column"):
        to_geojson(layer([sq]).drop(columns="district"), tmp_path / "x.geojson")


def test_projected_input_is_written_in_wgs84(tmp_path):
    utm = gpd.GeoDataFrame(
        {"parcel_id": ["A"], "producer_name": ["X"], "district": ["Picota"]},
        geometry=[shapely.box(500_000, 9_200_000, 500_100, 9_200_100)],
        crs=32718,
    )
    (path,) = to_geojson(utm, tmp_path / "u.geojson")
    assert check_geojson(path).empty
    back = gpd.read_file(path)
    assert back.crs.to_epsg() == 4326
    assert agf.area_ha(back).iloc[0] == pytest.approx(1 / 0.9996**2, rel=1e-4)


def _fc(features, **top):
    return {"type": "FeatureCollection", **top, "features": features}


def _feat(geom, **props):
    base = {"ProducerName": "A", "ProducerCountry": "PE", "ProductionPlace": "Juanjuí", "Area": 1.0}
    base.update(props)
    return {
        "type": "Feature",
        "properties": {k: v for k, v in base.items() if v is not None},
        "geometry": geom,
    }


SQ = [[-76.72, -7.25], [-76.71, -7.25], [-76.71, -7.24], [-76.72, -7.24], [-76.72, -7.25]]


@pytest.mark.parametrize(
    ("doc", "code"),
    [
        ({"type": "Feature", "properties": {}, "geometry": None}, "not_feature_collection"),
        (
            _fc(
                [_feat({"type": "Polygon", "coordinates": [SQ]})],
                crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32718"}},
            ),
            "crs_not_wgs84",
        ),
        (
            _fc(
                [
                    _feat(
                        {
                            "type": "Polygon",
                            "coordinates": [
                                [
                                    [500000, 9200000],
                                    [500100, 9200000],
                                    [500100, 9200100],
                                    [500000, 9200000],
                                ]
                            ],
                        }
                    )
                ]
            ),
            "crs_not_wgs84",
        ),
        (
            _fc([_feat({"type": "Polygon", "coordinates": [[[y, x] for x, y in SQ]]})]),
            "lat_lon_swapped",
        ),
        (_fc([_feat({"type": "Point", "coordinates": [-7.25, -120.5]})]), "lat_lon_swapped"),
        (
            _fc(
                [
                    _feat(
                        {
                            "type": "Polygon",
                            "coordinates": [
                                SQ,
                                [
                                    [-76.718, -7.248],
                                    [-76.716, -7.248],
                                    [-76.716, -7.246],
                                    [-76.718, -7.248],
                                ],
                            ],
                        }
                    )
                ]
            ),
            "holes",
        ),
        (
            _fc([_feat({"type": "Polygon", "coordinates": [[SQ[0], SQ[2], SQ[1], SQ[3], SQ[0]]]})]),
            "invalid_ring",
        ),
        (_fc([_feat({"type": "Polygon", "coordinates": [[SQ[0], SQ[1], SQ[0]]]})]), "invalid_ring"),
        (
            _fc([_feat({"type": "Polygon", "coordinates": [[SQ[0], SQ[1], SQ[1], *SQ[2:]]]})]),
            "duplicate_vertices",
        ),
        (_fc([_feat({"type": "Polygon", "coordinates": [SQ[:-1]]})]), "unclosed_ring"),
        (
            _fc([_feat({"type": "Polygon", "coordinates": [SQ]}, ProducerCountry=None)]),
            "missing_property",
        ),
        (
            _fc([_feat({"type": "Point", "coordinates": [-76.72, -7.25]}, Area=None)]),
            "missing_property",
        ),
        (
            _fc([_feat({"type": "Polygon", "coordinates": [SQ]}, ProducerCountry="XX")]),
            "bad_country",
        ),
        (
            _fc([_feat({"type": "Point", "coordinates": [-76.72, -7.25]}, Area=4.5)]),
            "point_too_large",
        ),
        (_fc([_feat({"type": "Point", "coordinates": [-76.72, -7.25]}, Area="4")]), "bad_area"),
        (_fc([_feat({"type": "LineString", "coordinates": SQ})]), "unsupported_geometry"),
    ],
)
def test_check_finds_each_problem(tmp_path, doc, code):
    p = tmp_path / "f.geojson"
    p.write_text(json.dumps(doc))
    found = check_geojson(p)
    assert code in set(found["code"]), found
    assert (found["severity"] == "error").all()


def test_check_passes_a_clean_file_and_4ha_point(tmp_path):
    p = tmp_path / "ok.geojson"
    p.write_text(
        json.dumps(
            _fc(
                [
                    _feat({"type": "Polygon", "coordinates": [SQ]}),
                    _feat({"type": "Point", "coordinates": [-76.72, -7.25]}, Area=4.0),
                ]
            )
        )
    )
    assert check_geojson(p).empty


def test_check_unreadable_json(tmp_path):
    p = tmp_path / "broken.geojson"
    p.write_text('{"type": "FeatureCollection", "features": [')
    assert check_geojson(p)["code"].tolist() == ["invalid_json"]
    with pytest.raises(agf.InputNotFoundError):
        check_geojson(tmp_path / "missing.geojson")


@pytest.mark.shared
def test_whisp_examples(shared_data, tmp_path):
    path = shared_data / "whisp" / "geojson_example.geojson"
    found = check_geojson(path)
    doc = json.loads(path.read_text(), parse_float=Decimal)
    n = len(doc["features"])
    assert n == 50
    # no EU properties at all: ProducerCountry missing on every plot (ProducerName is optional)
    missing = found[found["code"] == "missing_property"]
    assert len(missing) == n
    assert set(missing["message"]) == {"property 'ProducerCountry' is missing or empty"}

    # independent count of plots with more than 6 decimals and of plots with holes
    def decimals(feature):
        text = json.dumps(feature["geometry"]["coordinates"], default=str)
        return max(len(m) for m in re.findall(r"\.(\d+)", text))

    many = {k for k, f in enumerate(doc["features"]) if decimals(f) > 6}
    assert set(found.loc[found["code"] == "too_many_decimals", "feature"]) == many
    gdf = gpd.read_file(path)
    holed = {
        k
        for k, g in enumerate(gdf.geometry)
        if any(len(p.interiors) for p in getattr(g, "geoms", [g]))
    }
    assert set(found.loc[found["code"] == "holes", "feature"]) == holed
    assert not {"crs_not_wgs84", "lat_lon_swapped", "invalid_json"} & set(found["code"])
    # exporting the same plots with the EU properties fixes everything, area kept; the plots
    # lie in many countries, so one declared country is refused and None fills it per plot
    gdf["producer_name"] = "Whisp example"
    gdf["parcel_id"] = gdf["user_id"].astype(str)
    fixed = agf.repair(gdf, kind=None)[0]
    with pytest.raises(ValueError, match="from their declared country"):
        to_geojson(fixed, tmp_path / "x.geojson", production_place_column=None, country="CI")
    paths = to_geojson(fixed, tmp_path / "whisp_eu.geojson", production_place_column=None)
    assert check_geojson(paths[0]).empty
    back = gpd.read_file(paths[0])
    assert back["parcel_id"].nunique() == n and back.is_valid.all()
    per_parcel = agf.area_ha(back).groupby(back["parcel_id"], sort=False).sum()
    rel = np.abs(per_parcel.to_numpy() / agf.area_ha(fixed).to_numpy() - 1)
    assert rel.max() < 1e-3


@pytest.mark.shared
def test_whisp_output_table_passes_without_producer_name(shared_data):
    # its 31 plots lack only ProducerName, which the EU system does not require
    path = shared_data / "whisp" / "output" / "whisp_output_table.geojson"
    doc = json.loads(path.read_text())
    assert len(doc["features"]) == 31
    assert not any("ProducerName" in f["properties"] for f in doc["features"])
    assert check_geojson(path).empty


# ----------------------------------------------------------------------------------------
# the EU information system as it is (EC GeoJSON File Description v1.4, API rules)
# ----------------------------------------------------------------------------------------


def _write(tmp_path: Path, doc: dict, name: str = "f.geojson") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(doc), encoding="utf-8")
    return p


def _codes(found: pd.DataFrame) -> list[tuple[int | None, str]]:
    return [
        (None if pd.isna(k) else int(k), c)
        for k, c in zip(found["feature"], found["code"], strict=True)
    ]


def test_more_than_six_decimals_is_only_a_warning(tmp_path):
    p = _write(tmp_path, _fc([_feat({"type": "Point", "coordinates": [-76.7212345, -7.25]})]))
    found = check_geojson(p)
    assert found["code"].tolist() == ["too_many_decimals"]
    assert found["severity"].tolist() == ["warning"]
    assert "truncates" in found["message"].iloc[0]


def test_vertices_that_coincide_after_truncation_are_an_error(tmp_path):
    # 7 decimals: vertices 2 and 3 are distinct (and the ring valid), but both truncate
    # (toward zero, as the system does) to [-76.710000, -7.250000]
    ring = [
        [-76.7200000, -7.2500000],
        [-76.7100002, -7.2500008],
        [-76.7100007, -7.2500001],
        [-76.7100000, -7.2400000],
        [-76.7200000, -7.2400000],
        [-76.7200000, -7.2500000],
    ]
    found = check_geojson(
        _write(tmp_path, _fc([_feat({"type": "Polygon", "coordinates": [ring]})]))
    )
    assert shapely.Polygon(ring).is_valid
    assert set(found["code"]) == {"too_many_decimals", "vertices_coincide_after_truncation"}
    sev = dict(zip(found["code"], found["severity"], strict=True))
    assert sev["vertices_coincide_after_truncation"] == "error"
    # the same ring rounded by the export never has them
    parcels = layer([shapely.Polygon(ring)])
    (path,) = to_geojson(parcels, tmp_path / "r.geojson")
    assert check_geojson(path).empty
    coords = np.array(read(path)["features"][0]["geometry"]["coordinates"][0])
    assert not np.all(coords[1:] == coords[:-1], axis=1).any()
    # 7 decimals that stay apart after truncation: only the warning
    ring_ok = [list(p) for p in ring]
    ring_ok[2] = [-76.7100007, -7.2499971]
    found = check_geojson(
        _write(tmp_path, _fc([_feat({"type": "Polygon", "coordinates": [ring_ok]})]))
    )
    assert found["code"].tolist() == ["too_many_decimals"]
    # distinct after truncation but folded back onto an edge: the stored ring is invalid
    ring_fold = [list(p) for p in ring]
    ring_fold[2] = [-76.7100017, -7.2500001]  # -> [-76.710001, -7.25], on the first edge
    assert shapely.Polygon(ring_fold).is_valid
    found = check_geojson(
        _write(tmp_path, _fc([_feat({"type": "Polygon", "coordinates": [ring_fold]})]))
    )
    assert "vertices_coincide_after_truncation" in set(found["code"])


@pytest.mark.parametrize(
    ("area", "code"),
    [(0.00005, "point_area_too_small"), (0.0001, None), (4.0, None), (4.0001, "point_too_large")],
)
def test_point_area_from_0_0001_to_4_ha(tmp_path, area, code):
    doc = _fc([_feat({"type": "Point", "coordinates": [-76.72, -7.25]}, Area=area)])
    found = check_geojson(_write(tmp_path, doc))
    assert found["code"].tolist() == ([] if code is None else [code])


def test_export_refuses_a_point_below_0_0001_ha(tmp_path):
    pts = gpd.GeoDataFrame(
        {"parcel_id": ["A"], "producer_name": ["X"], "district": ["D"], "declared_area_ha": [3e-5]},
        geometry=[shapely.Point(LON, LAT)],
        crs=4326,
    )
    with pytest.raises(agf.InvalidGeometryError, match=r"0\.0001"):
        to_geojson(pts, tmp_path / "x.geojson")


def _points_fc(n: int) -> dict:
    feats = [
        _feat({"type": "Point", "coordinates": [round(-76.72 + k * 1e-5, 6), -7.25]}, Area=1.0)
        for k in range(n)
    ]
    return _fc(feats)


def test_at_most_1000_producers_per_file_and_10000_per_statement(tmp_path):
    assert check_geojson(_write(tmp_path, _points_fc(1000))).empty
    found = check_geojson(_write(tmp_path, _points_fc(1001)))
    assert _codes(found) == [(None, "too_many_producers")]
    files = [_write(tmp_path, _points_fc(1000), f"s{k}.geojson") for k in range(10)]
    assert agf.eudr.check_statement(files).empty  # exactly 10,000
    files.append(_write(tmp_path, _points_fc(1), "s10.geojson"))
    found = agf.eudr.check_statement(files)
    assert found["code"].tolist() == ["too_many_producers"]
    assert found["file"].isna().all() and "10001" in found["message"].iloc[0]


def test_export_splits_files_at_1000_producers(tmp_path):
    n = 2_345
    pts = gpd.GeoDataFrame(
        {
            "parcel_id": [f"P{i}" for i in range(n)],
            "producer_name": ["X"] * n,
            "district": ["D"] * n,
            "declared_area_ha": [0.5] * n,
        },
        geometry=shapely.points(LON + np.arange(n) * 1e-5, np.full(n, LAT)),
        crs=4326,
    )
    paths = to_geojson(pts, tmp_path / "many.geojson")
    sizes = [len(read(p)["features"]) for p in paths]
    assert sizes == [1000, 1000, 345]
    assert agf.eudr.check_statement(paths).empty
    assert all(check_geojson(p).empty for p in paths)


def test_parts_sharing_an_edge_are_an_invalid_multipolygon(tmp_path):
    a = [[-76.72, -7.25], [-76.71, -7.25], [-76.71, -7.24], [-76.72, -7.24], [-76.72, -7.25]]
    b = [[-76.71, -7.25], [-76.70, -7.25], [-76.70, -7.24], [-76.71, -7.24], [-76.71, -7.25]]
    found = check_geojson(
        _write(tmp_path, _fc([_feat({"type": "MultiPolygon", "coordinates": [[a], [b]]})]))
    )
    assert found["code"].tolist() == ["invalid_multipolygon"]
    assert not shapely.MultiPolygon([shapely.Polygon(a), shapely.Polygon(b)]).is_valid
    # disjoint parts are fine
    c = [[x + 0.02, y] for x, y in b]
    assert check_geojson(
        _write(tmp_path, _fc([_feat({"type": "MultiPolygon", "coordinates": [[a], [c]]})]))
    ).empty


def test_export_of_parts_that_touch_after_rounding_is_valid(tmp_path):
    # two parts 3e-8 degrees apart: valid as input, they share an edge once rounded to 6 decimals
    left = shapely.box(LON, LAT, LON + 0.002, LAT + 0.002)
    right = shapely.box(LON + 0.00200003, LAT, LON + 0.004, LAT + 0.002)
    multi = shapely.MultiPolygon([left, right])
    assert multi.is_valid
    (path,) = to_geojson(layer([multi, square_ll(2.0)]), tmp_path / "t.geojson")
    assert check_geojson(path).empty
    back = gpd.read_file(path)
    assert back.is_valid.all()
    assert back["parcel_id"].tolist() == ["P0", "P0", "P1"]


# six countries (points well inside each), independently located by hand
_PLACES = {
    "PE": (-76.72, -7.25),  # Juanjuí
    "EC": (-78.50, -0.20),  # Quito
    "CO": (-74.10, 4.60),  # Bogotá
    "BR": (-47.90, -15.80),  # Brasília
    "BO": (-63.20, -17.80),  # Santa Cruz de la Sierra
    "CI": (-5.30, 6.80),  # Yamoussoukro
}


def _plots_in_six_countries() -> tuple[gpd.GeoDataFrame, list[str]]:
    truth = ["PE"] * 10 + [c for c in _PLACES if c != "PE" for _ in range(8)]
    geoms = [
        shapely.box(
            round(x + k * 0.001, 6), y, round(x + k * 0.001 + 0.0008, 6), round(y + 0.0008, 6)
        )
        for k, (x, y) in enumerate(_PLACES[c] for c in truth)
    ]
    return layer(geoms), truth


def test_50_plots_in_six_countries_labelled_pe_are_reported(tmp_path):
    parcels, truth = _plots_in_six_countries()
    assert len(parcels) == 50
    # the file as a cooperative's system would write it: every plot labelled PE
    feats = [
        _feat(json.loads(shapely.to_geojson(g)), ProducerCountry="PE") for g in parcels.geometry
    ]
    found = check_geojson(_write(tmp_path, _fc(feats)))
    assert set(found["code"]) == {"country_mismatch"}
    wrong = {k for k, c in enumerate(truth) if c != "PE"}
    assert set(found["feature"].astype(int)) == wrong and len(found) == 40
    k_ec = truth.index("EC")
    assert "lies in EC" in found.loc[found["feature"] == k_ec, "message"].iloc[0]
    # the export refuses the same mistake and fills the right country when asked
    with pytest.raises(ValueError, match="declared country"):
        to_geojson(parcels, tmp_path / "x.geojson", country="PE")
    (path,) = to_geojson(parcels, tmp_path / "c.geojson", country=None)
    assert [f["properties"]["ProducerCountry"] for f in read(path)["features"]] == truth
    assert check_geojson(path).empty


def test_country_check_tolerates_the_coarse_borders(tmp_path):
    # Tumbes (Peru) lies ~20 km from Ecuador: labelled EC it is within the 0.5° tolerance,
    # Juanjuí (~500 km from Ecuador) is not
    tumbes = _feat({"type": "Point", "coordinates": [-80.45, -3.57]}, ProducerCountry="EC")
    juanjui = _feat({"type": "Point", "coordinates": [-76.72, -7.25]}, ProducerCountry="EC")
    found = check_geojson(_write(tmp_path, _fc([tumbes, juanjui])))
    assert _codes(found) == [(1, "country_mismatch")]
    # a country the 1:110m layer does not draw (Singapore) is not checked
    sg = _feat({"type": "Point", "coordinates": [-76.72, -7.25]}, ProducerCountry="SG")
    assert check_geojson(_write(tmp_path, _fc([sg]))).empty


def test_swapped_axes_found_with_the_country_layer(tmp_path):
    # no ProducerCountry bounding box needed: [lat, lon] of Yamoussoukro lies in the sea
    feat = _feat({"type": "Point", "coordinates": [6.8, -5.3]}, ProducerCountry="CI")
    assert "lat_lon_swapped" in set(check_geojson(_write(tmp_path, _fc([feat])))["code"])


# RFC 7946's own examples (§1.5 and Appendix A), verbatim coordinates
_RFC_15 = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [102.0, 0.5]},
            "properties": {"prop0": "value0"},
        },
        {
            "type": "Feature",
            "geometry": {
                "type": "LineString",
                "coordinates": [[102.0, 0.0], [103.0, 1.0], [104.0, 0.0], [105.0, 1.0]],
            },
            "properties": {"prop0": "value0", "prop1": 0.0},
        },
        {
            "type": "Feature",
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[100.0, 0.0], [101.0, 0.0], [101.0, 1.0], [100.0, 1.0], [100.0, 0.0]]
                ],
            },
            "properties": {"prop0": "value0", "prop1": {"this": "that"}},
        },
    ],
}
_RFC_A = {
    "A.1 point": {"type": "Point", "coordinates": [100.0, 0.0]},
    "A.3 polygon": {
        "type": "Polygon",
        "coordinates": [[[100.0, 0.0], [101.0, 0.0], [101.0, 1.0], [100.0, 1.0], [100.0, 0.0]]],
    },
    "A.3 polygon with hole": {
        "type": "Polygon",
        "coordinates": [
            [[100.0, 0.0], [101.0, 0.0], [101.0, 1.0], [100.0, 1.0], [100.0, 0.0]],
            [[100.8, 0.8], [100.8, 0.2], [100.2, 0.2], [100.2, 0.8], [100.8, 0.8]],
        ],
    },
    "A.4 multipoint": {"type": "MultiPoint", "coordinates": [[100.0, 0.0], [101.0, 1.0]]},
    "A.6 multipolygon": {
        "type": "MultiPolygon",
        "coordinates": [
            [[[102.0, 2.0], [103.0, 2.0], [103.0, 3.0], [102.0, 3.0], [102.0, 2.0]]],
            [
                [[100.0, 0.0], [101.0, 0.0], [101.0, 1.0], [100.0, 1.0], [100.0, 0.0]],
                [[100.2, 0.2], [100.2, 0.8], [100.8, 0.8], [100.8, 0.2], [100.2, 0.2]],
            ],
        ],
    },
    "A.2 linestring": {"type": "LineString", "coordinates": [[100.0, 0.0], [101.0, 1.0]]},
    "A.7 geometrycollection": {
        "type": "GeometryCollection",
        "geometries": [
            {"type": "Point", "coordinates": [100.0, 0.0]},
            {"type": "LineString", "coordinates": [[101.0, 0.0], [102.0, 1.0]]},
        ],
    },
}


def test_rfc7946_section_1_5_example(tmp_path):
    found = check_geojson(_write(tmp_path, _RFC_15))
    # valid GeoJSON, not a valid EU file: no ProducerCountry, a point without Area, a line
    assert _codes(found) == [
        (0, "missing_property"),
        (0, "missing_property"),
        (1, "missing_property"),
        (1, "unsupported_geometry"),
        (2, "missing_property"),
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("A.1 point", []),
        ("A.3 polygon", []),
        ("A.3 polygon with hole", ["holes"]),
        ("A.4 multipoint", []),
        ("A.6 multipolygon", ["holes"]),
        ("A.2 linestring", ["unsupported_geometry"]),
        ("A.7 geometrycollection", ["unsupported_geometry"]),
    ],
)
def test_rfc7946_appendix_a_examples_with_eu_properties(tmp_path, name, expected):
    # (100°E, 0°) is off Sumatra: declared ID, the positions are within the tolerance
    feat = _feat(_RFC_A[name], ProducerCountry="ID", ProducerName=None, ProductionPlace=None)
    assert check_geojson(_write(tmp_path, _fc([feat])))["code"].tolist() == expected


# the EC's list of common GeoJSON file errors
_EC_ERRORS = {
    "coordinate lines crossing": (
        [[[-76.72, -7.25], [-76.71, -7.24], [-76.71, -7.25], [-76.72, -7.24], [-76.72, -7.25]]],
        "invalid_ring",
    ),
    "overlapping sides": (
        [[[-76.72, -7.25], [-76.71, -7.25], [-76.71, -7.24], [-76.71, -7.245], [-76.72, -7.25]]],
        "invalid_ring",
    ),
    "doughnut": (
        [SQ, [[-76.718, -7.248], [-76.716, -7.248], [-76.716, -7.246], [-76.718, -7.248]]],
        "holes",
    ),
    "open polygon": ([SQ[:-1]], "unclosed_ring"),
    "fewer than four positions": ([[SQ[0], SQ[1], SQ[0]]], "invalid_ring"),
    "repeated vertex": ([[SQ[0], SQ[1], SQ[1], *SQ[2:]]], "duplicate_vertices"),
}


@pytest.mark.parametrize("name", list(_EC_ERRORS))
def test_ec_common_errors(tmp_path, name):
    coords, code = _EC_ERRORS[name]
    found = check_geojson(
        _write(tmp_path, _fc([_feat({"type": "Polygon", "coordinates": coords})]))
    )
    assert code in set(found["code"]), found
    assert (found["severity"] == "error").all()


@pytest.fixture
def published(shared_data):
    folder = shared_data / "peer-fixtures" / "eudr-published"
    if not folder.is_dir():
        pytest.skip("published EUDR examples not present")
    return folder


@pytest.mark.shared
def test_published_examples(published):
    # duracert.com's valid upload example: 15 decimals, accepted (truncated) by the system
    found = check_geojson(published / "pub_duracert_nl_polygon.geojson")
    assert found["code"].tolist() == ["too_many_decimals"]
    assert (found["severity"] == "warning").all()
    # the blog example of the EC file description: a valid triangle in Brazil
    assert check_geojson(published / "pub_blog_br_triangle.geojson").empty
    # nadar.earth's example as published is not JSON (unquoted names, stray brackets)
    assert check_geojson(published / "pub_nadar_broken.geojson")["code"].tolist() == [
        "invalid_json"
    ]
    # the validator's example input: three deliberate mistakes and no ProducerCountry
    found = check_geojson(published / "pub_nemata_example_input.geojson")
    assert sorted(_codes(found)) == [
        (0, "bad_area"),  # "2.5" as text
        (0, "missing_property"),
        (1, "missing_property"),
        (1, "unclosed_ring"),
        (2, "lat_lon_swapped"),  # [lat, lon] of a plot in Côte d'Ivoire: lands in the sea
        (2, "missing_property"),
        (2, "point_too_large"),  # 9 ha as a point
    ]


def test_rule_table_names_the_spec_and_every_source():
    assert agf.eudr.GEOJSON_SPEC["version"] == "1.4"
    assert agf.eudr.GEOJSON_RULES_VERSION == "2026.1"
    assert all(r.source for r in agf.eudr.GEOJSON_RULES)
    sev = {r.code: r.severity for r in agf.eudr.GEOJSON_RULES}
    assert sev["too_many_decimals"] == "warning"
    assert agf.eudr.GEOJSON_LIMITS["point_min_ha"] == 0.0001


def test_country_column_is_checked_against_the_geometry(tmp_path):
    parcels, truth = _plots_in_six_countries()
    parcels["cc"] = truth
    (path,) = to_geojson(parcels, tmp_path / "ok.geojson", country_column="cc")
    assert check_geojson(path).empty
    parcels.loc[parcels.index[-1], "cc"] = "GH"  # a plot in Côte d'Ivoire, labelled Ghana
    with pytest.raises(ValueError, match=r"rows \[49\].*'CI'"):
        to_geojson(parcels, tmp_path / "x.geojson", country_column="cc")
