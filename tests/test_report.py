"""Tests of the HTML report and of the `agroforest-geo assess` command."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import agroforest_geo as agf
from agroforest_geo.cli import main


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("assess")
    d = Path(agf.datasets.get_path("parcels")).parent
    argv = [
        "assess",
        str(d / "parcels.gpkg"),
        "--cover",
        str(d / "treecover2000.tif"),
        "--loss",
        str(d / "lossyear.tif"),
        "--protected",
        str(d / "protected_areas.gpkg"),
        "--plots",
        str(d / "plots.gpkg"),
        "--trees",
        str(d / "tree_inventory.gpkg"),
        "--output-dir",
        str(out),
    ]
    return out, " ".join(argv)


def _run(sample_run, capsys) -> tuple[Path, str]:
    out, argv = sample_run
    if not (out / "report.html").exists():
        assert main(argv.split()) == 0
        printed = capsys.readouterr().out.strip().splitlines()
        assert printed[-1] == str(out / "report.html")
    return out, (out / "report.html").read_text(encoding="utf-8")


def test_cli_writes_every_output(sample_run, capsys):
    out, _ = _run(sample_run, capsys)
    parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    for name in (
        "report.html",
        "assessment.gpkg",
        "assessment.csv",
        "eudr_geolocation.geojson",
        "validation_findings.csv",
        "assessment.parquet",
        "evidence_records.jsonl",
    ):
        assert (out / name).exists(), name
    table = pd.read_csv(out / "assessment.csv")
    assert table["parcel_id"].tolist() == parcels["parcel_id"].tolist()
    geo = gpd.read_file(out / "assessment.gpkg")
    assert len(geo) == len(parcels) and set(geo["status"]) <= set(agf.eudr.STATUS_ORDER)
    assert agf.eudr.check_geojson(out / "eudr_geolocation.geojson").empty
    # the tree inventory and planting records give agroforestry evidence on cocoa parcels
    assert (table["agroforestry_evidence"] == True).sum() > 10  # noqa: E712
    assert table.loc[table["trees_per_ha"].notna(), "trees_per_ha"].between(20, 400).all()
    # the per-parcel table carries the overlap and declared-area evidence too
    truth = json.loads(Path(agf.datasets.get_path("parcels")).with_name("truth.json").read_text())
    park = table.set_index("parcel_id").loc[truth["encroach_national_park"]]
    assert park["protected_categories"].str.contains("national_park").all()
    assert (park["distance_to_protected_m"] == 0).all()
    far = table["protected_ha"].eq(0)
    assert (table.loc[far, "distance_to_protected_m"] > 0).all()
    measured = agf.area_ha(parcels).to_numpy()
    expected = parcels["declared_area_ha"].to_numpy() - measured
    # the CSV is rounded to 1 m² (4 decimals of a hectare), the GeoParquet is exact
    np.testing.assert_allclose(table["area_difference_ha"], expected, rtol=0, atol=5.001e-5)
    full = gpd.read_parquet(out / "assessment.parquet")
    np.testing.assert_allclose(full["area_difference_ha"], expected, rtol=1e-9)


def test_report_is_self_contained_and_complete(sample_run, capsys):
    _, html = _run(sample_run, capsys)
    parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    # offline: no external resource of any kind
    assert "<link" not in html and " src=" not in html
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", html)
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    # one map shape per parcel
    assert len(re.findall(r'<path class="parcel[^"]*"[^>]*data-parcel-id=', html)) == len(parcels)
    # one evidence sheet per parcel
    sheets = re.findall(r'<section class="sheet" id="sheet-(\d+)"', html)
    assert sheets == [str(i) for i in range(len(parcels))]  # in the table's order
    # land claimed twice and encroachment are drawn: one shape per overlapping pair / parcel
    truth = json.loads(Path(agf.datasets.get_path("parcels")).with_name("truth.json").read_text())
    n_pairs = len(truth["overlap_pairs"]) + 2  # + the duplicate and the parcel inside another
    assert len(re.findall(r'<path class="overlap"', html)) == n_pairs
    n_inside = len(re.findall(r'<path class="encroach"', html))
    assert n_inside >= len(truth["encroach_redd_plus"]) + len(truth["encroach_national_park"])
    # summary counts match the assessment table
    table = pd.read_csv(Path(sample_run[0]) / "assessment.csv")
    n_detected = int((table["status"] == "deforestation_detected").sum())
    assert f"<b>{n_detected}</b>deforestación detectada" in html  # Spanish by default
    # audit trail: checksums and CRS of the inputs, versions, parameters
    digest = hashlib.sha256(Path(agf.datasets.get_path("parcels")).read_bytes()).hexdigest()
    assert digest in html
    assert "EPSG:4326" in html and agf.__version__ in html
    assert "2020-12-31" in html and agf.eudr.RULES_VERSION in html
    for section in (
        "Por provincia",
        "Por distrito",
        "Por sistema agroforestal",
        "Pérdida por año",
        "Declarado y medido",
        "Hallazgos de validación",
        'id="loss-chart"',
        'id="declared-chart"',
        'class="sortable"',
        'class="loss"',
    ):
        assert section in html, section


def test_report_keeps_parcels_without_geometry(tmp_path):
    sq = shapely.box(500_000, 9_200_000, 500_100, 9_200_100)
    parcels = gpd.GeoDataFrame(
        {"parcel_id": ["a", "b", "c"]}, geometry=[sq, shapely.Polygon(), None], crs=32718
    )
    cover = pd.DataFrame({"forest_share": [0.5, 0.5, 0.5]}, index=parcels.index)
    loss = pd.DataFrame({"loss_after_cutoff_ha": [0.0, 0.0, 0.0]}, index=parcels.index)
    result = agf.eudr.assess(parcels, cover=cover, loss=loss)
    assert result["status"].tolist() == [
        "deforestation_free",
        "invalid_geometry",
        "invalid_geometry",
    ]
    html = agf.report(result, parcels, tmp_path / "r.html", lang="en").read_text(encoding="utf-8")
    assert len(re.findall(r'<path class="parcel[^"]*"[^>]*data-parcel-id=', html)) == 3
    assert "<b>2</b>invalid geometry" in html


def test_report_refuses_mismatched_index(tmp_path):
    parcels = agf.read_parcels(agf.datasets.get_path("parcels")).head(3)
    result = agf.eudr.assess(parcels, loss=pd.DataFrame({"loss_after_cutoff_ha": [0.0] * 3}))
    with pytest.raises(ValueError, match="same index"):
        agf.report(result.iloc[:2], parcels, tmp_path / "r.html")
    with pytest.raises(agf.MissingColumnError):
        agf.report(result.drop(columns="status"), parcels, tmp_path / "r.html")


def test_cli_bad_cutoff_is_an_input_error(tmp_path, capsys):
    code = main(
        [
            "assess",
            agf.datasets.get_path("parcels"),
            "--cutoff",
            "31/12/2020",
            "--output-dir",
            str(tmp_path),
        ]
    )
    assert code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
    code = main(
        [
            "assess",
            agf.datasets.get_path("parcels"),
            "--rule",
            "nope=1",
            "--output-dir",
            str(tmp_path),
        ]
    )
    assert code == 2
    assert "allowed" in capsys.readouterr().err


def test_cli_lang(tmp_path, capsys):
    code = main(
        ["assess", agf.datasets.get_path("parcels"), "--lang", "fr", "--output-dir", str(tmp_path)]
    )
    assert code == 0
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert '<html lang="fr">' in html and "sans déforestation" in html
    with pytest.raises(SystemExit) as exc:  # argparse refuses it, listing the choices
        main(["assess", agf.datasets.get_path("parcels"), "--lang", "de", "--output-dir", "x"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
