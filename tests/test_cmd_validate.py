from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import agroforest_geo as agf
from agroforest_geo.cli import main

X0, Y0 = 500_000.0, 9_200_000.0
BOWTIE = shapely.Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])


@pytest.fixture
def messy_file(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"parcel_id": ["a", "b", "c"], "declared_area_ha": [1.0, 0.5, 2.0]},
        geometry=[
            shapely.box(X0, Y0, X0 + 100, Y0 + 100),
            BOWTIE,
            shapely.box(X0, Y0, X0 + 200, Y0 + 100).reverse(),
        ],
        crs=32718,
    )
    path = tmp_path / "parcels.gpkg"
    gdf.to_file(path)
    return path


@pytest.fixture
def clean_file(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"parcel_id": ["a"]}, geometry=[shapely.box(X0, Y0, X0 + 100, Y0 + 100)], crs=32718
    )
    path = tmp_path / "clean.geojson"
    gdf.to_file(path)
    return path


def test_validate_exit_codes(messy_file, clean_file, capsys):
    assert main(["validate", str(clean_file), "--kind", "parcels"]) == 0
    assert "1 features, no findings" in capsys.readouterr().out
    assert main(["validate", str(messy_file), "--kind", "parcels"]) == 1
    out = capsys.readouterr()
    assert "invalid_geometry" in out.out and "Self-intersection" in out.out
    assert "1 errors, 1 warnings" in out.err


def test_validate_writes_findings(messy_file, tmp_path):
    out = tmp_path / "findings.csv"
    assert main(["validate", str(messy_file), "--kind", "parcels", "--output", str(out)]) == 1
    table = pd.read_csv(out)
    assert table[["row", "id", "code", "severity"]].values.tolist() == [
        [1, "b", "invalid_geometry", "error"],
        [2, "c", "wrong_orientation", "warning"],
    ]


def test_validate_repair_writes_layer(messy_file, tmp_path):
    out = tmp_path / "changes.csv"
    fixed = tmp_path / "fixed.gpkg"
    argv = ["validate", str(messy_file), "--kind", "parcels", "--repair"]
    assert main([*argv, "--output", str(out), "--output-repaired", str(fixed)]) == 0
    codes = pd.read_csv(out)[["row", "code"]].values.tolist()
    assert codes == [[1, "repaired_invalid"], [1, "reoriented"], [2, "reoriented"]]
    layer = gpd.read_file(fixed)
    assert layer["parcel_id"].tolist() == ["a", "b", "c"]
    assert layer.geometry.is_valid.all()
    assert layer.geometry.iloc[1].area == pytest.approx(5000.0, abs=1e-6)
    assert main(["validate", str(fixed), "--kind", "parcels"]) == 0


def test_output_repaired_needs_repair(messy_file, tmp_path):
    assert main(["validate", str(messy_file), "--output-repaired", str(tmp_path / "x.gpkg")]) == 2
    assert not (tmp_path / "x.gpkg").exists()


def test_missing_file_is_an_input_error(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope.gpkg")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_area_command_numbers(messy_file, tmp_path):
    out = tmp_path / "area.csv"
    assert main(["area", str(messy_file), "--kind", "parcels", "--output", str(out)]) == 0
    table = pd.read_csv(out)
    assert list(table.columns) == [  # the input's columns, then the measures
        "parcel_id",
        "declared_area_ha",
        "area_ha",
        "perimeter_m",
        "declared_minus_measured_ha",
        "declared_ratio",
        "declared_off",
    ]
    # a 100 m x 100 m UTM square is 1 ha / k² on the ellipsoid (k ~ 0.9996 here)
    assert table.loc[0, "area_ha"] == pytest.approx(1.0008, abs=1e-4)
    assert table.loc[2, "area_ha"] == pytest.approx(2.0016, abs=1e-4)
    assert table.loc[0, "perimeter_m"] == pytest.approx(400.16, abs=0.01)
    gdf = gpd.read_file(messy_file)
    np.testing.assert_allclose(table["area_ha"], agf.area_ha(gdf), rtol=1e-12)
    np.testing.assert_allclose(
        table["declared_minus_measured_ha"], gdf["declared_area_ha"] - agf.area_ha(gdf), rtol=1e-9
    )
    np.testing.assert_allclose(
        table["declared_ratio"].iloc[[0, 2]], [1 / 1.0008, 2 / 2.0016], rtol=1e-4
    )
    assert table["declared_off"].tolist() == [False, True, False]  # bow-tie: 0.5 ha vs 0


def test_area_command_prints_without_declared(clean_file, capsys):
    assert main(["area", str(clean_file)]) == 0
    out = capsys.readouterr().out
    assert "area_ha" in out and "perimeter_m" in out and "declared" not in out
    assert main(["area", str(clean_file), "--id-column", "nope"]) == 2


def test_spatial_outputs_keep_the_geometries(tmp_path):
    messy = agf.datasets.get_path("parcels_messy")
    out = tmp_path / "findings.gpkg"
    assert main(["validate", messy, "--kind", "parcels", "--output", str(out)]) == 1
    findings = gpd.read_file(out)
    raw = agf.read_raw(messy)
    row = findings[findings["code"] == "invalid_geometry"].iloc[0]
    assert row.geometry.equals(raw.geometry.iloc[int(row["row"])])
    area_out = tmp_path / "area.geojson"
    assert main(["area", agf.datasets.get_path("parcels"), "--output", str(area_out)]) == 0
    table = gpd.read_file(area_out)
    parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    assert table.crs.to_epsg() == 4326 and len(table) == len(parcels)
    assert table["area_ha"].to_numpy() == pytest.approx(agf.area_ha(parcels).to_numpy(), rel=1e-9)
    csv = tmp_path / "area.csv"
    assert main(["area", agf.datasets.get_path("parcels"), "--output", str(csv)]) == 0
    assert "geometry" not in pd.read_csv(csv).columns
