"""Reading layers: every format path, column mapping, and every bad input with its message."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

import agroforest_geo as agf


@pytest.fixture
def parcels_gdf() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "ID_PARCELA": ["007", "012", "100"],
            "PROV": ["Huallaga", "Picota", "Bellavista"],
            "declared_area_ha": [1.0, 2.5, 0.7],
        },
        geometry=[
            shapely.box(-76.70, -7.20, -76.69, -7.19),
            shapely.box(-76.68, -7.20, -76.67, -7.19),
            shapely.box(-76.66, -7.20, -76.65, -7.19),
        ],
        crs=4326,
    )


@pytest.mark.parametrize(
    ("suffix", "driver"),
    [
        (".gpkg", "GPKG"),
        (".geojson", "GeoJSON"),
        (".shp", "ESRI Shapefile"),
        (".fgb", "FlatGeobuf"),
        (".kml", "KML"),
        (".parquet", None),
    ],
)
def test_read_every_format(tmp_path, parcels_gdf, suffix, driver):
    path = tmp_path / f"parcels{suffix}"
    src = parcels_gdf.rename(columns={"ID_PARCELA": "IDP"})
    if driver is None:
        src.to_parquet(path)
    else:
        src.to_file(path, driver=driver, engine="pyogrio")
    out = agf.read_parcels(path, id_column="IDP")
    if suffix == ".fgb":  # FlatGeobuf stores features in its spatial-index order
        out = out.sort_values("parcel_id", ignore_index=True)
    assert out["parcel_id"].tolist() == ["007", "012", "100"]  # kept as given, never renumbered
    assert out.crs.to_epsg() == 4326
    assert agf.area_ha(out).round(6).tolist() == agf.area_ha(parcels_gdf).round(6).tolist()


def test_column_mapping_and_geodataframe_input(parcels_gdf):
    out = agf.read_parcels(parcels_gdf, columns={"ID_PARCELA": "parcel_id", "PROV": "province"})
    assert list(out["province"]) == ["Huallaga", "Picota", "Bellavista"]
    assert "ID_PARCELA" in parcels_gdf.columns  # the caller's frame is not modified


def test_integer_ids_become_strings(tmp_path, parcels_gdf):
    gdf = parcels_gdf.assign(parcel_id=[7, 12, 100])
    path = tmp_path / "p.gpkg"
    gdf.to_file(path)
    assert agf.read_parcels(path)["parcel_id"].tolist() == ["7", "12", "100"]


def test_missing_required_column_lists_columns(parcels_gdf):
    # ID_PARCELA is a recognised name of the parcel id; IDP is not
    assert agf.read_parcels(parcels_gdf)["parcel_id"].tolist() == ["007", "012", "100"]
    with pytest.raises(agf.MissingColumnError, match=r"IDP.*province.*id_column='COLUMN'"):
        agf.read_parcels(parcels_gdf.rename(columns={"ID_PARCELA": "IDP"}))


def test_mapping_a_column_that_does_not_exist(parcels_gdf):
    with pytest.raises(agf.MissingColumnError, match="NOPE"):
        agf.read_parcels(parcels_gdf, id_column="NOPE")


def test_missing_path_raises_with_the_path(tmp_path):
    with pytest.raises(agf.InputNotFoundError, match="does not exist"):
        agf.read_parcels(tmp_path / "nope.gpkg")
    with pytest.raises(FileNotFoundError):  # also a built-in
        agf.read_parcels(tmp_path / "nope.gpkg")


def test_unreadable_format(tmp_path):
    bad = tmp_path / "parcels.gpkg"
    bad.write_bytes(b"this is not a geopackage")
    with pytest.raises(agf.UnreadableInputError, match="Supported"):
        agf.read_parcels(bad)


def test_wrong_layer_lists_layers(tmp_path, parcels_gdf):
    path = tmp_path / "p.gpkg"
    parcels_gdf.to_file(path, layer="parcels")
    with pytest.raises(agf.UnreadableInputError, match=r"\['parcels'\]"):
        agf.read_parcels(path, layer="plots", id_column="ID_PARCELA")


def test_layer_without_crs(tmp_path, parcels_gdf):
    path = tmp_path / "p.shp"
    parcels_gdf.set_crs(None, allow_override=True).to_file(path)
    with pytest.raises(agf.MissingCRSError, match="crs='EPSG:4326'"):
        agf.read_parcels(path, id_column="ID_PARCELA")
    out = agf.read_parcels(path, id_column="ID_PARCELA", crs="EPSG:4326")
    assert out.crs.to_epsg() == 4326


def test_csv_points_and_missing_coordinates(tmp_path):
    path = tmp_path / "plots.csv"
    pd.DataFrame(
        {
            "plot_id": ["A1", "A2"],
            "parcel_id": ["P1", "P2"],
            "system": ["reforestation", "cocoa_agroforestry"],
            "Longitude": [-76.7, -76.6],
            "Latitude": [-7.2, -7.1],
        }
    ).to_csv(path, index=False)
    plots = agf.read_plots(path)
    assert plots.geometry.geom_type.tolist() == ["Point", "Point"]
    assert (plots.geometry.x.tolist(), plots.geometry.y.tolist()) == ([-76.7, -76.6], [-7.2, -7.1])
    assert plots.crs.to_epsg() == 4326
    nocoords = tmp_path / "bad.csv"
    pd.DataFrame({"plot_id": ["A1"], "parcel_id": ["P1"], "system": ["x"]}).to_csv(nocoords)
    with pytest.raises(agf.MissingColumnError, match="no coordinate columns"):
        agf.read_plots(nocoords)


def test_plain_dataframe_is_rejected_with_the_fix():
    with pytest.raises(TypeError, match="points_from_xy"):
        agf.read_parcels(pd.DataFrame({"parcel_id": ["a"]}))


@pytest.mark.parametrize("suffix", [".csv", ".gpkg", ".parquet", ".geojson", ".fgb"])
def test_write_table_round_trip(tmp_path, parcels_gdf, suffix):
    path = agf.write_table(parcels_gdf, tmp_path / f"out{suffix}")
    if suffix == ".csv":
        back = pd.read_csv(path)
        assert back["geometry"].str.startswith("POLYGON").all()
    else:
        back = gpd.read_parquet(path) if suffix == ".parquet" else gpd.read_file(path)
        back = back.sort_values("ID_PARCELA", ignore_index=True)
        assert back.geometry.geom_equals_exact(parcels_gdf.geometry, tolerance=1e-9).all()
    assert back["ID_PARCELA"].astype(str).str.zfill(3).tolist() == ["007", "012", "100"]


def test_write_table_refuses_geojson_without_geometry(tmp_path):
    with pytest.raises(agf.UnreadableInputError, match="needs geometries"):
        agf.write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.geojson")
    with pytest.raises(agf.UnreadableInputError, match="unknown extension"):
        agf.write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.xlsx")
